"""Bad files through the Streamlit uploaders in a real browser: every kind of upload widget
(image, audio, document) answers each file of the shared corpus with a clear message, shows
no traceback, and the page still works with a good file afterwards."""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from bad_input_corpus import GENERIC_FAILURE, bad_audio, bad_documents, bad_images, bad_videos, write
from core.video import VIDEO_TYPES
from demos.object_detection import example_clip
from screenshot import settle
from test_browser_demos import Marker, article_txt, portrait_jpeg, recording_at_16khz, see, shows

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None,
                                reason="Debian chromium is not installed (make test installs it)")
PYTHON_ERROR = re.compile(r"Traceback|\b[A-Z]\w*(Error|Exception):")


def documents() -> dict[str, tuple[str, bytes]]:
    """Uploads for the document widget (.txt, .md, .pdf, .docx): name -> (file name, bytes), the
    hostile ones of the shared corpus (zip bombs, XML entities, locked and endless PDFs) included."""
    hostile = {case: (name, data) for case, (name, data, _) in bad_documents().items()}
    return hostile | {
        "zero-byte": ("empty.txt", b""),
        "only spaces": ("blank.txt", b"  \n\t \n"),
        "non-UTF-8": ("windows.txt", "Привет! Этот текст в кодировке Windows-1251.".encode("cp1251")),
        "binary as text": ("data.txt", bytes(range(256)) * 40),
        "wrong extension (pdf)": ("report.pdf", b"just some words, not a PDF at all\n" * 30),
        "wrong extension (docx)": ("letter.docx", b"plain text saved under a Word name\n" * 30),
        "huge": ("huge.txt", b"This sentence repeats until the text is far too long. " * 50_000),  # 2.7 MB
    }


def uploadable(corpus: dict[str, tuple[str, bytes]], types: list[str]) -> dict[str, tuple[str, bytes]]:
    """The files a widget's uploader lets through (it refuses other extensions in the browser itself)."""
    return {case: (name, data) for case, (name, data) in corpus.items() if name.rsplit(".", 1)[-1] in types}


def clip_mp4(folder: Path) -> Path:
    path = folder / "street.mp4"
    path.write_bytes(example_clip())
    return path


@dataclass(frozen=True)
class Widget:
    slug: str  # a page with this kind of upload widget
    corpus: Callable[[], dict[str, tuple[str, bytes]]]
    good_file: Callable[[Path], Path]
    good_result: Marker
    tab: str | None = None  # the page's tab holding the widget
    run_button: str | None = None  # pressed after each upload, where the page waits for it


WIDGETS = {
    "image": Widget("style_transfer", bad_images, portrait_jpeg, shows("Stylised, 384x512")),
    "audio": Widget("audio_digits", bad_audio, recording_at_16khz("seven"), shows("Digits heard")),
    "document": Widget("summarisation", documents, article_txt, shows("English (detected)")),
    "video": Widget("object_detection", lambda: uploadable(bad_videos(), VIDEO_TYPES), clip_mp4, shows(re.compile(r"\d+ frames in")), tab="Video",
                    run_button="Detect objects in the clip"),
}


def upload_into(page, widget: Widget, path: Path) -> None:
    """Switch the widget's source control to Upload (if not there yet), give it ``path``, press its button."""
    scope = page.get_by_role("tabpanel").filter(visible=True).first if widget.tab else page.get_by_test_id("stMain")
    uploader = scope.get_by_test_id("stFileUploader").first
    if not uploader.is_visible():
        scope.get_by_test_id("stButtonGroup").get_by_text("Upload", exact=True).first.click()
    uploader.locator("input[type=file]").set_input_files(str(path))
    scope.get_by_test_id("stFileChipName").get_by_text(path.name, exact=True).wait_for()
    if widget.run_button:
        settle(page)
        scope.get_by_role("button", name=widget.run_button).click()


def clear_message(page) -> str:
    """The error the page shows for the latest upload (not a traceback, not a generic failure)."""
    errors = page.get_by_test_id("stAlertContentError")
    errors.first.wait_for()
    settle(page)
    errors.first.wait_for()  # still there once the run is over
    assert errors.count() == 1
    message = errors.first.inner_text().strip()
    assert message and not any(generic in message for generic in GENERIC_FAILURE), message
    shown = page.get_by_test_id("stMain").inner_text()
    assert not PYTHON_ERROR.search(shown), shown[:2000]
    assert not page.get_by_test_id("stException").count()
    return message


@pytest.mark.parametrize("kind", list(WIDGETS))
def test_bad_uploads_get_a_clear_message_and_the_page_keeps_working(gallery_url, page, failure_screenshot, tmp_path,
                                                                    kind):
    widget = WIDGETS[kind]
    page.goto(f"{gallery_url}/{widget.slug}")
    settle(page)
    if widget.tab:
        page.get_by_role("tab", name=widget.tab, exact=True).click()
    problems, messages = [], {}
    for case, (file_name, data) in widget.corpus().items():
        upload_into(page, widget, write(tmp_path, file_name, data))
        try:
            messages[case] = clear_message(page)
        except AssertionError as failure:
            problems.append(f"{case} ({file_name}): {failure}")
    print("\n".join(f"{kind} / {case}: {message}" for case, message in messages.items()))
    assert not problems, "\n".join(problems)
    upload_into(page, widget, widget.good_file(tmp_path))
    see(page, widget.good_result)

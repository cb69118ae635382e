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

from bad_input_corpus import GENERIC_FAILURE, bad_audio, bad_images, write
from screenshot import settle
from test_browser_demos import Marker, article_txt, portrait_jpeg, recording_at_16khz, see, shows, upload_file

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None,
                                reason="Debian chromium is not installed (make test installs it)")
PYTHON_ERROR = re.compile(r"Traceback|\b[A-Z]\w*(Error|Exception):")


def bad_documents() -> dict[str, tuple[str, bytes]]:
    """Uploads for the document widget (.txt, .md, .pdf, .docx): name -> (file name, bytes)."""
    return {
        "zero-byte": ("empty.txt", b""),
        "only spaces": ("blank.txt", b"  \n\t \n"),
        "non-UTF-8": ("windows.txt", "Привет! Этот текст в кодировке Windows-1251.".encode("cp1251")),
        "binary as text": ("data.txt", bytes(range(256)) * 40),
        "wrong extension (pdf)": ("report.pdf", b"just some words, not a PDF at all\n" * 30),
        "wrong extension (docx)": ("letter.docx", b"plain text saved under a Word name\n" * 30),
        "huge": ("huge.txt", b"This sentence repeats until the text is far too long. " * 50_000),  # 2.7 MB
    }


@dataclass(frozen=True)
class Widget:
    slug: str  # a page with this kind of upload widget
    corpus: Callable[[], dict[str, tuple[str, bytes]]]
    good_file: Callable[[Path], Path]
    good_result: Marker


WIDGETS = {
    "image": Widget("style_transfer", bad_images, portrait_jpeg, shows("Stylised, 384x512")),
    "audio": Widget("audio_digits", bad_audio, recording_at_16khz("seven"), shows("Digits heard")),
    "document": Widget("summarisation", bad_documents, article_txt, shows("English (detected)")),
}


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
    problems, messages = [], {}
    for case, (file_name, data) in widget.corpus().items():
        upload_file(page, write(tmp_path, file_name, data))
        page.get_by_test_id("stFileChipName").get_by_text(file_name, exact=True).wait_for()
        try:
            messages[case] = clear_message(page)
        except AssertionError as failure:
            problems.append(f"{case} ({file_name}): {failure}")
    print("\n".join(f"{kind} / {case}: {message}" for case, message in messages.items()))
    assert not problems, "\n".join(problems)
    upload_file(page, widget.good_file(tmp_path))
    see(page, widget.good_result)

"""Widgets every Streamlit page shares: headers, inputs, errors, results, downloads."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Mapping

import streamlit as st
from PIL import Image

from core.audio import AUDIO_TYPES, MAX_AUDIO_BYTES, MAX_AUDIO_SECONDS
from core.contract import DemoCard
from core.documents import DOCUMENT_TYPES, MAX_DOCUMENT_BYTES, read_document
from core.markdown import plain
from core.media import csv_bytes, example_photo, example_photo_names, json_bytes, png_bytes
from core.validation import MB, InputError, read_image
from core.video import MAX_VIDEO_BYTES, MAX_VIDEO_SECONDS, VIDEO_TYPES

IMAGE_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"]
DOCUMENT_FILES = (f"{', '.join('.' + t for t in DOCUMENT_TYPES)}; up to {MAX_DOCUMENT_BYTES / MB:.0f} MB; "
                  "scanned PDFs have no text to read")
log = logging.getLogger("neural_gallery")


def notice(text: str, icon: str = "ℹ️") -> None:
    st.info(plain(text), icon=icon)


def page_header(card: DemoCard) -> None:
    st.title(f"{card.icon} {card.title}")
    st.caption(card.pitch)


@contextmanager
def user_errors(stop: bool = True) -> Iterator[None]:
    """Show bad input as a message; log anything unexpected with its traceback and show one line.

    ``stop``: end the page's run there (results below would be stale); otherwise the ``with`` block is
    left and the page goes on (an upload that could not be read: the rest of the page still works)."""
    try:
        yield
    except InputError as error:
        st.error(plain(str(error)), icon="⚠️")
        if stop:
            st.stop()
    except Exception:
        log.exception("demo failed")
        st.error("Something went wrong on our side while running the model. Please try again "
                 "or use another input.", icon="🛠️")
        if stop:
            st.stop()


def image_input(key: str, label: str = "Your photo",
                examples: list[str] | Mapping[str, Callable[[], Image.Image]] | None = None,
                camera: bool = True) -> Image.Image | None:
    """An example, an upload or a camera shot, validated; None (with a hint) until one is given.

    ``examples``: names of core.media sample photos, or a demo's own {name: loader}.
    """
    sources = ["Example", "Upload"] + (["Camera"] if camera else [])
    source = st.segmented_control(f"{label}: source", sources, default="Example", key=f"{key}_source")
    if source == "Upload":
        upload = st.file_uploader(label, type=IMAGE_TYPES, key=f"{key}_upload")
    elif source == "Camera":
        upload = st.camera_input(label, key=f"{key}_camera")
    else:
        chosen = st.selectbox(f"{label}: example", list(examples or example_photo_names()), key=f"{key}_example")
        return examples[chosen]() if isinstance(examples, Mapping) else example_photo(chosen)
    if upload is None:
        st.info(f"{'Upload' if source == 'Upload' else 'Take'} a picture to start (PNG, JPEG, WebP, BMP, GIF, TIFF).")
        return None
    with user_errors(stop=False):
        return read_image(upload.getvalue())
    return None


def ran_on(device: str, seconds: float) -> None:
    st.caption(f"Ran on **{device.upper()}** in {seconds:.2f} s")


def download_image(image: Image.Image, file_name: str, label: str = "Download PNG") -> None:
    st.download_button(label, png_bytes(image), file_name=file_name, mime="image/png",
                       on_click="ignore", icon=":material/download:")


def download_json(data: object, file_name: str, label: str = "Download JSON") -> None:
    st.download_button(label, json_bytes(data), file_name=file_name, mime="application/json",
                       on_click="ignore", icon=":material/download:")


def image_choice_grid(key: str, images: list, captions: list[str], width: int = 64, default: int = 0) -> int:
    """Pictures ``width`` px wide with a button under each, in rows as wide as the screen (a phone gets four
    to a row, not one full-width picture each); returns the index of the chosen one."""
    state_key = f"{key}_choice"
    st.session_state.setdefault(state_key, default)
    with st.container(horizontal=True, gap="small"):
        for index, (image, caption) in enumerate(zip(images, captions)):
            with st.container(width=width, gap="small"):
                st.image(str(image), width="stretch")
                st.button(caption, key=f"{key}_{index}", width="stretch",
                          type="primary" if st.session_state[state_key] == index else "secondary",
                          on_click=st.session_state.__setitem__, args=(state_key, index))
    return st.session_state[state_key]


def download_csv(rows: list[dict], file_name: str, label: str = "Download CSV") -> None:
    st.download_button(label, csv_bytes(rows), file_name=file_name, mime="text/csv",
                       on_click="ignore", icon=":material/download:")


def video_input(key: str, example: Callable[[], bytes], label: str = "Your video") -> bytes | None:
    """The demo's example clip or an uploaded one (raw bytes; core.video checks them); None until given."""
    source = st.segmented_control(f"{label}: source", ["Example", "Upload"], default="Example",
                                  key=f"{key}_source")
    if source != "Upload":
        return example()
    upload = st.file_uploader(label, type=VIDEO_TYPES, key=f"{key}_upload")
    if upload is None:
        st.info(f"Upload a short clip to start (MP4, WebM or MOV; up to {MAX_VIDEO_SECONDS:.0f} s "
                f"and {MAX_VIDEO_BYTES / MB:.0f} MB).")
        return None
    return upload.getvalue()


def audio_input(key: str, examples: Mapping[str, Path], label: str = "Your recording",
                sample_rate: int | None = None) -> tuple[str, bytes] | None:
    """A bundled example, an upload or a microphone recording: (name, raw bytes; core.audio checks them), or None."""
    source = st.segmented_control(f"{label}: source", ["Example", "Upload", "Microphone"], default="Example",
                                  key=f"{key}_source")
    if source == "Upload":
        upload = st.file_uploader(label, type=AUDIO_TYPES, key=f"{key}_upload")
        hint = (f"Upload a recording to start (WAV, MP3, OGG, FLAC; up to {MAX_AUDIO_SECONDS:.0f} s "
                f"and {MAX_AUDIO_BYTES / MB:.0f} MB).")
    elif source == "Microphone":
        upload = st.audio_input(label, sample_rate=sample_rate, key=f"{key}_microphone")
        hint = "Press the microphone button, speak, and press it again to stop."
    else:
        name = st.selectbox(f"{label}: example", list(examples), key=f"{key}_example")
        return name, Path(examples[name]).read_bytes()
    if upload is None:
        st.info(hint)
        return None
    return upload.name or source.lower(), upload.getvalue()


# Chromium's player counts whole seconds, so a 0.7-second digit reads "0:00 / 0:00": in this player its time
# readout is hidden, and the caption under it gives the real length
_CLIP_PLAYER_CSS = """<style>
.st-key-{key} audio::-webkit-media-controls-current-time-display,
.st-key-{key} audio::-webkit-media-controls-time-remaining-display {{ display: none; }}
</style>"""


def clip_player(wav: bytes, key: str, caption: str) -> None:
    """A player for a clip that may be under a second long; ``caption`` should say how long it is."""
    with st.container(key=key):
        st.html(_CLIP_PLAYER_CSS.format(key=key))
        st.audio(wav, format="audio/wav")
        st.caption(caption)


def document_input(key: str, examples: Mapping[str, str], label: str = "Your text") -> str | None:
    """An example text, a paste, or an uploaded .txt/.md/.pdf/.docx (text extracted); None (with a hint) until given."""
    source = st.segmented_control(f"{label}: source", ["Example", "Paste", "Upload"], default="Example",
                                  key=f"{key}_source")
    if source == "Paste":
        text = st.text_area(label, height=260, key=f"{key}_paste", placeholder="Paste your text here…")
        if not text.strip():
            st.info("Paste some text to start.")
            return None
        return text
    if source == "Upload":
        upload = st.file_uploader(label, type=DOCUMENT_TYPES, key=f"{key}_upload")
        if upload is None:
            st.info(f"Upload a document to start ({DOCUMENT_FILES}).")
            return None
        with user_errors(stop=False):
            return read_document(upload.name, upload.getvalue())
        return None
    name = st.selectbox(f"{label}: example", list(examples), key=f"{key}_example")
    with st.container(height=300, border=True):
        st.write(examples[name])
    return examples[name]


def download_text(text: str, file_name: str, label: str = "Download TXT") -> None:
    st.download_button(label, text.encode("utf-8"), file_name=file_name, mime="text/plain",
                       on_click="ignore", icon=":material/download:")


def key_numbers(numbers: Mapping[str, str]) -> None:
    """A row of labelled figures (st.metric), one column each."""
    if not numbers:
        return
    for column, (label, value) in zip(st.columns(len(numbers)), numbers.items()):
        column.metric(label, value)


def download_gif(data: bytes, file_name: str, label: str = "Download GIF") -> None:
    st.download_button(label, data, file_name=file_name, mime="image/gif",
                       on_click="ignore", icon=":material/download:")

"""Widgets every Streamlit page shares: headers, inputs, errors, results, downloads."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

import streamlit as st
from PIL import Image

from core.contract import DemoCard
from core.media import example_photo, example_photo_names, json_bytes, png_bytes
from core.validation import InputError, read_image

IMAGE_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"]
log = logging.getLogger("neural_gallery")


def page_header(card: DemoCard) -> None:
    st.title(f"{card.icon} {card.title}")
    st.caption(card.pitch)


@contextmanager
def user_errors() -> Iterator[None]:
    """Show bad input as a message and stop the page; log anything unexpected, show no traceback."""
    try:
        yield
    except InputError as error:
        st.error(str(error), icon="⚠️")
        st.stop()
    except Exception:
        log.exception("demo failed")
        st.error("Something went wrong on our side while running the model. Please try again "
                 "or use another input.", icon="🛠️")
        st.stop()


def image_input(key: str, label: str = "Your photo", examples: list[str] | None = None,
                camera: bool = True) -> Image.Image | None:
    """An example, an upload or a camera shot, validated; None (with a hint) until one is given."""
    sources = ["Example", "Upload"] + (["Camera"] if camera else [])
    source = st.segmented_control(f"{label}: source", sources, default="Example", key=f"{key}_source")
    if source == "Upload":
        upload = st.file_uploader(label, type=IMAGE_TYPES, key=f"{key}_upload")
    elif source == "Camera":
        upload = st.camera_input(label, key=f"{key}_camera")
    else:
        names = examples or example_photo_names()
        return example_photo(st.selectbox(f"{label}: example", names, key=f"{key}_example"))
    if upload is None:
        st.info(f"{'Upload' if source == 'Upload' else 'Take'} a picture to start (PNG, JPEG, WebP, BMP, GIF, TIFF).")
        return None
    try:
        return read_image(upload.getvalue())
    except InputError as error:
        st.error(str(error), icon="⚠️")
        return None


def ran_on(device: str, seconds: float) -> None:
    st.caption(f"Ran on **{device.upper()}** in {seconds:.2f} s")


def download_image(image: Image.Image, file_name: str, label: str = "Download PNG") -> None:
    st.download_button(label, png_bytes(image), file_name=file_name, mime="image/png",
                       on_click="ignore", icon=":material/download:")


def download_json(data: object, file_name: str, label: str = "Download JSON") -> None:
    st.download_button(label, json_bytes(data), file_name=file_name, mime="application/json",
                       on_click="ignore", icon=":material/download:")


def image_choice_grid(key: str, images: list, captions: list[str], columns: int = 7, default: int = 0) -> int:
    """A grid of pictures with a button under each; returns the index of the chosen one."""
    state_key = f"{key}_choice"
    st.session_state.setdefault(state_key, default)
    for start in range(0, len(images), columns):
        for offset, column in enumerate(st.columns(columns)):
            index = start + offset
            if index >= len(images):
                break
            with column:
                st.image(str(images[index]), width="stretch")
                chosen = st.session_state[state_key] == index
                st.button(captions[index], key=f"{key}_{index}", width="stretch",
                          type="primary" if chosen else "secondary",
                          on_click=st.session_state.__setitem__, args=(state_key, index))
    return st.session_state[state_key]

"""Turning results into things a visitor can download, and the example inputs every demo offers."""
from __future__ import annotations

import csv
import io
import json
from functools import cache
from typing import Any, Iterable, Mapping

import numpy as np
from PIL import Image


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False, default=_jsonable).encode("utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def csv_bytes(rows: Iterable[Mapping[str, Any]]) -> bytes:
    rows = list(rows)
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def resize_longer_side(image: Image.Image, size: int) -> Image.Image:
    """Scale so the longer side is exactly ``size`` pixels, keeping the aspect ratio."""
    scale = size / max(image.size)
    target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image if target == image.size else image.resize(target, Image.LANCZOS)


# Photos that ship inside scikit-image, so examples work offline (name -> skimage.data loader).
_EXAMPLE_PHOTOS = {
    "Astronaut": "astronaut",
    "Cat (Chelsea)": "chelsea",
    "Coffee": "coffee",
    "Rocket": "rocket",
    "Motorcycle": "stereo_motorcycle",
    "Hubble deep field": "hubble_deep_field",
    "Stained tissue": "immunohistochemistry",
    "Retina": "retina",
    "Colour wheel": "colorwheel",
    "Gravel": "gravel",
}


def example_photo_names() -> list[str]:
    return list(_EXAMPLE_PHOTOS)[:5]  # the rest are textures and scientific images


def example_texture_names() -> list[str]:
    return list(_EXAMPLE_PHOTOS)[5:]


def example_photo(name: str) -> Image.Image:
    """One of the bundled sample photos, as RGB: a fresh copy each time, since PIL edits in
    place (``thumbnail``) and a shared cached picture would shrink for every later visitor."""
    return _decoded_example_photo(name).copy()


@cache
def _decoded_example_photo(name: str) -> Image.Image:
    from skimage import data  # imported here: the home page needs no scikit-image

    pixels = getattr(data, _EXAMPLE_PHOTOS[name])()
    if isinstance(pixels, tuple):  # stereo_motorcycle returns (left, right, disparity)
        pixels = pixels[0]
    return Image.fromarray(pixels).convert("RGB")

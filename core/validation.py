"""Checks on everything a visitor hands us, with messages written for that visitor.

Every function either returns clean data or raises ``InputError`` whose text can be shown
as is: front ends print it, never a traceback. Audio checks join this module with the
audio demo.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, BinaryIO, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

if TYPE_CHECKING:
    import torch

MB = 2**20
MAX_IMAGE_BYTES = 20 * MB
MAX_IMAGE_PIXELS = 40_000_000  # 40 MP: larger headers are refused before any pixel is decoded
IMAGE_FORMATS = {"PNG", "JPEG", "MPO", "WEBP", "BMP", "GIF", "TIFF"}  # MPO: phone JPEGs
MAX_TEXT_CHARS = 100_000
MAX_TEXT_BYTES = 2 * MB

DAMAGED_IMAGE = "This image is damaged or incomplete (truncated). Please upload it again."
ImageSource = Union[bytes, str, Path, BinaryIO, Image.Image]


class InputError(ValueError):
    """Bad input; ``str(error)`` is a message for the visitor."""


def _read_bytes(source: bytes | str | Path | BinaryIO, max_bytes: int, what: str) -> bytes:
    if isinstance(source, (str, Path)):
        size = Path(source).stat().st_size
        if size > max_bytes:
            raise InputError(_too_large(what, size, max_bytes))
        data = Path(source).read_bytes()
    elif isinstance(source, bytes):
        data = source
    else:
        data = source.read(max_bytes + 1)
    if not data:
        raise InputError(f"The {what} is empty (0 bytes). Please choose another file.")
    if len(data) > max_bytes:
        raise InputError(_too_large(what, len(data), max_bytes))
    return data


def _too_large(what: str, size: int, limit: int) -> str:
    shown = f"more than {limit / MB:.0f} MB" if size > limit + 1 else f"{size / MB:.1f} MB"
    return f"The {what} is too large ({shown}); the limit is {limit / MB:.0f} MB."


def read_image(
    source: ImageSource, max_bytes: int = MAX_IMAGE_BYTES, max_pixels: int = MAX_IMAGE_PIXELS
) -> Image.Image:
    """Decode an uploaded image into an upright RGB picture, or raise ``InputError``."""
    if isinstance(source, Image.Image):
        return _to_rgb(ImageOps.exif_transpose(source))
    data = _read_bytes(source, max_bytes, "image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise InputError("This file is not an image we can read. Use PNG, JPEG, WebP, BMP, GIF or TIFF.") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(_too_many_pixels(None, max_pixels)) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise InputError(DAMAGED_IMAGE) from None
    if image.format not in IMAGE_FORMATS:
        raise InputError(f"{image.format} images are not supported. Use PNG, JPEG, WebP, BMP, GIF or TIFF.")
    if image.width * image.height > max_pixels:
        raise InputError(_too_many_pixels(image.size, max_pixels))
    try:
        image.seek(0)  # animated GIF/WebP, multi-page TIFF: the first frame
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError):
        raise InputError(DAMAGED_IMAGE) from None
    return _to_rgb(ImageOps.exif_transpose(image))


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> str:
    shown = f" ({size[0]}x{size[1]})" if size else ""
    return f"This image has too many pixels{shown}; the limit is {max_pixels / 1e6:.0f} megapixels."


def _to_rgb(image: Image.Image) -> Image.Image:
    """Flatten transparency onto white and turn grey, palette, 16-bit and CMYK into RGB."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        pixels = np.asarray(image, dtype=np.float64)
        low, high = float(pixels.min()), float(pixels.max())
        scaled = (pixels - low) / (high - low or 1.0) * 255.0
        image = Image.fromarray(scaled.astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def read_text(
    source: str | bytes | BinaryIO, max_chars: int = MAX_TEXT_CHARS, max_bytes: int = MAX_TEXT_BYTES
) -> str:
    """Return non-empty text within limits, decoding uploads as UTF-8, or raise ``InputError``."""
    if isinstance(source, str):
        text = source
    else:
        data = _read_bytes(source, max_bytes, "text file")
        if b"\x00" in data[:8192]:
            raise InputError("This file looks binary, not text. Upload a plain-text (.txt) file.")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"This text is not valid UTF-8 (bad byte at position {exc.start}). "
                "Save it as UTF-8 and try again."
            ) from None
    if not text.strip():
        raise InputError("The text is empty. Type or paste some text first.")
    if len(text) > max_chars:
        raise InputError(f"The text is too long ({len(text):,} characters); the limit is {max_chars:,}.")
    return text


def checked_suffix(file_name: str, allowed: list[str], advice: str) -> str:
    """The upload's extension (lower case, no dot) if ``allowed``; otherwise ``InputError`` ending in ``advice``."""
    suffix = PurePath(file_name).suffix.lower().lstrip(".")
    if suffix not in allowed:
        raise InputError(f"Files of type '.{suffix or '?'}' are not supported. {advice}")
    return suffix


def read_safetensors(source: bytes | str | Path | BinaryIO, max_bytes: int,
                     what: str = "weights file") -> dict[str, torch.Tensor]:
    """The tensors of an uploaded ``.safetensors`` file, or ``InputError``.

    safetensors holds tensors and nothing else, so reading one runs no code of the uploader's;
    pickled checkpoints (``torch.save``'s .pt/.pth) could, and are refused here as unreadable.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load

    data = _read_bytes(source, max_bytes, what)
    try:
        return load(data)
    except SafetensorError as error:
        detail = str(error).removeprefix("Error while deserializing: ")
        raise InputError(f"This {what} is not a safetensors file, or it is damaged or incomplete (safetensors "
                         f"says: {detail}). Upload the .safetensors file the training script exported; "
                         "PyTorch checkpoints (.pt, .pth) are refused: loading them could run code.") from None

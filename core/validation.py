"""Checks on everything a visitor hands us, with messages written for that visitor.

Every function either returns clean data or raises ``InputError`` whose text can be shown
as is: front ends print it, never a traceback. Audio checks join this module with the
audio demo.
"""
from __future__ import annotations

import io
import math
import warnings
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, BinaryIO, Iterator, Union

import numpy as np
from PIL import Image, UnidentifiedImageError

if TYPE_CHECKING:
    import torch

MB = 2**20
MAX_IMAGE_BYTES = 20 * MB
MAX_IMAGE_PIXELS = 40_000_000  # 40 MP: larger headers are refused before any pixel is decoded
MAX_IMAGE_EDGE = 30_000  # px, longer sides refused: PIL's row buffers grow with a side (a 40M x 1 sliver: 460 MB)
MAX_IMAGE_SIDE = 4096  # longer side kept: every demo shrinks further, so more would only cost memory
IMAGE_FORMATS = {"PNG", "JPEG", "MPO", "WEBP", "BMP", "GIF", "TIFF"}  # MPO: phone JPEGs
MAX_TEXT_CHARS = 100_000
MAX_TEXT_BYTES = 2 * MB

_TILE_PIXELS = 1_000_000  # converted at a time: each temporary copy stays a few MB
# Grey with more than 8 bits a pixel; PIL itself decodes 16-bit RGB(A) files to 8-bit RGB(A).
_WIDE_MODES = {"I;16", "I;16B", "I;16L", "I;16N", "I", "F"}
_ORIENTATION = 0x0112  # the EXIF tag; the same turns as ImageOps.exif_transpose
_EXIF_TURNS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
               5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
               8: Image.Transpose.ROTATE_90}

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
    source: ImageSource, max_bytes: int = MAX_IMAGE_BYTES, max_pixels: int = MAX_IMAGE_PIXELS,
    max_side: int = MAX_IMAGE_SIDE,
) -> Image.Image:
    """Decode an uploaded image into an upright RGB picture, or raise ``InputError``.

    A picture whose longer side exceeds ``max_side`` comes back shrunk to fit it (by a whole
    factor, so to between half ``max_side`` and ``max_side``): every demo resizes to at most
    ~2k px anyway, and shrinking while converting keeps a 40 MP upload's cost near its decoded
    size (160 MB at most) instead of several full-size copies.
    """
    if isinstance(source, Image.Image):
        return _upright_rgb(source, max_side)
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
    if max(image.size) > MAX_IMAGE_EDGE:
        raise InputError(f"This image is too long and thin ({image.width}x{image.height}); "
                         f"its sides may be at most {MAX_IMAGE_EDGE:,} pixels.")
    try:
        image.seek(0)  # animated GIF/WebP, multi-page TIFF: the first frame
        _draft(image, max_side)
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError):
        raise InputError(DAMAGED_IMAGE) from None
    return _upright_rgb(image, max_side)


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> str:
    shown = f" ({size[0]}x{size[1]})" if size else ""
    return f"This image has too many pixels{shown}; the limit is {max_pixels / 1e6:.0f} megapixels."


def _draft(image: Image.Image, max_side: int) -> None:
    """Let a JPEG decode straight at 1/2, 1/4 or 1/8 scale, no smaller than ``_to_rgb`` would shrink it;
    other formats ignore this."""
    factor = math.ceil(max(image.size) / max_side)
    if factor > 1:
        image.draft(None, (math.ceil(image.width / factor), math.ceil(image.height / factor)))


def _upright_rgb(image: Image.Image, max_side: int) -> Image.Image:
    # The orientation is read first: shrinking makes a plain image, which has lost a TIFF's tags.
    turn = _EXIF_TURNS.get(image.getexif().get(_ORIENTATION, 1))
    rgb = _to_rgb(image, max_side)
    return rgb.transpose(turn) if turn is not None else rgb


def _to_rgb(image: Image.Image, max_side: int) -> Image.Image:
    """Flatten transparency onto white, turn grey, palette, 16-bit and CMYK into RGB, and shrink
    by a whole factor until the longer side is at most ``max_side``.

    It goes a tile at a time, so the only full-size buffers are the decoded picture and the
    result: converting a 40 MP RGBA picture whole made three more 160 MB copies.
    """
    factor = math.ceil(max(image.size) / max_side)
    levels = _value_range(image) if image.mode in _WIDE_MODES else None
    result = Image.new("RGB", (math.ceil(image.width / factor), math.ceil(image.height / factor)))
    for (left, top), tile in _tiles(image, factor):
        rgb = _tile_to_rgb(tile, levels)
        result.paste(rgb.reduce(factor) if factor > 1 else rgb, (left // factor, top // factor))
    return result


def _tiles(image: Image.Image, factor: int = 1) -> Iterator[tuple[tuple[int, int], Image.Image]]:
    """(corner, copy) of tiles of about ``_TILE_PIXELS``, their sides multiples of ``factor`` so that
    box-reducing tile by tile equals reducing the whole (tiles, not bands: a picture may be 1 px high)."""
    side = factor * max(1, math.isqrt(_TILE_PIXELS) // factor)
    for top in range(0, image.height, side):
        for left in range(0, image.width, side):
            yield (left, top), image.crop((left, top, min(left + side, image.width), min(top + side, image.height)))


def _value_range(image: Image.Image) -> tuple[float, float]:
    """Lowest and highest finite value of a 16-bit, 32-bit or float picture."""
    low, high = math.inf, -math.inf
    for _, tile in _tiles(image):
        values = np.asarray(tile, dtype=np.float32)
        finite = values[np.isfinite(values)]  # float TIFFs may hold NaN or infinity
        if finite.size:
            low, high = min(low, float(finite.min())), max(high, float(finite.max()))
    return (low, high) if low <= high else (0.0, 0.0)


def _tile_to_rgb(tile: Image.Image, levels: tuple[float, float] | None) -> Image.Image:
    if levels is not None:
        tile = _stretched_to_8_bit(tile, *levels)
    if tile.mode in ("RGBA", "LA", "PA") or (tile.mode == "P" and "transparency" in tile.info):
        rgba = tile.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        tile = Image.alpha_composite(background, rgba)
    return tile.convert("RGB")


def _stretched_to_8_bit(tile: Image.Image, low: float, high: float) -> Image.Image:
    """Grey levels ``low``..``high`` (the picture's own range) mapped onto 0..255, in float32."""
    scaled = (np.asarray(tile, dtype=np.float32) - low) * np.float32(255.0 / (high - low or 1.0))
    np.nan_to_num(scaled, copy=False)
    return Image.fromarray(np.clip(scaled + 0.5, 0, 255).astype(np.uint8))


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

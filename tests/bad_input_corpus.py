"""The shared corpus of bad uploads every demo must answer with a clear message.

Built on the fly (a few kilobytes each, except the long audio), so no binary sits in the repo.
"""
from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
from PIL import Image

GENERIC_FAILURE = ("Something went wrong on our side", "has not enabled verbose error reporting")


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _wav(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(int(seconds * rate)) / rate)
        out.writeframes((tone * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def bad_images() -> dict[str, tuple[str, bytes]]:
    """name -> (file name as uploaded, bytes)."""
    photo = _png(Image.new("RGB", (64, 48), "orange"))
    return {
        "zero-byte": ("empty.png", b""),
        "truncated": ("cut.png", photo[: len(photo) // 2]),
        "wrong extension": ("notes.png", b"these are my shopping notes, not a picture\n" * 20),
        "oversized pixels": ("huge.png", _png(Image.new("1", (9000, 9000)))),  # 81 MP, ~10 KB
        "decompression bomb": ("bomb.png", _png(Image.new("1", (20_000, 20_000)))),
    }


def bad_audio() -> dict[str, tuple[str, bytes]]:
    return {
        "zero-byte": ("empty.wav", b""),
        "corrupted": ("broken.wav", _wav(1.0)[:12] + b"fmt " + bytes(range(7, 255)) * 8),  # mangled header
        "truncated": ("cut.wav", _wav(1.0)[:30]),
        "wrong extension": ("song.wav", b"plain text pretending to be a recording\n" * 40),
        "10-minute": ("lecture.wav", _wav(600.0)),
    }


def bad_texts() -> dict[str, str]:
    return {
        "empty": "",
        "only spaces": "   \n\t  ",
        "huge": "This sentence repeats until the text is far too long. " * 100_000,  # 5.5 MB
    }


def write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path

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


def _dense_flac(seconds: float = 3.0, rate: int = 655_350, channels: int = 8) -> bytes:
    """Silence at FLAC's highest sample rate in 8 channels: a few kilobytes, 16 M samples decoded."""
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros((int(seconds * rate), channels), dtype=np.int16), rate, format="FLAC")
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
        "16-bit oversized pixels": ("scan.png", _png(Image.new("I;16", (7000, 6000)))),  # 42 MP, ~80 KB
        "long sliver": ("sliver.png", _png(Image.new("1", (40_000, 1)))),  # few pixels, but a side over 30,000
    }


def bad_videos() -> dict[str, tuple[str, bytes]]:
    """name -> (file name as uploaded, bytes). The scripts name clip.mp4: put a real clip beside them
    to check that ffmpeg does not follow them."""
    return {
        "zero-byte": ("empty.mp4", b""),
        "text renamed .mp4": ("holiday.mp4", b"this is not really a video\n" * 100),
        "picture renamed .mp4": ("photo.mp4", _png(Image.new("RGB", (64, 48), "orange"))),
        "MP4 header only": ("cut.mp4", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"),
        "HLS playlist": ("clip.m3u8", b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1.0,\nclip.mp4\n#EXT-X-ENDLIST\n"),
        "playlist renamed .mp4": ("movie.mp4", b"#EXTM3U\n#EXTINF:1.0,\nclip.mp4\n"),
        "concat script": ("clip.ffconcat", b"ffconcat version 1.0\nfile clip.mp4\n"),
    }


def bad_audio() -> dict[str, tuple[str, bytes]]:
    return {
        "zero-byte": ("empty.wav", b""),
        "corrupted": ("broken.wav", _wav(1.0)[:12] + b"fmt " + bytes(range(7, 255)) * 8),  # mangled header
        "truncated": ("cut.wav", _wav(1.0)[:30]),
        "wrong extension": ("song.wav", b"plain text pretending to be a recording\n" * 40),
        "10-minute": ("lecture.wav", _wav(600.0)),
        "too dense": ("surround.flac", _dense_flac()),  # 3 s, but 8 channels at 655 kHz: 16 M samples
    }


def bad_texts() -> dict[str, str]:
    return {
        "empty": "",
        "only spaces": "   \n\t  ",
        "huge": "This sentence repeats until the text is far too long. " * 100_000,  # 5.5 MB
    }


def bad_documents() -> dict[str, tuple[str, bytes, str]]:
    """Hostile .docx and .pdf uploads (zip bombs, XML entities, locked or endless PDFs), each under
    200 KB: name -> (file name as uploaded, bytes, a fragment of the message the visitor must see)."""
    from test_hostile_documents import hostile_documents  # their builders live beside their tests

    return hostile_documents()


def write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path

"""Short video clips in and out: checks with visitor-facing messages, RGB frames, H.264 MP4.

ffmpeg comes from ``imageio-ffmpeg`` (a static binary inside a PyPI wheel), so no system
package is needed. A clip is decoded frame by frame, never held whole in memory, and
frames are scaled inside ffmpeg to the size the demo asks for.

ffmpeg reads far more than videos: a playlist (.m3u8) or concat script uploaded as a "video"
makes it open the files or URLs the script names. So ffmpeg only ever sees a copy of the
upload under a fixed name, may use only the file protocol, and gets the demuxer chosen from
the file's first bytes (MP4/MOV or Matroska/WebM), so it never guesses another reader.
"""
from __future__ import annotations

import logging
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

import imageio_ffmpeg
import numpy as np

from core.validation import MB, InputError

VIDEO_TYPES = ["mp4", "webm", "mov"]
MAX_VIDEO_BYTES = 50 * MB
MAX_VIDEO_SECONDS = 30.0
UPLOAD_NAME = "upload.bin"  # not the visitor's name: an extension would steer ffmpeg's choice of reader
NOT_A_VIDEO = "This file is not a video we can read (or it has no picture track). Use MP4, WebM or MOV."
_MOV_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide"}  # an MP4/MOV file opens with one of these
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # a Matroska/WebM file's first bytes
_COPY_CHUNK = MB
VideoSource = bytes | str | Path | BinaryIO

# imageio-ffmpeg warns whenever frames are scaled on purpose
logging.getLogger("imageio_ffmpeg").setLevel(logging.ERROR)


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    demuxer: str  # ffmpeg's reader for the container, from the file's first bytes
    width: int  # of the frames as decoded (after the rotation the phone recorded)
    height: int
    fps: float
    seconds: float  # 0 when the container does not say

    @property
    def frame_estimate(self) -> int:
        """Frames to expect (a progress bar's total); the exact count is known only after decoding."""
        return max(1, round(self.fps * self.seconds))


@contextmanager
def opened_video(
    source: VideoSource, max_bytes: int = MAX_VIDEO_BYTES, max_seconds: float = MAX_VIDEO_SECONDS
) -> Iterator[VideoInfo]:
    """Check an uploaded clip (size, decodable, has a video stream, length) and describe it.

    Every upload, a path included, is copied to a temporary file for ffmpeg, deleted when
    the ``with`` block ends.
    """
    with tempfile.TemporaryDirectory(prefix="gallery_video_") as folder:
        path = _as_file(source, max_bytes, Path(folder))
        info = _probe(path)
        if info.seconds > max_seconds:
            raise InputError(f"This video is too long ({info.seconds:.1f} s); the limit is {max_seconds:.0f} s. "
                             "Trim it and try again.")
        yield info


def _as_file(source: VideoSource, max_bytes: int, folder: Path) -> Path:
    """A size-checked copy of the upload, ``folder/UPLOAD_NAME``."""
    copy = folder / UPLOAD_NAME
    if isinstance(source, bytes):
        _check_size(len(source), max_bytes)
        copy.write_bytes(source)
    elif isinstance(source, (str, Path)):
        _check_size(Path(source).stat().st_size, max_bytes)  # the true size, before copying anything
        with open(source, "rb") as file:
            _check_size(_copy_at_most(file, copy, max_bytes + 1), max_bytes)  # it may have grown since
    else:
        _check_size(_copy_at_most(source, copy, max_bytes + 1), max_bytes)
    return copy


def _copy_at_most(file: BinaryIO, target: Path, limit: int) -> int:
    """Copy up to ``limit`` bytes of ``file`` to ``target``; return how many were copied."""
    copied = 0
    with target.open("wb") as out:
        while copied < limit and (chunk := file.read(min(_COPY_CHUNK, limit - copied))):
            out.write(chunk)
            copied += len(chunk)
    return copied


def _check_size(size: int, max_bytes: int) -> None:
    if size == 0:
        raise InputError("The video is empty (0 bytes). Please choose another file.")
    if size > max_bytes:
        raise InputError(f"The video is too large ({size / MB:.0f} MB); the limit is {max_bytes / MB:.0f} MB.")


def _demuxer(path: Path) -> str:
    """ffmpeg's demuxer for the container the file's first bytes show; anything else is refused."""
    with path.open("rb") as file:
        head = file.read(8)
    if head[:4] == _EBML_MAGIC:
        return "matroska"  # WebM too
    if head[4:8] in _MOV_BOXES:
        return "mov"  # MP4, MOV, M4V, 3GP
    raise InputError(NOT_A_VIDEO)


def _input_params(demuxer: str) -> list[str]:
    """ffmpeg options before ``-i``: this demuxer, and no protocol but local files."""
    return ["-protocol_whitelist", "file", "-f", demuxer]


def _probe(path: Path) -> VideoInfo:
    demuxer = _demuxer(path)
    frames = imageio_ffmpeg.read_frames(str(path), input_params=_input_params(demuxer))
    try:
        meta = next(frames)
    except OSError:
        raise InputError(NOT_A_VIDEO) from None
    finally:
        frames.close()
    width, height = meta["size"]
    return VideoInfo(path, demuxer, width, height, float(meta["fps"] or 0.0), float(meta["duration"] or 0.0))


def fitted_size(width: int, height: int, longer_side: int) -> tuple[int, int]:
    """Frame size with the longer side at most ``longer_side``, both sides even (H.264 needs it)."""
    scale = min(1.0, longer_side / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def read_frames(info: VideoInfo, size: tuple[int, int], max_seconds: float = MAX_VIDEO_SECONDS) -> Iterator[np.ndarray]:
    """The clip's frames as RGB uint8 arrays of ``size`` (width, height); at most ``max_seconds`` of them."""
    width, height = size
    frames = imageio_ffmpeg.read_frames(str(info.path), input_params=_input_params(info.demuxer),
                                        output_params=["-vf", f"scale={width}:{height}", "-t", f"{max_seconds:g}"])
    try:
        next(frames)  # the metadata, already known
        count = 0
        for frame in frames:
            count += 1
            yield np.frombuffer(frame, dtype=np.uint8).reshape(height, width, 3)
    except OSError:
        raise InputError("This video is damaged: it stopped decoding part way through.") from None
    finally:
        frames.close()
    if count == 0:
        raise InputError("This video has no frames we can decode.")


class Mp4Writer:
    """Frames in, an H.264 MP4 (playable in browsers) out: ``with Mp4Writer(fps, size) as out: out.write(f)``."""

    def __init__(self, fps: float, size: tuple[int, int]) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="gallery_video_out_")
        self.path = Path(self._folder.name) / "annotated.mp4"
        self.size = size
        self.frames_written = 0
        self._encoder = imageio_ffmpeg.write_frames(str(self.path), size, fps=fps or 25.0, macro_block_size=2,
                                                    output_params=["-movflags", "+faststart"])
        self._encoder.send(None)

    def write(self, frame: np.ndarray) -> None:
        self._encoder.send(np.ascontiguousarray(frame, dtype=np.uint8))
        self.frames_written += 1

    def finish(self) -> bytes:
        """Close the encoder and return the file's bytes."""
        self._encoder.close()
        return self.path.read_bytes()

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._encoder.close()
        self._folder.cleanup()


def encode_mp4(frames: Iterable[np.ndarray], fps: float) -> bytes:
    """A whole clip from a sequence of same-size RGB frames (tests and example clips)."""
    frames = iter(frames)
    first = next(frames)
    with Mp4Writer(fps, (first.shape[1], first.shape[0])) as writer:
        writer.write(first)
        for frame in frames:
            writer.write(frame)
        return writer.finish()


def count_frames(video: bytes) -> int:
    """Decode a whole clip and count its frames."""
    with opened_video(video) as info:
        return sum(1 for _ in read_frames(info, (info.width, info.height)))

"""Short video clips in and out: checks with visitor-facing messages, RGB frames, H.264 MP4.

ffmpeg comes from ``imageio-ffmpeg`` (a static binary inside a PyPI wheel), so no system
package is needed. A clip is decoded frame by frame, never held whole in memory, and
frames are scaled inside ffmpeg to the size the demo asks for.
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
VideoSource = bytes | str | Path | BinaryIO

# imageio-ffmpeg warns whenever frames are scaled on purpose
logging.getLogger("imageio_ffmpeg").setLevel(logging.ERROR)


@dataclass(frozen=True)
class VideoInfo:
    path: Path
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

    Uploads given as bytes or a file object are written to a temporary file for ffmpeg,
    and that file is deleted when the ``with`` block ends.
    """
    with tempfile.TemporaryDirectory(prefix="gallery_video_") as folder:
        path = _as_file(source, max_bytes, Path(folder))
        info = _probe(path)
        if info.seconds > max_seconds:
            raise InputError(f"This video is too long ({info.seconds:.1f} s); the limit is {max_seconds:.0f} s. "
                             "Trim it and try again.")
        yield info


def _as_file(source: VideoSource, max_bytes: int, folder: Path) -> Path:
    if isinstance(source, (str, Path)):
        path = Path(source)
        size = path.stat().st_size
        data = None
    else:
        data = source if isinstance(source, bytes) else source.read(max_bytes + 1)
        size = len(data)
    if size == 0:
        raise InputError("The video is empty (0 bytes). Please choose another file.")
    if size > max_bytes:
        raise InputError(f"The video is too large ({size / MB:.0f} MB); the limit is {max_bytes / MB:.0f} MB.")
    if data is None:
        return path
    path = folder / "upload"
    path.write_bytes(data)
    return path


def _probe(path: Path) -> VideoInfo:
    frames = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(frames)
    except OSError:
        raise InputError("This file is not a video we can read (or it has no picture track). "
                         "Use MP4, WebM or MOV.") from None
    finally:
        frames.close()
    width, height = meta["size"]
    return VideoInfo(path, width, height, float(meta["fps"] or 0.0), float(meta["duration"] or 0.0))


def fitted_size(width: int, height: int, longer_side: int) -> tuple[int, int]:
    """Frame size with the longer side at most ``longer_side``, both sides even (H.264 needs it)."""
    scale = min(1.0, longer_side / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def read_frames(info: VideoInfo, size: tuple[int, int], max_seconds: float = MAX_VIDEO_SECONDS) -> Iterator[np.ndarray]:
    """The clip's frames as RGB uint8 arrays of ``size`` (width, height); at most ``max_seconds`` of them."""
    width, height = size
    frames = imageio_ffmpeg.read_frames(str(info.path), output_params=["-vf", f"scale={width}:{height}",
                                                                       "-t", f"{max_seconds:g}"])
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

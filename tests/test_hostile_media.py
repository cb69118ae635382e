"""Hostile uploads that are small files: giant pictures decode within a memory bound, and scripts
posing as videos (playlists, concat lists) are refused before ffmpeg can follow them."""
from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Callable

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from bad_input_corpus import bad_videos, write
from core.validation import MAX_IMAGE_SIDE, InputError, read_image
from core.video import UPLOAD_NAME, count_frames, encode_mp4, opened_video, read_frames

WIDTH, HEIGHT = 8000, 5000  # 40 MP: the most pixels accepted
MEMORY_BOUND_MB = 300  # above the process's own size; the float64 conversion took ~900 MB for a 16-bit PNG
LOW, HIGH = 1000, 61000  # the 16-bit gradient's range, stretched onto 0..255


def streamed_png(width: int, height: int, colour_type: int, bit_depth: int, row: Callable[[int], bytes]) -> bytes:
    """A PNG written row by row, never as a pixel array, so 40 MP of flat rows cost ~100 KB and a moment."""
    packer = zlib.compressobj()
    pixels = b"".join(packer.compress(b"\x00" + row(y)) for y in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def gradient_value(y: int) -> int:
    """Row ``y`` of the 16-bit grey picture: LOW at the top, HIGH at the bottom."""
    return LOW + (HIGH - LOW) * y // (HEIGHT - 1)


def gradient_row(y: int) -> bytes:
    return struct.pack(">H", gradient_value(y)) * WIDTH


RGBA_ROW = bytes([16, 128, 240, 128]) * WIDTH  # half transparent
RGB16_ROW = struct.pack(">3H", 0x1000, 0x8000, 0xF0FF) * WIDTH


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def on_white(rgba: tuple[int, int, int, int]) -> tuple[int, ...]:
    """The colour of a half-transparent pixel laid over white."""
    *rgb, alpha = rgba
    return tuple(round(c * alpha / 255 + 255 * (1 - alpha / 255)) for c in rgb)


# name -> (file bytes builder, the first output pixel expected, tolerance)
GIANTS: dict[str, tuple[Callable[[], bytes], tuple[int, int, int], int]] = {
    "16-bit grey PNG": (lambda: streamed_png(WIDTH, HEIGHT, 0, 16, gradient_row), (0, 0, 0), 1),
    "RGBA PNG": (lambda: streamed_png(WIDTH, HEIGHT, 6, 8, lambda y: RGBA_ROW),
                 on_white((16, 128, 240, 128)), 1),
    "16-bit RGB PNG": (lambda: streamed_png(WIDTH, HEIGHT, 2, 16, lambda y: RGB16_ROW),
                       (0x10, 0x80, 0xF0), 1),  # PIL keeps the high byte
    "JPEG": (lambda: jpeg(Image.new("RGB", (WIDTH, HEIGHT), (200, 100, 50))), (200, 100, 50), 3),
}

# Decodes one file in a fresh interpreter: ru_maxrss sees PIL's C buffers, which tracemalloc misses.
MEASURE = """
import json, resource, sys
from pathlib import Path
from PIL import Image
from core.validation import read_image
data = Path(sys.argv[1]).read_bytes()
read_image(Image.new("RGB", (8, 8)))  # every import done before the baseline
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
image = read_image(data)
grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({"grown_mb": grown_mb, "mode": image.mode, "size": image.size, "pixel": image.getpixel((0, 0))}))
"""


@pytest.fixture(scope="module")
def giant_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("giants")
    return {name: write(folder, f"giant{index}", build()) for index, (name, (build, _, _)) in enumerate(GIANTS.items())}


@pytest.mark.parametrize("name", GIANTS)
def test_a_40_megapixel_picture_decodes_within_the_memory_bound(name, giant_files):
    assert giant_files[name].stat().st_size < 1_000_000  # the hostile part: a small file
    run = subprocess.run([sys.executable, "-c", MEASURE, str(giant_files[name])], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, check=True)
    result = json.loads(run.stdout)
    assert result["grown_mb"] < MEMORY_BOUND_MB
    assert result["mode"] == "RGB" and tuple(result["size"]) == (WIDTH // 2, HEIGHT // 2)
    _, expected, tolerance = GIANTS[name]
    assert np.abs(np.subtract(result["pixel"], expected)).max() <= tolerance


def test_a_16_bit_gradient_becomes_the_same_gradient_in_8_bits(giant_files):
    pixels = np.asarray(read_image(giant_files["16-bit grey PNG"].read_bytes())).astype(float)
    assert pixels.shape == (HEIGHT // 2, WIDTH // 2, 3)
    assert (pixels == pixels[:, :1, :1]).all()  # grey, and every row one level
    # each output row averages two input rows; their 16-bit levels stretched from LOW..HIGH onto 0..255
    rows = np.arange(HEIGHT).reshape(-1, 2)
    expected = np.vectorize(gradient_value)(rows).astype(float).mean(axis=1)
    expected = (expected - LOW) * 255 / (HIGH - LOW)
    assert np.abs(pixels[:, 0, 0] - expected).max() <= 1.0


def test_big_pictures_shrink_by_a_whole_factor_to_fit_max_side():
    photo = Image.new("RGB", (1000, 600), "teal")
    assert read_image(jpeg(photo), max_side=256).size == (250, 150)  # factor 4
    assert read_image(photo, max_side=1000).size == (1000, 600)  # already fits
    assert read_image(Image.new("RGB", (MAX_IMAGE_SIDE + 2, 10))).size == (MAX_IMAGE_SIDE // 2 + 1, 5)


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF", "PNG"])
def test_the_exif_rotation_survives_shrinking(fmt):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    buffer = io.BytesIO()
    Image.new("RGB", (1000, 600), "teal").save(buffer, format=fmt, exif=exif)
    assert read_image(buffer.getvalue(), max_side=256).size == (150, 250)


@pytest.fixture(scope="module")
def clip() -> bytes:
    frames = [np.full((48, 64, 3), shade, np.uint8) for shade in range(0, 250, 25)]
    return encode_mp4(frames, fps=10)


def _encoded(path: Path, codec: str) -> Path:
    """A 10-frame 64x48 clip in the container ``path``'s extension names."""
    writer = imageio_ffmpeg.write_frames(str(path), (64, 48), fps=10, codec=codec, macro_block_size=2)
    writer.send(None)
    for shade in range(0, 250, 25):
        writer.send(np.full((48, 64, 3), shade, np.uint8))
    writer.close()
    return path


@pytest.mark.parametrize("name, upload", bad_videos().items())
def test_every_bad_video_is_refused_even_beside_the_clip_it_names(name, upload, clip, tmp_path):
    write(tmp_path, "clip.mp4", clip)  # what the playlists and concat scripts point at
    path = write(tmp_path, *upload)
    for source in (path, upload[1]):
        with pytest.raises(InputError, match="empty|not a video we can read"):
            with opened_video(source):
                pass


def test_a_playlist_naming_a_clip_by_its_full_path_is_refused(clip, tmp_path):
    real = write(tmp_path, "real.mp4", clip)
    script = bad_videos()["HLS playlist"][1].replace(b"clip.mp4", str(real).encode())
    playlist = write(tmp_path, "list.m3u8", script)
    with pytest.raises(InputError, match="not a video we can read.*Use MP4, WebM or MOV"):
        with opened_video(playlist):
            pass


@pytest.mark.parametrize("file_name, codec", [("clip.webm", "libvpx"), ("clip.mov", "libx264")])
def test_webm_and_mov_clips_are_read(file_name, codec, tmp_path):
    path = _encoded(tmp_path / file_name, codec)
    with opened_video(path) as info:
        assert (info.width, info.height) == (64, 48)
        assert sum(1 for _ in read_frames(info, (32, 24))) == 10


@pytest.mark.parametrize("file_name", ["clip.mp4", "clip.webm", "clip", "clip.m3u8"])
def test_ffmpeg_reads_a_fixed_name_copy_whatever_the_upload_is_called(file_name, clip, tmp_path):
    path = write(tmp_path, file_name, clip)
    with opened_video(path) as info:
        assert info.path.name == UPLOAD_NAME and info.path.parent != tmp_path
        assert info.demuxer == "mov"
    assert count_frames(clip) == 10


def test_size_is_checked_for_paths_and_streams(clip, tmp_path):
    for source in (write(tmp_path, "clip.mp4", clip), io.BytesIO(clip)):
        with pytest.raises(InputError, match="too large"):
            with opened_video(source, max_bytes=len(clip) - 1):
                pass
    with opened_video(io.BytesIO(clip), max_bytes=len(clip)) as info:
        assert info.frame_estimate == 10

"""Every kind of bad upload gets a message a visitor can act on; good uploads come out upright RGB."""
import io

import numpy as np
import pytest
from PIL import Image

from core.validation import InputError, read_image, read_text


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


PHOTO = Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF"])
def test_supported_formats_decode_to_rgb(fmt):
    image = read_image(encode(PHOTO, fmt))
    assert image.mode == "RGB" and image.size == (60, 40)


def test_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (20, 10), color) for color in ("red", "blue")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert read_image(data).getpixel((5, 5))[0] > 200


def test_exif_rotation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    image = read_image(encode(PHOTO, "JPEG", exif=exif))
    assert image.size == (40, 60)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "L", "CMYK", "I;16", "P"])
def test_other_colour_modes_become_rgb(mode):
    source = PHOTO.convert("RGBA").convert(mode) if mode != "I;16" else Image.new("I;16", (8, 8), 4000)
    fmt = "TIFF" if mode in ("CMYK", "I;16") else "PNG"
    assert read_image(encode(source, fmt)).mode == "RGB"


def test_transparent_pixels_are_flattened_onto_white():
    clear = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    assert read_image(encode(clear, "PNG")).getpixel((0, 0)) == (255, 255, 255)


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"this is plain text, renamed to photo.png", "not an image"),
    (encode(PHOTO, "PNG")[:200], "damaged or incomplete"),
    (encode(PHOTO, "JPEG")[:300], "damaged or incomplete"),
])
def test_unreadable_files_are_refused_with_a_reason(data, message):
    with pytest.raises(InputError, match=message):
        read_image(data)


def test_files_over_the_byte_limit_are_refused():
    with pytest.raises(InputError, match="too large"):
        read_image(encode(PHOTO, "PNG"), max_bytes=1000)


def test_decompression_bomb_is_refused_before_decoding():
    bomb = encode(Image.new("1", (12_000, 12_000)), "PNG")  # 144 MP in a few kilobytes
    assert len(bomb) < 100_000
    with pytest.raises(InputError, match="too many pixels"):
        read_image(bomb)


def test_pixel_limit_is_configurable():
    with pytest.raises(InputError, match="60x40"):
        read_image(encode(PHOTO, "PNG"), max_pixels=1000)


def test_text_is_decoded_and_checked():
    assert read_text("Привет, мир".encode("utf-8")) == "Привет, мир"
    assert read_text("\ufeffBOM first".encode("utf-8")) == "BOM first"


@pytest.mark.parametrize("source, message", [
    ("", "empty"),
    ("   \n\t ", "empty"),
    (b"", "empty"),
    ("x" * 200_001, "too long"),
    ("caf\xe9".encode("latin-1"), "not valid UTF-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
])
def test_bad_text_is_refused_with_a_reason(source, message):
    with pytest.raises(InputError, match=message):
        read_text(source)


def test_example_photos_cannot_be_spoiled_by_a_caller():
    """PIL's thumbnail() shrinks in place: one caller must not shrink the example for everyone."""
    from core.media import example_photo

    size = example_photo("Coffee").size
    example_photo("Coffee").thumbnail((64, 64))
    assert example_photo("Coffee").size == size

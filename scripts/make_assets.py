"""Render the gallery's static pictures with the real models: card thumbnails and style swatches.

Run after changing a demo: ``.venv/bin/python scripts/make_assets.py``.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from core.contract import ASSETS  # noqa: E402
from core.media import example_photo  # noqa: E402
from demos import style_transfer  # noqa: E402

THUMBNAIL = (480, 270)


def card_thumbnail(image: Image.Image) -> Image.Image:
    """Centre-crop to the card's 16:9 box."""
    scale = max(THUMBNAIL[0] / image.width, THUMBNAIL[1] / image.height)
    resized = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
    left, top = (resized.width - THUMBNAIL[0]) // 2, (resized.height - THUMBNAIL[1]) // 2
    return resized.crop((left, top, left + THUMBNAIL[0], top + THUMBNAIL[1]))


def style_assets() -> None:
    cat = example_photo("Cat (Chelsea)")
    for index, path in enumerate(style_transfer.builtin_style_thumbnails()):
        style_transfer.stylize(cat, index, size=160).image.save(path, quality=85)
    photo = example_photo("Astronaut")
    halves = [photo, style_transfer.stylize(photo, 19, size=512).image]
    side_by_side = Image.new("RGB", (1024, 512))
    for offset, half in enumerate(halves):
        side_by_side.paste(half, (offset * 512, 0))
    card_thumbnail(side_by_side).save(ASSETS / "thumbnails" / "style_transfer.png", optimize=True)


if __name__ == "__main__":
    style_assets()

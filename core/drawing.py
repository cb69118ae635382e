"""Drawing results onto pictures: labelled boxes (detectors) and heatmap overlays (explanations)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib import colormaps
from PIL import Image, ImageDraw, ImageFont

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels
Color = str | tuple[int, int, int]


def draw_boxes(
    image: Image.Image, boxes: Sequence[Box], labels: Sequence[str], colors: Sequence[Color],
) -> Image.Image:
    """A copy of ``image`` with one rectangle per box and its label on a tag above it.

    Line width and font size follow the picture's size, so labels stay readable on both a
    thumbnail and a 12-megapixel photo.
    """
    annotated = image.convert("RGB")  # always a copy
    draw = ImageDraw.Draw(annotated)
    longer_side = max(image.size)
    line_width = max(2, round(longer_side / 300))
    font = ImageFont.load_default(size=max(12, round(longer_side / 45)))
    for box, label, color in zip(boxes, labels, colors, strict=True):
        x1, y1, x2, y2 = (float(v) for v in box)
        draw.rectangle((x1, y1, x2, y2), outline=color, width=line_width)
        if label:
            _draw_tag(draw, (x1, y1), label, color, font)
    return annotated


def _draw_tag(draw: ImageDraw.ImageDraw, corner: tuple[float, float], text: str, color: Color,
              font: ImageFont.FreeTypeFont) -> None:
    """A filled tag with the label, above the box's top-left corner (inside it at the top edge)."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    padding = max(2, font.size // 6)
    width, height = right - left + 2 * padding, bottom - top + 2 * padding
    x, y = corner
    y = y - height if y >= height else y
    draw.rectangle((x, y, x + width, y + height), fill=color)
    draw.text((x + padding - left, y + padding - top), text, fill=_readable_on(color), font=font)


def _readable_on(color: Color) -> tuple[int, int, int]:
    red, green, blue = color if isinstance(color, tuple) else Image.new("RGB", (1, 1), color).getpixel((0, 0))
    return (0, 0, 0) if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else (255, 255, 255)


def heatmap_overlay(image: Image.Image, heat: np.ndarray, alpha: float = 0.5, colormap: str = "jet") -> Image.Image:
    """``heat`` (any 2-D shape, values in [0, 1]) stretched over ``image`` in colour."""
    stretched = Image.fromarray(np.asarray(np.clip(heat, 0.0, 1.0) * 255, dtype=np.uint8))
    stretched = stretched.resize(image.size, Image.BILINEAR)
    colored = colormaps[colormap](np.asarray(stretched) / 255.0)[..., :3]
    colored_image = Image.fromarray((colored * 255).astype(np.uint8))
    return Image.blend(image.convert("RGB"), colored_image, alpha)

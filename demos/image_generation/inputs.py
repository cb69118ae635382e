"""Preprocess: check the class, clamp the numbers, the GAN's random input, a picture and a mask to inpaint."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps

from core.validation import InputError
from demos.image_generation.models import CLASS_NAMES, IMAGE_SIDE

if TYPE_CHECKING:
    import torch

MAX_SEED = 2**31 - 1


def class_index(name: str) -> int:
    if name not in CLASS_NAMES:
        raise InputError(f"Unknown class {name!r}. Pick one of: {', '.join(CLASS_NAMES)}.")
    return CLASS_NAMES.index(name)


def clamp(value: float, low: int, high: int, what: str, notes: list[str]) -> int:
    """``value`` as an int within [low, high]; a note for the visitor when it had to move."""
    clamped = int(min(max(round(value), low), high))
    if clamped != value:
        notes.append(f"{what} must be a whole number from {low} to {high}: used {clamped} instead of {value:g}.")
    return clamped


def latents_for(seed: int, count: int) -> torch.Tensor:
    """The GAN's random input: ``count`` vectors of 64 standard-normal numbers, fixed by the seed."""
    import torch

    from demos.networks.fashion_gan import LATENT_SIZE

    return torch.randn(count, LATENT_SIZE, generator=torch.Generator().manual_seed(seed))


def as_fashion_mnist(picture: Image.Image) -> torch.Tensor:
    """Any picture as the models see images: 28x28 grey, (1, 1, 28, 28) in [-1, 1], light object on black.
    A picture with a light background (a product photo) is inverted to match."""
    import torch

    grey = ImageOps.pad(picture.convert("L"), (IMAGE_SIDE, IMAGE_SIDE), Image.LANCZOS,
                        color=_border_grey(picture.convert("L")))
    pixels = np.asarray(grey, dtype=np.float32)
    if _border_grey(grey) > 127:
        pixels = 255.0 - pixels
    return torch.from_numpy(pixels / 127.5 - 1.0)[None, None]


def _border_grey(grey: Image.Image) -> int:
    pixels = np.asarray(grey)
    return int(np.median(np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])))


def rectangle_mask(left: int, top: int, right: int, bottom: int) -> np.ndarray:
    """A 28x28 mask that is True inside the rectangle (pixel coordinates, right/bottom exclusive)."""
    mask = np.zeros((IMAGE_SIDE, IMAGE_SIDE), dtype=bool)
    mask[max(0, top):min(IMAGE_SIDE, bottom), max(0, left):min(IMAGE_SIDE, right)] = True
    return mask

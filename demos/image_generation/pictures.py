"""Postprocess: images as pictures and grids, the denoising trajectory as a strip and a GIF, the call in
numbers; and the pictures a visitor may inpaint (real test images, GAN images)."""
from __future__ import annotations

import io
from typing import TYPE_CHECKING, Callable

import numpy as np
from PIL import Image

from demos.image_generation.gan import generate_gan
from demos.image_generation.models import CLASS_NAMES, IMAGE_SIDE, MODEL_DIR, Generation
from demos.image_generation.sampling import Frame, Sampling

if TYPE_CHECKING:
    import torch

STRIP_FRAMES = 8  # the trajectory strip shows at most this many steps


def to_picture(image: torch.Tensor, scale: int = 4) -> Image.Image:
    """One (1, 28, 28) image in [-1, 1] as a grey picture, enlarged with sharp pixels."""
    import torch

    pixels = ((image[0].float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    picture = Image.fromarray(pixels, mode="L")
    return picture.resize((IMAGE_SIDE * scale, IMAGE_SIDE * scale), Image.NEAREST)


def grid(images: torch.Tensor, columns: int | None = None, scale: int = 4, gap: int = 2) -> Image.Image:
    """Images side by side in rows (square-ish by default), on a thin white gutter."""
    columns = columns or int(np.ceil(np.sqrt(len(images))))
    rows = int(np.ceil(len(images) / columns))
    side = IMAGE_SIDE * scale
    sheet = Image.new("L", (columns * side + (columns - 1) * gap, rows * side + (rows - 1) * gap), 255)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        sheet.paste(to_picture(image, scale), (column * (side + gap), row * (side + gap)))
    return sheet


def strip_frames(sampling: Sampling, frames: int = STRIP_FRAMES) -> list[Frame]:
    """The steps the trajectory strip shows: a few, evenly spaced, the first and the last kept."""
    if len(sampling.frames) <= frames:
        return sampling.frames
    return [sampling.frames[i] for i in np.linspace(0, len(sampling.frames) - 1, frames).round().astype(int)]


def trajectory_strip(sampling: Sampling, frames: int = STRIP_FRAMES) -> tuple[Image.Image, list[Frame]]:
    """The first image's journey: x_t (top row) and the predicted x_0 (bottom row) at a few steps."""
    import torch

    shown = strip_frames(sampling, frames)
    noisy = torch.stack([frame.noisy[0] for frame in shown] + [sampling.images[0]])
    clean = torch.stack([frame.predicted_clean[0].clamp(-1, 1) for frame in shown] + [sampling.images[0]])
    return grid(torch.cat([noisy, clean]), columns=len(shown) + 1, scale=3), shown


def trajectory_caption(shown: list[Frame]) -> str:
    """The columns of the trajectory strip, left to right."""
    return " → ".join(f"step {frame.step} (t={frame.timestep})" for frame in shown) + " → result"


def mask_preview(picture: torch.Tensor, fill: np.ndarray, scale: int = 8) -> Image.Image:
    """The picture the model sees, with the pixels to fill in tinted red."""
    grey = np.asarray(to_picture(picture[0], scale=1), dtype=np.float32)
    colour = np.repeat(grey[..., None], 3, axis=2)
    colour[fill] = 0.4 * colour[fill] + 0.6 * np.array([230.0, 60.0, 60.0])
    tinted = Image.fromarray(colour.round().astype(np.uint8))
    return tinted.resize((IMAGE_SIDE * scale, IMAGE_SIDE * scale), Image.NEAREST)


def trajectory_gif(sampling: Sampling, scale: int = 2, seconds: float = 3.0) -> bytes:
    """The whole grid being denoised, as an animated GIF that rests on the final images."""
    pictures = [grid(frame.noisy.clamp(-1, 1), scale=scale) for frame in sampling.frames]
    pictures.append(grid(sampling.images, scale=scale))
    durations = [int(1000 * seconds / len(pictures))] * (len(pictures) - 1) + [1500]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=durations, loop=0)
    return buffer.getvalue()


def details(generation: Generation) -> dict:
    """What a call did, for the JSON panel and the API."""
    info = {"model": generation.model, "class": generation.class_name, "seed": generation.seed,
            "images": len(generation.images), "device": generation.device,
            "seconds": round(generation.seconds, 3), **generation.settings}
    if generation.scores:
        info["discriminator P(real)"] = [round(score, 3) for score in generation.scores]
    if generation.notes:
        info["notes"] = generation.notes
    return info


def inpainting_examples() -> dict[str, Callable[[], Image.Image]]:
    """Pictures to repair: real Fashion-MNIST test images (one per class, shipped) and GAN images."""
    def real(label: int) -> Callable[[], Image.Image]:
        def cut() -> Image.Image:
            with Image.open(MODEL_DIR / "real_examples.png") as strip:
                return strip.crop((label * IMAGE_SIDE, 0, (label + 1) * IMAGE_SIDE, IMAGE_SIDE)).convert("RGB")
        return cut

    def generated(label: int) -> Callable[[], Image.Image]:
        return lambda: to_picture(generate_gan(CLASS_NAMES[label], 0, 1).images[0], scale=1).convert("RGB")

    examples = {f"Real test image: {name}": real(label) for label, name in enumerate(CLASS_NAMES)}
    return examples | {f"GAN image: {name} (seed 0)": generated(label) for label, name in enumerate(CLASS_NAMES)}

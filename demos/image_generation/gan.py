"""Forward, the GAN: 64 random numbers and a class through the generator, in one pass; the discriminator's
verdict on each image; a walk through latent space from one seed to another."""
from __future__ import annotations

from typing import TYPE_CHECKING

from core.timing import stopwatch
from demos.image_generation.inputs import MAX_SEED, clamp, class_index, latents_for
from demos.image_generation.models import GenerativeModels, Generation, load

if TYPE_CHECKING:
    import torch

MAX_IMAGES = 16
MAX_INTERPOLATION_FRAMES = 16


def gan_images(models: GenerativeModels, latents: torch.Tensor, label: int) -> tuple[torch.Tensor, list[float]]:
    """The generator's images for these latents, and the discriminator's P(real) for each."""
    import torch

    with torch.no_grad():  # sampling only: no autograd graph
        labels = torch.full((len(latents),), label, device=models.device)
        images = models.generator(latents.to(models.device), labels)
        scores = torch.sigmoid(models.discriminator(images, labels))
        return images.cpu(), scores.cpu().tolist()


def generate_gan(class_name: str, seed: int, count: int = MAX_IMAGES) -> Generation:
    """``count`` images of one class from the GAN, in one forward pass."""
    notes: list[str] = []
    label = class_index(class_name)
    seed = clamp(seed, 0, MAX_SEED, "Seed", notes)
    count = clamp(count, 1, MAX_IMAGES, "Number of images", notes)
    models = load()
    with stopwatch() as watch:
        images, scores = gan_images(models, latents_for(seed, count), label)
    return Generation(images, class_name, "GAN", seed, models.device, watch.seconds, notes, scores)


def interpolate_gan(class_name: str, seed_a: int, seed_b: int, frames: int = 8) -> Generation:
    """A walk through latent space: ``frames`` images between seed A's first image and seed B's.

    Spherical interpolation (slerp): random 64-number vectors all have about the same length,
    and a straight line between two of them passes through shorter, atypical vectors."""
    import torch

    notes: list[str] = []
    label = class_index(class_name)
    seed_a = clamp(seed_a, 0, MAX_SEED, "Seed A", notes)
    seed_b = clamp(seed_b, 0, MAX_SEED, "Seed B", notes)
    frames = clamp(frames, 2, MAX_INTERPOLATION_FRAMES, "Number of frames", notes)
    start, end = latents_for(seed_a, 1)[0], latents_for(seed_b, 1)[0]
    path = torch.stack([slerp(start, end, float(t)) for t in torch.linspace(0, 1, frames)])
    models = load()
    with stopwatch() as watch:
        images, scores = gan_images(models, path, label)
    return Generation(images, class_name, "GAN", seed_a, models.device, watch.seconds, notes, scores,
                      settings={"seed B": seed_b, "frames": frames})


def slerp(start: torch.Tensor, end: torch.Tensor, t: float) -> torch.Tensor:
    import torch

    cosine = torch.dot(start, end) / (start.norm() * end.norm())
    angle = torch.arccos(cosine.clamp(-1 + 1e-7, 1 - 1e-7))
    if angle < 1e-4:  # the same direction: a straight line is the arc
        return torch.lerp(start, end, t)
    return (torch.sin((1 - t) * angle) * start + torch.sin(t * angle) * end) / torch.sin(angle)

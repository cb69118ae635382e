"""Forward, the GAN: 64 random numbers and a class through the generator, in one pass; the discriminator's
verdict on each image; a walk through latent space from one seed to another.

The pass is the demo's model work (``core.engine``), batched across visitors: every visitor's latents
go through the generator together, so a class of students asking at once costs one pass."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.engine import model_work
from core.timing import stopwatch
from demos.image_generation.inputs import MAX_SEED, clamp, class_index, latents_for
from demos.image_generation.models import Generation, load

if TYPE_CHECKING:
    import torch

MAX_IMAGES = 16
MAX_INTERPOLATION_FRAMES = 16


GAN_BATCH = 16  # visitors' requests per pass (up to 16 images each: 256 images, a few ms)


@dataclass
class GanRequest:
    latents: torch.Tensor  # (N, 64) standard-normal
    label: int


@dataclass
class GanImages:
    images: torch.Tensor  # (N, 1, 28, 28) in [-1, 1]
    scores: list[float]  # the discriminator's P(real) for each
    device: str


@model_work("image_generation", batch=GAN_BATCH, gpu_seconds=10)
def gan_images(requests: list[GanRequest]) -> list[GanImages]:
    """The generator's images for each request's latents, and the discriminator's P(real) for each image:
    all requests in one pass (eval-mode batch norm treats each image alone, so batching changes nothing)."""
    import torch

    models = load()
    latents = torch.cat([request.latents for request in requests]).to(models.device)
    labels = torch.cat([torch.full((len(request.latents),), request.label) for request in requests]).to(models.device)
    with torch.no_grad():  # sampling only: no autograd graph
        images = models.generator(latents, labels)
        scores = torch.sigmoid(models.discriminator(images, labels))
    sizes = [len(request.latents) for request in requests]
    return [GanImages(part.clone(), part_scores.tolist(), models.device)  # a copy: not the whole batch's memory
            for part, part_scores in zip(images.cpu().split(sizes), scores.cpu().split(sizes))]


def generate_gan(class_name: str, seed: int, count: int = MAX_IMAGES) -> Generation:
    """``count`` images of one class from the GAN, in one forward pass."""
    notes: list[str] = []
    label = class_index(class_name)
    seed = clamp(seed, 0, MAX_SEED, "Seed", notes)
    count = clamp(count, 1, MAX_IMAGES, "Number of images", notes)
    with stopwatch() as watch:
        [made] = gan_images([GanRequest(latents_for(seed, count), label)])
    return Generation(made.images, class_name, "GAN", seed, made.device, watch.seconds, notes, made.scores)


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
    with stopwatch() as watch:
        [made] = gan_images([GanRequest(path, label)])
    return Generation(made.images, class_name, "GAN", seed_a, made.device, watch.seconds, notes, made.scores,
                      settings={"seed B": seed_b, "frames": frames})


def slerp(start: torch.Tensor, end: torch.Tensor, t: float) -> torch.Tensor:
    import torch

    cosine = torch.dot(start, end) / (start.norm() * end.norm())
    angle = torch.arccos(cosine.clamp(-1 + 1e-7, 1 - 1e-7))
    if angle < 1e-4:  # the same direction: a straight line is the arc
        return torch.lerp(start, end, t)
    return (torch.sin((1 - t) * angle) * start + torch.sin(t * angle) * end) / torch.sin(angle)

"""Forward, the diffusion model: start from noise and denoise it step by step (DDPM or DDIM), for a
class, with guidance; the same loop inpaints by putting the known pixels back at every step.

The loop is the demo's model work (``denoise``, see ``core.engine``): one call per request, its progress
reported at every step. Not batched across visitors: their step counts, samplers and seeds differ."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.device import mixed_precision
from core.engine import model_work
from core.progress import Progress, ProgressCallback
from core.timing import Deadline, stopwatch
from core.validation import InputError
from demos.image_generation.gan import MAX_IMAGES
from demos.image_generation.guidance import DEFAULT_GUIDANCE, MAX_GUIDANCE, consistent_step, predict_noise
from demos.image_generation.inputs import MAX_SEED, clamp, class_index
from demos.image_generation.models import IMAGE_SIDE, TRAIN_TIMESTEPS, Generation, load

if TYPE_CHECKING:
    import torch

SAMPLERS = ("DDIM", "DDPM")
MAX_STEPS = TRAIN_TIMESTEPS  # a sampler cannot take more steps than there are noise levels
DEFAULT_STEPS = 25
# one request's denoising work in network evaluations (images x steps, x2 with guidance): about 6 s on
# two CPU cores; the defaults (16 images, 25 steps, guidance 2) are 800, one DDPM image of 1000 steps 2000
MAX_DENOISING_WORK = 3200
TIME_LIMIT = 60.0  # seconds of sampling per request
GIF_FRAMES = 40  # the denoising animation keeps at most this many steps


@dataclass
class Sampling:
    images: torch.Tensor  # (N, 1, 28, 28) in [-1, 1]
    frames: list[Frame]  # the batch at up to GIF_FRAMES evenly spaced steps, for the trajectory


@dataclass
class Frame:
    step: int  # 1-based sampling step
    timestep: int  # the noise level t it started from (999 = pure noise, 0 = clean)
    noisy: torch.Tensor  # x_t, the whole batch, before this step
    predicted_clean: torch.Tensor  # the model's guess of x_0 at this step


@dataclass
class Known:
    """Inpainting: pixels to keep (mask True) from a known image; the rest is generated."""

    image: torch.Tensor  # (N, 1, 28, 28) in [-1, 1]
    mask: torch.Tensor  # (N, 1, 28, 28) bool, True = keep


def make_scheduler(kind: str, config):
    """A fresh sampler for one call (schedulers keep per-call state): DDPM or DDIM on the trained noise levels."""
    from diffusers import DDIMScheduler, DDPMScheduler

    if kind not in SAMPLERS:
        raise InputError(f"Unknown sampler {kind!r}: use DDIM or DDPM.")
    return (DDIMScheduler if kind == "DDIM" else DDPMScheduler).from_config(config)


def sample(pipeline, labels: torch.Tensor, seed: int, steps: int, scheduler: str,
           guidance: float, known: Known | None = None, progress: ProgressCallback | None = None) -> Sampling:
    """Start from Gaussian noise (fixed by ``seed``) and denoise it in ``steps`` steps; ``progress`` hears of each.

    With ``known``, every step first replaces the kept pixels by the known image noised to
    the current level, so the generated part has to agree with them (RePaint-style inpainting,
    Lugmayr et al. 2022, without resampling); the kept pixels are exact in the result."""
    import torch

    with torch.no_grad():  # sampling only: no autograd graph
        unet = pipeline.unet
        sampler = make_scheduler(scheduler, pipeline.scheduler.config)
        sampler.set_timesteps(steps)
        generator = torch.Generator().manual_seed(seed)
        noise_shape = (len(labels), 1, IMAGE_SIDE, IMAGE_SIDE)
        images = torch.randn(noise_shape, generator=generator).to(unet.device)
        labels = labels.to(unet.device)
        kept_steps = set(np.linspace(0, steps - 1, min(GIF_FRAMES, steps)).round().astype(int).tolist())
        frames = []
        deadline = Deadline(TIME_LIMIT, "Use fewer steps or images, or try again when the server is less busy.")
        for index, timestep in enumerate(sampler.timesteps):
            deadline.check()
            if known is not None:
                noised_known = sampler.add_noise(known.image, torch.randn(noise_shape, generator=generator), timestep)
                images = torch.where(known.mask.to(unet.device), noised_known.to(unet.device), images)
            with mixed_precision(unet.device.type):  # float16 UNet on CUDA; the sampler's arithmetic stays float32
                noise = predict_noise(unet, images, timestep.to(unet.device), labels, guidance).float()
            step = sampler.step(noise, timestep, images, generator=generator, **consistent_step(scheduler))
            if index in kept_steps:
                frames.append(Frame(index + 1, int(timestep), images.cpu(), step.pred_original_sample.cpu()))
            images = step.prev_sample
            if progress is not None:
                progress(Progress(index + 1, steps, note=f"Denoising: step {index + 1} of {steps}"))
        images = images.clamp(-1, 1).cpu()
        if known is not None:
            images = torch.where(known.mask, known.image, images)
        return Sampling(images, frames)


@model_work("image_generation", gpu_seconds=30)
def denoise(labels: torch.Tensor, seed: int, steps: int, scheduler: str, guidance: float, known: Known | None = None,
            progress: ProgressCallback | None = None) -> tuple[Sampling, str]:
    """``sample`` with the shipped diffusion model; also says the device it ran on."""
    models = load()
    return sample(models.diffusion, labels, seed, steps, scheduler, guidance, known, progress), models.device


def _diffusion_settings(steps: float, scheduler: str, guidance: float, notes: list[str]) -> dict:
    if scheduler not in SAMPLERS:
        raise InputError(f"Unknown sampler {scheduler!r}: use DDIM or DDPM.")
    steps = clamp(steps, 1, MAX_STEPS, "Number of steps", notes)
    if not 1.0 <= guidance <= MAX_GUIDANCE:
        clamped = float(min(max(guidance, 1.0), MAX_GUIDANCE))
        notes.append(f"Guidance {guidance:g} is outside 1-{MAX_GUIDANCE:g}; used {clamped:g}.")
        guidance = clamped
    return {"steps": steps, "sampler": scheduler, "guidance": float(guidance)}


def checked_work(count: int, settings: dict) -> None:
    """Refuse a request whose denoising would take too long, before any of it runs."""
    evaluations = count * settings["steps"] * (2 if settings["guidance"] > 1 else 1)
    if evaluations > MAX_DENOISING_WORK:
        raise InputError(f"{count} image(s) x {settings['steps']} steps"
                         f"{' x 2 (guidance)' if settings['guidance'] > 1 else ''} = {evaluations:,} network "
                         f"evaluations is more than one request may ask ({MAX_DENOISING_WORK:,}). Use fewer steps "
                         "(DDIM looks good from 25) or fewer images.")


def generate_diffusion(class_name: str, seed: int, count: int = MAX_IMAGES, steps: int = DEFAULT_STEPS,
                       scheduler: str = "DDIM", guidance: float = DEFAULT_GUIDANCE,
                       progress: ProgressCallback | None = None) -> Generation:
    """``count`` images of one class, denoised from noise in ``steps`` steps; ``progress`` hears of each step."""
    import torch

    notes: list[str] = []
    label = class_index(class_name)
    seed = clamp(seed, 0, MAX_SEED, "Seed", notes)
    count = clamp(count, 1, MAX_IMAGES, "Number of images", notes)
    settings = _diffusion_settings(steps, scheduler, guidance, notes)
    checked_work(count, settings)
    with stopwatch() as watch:
        result, device = denoise(torch.full((count,), label), seed, settings["steps"], settings["sampler"],
                                 settings["guidance"], progress=progress)
    return Generation(result.images, class_name, "Diffusion", seed, device, watch.seconds, notes,
                      trajectory=result, settings=settings)


def inpaint(picture: torch.Tensor, fill: np.ndarray, class_name: str, seed: int, steps: int = DEFAULT_STEPS,
            scheduler: str = "DDIM", guidance: float = DEFAULT_GUIDANCE,
            progress: ProgressCallback | None = None) -> Generation:
    """Regenerate the pixels of ``picture`` (1, 1, 28, 28) where ``fill`` (28x28 bool) is True; keep the others."""
    import torch

    notes: list[str] = []
    label = class_index(class_name)
    seed = clamp(seed, 0, MAX_SEED, "Seed", notes)
    settings = _diffusion_settings(steps, scheduler, guidance, notes)
    fill = np.asarray(fill, dtype=bool)
    if fill.shape != (IMAGE_SIDE, IMAGE_SIDE):
        raise InputError(f"The mask must be {IMAGE_SIDE}x{IMAGE_SIDE} pixels, got {fill.shape}.")
    if not fill.any():
        raise InputError("The mask is empty: mark the part of the image the model should fill in.")
    if fill.all():
        notes.append("The mask covers the whole image, so nothing is kept: this is plain generation.")
    known = Known(picture.float().clamp(-1, 1), torch.from_numpy(~fill)[None, None])
    with stopwatch() as watch:
        result, device = denoise(torch.tensor([label]), seed, settings["steps"], settings["sampler"],
                                 settings["guidance"], known, progress=progress)
    return Generation(result.images, class_name, "Diffusion", seed, device, watch.seconds, notes,
                      trajectory=result, settings=settings)

"""The two models and what a call gives back: a class-conditional DCGAN, and a UNet denoiser saved as a
diffusers pipeline; both trained by this project on Fashion-MNIST (models/generative/)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.device import choose_device
from core.models import MODELS

if TYPE_CHECKING:  # torch is imported when a model is first needed, not with the gallery
    import torch

    from demos.image_generation.sampling import Sampling
    from demos.networks.fashion_gan import Discriminator, Generator

MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "generative"
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")  # Fashion-MNIST label order
CLASS_COUNT = len(CLASS_NAMES)
NO_CLASS = CLASS_COUNT  # the diffusion model's extra label for "any class" (classifier-free guidance)
MODEL_KINDS = ("Diffusion", "GAN")
IMAGE_SIDE = 28
TRAIN_TIMESTEPS = 1000


# --- the diffusion model: a class-conditional UNet (diffusers) -------------------------

def build_unet():
    """A small UNet (about 0.7 M parameters): 28 -> 14 -> 7 pixels, attention at 7x7, one
    learned embedding per class plus one for "no class" (classifier-free guidance)."""
    from diffusers import UNet2DModel

    return UNet2DModel(
        sample_size=IMAGE_SIDE, in_channels=1, out_channels=1, layers_per_block=1,
        block_out_channels=(16, 32, 64), norm_num_groups=8,
        down_block_types=("DownBlock2D", "DownBlock2D", "AttnDownBlock2D"),
        up_block_types=("AttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
        num_class_embeds=CLASS_COUNT + 1,
    )


def build_noise_schedule():
    """1000 noise levels on a cosine schedule (Nichol & Dhariwal 2021): gentler at small images than linear."""
    from diffusers import DDPMScheduler

    return DDPMScheduler(num_train_timesteps=TRAIN_TIMESTEPS, beta_schedule="squaredcos_cap_v2")


@cache
def noise_schedule_config() -> dict:
    """The shipped diffusion model's noise schedule, read from its folder: a few numbers, no weights, so the
    insides can draw it wherever the model runs (in Ray mode, in another process)."""
    from diffusers import DDPMScheduler

    return DDPMScheduler.from_pretrained(str(MODEL_DIR / "diffusion"), subfolder="scheduler").config


@cache
def pipeline_class() -> type:
    """``ClassConditionalPipeline``: the UNet and its noise schedule, saved and loaded together as a
    diffusers pipeline (``save_pretrained`` / ``from_pretrained(path)``); sampling is
    ``sampling.sample()``. Defined on first use: importing diffusers takes seconds."""
    from diffusers import DiffusionPipeline

    class ClassConditionalPipeline(DiffusionPipeline):
        def __init__(self, unet, scheduler) -> None:
            super().__init__()
            self.register_modules(unet=unet, scheduler=scheduler)

    return ClassConditionalPipeline


# --- load -------------------------------------------------------------------------------

@dataclass
class GenerativeModels:
    generator: Generator
    discriminator: Discriminator
    diffusion: Any  # ClassConditionalPipeline, see pipeline_class()
    device: str


def load() -> GenerativeModels:
    return MODELS.get("image_generation", _build_models)


def _build_models() -> GenerativeModels:
    device = choose_device()
    generator, discriminator = load_gan(MODEL_DIR / "gan.safetensors")
    diffusion = load_diffusion(MODEL_DIR / "diffusion")
    return GenerativeModels(generator.to(device), discriminator.to(device), diffusion.to(device), device)


def load_gan(path: Path) -> tuple[Generator, Discriminator]:
    from safetensors.torch import load_file

    from demos.networks.fashion_gan import Discriminator, Generator

    tensors = load_file(str(path))
    generator, discriminator = Generator(), Discriminator()
    for prefix, module in (("generator.", generator), ("discriminator.", discriminator)):
        module.load_state_dict({k.removeprefix(prefix): v for k, v in tensors.items() if k.startswith(prefix)})
    return generator.eval(), discriminator.eval()


def load_diffusion(path: Path):
    """The pipeline saved by scripts/train_diffusion.py (or any folder laid out the same way)."""
    pipeline = pipeline_class().from_pretrained(str(path), low_cpu_mem_usage=False)  # no accelerate needed
    pipeline.set_progress_bar_config(disable=True)
    pipeline.unet.eval()
    return pipeline


# --- what a call gives back -------------------------------------------------------------

@dataclass
class Generation:
    images: torch.Tensor  # (N, 1, 28, 28) in [-1, 1]
    class_name: str
    model: str  # "GAN" or "Diffusion"
    seed: int
    device: str
    seconds: float
    notes: list[str] = field(default_factory=list)  # what was clamped or adjusted
    scores: list[float] = field(default_factory=list)  # GAN: discriminator's P(real) per image
    trajectory: Sampling | None = None  # diffusion: the denoising steps
    settings: dict = field(default_factory=dict)  # steps, sampler, guidance

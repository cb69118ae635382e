"""Explain: the noise schedule and where the sampler's steps fall (diffusion), the discriminator's verdict
(GAN), and the notes the page shows beside them."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from demos.image_generation.models import TRAIN_TIMESTEPS, Generation, noise_schedule_config
from demos.image_generation.pictures import strip_frames, trajectory_caption
from demos.image_generation.sampling import make_scheduler


def explain(generation: Generation) -> Figure:
    """Diffusion: how much of the image survives at each noise level, and where the sampler's steps fall.
    GAN: how real the discriminator finds each image."""
    figure = Figure(figsize=(8, 2.8), layout="constrained")
    axes = figure.add_subplot()
    if generation.trajectory is None:
        axes.bar(np.arange(1, len(generation.scores) + 1), generation.scores, color="#4c78a8")
        axes.axhline(0.5, color="grey", linewidth=0.8, linestyle="--")
        axes.set_ylim(0, 1)
        axes.set_xlabel("image", fontsize=9)
        axes.set_ylabel("P(real)", fontsize=9)
        axes.set_title("The discriminator's verdict on each generated image (0.5 = cannot tell)", fontsize=10)
        return figure
    alphas_cumprod = make_scheduler("DDPM", noise_schedule_config()).alphas_cumprod.numpy()
    levels = np.arange(TRAIN_TIMESTEPS)
    axes.plot(levels, np.sqrt(alphas_cumprod), label="signal kept: sqrt(alpha_bar_t)")
    axes.plot(levels, np.sqrt(1 - alphas_cumprod), label="noise: sqrt(1 - alpha_bar_t)")
    used = [frame.timestep for frame in generation.trajectory.frames]
    axes.scatter(used, np.sqrt(alphas_cumprod[used]), s=12, color="#e45756", zorder=3,
                 label=f"{generation.settings['sampler']} steps (shown ones)")
    axes.set_xlabel("noise level t", fontsize=9)
    axes.set_title("The noise schedule: x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise", fontsize=10)
    axes.legend(fontsize=8)
    return figure


def verdicts(generation: Generation) -> list[str]:
    """The discriminator's probability that each GAN image is real, as the page captions the images."""
    return [f"P(real) {score:.2f}" for score in generation.scores]


def notes(generation: Generation) -> str:
    """Markdown: what was adjusted, and what the page shows beside the images (the steps of the trajectory
    strip, or the discriminator's verdict on each GAN image)."""
    lines = [f"- {note}" for note in generation.notes]
    if generation.trajectory is not None:
        lines.append("**The denoising trajectory**, left to right: "
                     f"{trajectory_caption(strip_frames(generation.trajectory))}. Top row: x_t, the noisy image "
                     "at each shown step; bottom row: the model's guess of the clean image x_0 at that step.")
    else:
        lines.append("**The discriminator's verdict**, image by image: " + ", ".join(verdicts(generation)) + ".")
    return "\n\n".join(lines)

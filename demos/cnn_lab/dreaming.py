"""What a class or a channel "looks like" to the network: start from faint noise and change the picture, by
gradient ascent, to raise the class's score (or the channel's mean activation). Left alone this finds
high-frequency noise the network over-reacts to; three regularisers keep it to shapes a person can read
(Yosinski et al. 2015; Mordvintsev et al. 2015, "DeepDream"): *jitter* (a random shift before every step, so
no pixel-exact pattern pays), *blur* after every step, and *octaves* (start small, enlarge, go on).
The ascent is seeded: a setting always gives the same picture, which ``core.memo.RESULTS`` keeps.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from core.engine import model_work
from core.memo import RESULTS
from core.plotting import mosaic_figure, vectors_figure
from core.progress import Progress, ProgressCallback
from core.timing import stopwatch
from core.validation import InputError
from demos.networks.imagenet import imagenet_labels

OCTAVES = (112, 160, 208)  # px: the picture's side in each third of the steps
STEP_SIZE = 0.1  # per step, in the input's standard deviations, for the average pixel
START_NOISE = 0.1
SNAPSHOTS = 6
PREVIEW_EVERY = 10  # steps between pictures sent with the progress
SEED = 0


@dataclass
class Dream:
    title: str
    image: Image.Image
    snapshots: list[tuple[int, Image.Image]] = field(default_factory=list)  # (step, picture so far)
    scores: list[float] = field(default_factory=list)  # the objective at each step
    probability: float | None = None  # of the class, for a class dream
    device: str = "cpu"
    seconds: float = 0.0


def _gaussian_blur(batch, sigma: float):
    """A separable Gaussian blur of each colour channel (reflecting at the edges)."""
    import torch
    import torch.nn.functional as F

    radius = max(1, round(2 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=batch.dtype, device=batch.device)
    weights = torch.exp(-offsets ** 2 / (2 * sigma ** 2))
    weights = (weights / weights.sum()).repeat(3, 1, 1)
    rows = F.conv2d(F.pad(batch, (radius, radius, 0, 0), mode="reflect"), weights[:, :, None, :], groups=3)
    return F.conv2d(F.pad(rows, (0, 0, radius, radius), mode="reflect"), weights[:, :, :, None], groups=3)


def shown(batch) -> Image.Image:
    """The picture with its contrast stretched (1st to 99th percentile): the ascent moves pixels little."""
    from demos.networks.mobilenet_v2 import IMAGENET_MEAN, IMAGENET_STD

    pixels = batch[0].detach().cpu().numpy().transpose(1, 2, 0) * IMAGENET_STD + IMAGENET_MEAN
    low, high = np.percentile(pixels, (1, 99))
    return Image.fromarray((np.clip((pixels - low) / max(high - low, 1e-6), 0, 1) * 255 + 0.5).astype(np.uint8))


def _objective(network, batch, target: tuple[str, int, int]):
    """The score to raise: a class's logit, or one channel's mean activation at the end of a stage."""
    from demos.networks.mobilenet_v2 import STAGE_ENDS

    kind, index, stage = target
    if kind == "class":
        return network(batch)[0, index]
    for layer in network.features[:STAGE_ENDS[stage] + 1]:
        batch = layer(batch)
    return batch[0, index].mean()


def ascend(target: tuple[str, int, int], steps: int, jitter: int, blur: float,
           progress: ProgressCallback | None = None) -> Dream:
    """Gradient ascent on the input picture for ``target`` ("class", class, 0) or ("channel", channel, stage)."""
    import torch

    from demos.networks.mobilenet_v2 import IMAGENET_MEAN, IMAGENET_STD, load_imagenet_cnn

    cnn = load_imagenet_cnn()
    generator = torch.Generator().manual_seed(SEED)
    mean, spread = (torch.tensor(values).view(1, 3, 1, 1).to(cnn.device) for values in (IMAGENET_MEAN, IMAGENET_STD))
    low, high = -mean / spread, (1 - mean) / spread  # the displayable range, in the network's units
    batch = (START_NOISE * torch.randn(1, 3, OCTAVES[0], OCTAVES[0], generator=generator)).to(cnn.device)
    scores: list[float] = []
    snapshots: list[tuple[int, Image.Image]] = []
    probability = None
    keep_every = max(1, steps // SNAPSHOTS)
    with stopwatch() as watch:
        for step in range(steps):
            side = OCTAVES[min(step * len(OCTAVES) // steps, len(OCTAVES) - 1)]
            if batch.shape[-1] != side:
                batch = torch.nn.functional.interpolate(batch, size=(side, side), mode="bilinear", align_corners=False)
            dx, dy = torch.randint(-jitter, jitter + 1, (2,), generator=generator).tolist()
            shifted = torch.roll(batch, (dy, dx), (2, 3)).requires_grad_(True)
            with torch.enable_grad():
                score = _objective(cnn.network, shifted, target)
                (gradient,) = torch.autograd.grad(score, shifted)
            gradient = torch.roll(gradient, (-dy, -dx), (2, 3))
            batch = batch + STEP_SIZE * gradient / gradient.abs().mean().clamp_min(1e-12)
            batch = torch.maximum(torch.minimum(_gaussian_blur(batch, blur) if blur else batch, high), low)
            scores.append(float(score.detach()))
            if (step + 1) % keep_every == 0 or step + 1 == steps:
                snapshots.append((step + 1, shown(batch)))
            if progress and ((step + 1) % PREVIEW_EVERY == 0 or step + 1 == steps):
                progress(Progress(step + 1, steps, f"score {scores[-1]:.1f}", shown(batch)))
        if target[0] == "class":
            with torch.no_grad():
                probability = float(torch.softmax(cnn.network(batch), dim=1)[0, target[1]])
    return Dream(title(target), shown(batch), snapshots, scores, probability, cnn.device, watch.seconds)


def title(target: tuple[str, int, int]) -> str:
    kind, index, stage = target
    return f"class {index}, {imagenet_labels()[index]}" if kind == "class" else f"stage {stage + 1}, channel {index}"


def _checked(steps: int, jitter: int, blur: float) -> None:
    if not (10 <= steps <= 300 and 0 <= jitter <= 32 and 0 <= blur <= 3):
        raise InputError("Steps must be 10-300, jitter 0-32 px and blur 0-3 px.")


@model_work("cnn_lab", gpu_seconds=30)
def maximise(target: tuple[str, int, int], steps: int, jitter: int, blur: float,
             progress: ProgressCallback | None = None) -> Dream:
    """The dream for ``target`` at these settings: computed once (with progress), then kept for every visitor."""
    _checked(steps, jitter, blur)
    key = f"cnn_lab:{target[0]}:{target[1]}:{target[2]}:{steps}:{jitter}:{blur:g}"
    return RESULTS.get(key, lambda reported: ascend(target, steps, jitter, blur, reported), progress)


def snapshots_figure(dream: Dream) -> Figure:
    tiles = np.stack([np.asarray(picture.resize((96, 96), Image.BILINEAR)) / 255.0 for _, picture in dream.snapshots])
    return mosaic_figure(tiles, "The picture along the ascent", [f"step {step}" for step, _ in dream.snapshots],
                         columns=len(tiles), tile_inches=1.1)


def scores_figure(dream: Dream) -> Figure:
    return vectors_figure({"score": np.array(dream.scores)}, "The score being raised, step by step", "step")

"""What the network makes of a photo: its top classes, the feature maps of each stage, and Grad-CAM."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from core.drawing import heatmap_overlay
from core.engine import model_work
from core.plotting import mosaic_figure
from core.timing import stopwatch
from core.validation import InputError
from demos.networks.imagenet import imagenet_labels

STRONGEST = 8  # channels shown per stage
TILE = 56  # px: every stage's maps are drawn at one size, 112 px ones shrunk, 7 px ones blown up
TOP = 5


@dataclass
class Seen:
    crop: Image.Image  # the photo as the network saw it (centre crop, 224 px)
    probabilities: np.ndarray  # (1000,)
    stages: list[np.ndarray]  # each stage's maps, (channels, height, width), 112 px down to 7 px
    cam_class: int  # the class Grad-CAM explains
    cam: np.ndarray  # (7, 7) in [0, 1]: where the evidence for it lies
    device: str
    seconds: float

    @property
    def top(self) -> list[int]:
        return [int(index) for index in np.argsort(-self.probabilities)[:TOP]]


def load_network():
    from demos.networks.mobilenet_v2 import load_imagenet_cnn

    return load_imagenet_cnn()


@model_work("cnn_lab", gpu_seconds=10)
def look(photo: Image.Image, cam_class: int | None = None) -> Seen:
    """One pass through MobileNetV2 keeping every stage's maps, then Grad-CAM for ``cam_class`` (the top class
    when None): the class score's gradient with respect to the last maps, averaged over each map, weighs the maps."""
    import torch

    from demos.networks.mobilenet_v2 import centre_crop, to_input

    if cam_class is not None and not 0 <= cam_class < 1000:
        raise InputError(f"Class: {cam_class} is not an ImageNet class number (0-999).")
    cnn = load_network()
    crop = centre_crop(photo)
    with stopwatch() as watch:
        with torch.no_grad():
            stages = cnn.network.stages(to_input(crop, cnn.device))
        last = stages[-1].detach().requires_grad_(True)
        with torch.enable_grad():
            logits = cnn.network.classify(last)[0]
            target = int(logits.argmax()) if cam_class is None else cam_class
            (gradient,) = torch.autograd.grad(logits[target], last)
        weights = gradient.mean(dim=(2, 3), keepdim=True)
        cam = torch.relu((weights * last.detach()).sum(dim=1))[0]
        cam = (cam / cam.max().clamp_min(1e-12)).cpu().numpy()
        probabilities = torch.softmax(logits.detach(), dim=0).cpu().numpy()
    maps = [stage[0].cpu().numpy() for stage in stages]
    return Seen(crop, probabilities, maps, target, cam, cnn.device, watch.seconds)


def top_rows(seen: Seen) -> list[dict]:
    names = imagenet_labels()
    return [{"rank": rank, "class": names[index], "probability": round(float(seen.probabilities[index]), 4)}
            for rank, index in enumerate(seen.top, start=1)]


def cam_picture(seen: Seen) -> Image.Image:
    return heatmap_overlay(seen.crop, seen.cam, alpha=0.45)


def strongest_channels(maps: np.ndarray) -> list[int]:
    """The channels with the highest mean activation over the picture."""
    return [int(channel) for channel in np.argsort(-maps.mean(axis=(1, 2)))[:STRONGEST]]


def stage_rows(seen: Seen) -> list[dict]:
    rows = []
    for number, maps in enumerate(seen.stages, start=1):
        means = maps.mean(axis=(1, 2))
        rows.append({"stage": number, "size": f"{maps.shape[2]}×{maps.shape[1]}", "channels": maps.shape[0],
                     "strongest channels (mean activation)": ", ".join(
                         f"{channel} ({means[channel]:.2f})" for channel in strongest_channels(maps))})
    return rows


def stages_figure(seen: Seen) -> Figure:
    """A row per stage, 112 px down to 7 px: its strongest channels, each scaled on its own."""
    tiles, names = [], []
    for number, maps in enumerate(seen.stages, start=1):
        for channel in strongest_channels(maps):
            tile = np.asarray(Image.fromarray(maps[channel].astype(np.float32)).resize((TILE, TILE), Image.BILINEAR))
            low, high = tile.min(), tile.max()
            tiles.append((tile - low) / max(high - low, 1e-12))
            names.append(f"stage {number} · {channel}")
    return mosaic_figure(np.stack(tiles), "The strongest channels of each stage (rows: 112 px down to 7 px)",
                         names, columns=STRONGEST, tile_inches=0.9)

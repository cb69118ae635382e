"""One photo through a detector: preprocess (a 300x300 blob), forward (one pass, with the raw anchor outputs),
postprocess (threshold, class filter, pixels, boxes drawn). The forward steps are the demo's model work."""
from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Iterable

import numpy as np
from matplotlib import colormaps
from PIL import Image

from core.drawing import Box, draw_boxes
from core.engine import model_work
from core.timing import stopwatch
from core.validation import InputError
from demos.object_detection.model import BUNDLED, CLASS_NAMES, COCO_NAMES, INPUT_SIZE, load, model_id

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Detection:
    label: str
    score: float
    box: Box  # x1, y1, x2, y2 in the photo's pixels


@dataclass(frozen=True)
class RawOutputs:
    """Everything one forward pass gives, before any threshold."""

    detections: np.ndarray  # (N, 7) rows [_, class id, score, x1, y1, x2, y2], after the network's NMS
    box_deltas: np.ndarray  # (1917, 4) learned offsets (dx, dy, dw, dh) for each default box
    class_scores: np.ndarray  # (1917, 91) sigmoid score of each class for each box; column 0: background
    anchors: np.ndarray  # (1917, 4) default boxes, x1, y1, x2, y2 as fractions of the picture
    variances: np.ndarray  # (1917, 4) scales the offsets were trained with


@dataclass
class DetectionResult:
    photo: Image.Image
    image: Image.Image  # the photo with the boxes drawn
    detections: list[Detection]
    threshold: float
    classes: frozenset[str]  # the class filter; empty = every class
    device: str
    seconds: float  # preprocess + forward + postprocess
    raw: RawOutputs | None  # the bundled SSD's insides; None for a hub model
    model: str  # "bundled", or the hub id or folder


# --- preprocess -------------------------------------------------------------------------

def preprocess(photo: Image.Image) -> np.ndarray:
    """A (1, 3, 300, 300) float32 blob of RGB pixels in 0..255 (the network scales them to [-1, 1] itself), resized
    bilinearly by OpenCV as the graph's users feed it (cv2.dnn.blobFromImage resizes the same way)."""
    import cv2

    pixels = cv2.resize(np.asarray(photo.convert("RGB")), (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(pixels.transpose(2, 0, 1)[None], np.float32)


def checked_classes(classes: Iterable[str] | None, known: tuple[str, ...] = CLASS_NAMES) -> frozenset[str]:
    """The class filter, every name checked (in any case) against the detector's; empty means every class."""
    spelled = {name.lower(): name for name in known}
    wanted = {name.strip().lower() for name in classes or () if name.strip()}
    unknown = sorted(wanted - set(spelled))
    if unknown:
        raise InputError(f"Unknown class {', '.join(map(repr, unknown))}. "
                         f"The detector knows: {', '.join(known)}.")
    return frozenset(spelled[name] for name in wanted)


def checked_threshold(threshold: float) -> float:
    if not 0.01 <= threshold <= 1.0:
        raise InputError("The confidence threshold must be between 0.01 and 1.")
    return float(threshold)


# --- forward ----------------------------------------------------------------------------
# The model work (``core.engine``): it runs where the detector lives (this process, or the demo's Serve replica),
# loads it there, and hands back plain data; the caller never holds a detector.

@dataclass(frozen=True)
class DetectorFacts:
    device: str
    class_names: tuple[str, ...]  # COCO's 80 for the bundled SSD, a hub model's own


@model_work("object_detection", gpu_seconds=0)  # reads what the loaded model says, on ZeroGPU too
def detector_facts(model: str) -> DetectorFacts:
    """Load ``model`` (once per process) and say where it runs and what it names: asked before the timing starts."""
    detector = load(model)
    return DetectorFacts(detector.device, detector.class_names)


@model_work("object_detection", gpu_seconds=5)  # a video asks once per frame: each call is short
def forward(blob: np.ndarray) -> RawOutputs:
    """One pass of the bundled SSD on its device, then its DetectionOutput step (decoding, per-class NMS); the
    anchor-level outputs come along at no extra cost. One blob a pass: on a CPU a batch of 8 blobs ran no faster
    than 8 single passes (measured with OpenCV's DNN module, before the port)."""
    import torch

    from demos.networks.ssd_mobilenet_v2 import detection_output

    detector = load()
    network = detector.network
    with torch.inference_mode():
        deltas, scores = (output[0] for output in network(torch.from_numpy(blob).to(detector.device)))
        rows = detection_output(deltas, scores, network.anchors, network.variances)
    outputs = (rows, deltas, scores, network.anchors, network.variances)
    return RawOutputs(*(tensor.cpu().numpy().copy() for tensor in outputs))  # never the network's own buffers


@model_work("object_detection", gpu_seconds=15)
def hub_forward(model: str, photo: Image.Image, threshold: float) -> list[Detection]:
    """One pass of a transformers detector; its own processor turns the outputs into boxes in pixels."""
    import torch

    detector = load(model)
    inputs = detector.processor(images=photo.convert("RGB"), return_tensors="pt").to(detector.device)
    with torch.inference_mode():
        outputs = detector.model(**inputs)
    size = torch.tensor([[photo.height, photo.width]], device=detector.device)
    found = detector.processor.post_process_object_detection(outputs, threshold=threshold, target_sizes=size)[0]
    labels, (width, height) = detector.model.config.id2label, photo.size
    return [Detection(labels[label], round(score, 4), tuple(np.clip(box, 0, (width, height, width, height)).tolist()))
            for score, label, box in zip(found["scores"].tolist(), found["labels"].tolist(), found["boxes"].tolist())]


# --- postprocess ------------------------------------------------------------------------

def postprocess(rows: np.ndarray, size: tuple[int, int], threshold: float,
                classes: frozenset[str] = frozenset()) -> list[Detection]:
    """Detections above ``threshold`` (and in ``classes`` if given), boxes in pixels, best first."""
    width, height = size
    detections = []
    for _, class_id, score, *corners in rows:
        label = COCO_NAMES.get(int(class_id))
        if label is None or score < threshold:
            continue
        x1, y1, x2, y2 = np.clip(corners, 0.0, 1.0) * (width, height, width, height)
        detections.append(Detection(label, round(float(score), 4), (float(x1), float(y1), float(x2), float(y2))))
    return kept(detections, classes)


def kept(detections: Iterable[Detection], classes: frozenset[str]) -> list[Detection]:
    """Only the chosen classes (every class when none is chosen), best first."""
    return sorted((d for d in detections if not classes or d.label in classes), key=lambda d: -d.score)


def find_objects(photo: Image.Image, threshold: float, classes: frozenset[str],
                 model: str = BUNDLED) -> tuple[list[Detection], RawOutputs | None]:
    """Detections in one format for both kinds of detector, and the bundled SSD's raw outputs (None for a hub one)."""
    if model_id(model) != BUNDLED:
        return kept(hub_forward(model_id(model), photo, threshold), classes), None
    raw = forward(preprocess(photo))
    return postprocess(raw.detections, photo.size, threshold, classes), raw


@cache
def class_color(label: str) -> tuple[int, int, int]:
    """A fixed colour per class, so a class looks the same in every picture and every frame."""
    index = CLASS_NAMES.index(label) if label in CLASS_NAMES else zlib.crc32(label.encode())  # a hub model's own
    red, green, blue, _ = colormaps["tab20"](index % 20)
    return round(red * 255), round(green * 255), round(blue * 255)


def draw(photo: Image.Image, detections: list[Detection]) -> Image.Image:
    return draw_boxes(photo, [d.box for d in detections], [f"{d.label} {d.score:.2f}" for d in detections],
                      [class_color(d.label) for d in detections])


# --- the whole call ---------------------------------------------------------------------

def detect(photo: Image.Image, threshold: float = DEFAULT_THRESHOLD, classes: Iterable[str] | None = None,
           model: str = BUNDLED) -> DetectionResult:
    """Find objects in ``photo`` scoring at least ``threshold``, optionally only some classes.

    ``model``: "bundled" (SSD-MobileNet-v2, offline), or the hub id or local folder of any
    transformers object detector; both give the same result format.
    """
    threshold, model = checked_threshold(threshold), model_id(model)
    facts = detector_facts(model)
    chosen = checked_classes(classes, facts.class_names)
    with stopwatch() as watch:
        detections, raw = find_objects(photo, threshold, chosen, model)
    return DetectionResult(photo, draw(photo, detections), detections, threshold, chosen, facts.device, watch.seconds,
                           raw, model)


def counts(detections: Iterable[Detection]) -> dict[str, int]:
    """How many of each class, most frequent first."""
    return dict(Counter(d.label for d in detections).most_common())


def detection_rows(detections: Iterable[Detection]) -> list[dict]:
    """One flat row per detection, for the table and the JSON/CSV downloads."""
    return [{"label": d.label, "score": d.score, "x1": round(d.box[0], 1), "y1": round(d.box[1], 1),
             "x2": round(d.box[2], 1), "y2": round(d.box[3], 1)} for d in detections]

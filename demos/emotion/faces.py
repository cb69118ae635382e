"""Finding the faces: CenterFace on the resized photo (preprocess, forward, NMS), then each face levelled by its
eyes and cut to the classifier's 64x64."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from core.engine import model_work
from core.validation import InputError
from demos.emotion.model import DEFAULT_DETECTOR_SIZE, DETECTOR_SIZES, EMOTIONS, FACE_THRESHOLD, INPUT_SIZE, load

OVERLAP_LIMIT = 0.3  # boxes overlapping more than this (IoU) are the same face
CROP_MARGIN = 1.1  # the classifier's crop: the detector's box side, plus a little forehead and chin


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


# --- forward ----------------------------------------------------------------------------

@model_work("emotion", gpu_seconds=0)  # CenterFace on onnxruntime: CPU on ZeroGPU
def centerface(batch: np.ndarray) -> list[np.ndarray]:
    """CenterFace's four maps (heatmap, sizes, offsets, landmarks) for one resized photo. The demo's model work
    (``core.engine``): it runs where the networks live. One photo a pass: photos differ in shape, and on a CPU a
    batch of 8 runs no faster than 8 passes."""
    return load().detector.run(None, {"input.1": batch})


def detect_faces(photo: Image.Image, size: int = DEFAULT_DETECTOR_SIZE) -> tuple[list[Face], np.ndarray]:
    """All faces above the confidence threshold, best first, and the detector's heatmap."""
    batch, (scale_x, scale_y) = detector_input(photo, size)
    heatmap, sizes, offsets, landmarks = centerface(batch)
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

"""Reading the expressions: every face big enough classified in one batch, then the results drawn and tabled."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from core.drawing import draw_boxes, heatmap_overlay
from core.engine import model_work
from core.timing import stopwatch
from demos.emotion.faces import Face, align_face, detect_faces
from demos.emotion.model import (DEFAULT_DETECTOR_SIZE, EMOTION_COLORS, EMOTIONS, FACE_THRESHOLD, INPUT_SIZE, devices,
                                 load)

if TYPE_CHECKING:
    import torch

TOO_SMALL_COLOR = (90, 90, 90)
MIN_FACE_SIDE = 32  # below this (photo pixels) a face has too little detail to classify
MAX_FACES = 50  # more detections than this are cut to the most confident ones
CLASSIFY_BATCH = 64


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
            return (f"No face found: this model reads human faces only. The detector's strongest face-centre "
                    f"response was {self.detector_map.max():.2f} (a face needs {FACE_THRESHOLD}). For a photo of "
                    "people, try a closer, frontal, well-lit shot, or a higher detector resolution.")
        notes = []
        if self.capped:
            notes.append(f"Found {self.faces_found} faces; showing the {MAX_FACES} most confident.")
        small = sum(face.too_small for face in self.faces)
        if small:
            notes.append(f"{small} face(s) under {MIN_FACE_SIDE}px are marked \"too small\" and not classified.")
        return " ".join(notes) or None


# --- forward ----------------------------------------------------------------------------

def classifier_input(crops: np.ndarray) -> torch.Tensor:
    """(N, 64, 64) uint8 faces -> (N, 1, 64, 64) floats in [-1, 1], as the network was trained."""
    import torch

    return torch.from_numpy(crops.astype(np.float32)[:, None] / 127.5 - 1.0)


@model_work("emotion", batch=16, gpu_seconds=10)
def classify_photos(photos: list[np.ndarray]) -> list[np.ndarray]:
    """The faces of several photos (each (N, 64, 64) uint8) -> their (N, 7) probabilities, in one stack: the
    network is tiny, so a pass's overhead outweighs a face's work and 8 visitors' faces together run ~1.5x faster."""
    import torch

    models = load()
    faces = np.concatenate([np.zeros((0, INPUT_SIZE, INPUT_SIZE), np.uint8), *photos])
    results = [np.zeros((0, len(EMOTIONS)), np.float32)]
    with torch.inference_mode():
        for start in range(0, len(faces), CLASSIFY_BATCH):
            batch = classifier_input(faces[start:start + CLASSIFY_BATCH]).to(models.classifier_device)
            results.append(torch.softmax(models.classifier(batch), dim=1).float().cpu().numpy())
    probabilities, ends = np.concatenate(results), np.cumsum([len(crops) for crops in photos])
    return [probabilities[end - len(crops):end] for crops, end in zip(photos, ends)]


def classify(crops: np.ndarray) -> np.ndarray:
    """(N, 64, 64) uint8 aligned faces -> (N, 7) emotion probabilities, in batches."""
    return classify_photos([crops])[0]


# --- the whole call ---------------------------------------------------------------------

def recognise(photo: Image.Image, detector_size: int = DEFAULT_DETECTOR_SIZE) -> EmotionResult:
    """Find the faces in ``photo`` and the emotion on each one big enough to read."""
    detector_device, classifier_device = devices()  # loads both networks, outside the timing
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
    return EmotionResult(photo, annotated, faces, found, detector_map, detector_device, classifier_device,
                         total.seconds, timings)


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
                      "probabilities": _probabilities(face)}
        faces.append(entry)
    return {"faces": faces, "faces_found": result.faces_found, "capped": result.capped,
            "message": result.message, "image_size": list(result.photo.size),
            "detector_device": result.detector_device, "classifier_device": result.classifier_device,
            "seconds": round(result.seconds, 3)}


def _probabilities(face: Face) -> dict[str, float]:
    return {emotion: round(float(p), 4) for emotion, p in zip(EMOTIONS, face.probabilities)}


def classified_faces(result: EmotionResult) -> dict[str, Face]:
    """The faces the classifier read (not those too small), under their labels ("#1 happy 97%"), in number order."""
    return {face.label(number): face for number, face in enumerate(result.faces, start=1) if not face.too_small}


def probability_rows(result: EmotionResult) -> list[dict]:
    """One row per classified face: its number ("#1"), then its probability of each of the seven emotions."""
    return [{"face": f"#{number}", **_probabilities(face)}
            for number, face in enumerate(result.faces, start=1) if not face.too_small]


def detector_view(result: EmotionResult) -> Image.Image:
    """What the detector saw: its face-centre heatmap over the photo (red = face here)."""
    return heatmap_overlay(result.photo, result.detector_map, alpha=0.45)

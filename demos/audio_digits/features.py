"""Features: the log-mel map the CNN reads and the pooled MFCC statistics of the baseline (shared with
scripts/train_audio_digits.py, so the demo computes exactly what the classifiers trained on)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.validation import InputError
from demos.audio_digits.recording import SAMPLE_RATE, trim


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

"""Preprocess: a recording decoded, checked, resampled to 8 kHz and split into words between silences."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.audio import AudioSource, clipped_fraction, read_audio, require_duration, require_sound, resample
from core.contract import ASSETS
from core.validation import InputError

EXAMPLE_DIR = ASSETS / "audio_digits"
DIGITS = tuple(str(d) for d in range(10))
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SAMPLE_RATE = 8000  # telephone quality, the rate of the training recordings (Nyquist: 4 kHz)
MIN_SECONDS = 0.2
MIN_WORD_SECONDS = 0.1  # shorter sounds between silences are clicks, not digits
TRIM_DB = 30  # samples this far below the loudest are treated as silence around a word


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


def example_recordings() -> dict[str, Path]:
    """Bundled example WAVs (synthesised voices never used in training; see assets/audio_digits/SOURCE.md)."""
    paths = sorted(EXAMPLE_DIR.glob("*.wav"), key=lambda path: [DIGIT_WORDS.index(w) for w in path.stem.split("_")])
    return {path.stem.replace("_", " "): path for path in paths}

"""Checks on audio a visitor hands us: decode, refuse what we cannot use, describe the rest.

``read_audio`` turns an upload or a recording into mono float32 samples, or raises
``InputError`` with a message written for the visitor (empty, too large, not audio,
damaged, too long). The other helpers answer questions every audio demo asks: is it long
enough, is anything audible, is it clipped, and how does it sound at another sample rate.
"""
from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np

from core.validation import MB, InputError, _read_bytes

MAX_AUDIO_BYTES = 20 * MB
MAX_AUDIO_SECONDS = 30.0
MAX_AUDIO_SAMPLES = int(MAX_AUDIO_SECONDS * 96_000 * 2)  # 30 s of 96 kHz stereo: 23 MB decoded
AUDIO_TYPES = ["wav", "mp3", "ogg", "flac", "m4a", "webm"]
SILENCE_DBFS = -50.0  # the loudest 50 ms of a spoken word sits well above this, a quiet room below
CLIP_LEVEL = 0.999

AudioSource = Union[bytes, str, Path, BinaryIO]


def read_audio(
    source: AudioSource, max_bytes: int = MAX_AUDIO_BYTES, max_seconds: float = MAX_AUDIO_SECONDS
) -> tuple[np.ndarray, int]:
    """Decode an audio file into (mono float32 samples in [-1, 1], sample rate), or raise ``InputError``."""
    data = _read_bytes(source, max_bytes, "audio file")
    samples, rate = _decode(data, max_seconds)
    if samples.size == 0:
        raise InputError("This audio file holds no sound at all (0 samples). Please record or upload again.")
    if not np.all(np.isfinite(samples)):
        raise InputError("This audio file is damaged (it contains invalid sample values). Please upload it again.")
    _refuse_too_long(samples.shape[0] / rate, max_seconds)
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples  # stereo: average the channels
    return np.clip(mono, -1.0, 1.0).astype(np.float32), int(rate)


def _decode(data: bytes, max_seconds: float) -> tuple[np.ndarray, int]:
    """WAV, FLAC, OGG and MP3 through libsndfile; other containers (m4a, webm) through ffmpeg if present."""
    import soundfile

    try:
        info = soundfile.info(io.BytesIO(data))
        _refuse_too_long(info.duration, max_seconds)  # before decoding the whole file
        _refuse_too_dense(info.samplerate, info.channels, info.duration)
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=False)
        return samples, rate
    except InputError:
        raise
    except soundfile.LibsndfileError as error:
        if "unknown format" not in str(error).lower() and "format not recognised" not in str(error).lower():
            raise InputError("This audio file is damaged or incomplete. Please record or upload it again.") from None
    except (RuntimeError, ValueError, EOFError):
        raise InputError("This audio file is damaged or incomplete. Please record or upload it again.") from None
    return _decode_with_ffmpeg(data, max_seconds)


def _decode_with_ffmpeg(data: bytes, max_seconds: float) -> tuple[np.ndarray, int]:
    import audioread

    not_audio = InputError("This file is not audio we can read. Use WAV, MP3, OGG or FLAC.")
    with tempfile.NamedTemporaryFile(suffix=".audio") as file:
        file.write(data)
        file.flush()
        try:
            with audioread.audio_open(file.name) as decoder:
                _refuse_too_long(decoder.duration, max_seconds)
                _refuse_too_dense(decoder.samplerate, decoder.channels, decoder.duration)
                pcm = b"".join(decoder)
                channels, rate = decoder.channels, decoder.samplerate
        except InputError:
            raise
        except Exception:  # audioread raises many types (no backend, undecodable stream)
            raise not_audio from None
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    return (samples.reshape(-1, channels) if channels > 1 else samples), rate


def _refuse_too_long(seconds: float, max_seconds: float) -> None:
    if seconds > max_seconds:
        raise InputError(f"This recording is too long ({seconds:.0f} s); the limit is {max_seconds:.0f} s. "
                         "Trim it and try again.")


def _refuse_too_dense(rate: float, channels: int, seconds: float) -> None:
    """Few seconds can still be a lot to decode: 8 channels at 650 kHz are 160 M samples in 30 s."""
    if rate * channels * seconds > MAX_AUDIO_SAMPLES:
        raise InputError(f"This recording holds too much sound data ({channels} channels at {rate:,.0f} Hz); "
                         "save it as mono or stereo at 48 kHz or less and try again.")


def require_duration(samples: np.ndarray, rate: int, min_seconds: float) -> None:
    seconds = samples.shape[0] / rate
    if seconds < min_seconds:
        raise InputError(f"This recording is too short ({seconds:.2f} s); it needs at least {min_seconds:.1f} s.")


def loudest_dbfs(samples: np.ndarray, rate: int, frame_seconds: float = 0.05) -> float:
    """Level of the loudest short frame, in dB relative to full scale (0 dBFS = the loudest possible)."""
    frame = max(1, int(rate * frame_seconds))
    frames = np.pad(samples.astype(np.float64), (0, -samples.size % frame)).reshape(-1, frame)
    rms = np.sqrt(np.mean(frames ** 2, axis=1)).max()
    return float(20 * np.log10(max(rms, 1e-10)))


def require_sound(samples: np.ndarray, rate: int, threshold_dbfs: float = SILENCE_DBFS) -> None:
    level = loudest_dbfs(samples, rate)
    if level < threshold_dbfs:
        raise InputError(f"This recording is silent (its loudest moment is {level:.0f} dBFS). "
                         "Check the microphone, speak closer and record again.")


def clipped_fraction(samples: np.ndarray) -> float:
    """Share of samples at full scale: above ~0.1 % the recording was too loud and got distorted."""
    return float(np.mean(np.abs(samples) >= CLIP_LEVEL))


def resample(samples: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    if rate == target_rate:
        return samples
    import librosa

    return librosa.resample(samples, orig_sr=rate, target_sr=target_rate, res_type="soxr_hq").astype(np.float32)


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """16-bit PCM WAV, for playback of exactly what was analysed."""
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()

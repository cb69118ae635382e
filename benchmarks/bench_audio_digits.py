"""Latency of the spoken-digit demo: features + classification of a 1 s clip, warm, on this machine.

    .venv/bin/python benchmarks/bench_audio_digits.py

Adds a "latency" section to benchmarks/results/audio_digits.json (the training script writes
the accuracy section of the same file).
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.audio import read_audio, resample, wav_bytes  # noqa: E402
from demos import audio_digits  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "audio_digits.json"
RUNS = 50


def one_second_clip() -> bytes:
    """The bundled "seven" centred in exactly one second at 8 kHz."""
    samples, rate = read_audio(audio_digits.example_recordings()["seven"])
    samples = resample(samples, rate, audio_digits.SAMPLE_RATE)[: audio_digits.SAMPLE_RATE]
    before = (audio_digits.SAMPLE_RATE - samples.size) // 2
    return wav_bytes(np.pad(samples, (before, audio_digits.SAMPLE_RATE - samples.size - before)),
                     audio_digits.SAMPLE_RATE)


def measure(clip: bytes, classifier: str) -> dict[str, float]:
    for _ in range(5):  # warm-up: model load, librosa/numba compilation, allocator
        audio_digits.classify(clip, classifier)
    model_ms, total_ms = [], []
    for _ in range(RUNS):
        started = time.perf_counter()
        result = audio_digits.classify(clip, classifier)
        total_ms.append(1000 * (time.perf_counter() - started))
        model_ms.append(1000 * result.seconds)
    return {"features_and_classification_ms_median": round(statistics.median(model_ms), 2),
            "features_and_classification_ms_p90": round(float(np.percentile(model_ms, 90)), 2),
            "with_decode_and_checks_ms_median": round(statistics.median(total_ms), 2),
            "digit": result.digits}


def main() -> None:
    import torch

    clip = one_second_clip()
    latency = {"clip_seconds": 1.0, "runs": RUNS, "device": audio_digits.load().device,
               "torch_threads": torch.get_num_threads(), "cpu": platform.processor() or platform.machine(),
               "cores": os.cpu_count(), "load_average_at_start": round(os.getloadavg()[0], 2),
               "measured_at": time.strftime("%Y-%m-%d %H:%M"),
               "target_ms": 50}
    for classifier in audio_digits.CLASSIFIERS:
        latency[classifier] = measure(clip, classifier)
        print(classifier, latency[classifier], flush=True)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["latency"] = latency
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Works with known answers for the engine's own tests: what a batch held, which replica ran it,
progress and a refused input. They run no model: the demos' works are tested on real models in
tests/test_engine_ray.py; these show what the engine does with any work."""
from __future__ import annotations

import os
import time

from core.engine import model_work
from core.progress import Progress, ProgressCallback
from core.validation import InputError

DEMO = "engine_check"


@model_work(DEMO, batch=8)
def doubled(numbers: list[int]) -> list[tuple[int, int, int]]:
    """(2 x number, the batch's size, the process that ran it) per number; refuses negative numbers."""
    if any(number < 0 for number in numbers):
        raise InputError("Negative numbers are refused.")
    time.sleep(0.05)  # one pass costs the same for 1 or 8 items, as a model's does
    return [(2 * number, len(numbers), os.getpid()) for number in numbers]


@model_work(DEMO)
def counted(steps: int, pause: float, progress: ProgressCallback | None = None) -> int:
    for step in range(steps):
        time.sleep(pause)
        if progress is not None:
            progress(Progress(step + 1, steps, f"step {step + 1}"))
    return steps


@model_work(DEMO)
def slow_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()

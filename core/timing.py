"""Wall-clock timing shown next to every result."""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator


@dataclass
class Stopwatch:
    seconds: float = 0.0


@contextmanager
def stopwatch() -> Iterator[Stopwatch]:
    """``with stopwatch() as sw: ...`` then ``sw.seconds``."""
    watch, start = Stopwatch(), time.perf_counter()
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - start


class Deadline:
    """A request's time limit, checked between units of work: ``deadline.check()`` raises ``InputError``
    once ``seconds`` have passed, so one slow request ends with a message instead of holding a worker."""

    def __init__(self, seconds: float, advice: str) -> None:
        self.seconds, self.advice = seconds, advice
        self._end = time.perf_counter() + seconds

    def check(self) -> None:
        if time.perf_counter() > self._end:
            from core.validation import InputError  # here: core.validation imports numpy and PIL

            raise InputError(f"This request took longer than the {self.seconds:.0f} s one request may run. "
                             f"{self.advice}")

"""How slow work reports its progress, in one shape for every demo and both front ends."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Progress:
    done: int
    total: int  # what is expected; may grow (a video's frame count is an estimate)
    note: str = ""  # a few words for the progress bar, e.g. "score 3"
    preview: Any = None  # what the work shows so far (a game frame), or None

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0


ProgressCallback = Callable[[Progress], None]

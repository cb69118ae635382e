"""Computed results (a played episode, a catalogue, a refit) kept apart from the model cache.

``core.models.MODELS`` holds model weights and loads one at a time. A result can take much
longer to compute (a recorded Atari episode, ~21 s), so it must not hold that lock: here each key
has its own lock, so two visitors asking for the same result compute it once, while every other
result and every model load goes on. Results are bounded in count and bytes (least recently used
dropped first); progress goes to the caller that computes, never into what is cached.
"""
from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from typing import Any, Callable, TypeVar

from core.models import held_bytes
from core.progress import ProgressCallback

T = TypeVar("T")
MB = 2**20


class ResultMemo:
    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.compute_counts: Counter[str] = Counter()
        self._results: OrderedDict[str, tuple[Any, int]] = OrderedDict()  # key -> (result, bytes), oldest first
        self._key_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()  # protects the dicts above

    def get(self, key: str, compute: Callable[[ProgressCallback | None], T],
            progress: ProgressCallback | None = None) -> T:
        """The result under ``key``, computed once by ``compute(progress)`` if absent. A second caller for the
        same key waits for the first; callers for other keys do not."""
        found = self._lookup(key)
        if found is not None:
            return found[0]
        with self._guard:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            found = self._lookup(key)
            if found is not None:
                return found[0]
            result = compute(progress)
            self._store(key, result)
            return result

    def _lookup(self, key: str) -> tuple[Any, int] | None:
        with self._guard:
            found = self._results.get(key)
            if found is not None:
                self._results.move_to_end(key)
            return found

    def _store(self, key: str, result: Any) -> None:
        size = held_bytes(result).bytes
        with self._guard:
            self.compute_counts[key] += 1
            if size > self.max_bytes:  # too big to keep: served to this caller only
                return
            self._results[key] = (result, size)
            while len(self._results) > self.max_entries or self._total_bytes() > self.max_bytes:
                dropped, _ = self._results.popitem(last=False)
                self._key_locks.pop(dropped, None)

    def _total_bytes(self) -> int:
        return sum(size for _, size in self._results.values())

    def __contains__(self, key: str) -> bool:
        with self._guard:
            return key in self._results

    def clear(self) -> None:
        with self._guard:
            self._results.clear()


RESULTS = ResultMemo(max_entries=64, max_bytes=512 * MB)

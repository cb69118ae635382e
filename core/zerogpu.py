"""ZeroGPU, the GPU that Hugging Face lends Gradio-SDK Spaces one call at a time.

On a ZeroGPU Space (the Space sets ``SPACES_ZERO_GPU=true``) CUDA exists only inside functions
wrapped with ``spaces.GPU(duration=...)``: each call is scheduled onto a GPU for at most that many
seconds and runs in a process forked for it, its arguments and its answer pickled across. So:

- every model work (``core.engine.model_work``) with a GPU duration runs through ``spaces.GPU``; a work
  with none (ONNX and ALS on the CPU) runs in the main process as anywhere else;
- ``import spaces`` comes before anything initialises CUDA, and makes ``torch.cuda.is_available()`` true
  in the main process, so ``core.device`` puts the models on "cuda" there;
- the models are loaded at startup, in the main process, and moved to CUDA there (``load_models``): ZeroGPU
  packs those tensors once and hands them to every GPU call; a model first loaded inside a call would be
  loaded again in every forked process.

Progress and errors cross the fork: the GPU side is a generator that yields each progress report, then
the outcome, ``(True, result)`` or ``(False, the exception)``, which the caller raises again, so that a
visitor's bad input reaches the front end as the same ``InputError`` (``spaces`` would turn it into a
generic "ZeroGPU worker error"). Everywhere else this module does nothing and imports nothing.
"""
from __future__ import annotations

import functools
import logging
import os
import queue
import threading
from types import ModuleType
from typing import Any, Callable, Iterator

ZERO_GPU_ENV = "SPACES_ZERO_GPU"  # set by Hugging Face on ZeroGPU hardware (the spaces package reads it too)
Report = tuple[str, Any]  # ("progress", Progress) or ("outcome", (ok, result or exception))
GpuTask = Callable[[tuple, dict[str, Any], bool], Iterator[Report]]
log = logging.getLogger("neural_gallery")


def declared() -> bool:
    """Whether this process runs on ZeroGPU hardware (read as the spaces package reads it)."""
    return os.environ.get(ZERO_GPU_ENV, "").strip().lower() in ("1", "t", "true")


@functools.cache
def spaces() -> ModuleType:
    """The ``spaces`` package, imported once, before CUDA is touched (it refuses to start after)."""
    import spaces as package

    return package


def gpu_call(function: Callable[..., Any], seconds: int) -> Callable[[tuple, dict[str, Any]], Any] | None:
    """``function`` scheduled on ZeroGPU for at most ``seconds`` a call, as ``call(args, kwargs)``; None off
    ZeroGPU or for a work that needs no GPU (``seconds`` 0), which then runs as it does anywhere."""
    if seconds <= 0 or not declared():
        return None
    task = spaces().GPU(duration=seconds)(streamed(function))
    return functools.partial(call_streamed, task)


def streamed(function: Callable[..., Any]) -> GpuTask:
    """A generator running ``function(*args, **kwargs)`` (with a ``progress`` callback when asked) that
    yields its progress reports as they come, then its outcome: what crosses ZeroGPU's fork."""

    def task(args: tuple, kwargs: dict[str, Any], reports_progress: bool) -> Iterator[Report]:
        reports: queue.SimpleQueue[Report] = queue.SimpleQueue()

        def run() -> None:
            extra = {"progress": lambda step: reports.put(("progress", step))} if reports_progress else {}
            try:
                reports.put(("outcome", (True, function(*args, **kwargs, **extra))))
            except Exception as error:  # handed to the caller, who raises it
                reports.put(("outcome", (False, error)))

        threading.Thread(target=run, name=f"gpu-{function.__name__}", daemon=True).start()
        while True:
            kind, value = reports.get()
            yield kind, value
            if kind == "outcome":
                return

    task.__name__, task.__qualname__, task.__module__ = function.__name__, function.__qualname__, function.__module__
    return task


def call_streamed(task: GpuTask, args: tuple, kwargs: dict[str, Any]) -> Any:
    """Run a ``streamed`` task: its progress goes to the caller's ``progress``, its exception is raised here."""
    progress = kwargs.pop("progress", None)
    outcome: tuple[bool, Any] = (False, RuntimeError("the GPU task ended without an answer"))
    for kind, value in task(args, kwargs, progress is not None):
        if kind == "progress":
            progress(value)
        else:
            outcome = value
    ok, result = outcome
    if not ok:
        raise result
    return result


def load_models(demos: tuple[ModuleType, ...]) -> None:
    """On ZeroGPU, every demo's bundled models, loaded now in the main process (on "cuda": see the
    module docstring) before the app launches. A demo that fails to load is logged and loads later."""
    if not declared():
        return
    for demo in demos:
        try:
            demo.load()
        except Exception:
            log.exception("ZeroGPU: %s did not load at startup", demo.__name__)

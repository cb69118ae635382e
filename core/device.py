"""The one place that decides where models run.

Order of preference: CUDA, then Apple MPS, then CPU. ``NEURAL_GALLERY_DEVICE`` (cpu, cuda,
mps) overrides the choice, e.g. to keep a GPU free or to reproduce a CPU result. On a ZeroGPU Space
CUDA is lent only to GPU calls (``core.zerogpu``): a demo whose works take none keeps its models on the CPU.

Also the numeric precision of inference: mixed (float16 autocast) on CUDA, where it pays, float32
elsewhere; ``NEURAL_GALLERY_PRECISION`` (float32, mixed) overrides it, e.g. to compare the two.
"""
from __future__ import annotations

import contextlib
import functools
import os
from typing import TYPE_CHECKING, ContextManager

from core import zerogpu

if TYPE_CHECKING:
    import torch

DEVICE_ENV = "NEURAL_GALLERY_DEVICE"
TORCH_THREADS_ENV = "NEURAL_GALLERY_TORCH_THREADS"
PRECISION_ENV = "NEURAL_GALLERY_PRECISION"
KNOWN_DEVICES = ("cuda", "mps", "cpu")
PRECISIONS = ("float32", "mixed")


def _torch_has(device: str) -> bool:
    try:
        import torch
    except ImportError:
        return False
    if device == "cuda":
        return torch.cuda.is_available()
    if device == "mps":
        return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    return device == "cpu"


def _onnx_has_cuda() -> bool:
    try:
        import onnxruntime as ort
    except ImportError:  # a machine with torch only (the bare CUDA machine of make gpu-check)
        return False
    return "CUDAExecutionProvider" in ort.get_available_providers()


@functools.cache
def choose_device(gpu_calls: bool = True) -> str:
    """Return "cuda", "mps" or "cpu"; the environment override wins when it names a known device.
    ``gpu_calls=False``: the caller's works take no GPU duration (``core.engine.model_work``), so on ZeroGPU,
    where CUDA exists only inside GPU calls, its models stay on the CPU."""
    if zerogpu.declared():
        zerogpu.spaces()  # before anything touches CUDA; it makes CUDA available to the GPU calls
    device = _preferred_device() if gpu_calls or not zerogpu.declared() else "cpu"
    if device == "cpu":
        _limit_torch_cpu_threads()
    return device


def _preferred_device() -> str:
    override = os.environ.get(DEVICE_ENV, "").strip().lower()
    if override:
        if override not in KNOWN_DEVICES:
            raise ValueError(f"{DEVICE_ENV}={override!r}: use one of {', '.join(KNOWN_DEVICES)}")
        return override
    if _torch_has("cuda") or _onnx_has_cuda():
        return "cuda"
    if _torch_has("mps"):
        return "mps"
    return "cpu"


def _limit_torch_cpu_threads() -> None:
    """One torch thread per request by default: the gallery serves several visitors at once, and
    on a busy 2-core machine two threads per small op wait on each other (measured: 1 face
    classified in 99 ms with 1 thread, 476 ms with 2)."""
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(cpu_threads())


def cpu_threads() -> int:
    """CPU threads one model call may use (torch, and onnxruntime sessions); default 1."""
    return int(os.environ.get(TORCH_THREADS_ENV, "1"))


def onnx_providers(device: str | None = None) -> list[str]:
    """onnxruntime execution providers for a device; CUDA only when the GPU build is installed."""
    device = device or choose_device()
    if device == "cuda" and _onnx_has_cuda():
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def provider_device(providers: list[str]) -> str:
    """The device name a list of active onnxruntime providers actually runs on."""
    return "cuda" if providers and providers[0] == "CUDAExecutionProvider" else "cpu"


def bf16_autocast_helps(device: str) -> bool:
    """Whether training in bfloat16 autocast pays on this device: CUDA, and CPUs that compute
    bfloat16 natively (AMX or AVX-512 BF16; measured on the project's CPU: one translator
    training step 0.77 s in float32, 0.47 s in bfloat16 autocast, one thread)."""
    import torch

    if device == "cuda":
        return True
    if device == "cpu":
        return torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()
    return False


def precision(device: str) -> str:
    """"mixed" or "float32" for inference on ``device``: mixed by default on CUDA only (float16 tensor cores;
    on a CPU float16 has no fast kernels and bfloat16 pays only on a few CPUs)."""
    chosen = os.environ.get(PRECISION_ENV, "").strip().lower() or ("mixed" if device == "cuda" else "float32")
    if chosen not in PRECISIONS:
        raise ValueError(f"{PRECISION_ENV}={chosen!r}: use one of {', '.join(PRECISIONS)}")
    return chosen


def half_dtype(device: str) -> "torch.dtype":
    """The 16-bit type of mixed precision on ``device``: float16 on CUDA, bfloat16 elsewhere (CPU autocast
    supports it, so the CPU tests check the same code path against float32)."""
    import torch

    return torch.float16 if device == "cuda" else torch.bfloat16


def mixed_precision(device: str) -> ContextManager:
    """Autocast for inference on ``device`` when its precision is mixed: matrix products and convolutions in
    16 bits, reductions and softmax kept in float32 by autocast itself; a no-op in float32."""
    if precision(device) != "mixed":
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device_type=device, dtype=half_dtype(device))

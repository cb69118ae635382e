"""The one place that decides where models run.

Order of preference: CUDA, then Apple MPS, then CPU. ``NEURAL_GALLERY_DEVICE`` (cpu, cuda,
mps) overrides the choice, e.g. to keep a GPU free or to reproduce a CPU result.
"""
from __future__ import annotations

import functools
import os

DEVICE_ENV = "NEURAL_GALLERY_DEVICE"
TORCH_THREADS_ENV = "NEURAL_GALLERY_TORCH_THREADS"
KNOWN_DEVICES = ("cuda", "mps", "cpu")


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
    import onnxruntime as ort

    return "CUDAExecutionProvider" in ort.get_available_providers()


@functools.cache
def choose_device() -> str:
    """Return "cuda", "mps" or "cpu"; the environment override wins when it names a known device."""
    device = _preferred_device()
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

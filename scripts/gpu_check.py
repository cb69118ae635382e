"""Every demo on CUDA, checked against the CPU: ``make gpu-check`` (issue 25).

For each demo, its first endpoint on a bundled example (``benchmarks/bench_gallery.example_kwargs``) runs in
fresh processes: once on the CPU in float32 (the reference), once on the device in its default precision
(mixed on CUDA), and for the demos with mixed precision once more on the device in float32. It reports:

- agreement with the CPU: labels, texts and counts equal, numbers (scores, boxes) and pictures within
  tolerance (``compare``); float16 against float32 on the device likewise;
- cold (load + first call) and warm latency on both;
- GPU memory: ``torch.cuda.max_memory_allocated`` over the load and first call of the demo's model(s);
- batched against unbatched throughput at batch 8, for the works declared with ``batch=``
  (``core.engine.works_of``; items from ``benchmarks/bench_batching.py``).

It writes ``benchmarks/results/cuda.json`` (the GPU named), the CUDA column of ``make bench``'s summary, and
exits non-zero when a demo disagrees, fails or runs out of time, and with status 2, loudly, when CUDA is
missing: it never measures the CPU quietly instead. It finishes within 8 minutes (``--budget-s``; each run is
time-boxed). On a machine without a package registry, ``--wheels DIR`` (or ``NEURAL_GALLERY_WHEELS``)
installs the wheels in DIR first, ``--no-index --no-deps``, into a temporary folder; a demo whose dependency
is still missing is skipped and reported as skipped.

    python3 scripts/gpu_check.py [--wheels DIR] [--only translation,emotion]
    python3 scripts/gpu_check.py --device cpu --only style_transfer --output /tmp/dry.json  # the logic, on a CPU
"""
from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
WHEELS_ENV = "NEURAL_GALLERY_WHEELS"
DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "cuda.json"
BUDGET_S = 450.0  # the whole check, so that it ends within 8 minutes with Python's and CUDA's start
RUN_LIMIT_S = 150.0  # one run (a fresh process: imports, load, the calls)
MIN_RUN_S = 20.0  # less time left than this: the run is not started, and says so
WARM_REPEATS = 3
BATCH_ROUNDS = 3
MIXED_PRECISION_DEMOS = ("image_generation", "translation")  # core.device.mixed_precision in their forward
INPUTS = {"atari": {"max_steps": 300}}  # a short game: a full one is minutes of emulator work on any device
WARM_REPEATS_OF = {"atari": 1}
SKIPPED_EXIT = 3  # a run whose demo cannot import or find a dependency here
CPU_THREADS = max(1, (os.cpu_count() or 2) // 2)  # per run: the CPU reference is not starved, nor the GPU's feeder


@dataclass(frozen=True)
class Tolerance:
    """How far the device may be from the reference (measured on CUDA float16 against CPU float32)."""

    absolute: float = 0.02  # numbers: probabilities, scores, log-probabilities...
    relative: float = 0.02  # ...and box corners in pixels
    image_levels: float = 2.0  # pictures: mean absolute difference in levels of 255


TOLERANCE = Tolerance()
IGNORED_KEYS = ("device", "devices", "seconds", "threads")  # where and how fast it ran, not what it answered
IGNORED_SUFFIXES = ("_device", "_seconds", "_s", "_ms")
OWN_PACKAGES = ("core", "demos", "benchmarks", "common", "bench_gallery", "bench_batching")  # never "missing"


# --- comparing two answers -----------------------------------------------------------------

def compare(reference: Any, candidate: Any, tolerance: Tolerance = TOLERANCE, path: str = "") -> list[str]:
    """Where ``candidate`` differs from ``reference`` beyond ``tolerance``: one line per difference."""
    if _is_image(reference) and _is_image(candidate):
        return _compare_images(reference, candidate, tolerance, path)
    if isinstance(reference, dict) and isinstance(candidate, dict):
        return [difference for key in sorted(set(reference) | set(candidate), key=str) if not _ignored(key)
                for difference in compare(reference.get(key), candidate.get(key), tolerance, f"{path}.{key}")]
    if isinstance(reference, (list, tuple)) and isinstance(candidate, (list, tuple)):
        if len(reference) != len(candidate):
            return [f"{path}: {len(candidate)} items, not {len(reference)}"]
        return [difference for index, (a, b) in enumerate(zip(reference, candidate))
                for difference in compare(a, b, tolerance, f"{path}[{index}]")]
    if _is_number(reference) and _is_number(candidate):
        close = math.isclose(reference, candidate, rel_tol=tolerance.relative, abs_tol=tolerance.absolute)
        return [] if close or (math.isnan(reference) and math.isnan(candidate)) else \
            [f"{path}: {candidate!r}, not {reference!r}"]
    if isinstance(reference, bytes) and isinstance(candidate, bytes):
        return []  # an encoded video differs with any pixel: its frames' numbers are compared instead
    return [] if reference == candidate else [f"{path}: {_short(candidate)}, not {_short(reference)}"]


def _ignored(key: Any) -> bool:
    return isinstance(key, str) and (key.lower() in IGNORED_KEYS or key.lower().endswith(IGNORED_SUFFIXES))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_image(value: Any) -> bool:
    return any(cls.__module__ == "PIL.Image" and cls.__name__ == "Image" for cls in type(value).__mro__)


def _compare_images(reference: Any, candidate: Any, tolerance: Tolerance, path: str) -> list[str]:
    import numpy as np

    if reference.size != candidate.size:
        return [f"{path}: picture {candidate.size}, not {reference.size}"]
    levels = float(np.abs(np.asarray(reference.convert("RGB"), np.int16)
                          - np.asarray(candidate.convert("RGB"), np.int16)).mean())
    return [] if levels <= tolerance.image_levels else \
        [f"{path}: pictures differ by {levels:.2f} levels of 255 on average (tolerance {tolerance.image_levels:g})"]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- one run, in a fresh process -------------------------------------------------------------

def child(demo_name: str, side: str, result_file: Path, warm_repeats: int, rounds: int) -> int:
    """Run ``demo_name``'s first endpoint as ``side`` ("reference" or "device"); pickle what it gave and took."""
    try:
        answer = _measured_run(demo_name, side, warm_repeats, rounds)
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] in OWN_PACKAGES:
            raise
        return _skipped(result_file, f"the Python package {error.name!r} is missing")
    except RuntimeError as error:
        if "is missing" not in str(error):  # core.models.package_file: a weights package not installed
            raise
        return _skipped(result_file, str(error))
    result_file.write_bytes(pickle.dumps(answer))
    return 0


def _skipped(result_file: Path, reason: str) -> int:
    result_file.write_bytes(pickle.dumps({"skipped": reason}))
    return SKIPPED_EXIT


def _measured_run(demo_name: str, side: str, warm_repeats: int, rounds: int) -> dict[str, Any]:
    import importlib

    import torch
    from bench_gallery import example_kwargs

    from core.device import choose_device
    from core.models import MODELS

    demo = importlib.import_module(f"demos.{demo_name}")
    endpoint = demo.ENDPOINTS[0]
    kwargs = {**example_kwargs(demo), **INPUTS.get(demo_name, {})}
    on_cuda = choose_device() == "cuda"
    if on_cuda:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    outputs = endpoint.run(**kwargs)[:len(endpoint.outputs)]
    cold = time.perf_counter() - start
    peak_mb = round(torch.cuda.max_memory_allocated() / 2**20, 1) if on_cuda else None
    warm = []
    for _ in range(warm_repeats):
        start = time.perf_counter()
        endpoint.run(**kwargs)
        warm.append(time.perf_counter() - start)
    return {"outputs": outputs, "device": choose_device(), "ran_on": _found(outputs, "device"),
            "cold_s": round(cold, 3), "warm_s": round(statistics.median(warm), 3) if warm else None,
            "gpu_peak_mb_load_and_first_call": peak_mb, "models_loaded": sorted(MODELS.load_counts),
            "batching": _batching(demo_name, rounds) if side == "device" else {}}


def _found(value: Any, key: str) -> Any:
    """The first value of ``key`` (or of a key ending in ``_key``) in nested dicts and lists: the device a
    demo says it ran on ("device", or "classifier_device" and the like)."""
    if isinstance(value, dict):
        named = [name for name in value if isinstance(name, str) and (name == key or name.endswith(f"_{key}"))]
        if named:
            return value[named[0]]
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return next((found for item in value if (found := _found(item, key)) is not None), None)
    return None


def _batching(demo_name: str, rounds: int) -> dict[str, Any]:
    """Items/s of one batch of 8 against 8 single calls, for each work of the demo declared with ``batch=``."""
    from bench_batching import WORKS, in_process

    from core.engine import works_of

    figures = {}
    for work in works_of(demo_name):
        if work.batch:
            if demo_name in WORKS:
                function, items = WORKS[demo_name]()
                figures[work.key] = in_process(function, items, rounds)
            else:
                figures[work.key] = "no items for it in benchmarks/bench_batching.py: not measured"
    return figures


# --- the check -------------------------------------------------------------------------------

@dataclass
class Run:
    side: str  # "reference", "device" or "device_float32"
    answer: dict[str, Any] | None = None
    status: str = "ok"  # ok, skipped, error, timed out, not run
    reason: str = ""


class Budget:
    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()


def run_side(demo_name: str, side: str, device: str, budget: Budget, site: Path | None, args) -> Run:
    """One run in a fresh process, time-boxed: the reference on the CPU in float32, or the device."""
    limit = min(RUN_LIMIT_S, budget.left())
    if limit < MIN_RUN_S:
        return Run(side, status="not run", reason="the time budget is spent")
    environment = {**os.environ, "NEURAL_GALLERY_DEVICE": "cpu" if side == "reference" else device,
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(site) if site else "", str(ROOT),
                                                               os.environ.get("PYTHONPATH", "")])),
                   "NEURAL_GALLERY_TORCH_THREADS": str(CPU_THREADS),
                   "HF_HUB_OFFLINE": "1", "OPENBLAS_NUM_THREADS": "1"}
    environment.pop("NEURAL_GALLERY_PRECISION", None)  # the device's default: mixed on CUDA
    if side != "device":
        environment["NEURAL_GALLERY_PRECISION"] = "float32"
    with tempfile.TemporaryDirectory() as folder:
        result_file = Path(folder) / "answer.pickle"
        command = [sys.executable, __file__, "--child", demo_name, "--side", side, "--result-file", str(result_file),
                   "--warm-repeats", str(WARM_REPEATS_OF.get(demo_name, args.warm_repeats)),
                   "--rounds", str(args.rounds)]
        try:
            completed = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True,
                                       timeout=limit)
        except subprocess.TimeoutExpired:
            return Run(side, status="timed out", reason=f"over {limit:.0f} s")
        if completed.returncode not in (0, SKIPPED_EXIT) or not result_file.exists():
            return Run(side, status="error", reason=" | ".join(completed.stderr.strip().splitlines()[-3:]))
        answer = pickle.loads(result_file.read_bytes())
    if "skipped" in answer:
        return Run(side, status="skipped", reason=answer["skipped"])
    return Run(side, answer)


def check_demo(demo_name: str, device: str, budget: Budget, site: Path | None, args) -> dict[str, Any]:
    sides = ["reference", "device"] + (["device_float32"] if device == "cuda" and demo_name in MIXED_PRECISION_DEMOS
                                       else [])
    runs: dict[str, Run] = {}
    for side in sides:
        runs[side] = run_side(demo_name, side, device, budget, site, args)
        if runs[side].status != "ok":
            break
    failed = next((run for run in runs.values() if run.status != "ok"), None)
    if failed is not None:
        return {"demo": demo_name, "status": failed.status, "reason": f"{failed.side}: {failed.reason}"}
    reference, on_device = runs["reference"].answer, runs["device"].answer
    differences = compare(reference["outputs"], on_device["outputs"])
    row = {"demo": demo_name, "status": "ok" if not differences else "disagrees", "agrees_with_cpu": not differences,
           "differences": differences[:10], "device": on_device["device"], "ran_on": on_device["ran_on"],
           "cold_s": on_device["cold_s"], "warm_s": on_device["warm_s"], "cpu_cold_s": reference["cold_s"],
           "cpu_warm_s": reference["warm_s"], "gpu_peak_mb_load_and_first_call":
               on_device["gpu_peak_mb_load_and_first_call"], "models": on_device["models_loaded"],
           "batching_at_8": on_device["batching"]}
    if "device_float32" in runs:
        full = runs["device_float32"].answer
        precision_differences = compare(full["outputs"], on_device["outputs"])
        row["float16_vs_float32"] = {"agrees": not precision_differences, "differences": precision_differences[:10],
                                     "float32_warm_s": full["warm_s"], "mixed_warm_s": on_device["warm_s"]}
        if precision_differences:
            row["status"] = "disagrees"
    return row


def cuda_or_exit(pretend_missing: bool) -> dict[str, Any]:
    """The GPU's description; no CUDA: a loud message and exit status 2, never a quiet run on the CPU."""
    reason = "--pretend-no-cuda was given" if pretend_missing else None
    try:
        import torch
    except ImportError:
        torch, reason = None, "torch is not installed"
    if reason is None and not torch.cuda.is_available():
        reason = f"torch {torch.__version__} sees no CUDA device (CUDA build: {torch.version.cuda or 'none'})"
    if reason is not None:
        print(f"\n*** make gpu-check needs CUDA, and {reason}. Nothing was measured or written. ***\n"
              "Run it on a machine with an NVIDIA GPU and a CUDA build of torch, or pass --device cpu --output "
              "PATH for a dry run of the comparison logic on the CPU.", file=sys.stderr)
        sys.exit(2)
    properties = torch.cuda.get_device_properties(0)
    return {"gpu": torch.cuda.get_device_name(0), "gpu_memory_gb": round(properties.total_memory / 2**30, 1),
            "torch": torch.__version__, "cuda": torch.version.cuda}


def install_wheels(folder: Path) -> Path:
    """The wheels in ``folder``, installed without an index or dependencies into a fresh folder put on the path."""
    wheels = sorted(folder.glob("*.whl"))
    if not wheels:
        raise SystemExit(f"--wheels {folder}: no .whl files there")
    site = Path(tempfile.mkdtemp(prefix="neural_gallery_gpu_check_site_"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                    "--target", str(site), *map(str, wheels)], check=True)
    sys.path.insert(0, str(site))
    print(f"installed {len(wheels)} wheels from {folder} into {site}", flush=True)
    return site


def write(output: Path, payload: dict[str, Any]) -> None:
    from datetime import datetime, timezone

    from common import machine

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({"benchmark": "cuda", "measured_at": datetime.now(timezone.utc).isoformat(
        timespec="seconds"), "machine": machine(), **payload}, indent=2) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheels", type=Path, default=os.environ.get(WHEELS_ENV) or None,
                        help=f"a folder of wheels to install first, --no-index --no-deps (or {WHEELS_ENV})")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda",
                        help="cpu: a dry run of the same logic against itself (needs --output)")
    parser.add_argument("--only", default="", help="comma-separated demo slugs (default: every demo)")
    parser.add_argument("--output", type=Path, help=f"where the JSON goes (default {DEFAULT_OUTPUT.relative_to(ROOT)})")
    parser.add_argument("--budget-s", type=float, default=BUDGET_S)
    parser.add_argument("--warm-repeats", type=int, default=WARM_REPEATS)
    parser.add_argument("--rounds", type=int, default=BATCH_ROUNDS, help="rounds of the batching measurement")
    parser.add_argument("--pretend-no-cuda", action="store_true", help="take the no-CUDA path (for its test)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--side", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.side, args.result_file, args.warm_repeats, args.rounds)
    if args.device == "cpu" and args.output is None:
        parser.error("--device cpu is a dry run: give --output, so that it never stands in for the CUDA column")
    started = time.monotonic()
    site = install_wheels(args.wheels) if args.wheels else None
    gpu = cuda_or_exit(args.pretend_no_cuda) if args.device == "cuda" else {"gpu": None}
    from demos import DEMO_NAMES

    names = [name for name in args.only.split(",") if name] or list(DEMO_NAMES)
    budget, rows = Budget(args.budget_s), []
    for name in names:
        rows.append(check_demo(name, args.device, budget, site, args))
        print(json.dumps({key: rows[-1].get(key) for key in ("demo", "status", "reason", "warm_s", "cpu_warm_s",
                                                               "differences") if key in rows[-1]}), flush=True)
    write(args.output or DEFAULT_OUTPUT, {
        "what": "each demo's first endpoint on a bundled example in fresh processes: the device (default precision: "
                "float16 autocast on CUDA) against the CPU in float32 (torch threads: half the cores, "
                f"{CPU_THREADS}); cold = load + first call, warm = median of "
                f"{args.warm_repeats}; GPU memory = torch.cuda.max_memory_allocated over the load and first call; "
                "batching = items/s of one batch of 8 against 8 single calls (benchmarks/bench_batching.py)",
        "device": args.device, **gpu, "tolerance": TOLERANCE.__dict__, "seconds": round(time.monotonic() - started),
        "rows": rows})
    return _verdict(rows)


def _verdict(rows: list[dict[str, Any]]) -> int:
    """0 when every demo that ran agrees; skipped demos (a missing dependency) are listed, not failed."""
    skipped = [f"{row['demo']} ({row['reason']})" for row in rows if row["status"] == "skipped"]
    failed = [f"{row['demo']}: {row['status']} {row.get('reason') or row.get('differences')}" for row in rows
              if row["status"] not in ("ok", "skipped")]
    if skipped:
        print("SKIPPED (dependency missing here): " + "; ".join(skipped), file=sys.stderr)
    if failed:
        print("FAILED:\n  " + "\n  ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

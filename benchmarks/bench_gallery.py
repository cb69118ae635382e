"""Every demo as a visitor meets it: the first call (cold: the model loads), the warm call, and memory.

Each demo runs in a fresh process, through its first endpoint with a bundled example input and
default settings, so the figures compare across demos. A last process runs every demo in turn
and reports the resident memory with all default models loaded (issue 11: under 3 GB).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

from common import ROOT, write_result

from core import contract
from core.media import example_photo
from core.models import MODELS, resident_bytes

WARM_REPEATS = 3
MEMORY_LIMIT_MB = 3000


def example_kwargs(demo) -> dict:
    """A bundled photo, recording or article for the first input; every other field at its default."""
    kwargs = {}
    for position, field in enumerate(demo.ENDPOINTS[0].inputs):
        if isinstance(field, contract.ImageField):
            kwargs[field.name] = None if field.optional else example_photo("Astronaut")
        elif isinstance(field, contract.AudioField):
            kwargs[field.name] = str(sorted((ROOT / "assets" / "audio_digits").glob("*.wav"))[0])
        elif isinstance(field, contract.TextField) and position == 0 and not field.default:
            kwargs[field.name] = sorted((ROOT / "assets" / "summarisation").glob("*.txt"))[0].read_text()
        else:
            kwargs[field.name] = getattr(field, "default", None)
    return kwargs


def measure(name: str) -> dict:
    """Cold and warm seconds and resident memory for one demo (run inside a fresh process)."""
    import importlib

    demo = importlib.import_module(f"demos.{name}")
    kwargs = example_kwargs(demo)
    before = resident_bytes()
    start = time.perf_counter()
    demo.ENDPOINTS[0].run(**kwargs)
    cold = time.perf_counter() - start
    warm = []
    for _ in range(WARM_REPEATS):
        start = time.perf_counter()
        demo.ENDPOINTS[0].run(**kwargs)
        warm.append(time.perf_counter() - start)
    return {"demo": name, "cold_s": round(cold, 3), "warm_s": round(statistics.median(warm), 3),
            "resident_mb_added": round((resident_bytes() - before) / 2**20),
            "models_loaded": sorted(MODELS.load_counts)}


def measure_all() -> dict:
    """Every demo's example in one process: the memory of the whole gallery with its default models."""
    import importlib

    from demos import DEMO_NAMES

    for name in DEMO_NAMES:
        demo = importlib.import_module(f"demos.{name}")
        demo.ENDPOINTS[0].run(**example_kwargs(demo))
    return {"resident_mb_all_default_models": round(resident_bytes() / 2**20), "models": len(MODELS.load_counts)}


def in_fresh_process(argument: str) -> dict:
    completed = subprocess.run([sys.executable, __file__, argument], cwd=ROOT, capture_output=True, text=True)
    if completed.returncode != 0:
        return {"demo": argument, "error": completed.stderr.strip().splitlines()[-1:]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    from demos import DEMO_NAMES

    rows = []
    for name in DEMO_NAMES:
        rows.append(in_fresh_process(name))
        print(rows[-1], flush=True)
    memory = in_fresh_process("--all")
    write_result("gallery", {
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "what": f"each demo's first endpoint on a bundled example, defaults, fresh process: first call (cold, model "
                f"load included) and median of {WARM_REPEATS} warm calls on the same input (a demo may reuse work "
                "it cached, e.g. summarisation's sentence embeddings); then every demo in one process",
        "torch_threads": 1, "rows": rows, **memory,
        "memory_limit_mb": MEMORY_LIMIT_MB,
        "meets_memory_target": memory.get("resident_mb_all_default_models", MEMORY_LIMIT_MB + 1) < MEMORY_LIMIT_MB,
    })


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(json.dumps(measure_all() if sys.argv[1] == "--all" else measure(sys.argv[1])))
    else:
        main()

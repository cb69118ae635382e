"""The model cache's memory budget: does ``NEURAL_GALLERY_MODEL_BUDGET_MB=X`` keep the process
within X MB of its base?

One fresh process per budget (none, 150, 400 MB). Each imports the demos, loads every demo's
bundled model once (``demo.load()``: this imports and sets up torch, onnxruntime, OpenCV...)
and clears the cache: what stays resident is the process's base, code and libraries but no
model. Then it loads every model in turn, twice around (the second round reloads what the budget
evicted), reads every weight as a first request would (transformers maps safetensors files, and
a mapped page is resident only once read), and records the resident memory after each load, the
peak (VmHWM, reset after the base) and what the cache accounts for. Before the fix, a reload grew
RSS by ~0 and was charged ~0, so a 150 MB budget held 1,096 MB against 1,173 MB with none.
"""
from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from common import ROOT, write_result

from core.models import BUDGET_ENV, MODELS, resident_bytes

BUDGETS_MB = (None, 150, 400)
ROUNDS = 2
TOLERANCE_MB = 25  # heap fragments malloc_trim cannot return, and this script's own records
MB = 2**20


def peak_resident_mb() -> float:
    return int(re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1)) / 1024


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM starts again from the current RSS


def read_every_weight() -> None:
    """Make every torch weight resident, as serving it would (see above)."""
    import torch

    modules = [obj for obj in gc.get_objects() if issubclass(type(obj), torch.nn.Module)]  # type(): proxies too
    for module in modules:
        for tensor in (*module.parameters(recurse=False), *module.buffers(recurse=False)):
            tensor.sum()


def measure(budget_mb: float | None) -> dict:
    """Inside a fresh process whose cache has ``budget_mb``: base, then ROUNDS of every model."""
    import demos

    modules = demos.DEMOS
    after_import_mb = resident_bytes() / MB
    for demo in modules:
        demo.load()
    first_loads = {"resident_mb": round(resident_bytes() / MB), "accounted_mb": round(MODELS.total_bytes() / MB),
                   "models": MODELS.stats()}  # charges of loads that first imported a library include it
    MODELS.clear()
    base_mb = resident_bytes() / MB
    reset_peak()
    steps = []
    for round_number in range(1, ROUNDS + 1):
        for demo in modules:
            demo.load()
            read_every_weight()
            steps.append({"round": round_number, "demo": demo.__name__.removeprefix("demos."),
                          "resident_mb": round(resident_bytes() / MB), "accounted_mb": round(MODELS.total_bytes() / MB),
                          "models_held": len(MODELS.stats())})
    return {"budget_mb": budget_mb, "base_after_importing_demos_mb": round(after_import_mb),
            "first_loads": first_loads, "base_mb": round(base_mb), "peak_mb": round(peak_resident_mb()),
            "final_mb": round(resident_bytes() / MB), "steps": steps, "models_at_end": MODELS.stats(),
            "loads": dict(MODELS.load_counts)}


def verdict(row: dict) -> dict:
    """Each figure above the base, and whether it is within the budget (plus TOLERANCE_MB)."""
    base, budget = row["base_mb"], row["budget_mb"]
    above = {"peak_above_base_mb": row["peak_mb"] - base, "final_above_base_mb": row["final_mb"] - base,
             "most_after_a_load_above_base_mb": max(step["resident_mb"] for step in row["steps"]) - base,
             "most_accounted_mb": max(step["accounted_mb"] for step in row["steps"])}
    if budget is None:
        return above
    return {**above, **{name.replace("_above_base_mb", "_within_budget"): value <= budget + TOLERANCE_MB
                        for name, value in above.items() if name.endswith("_above_base_mb")},
            "accounted_within_budget": above["most_accounted_mb"] <= budget}


def in_fresh_process(budget_mb: float | None) -> dict:
    env = {key: value for key, value in os.environ.items() if key != BUDGET_ENV}
    if budget_mb is not None:
        env[BUDGET_ENV] = str(budget_mb)
    completed = subprocess.run([sys.executable, __file__, "--child"], cwd=ROOT, env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        return {"budget_mb": budget_mb, "error": completed.stderr.strip().splitlines()[-3:]}
    row = json.loads(completed.stdout.strip().splitlines()[-1])
    return {**row, **verdict(row)}


def main() -> None:
    rows = []
    for budget_mb in BUDGETS_MB:
        rows.append(in_fresh_process(budget_mb))
        print({key: value for key, value in rows[-1].items() if key not in ("steps", "models_at_end", "first_loads")},
              flush=True)
    write_result("model_budget", {
        "what": f"budget X MB gives resident memory at most X plus the process's base: every demo's load(), "
                f"{ROUNDS} rounds, fresh process per budget; base = resident after every model loaded once and the "
                f"cache cleared (libraries imported and set up, no model); within = at most budget + "
                f"{TOLERANCE_MB} MB above the base",
        "tolerance_mb": TOLERANCE_MB, "rows": rows,
        # what the cache holds is bounded; a load's own working memory (the peak's part) is not the cache's to bound
        "meets_target": all(row.get("final_within_budget") and row.get("most_after_a_load_within_budget")
                            for row in rows if row.get("budget_mb") is not None),
    })


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        budget = os.environ.get(BUDGET_ENV)
        print(json.dumps(measure(float(budget) if budget else None)))
    else:
        main()

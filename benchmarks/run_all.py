"""Run every benchmark script in this folder (each writes benchmarks/results/<name>.json), then
the summary of them all (benchmarks/results/SUMMARY.md and summary.json)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    failures = 0
    for script in [*sorted(HERE.glob("bench_*.py")), HERE / "summarise.py"]:
        print(f"== {script.name}", flush=True)
        failures += subprocess.run([sys.executable, str(script)], cwd=HERE).returncode != 0
    sys.exit(1 if failures else 0)

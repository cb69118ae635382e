"""``make gpu-check`` (scripts/gpu_check.py) on a machine without CUDA: it refuses loudly, and its comparison
logic, run in its CPU dry mode, reports what a user of the CUDA column relies on."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from gpu_check import Tolerance, compare

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gpu_check.py"


def _run(*arguments: str, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *arguments], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_without_cuda_it_fails_loudly_and_writes_nothing(tmp_path):
    output = tmp_path / "cuda.json"
    completed = _run("--pretend-no-cuda", "--output", str(output), timeout=120)
    assert completed.returncode == 2
    assert "needs CUDA" in completed.stderr and "Nothing was measured" in completed.stderr
    assert not output.exists()


def test_a_dry_run_without_an_output_is_refused():
    completed = _run("--device", "cpu", timeout=120)
    assert completed.returncode != 0 and "--output" in completed.stderr


def test_the_comparison_accepts_rounding_and_catches_real_differences():
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8))
    nudged = Image.fromarray((np.asarray(photo, np.int16) + 1).clip(0, 255).astype(np.uint8))
    reference = {"labels": ["cat", "dog"], "boxes": [[10.0, 20.0, 110.0, 220.0]], "score": 0.91,
                 "device": "cpu", "seconds": 1.5, "picture": photo}
    assert compare(reference, {**reference, "score": 0.905, "boxes": [[10.2, 20.1, 111.0, 219.0]],
                               "device": "cuda", "seconds": 0.01, "picture": nudged}) == []
    assert compare(reference, {**reference, "labels": ["cat", "bird"]}) == [".labels[1]: 'bird', not 'dog'"]
    assert compare(reference, {**reference, "boxes": [[10.0, 20.0, 140.0, 220.0]]})[0].startswith(".boxes[0][2]")
    assert compare(reference, {**reference, "labels": ["cat"]}) == [".labels: 1 items, not 2"]
    inverted = Image.fromarray(255 - np.asarray(photo))
    assert "levels of 255" in compare(reference, {**reference, "picture": inverted})[0]
    assert compare({"p": 0.5}, {"p": 0.6}, Tolerance(absolute=0.2)) == []


def test_a_dry_run_on_the_cpu_compares_measures_and_batches(tmp_path):
    output = tmp_path / "dry.json"
    completed = _run("--device", "cpu", "--only", "emotion", "--output", str(output), "--warm-repeats", "1",
                     "--rounds", "1")
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(output.read_text())
    assert result["device"] == "cpu" and result["gpu"] is None
    (row,) = result["rows"]
    assert row["status"] == "ok" and row["agrees_with_cpu"] and row["ran_on"] == "cpu"
    assert row["cold_s"] > 0 and row["warm_s"] > 0 and row["cpu_warm_s"] > 0 and row["models"] == ["emotion"]
    (batching,) = row["batching_at_8"].values()
    assert batching["items_per_s_batch_of_8"] > 0 and batching["items_per_s_8_singles"] > 0


def test_a_demo_whose_dependency_is_missing_is_skipped_and_said_so(tmp_path):
    """As on the bare CUDA machine: onnxruntime absent (a stand-in package that fails to import as Python does
    when a package is not installed), style transfer is skipped, the check goes on and passes."""
    missing = tmp_path / "missing" / "onnxruntime"
    missing.mkdir(parents=True)
    (missing / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'onnxruntime'\", "
                                         "name='onnxruntime')\n")
    output = tmp_path / "dry.json"
    environment = {**os.environ, "PYTHONPATH": str(missing.parent)}
    completed = _run("--device", "cpu", "--only", "style_transfer", "--output", str(output), env=environment,
                     timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    (row,) = json.loads(output.read_text())["rows"]
    assert row["status"] == "skipped" and "onnxruntime" in row["reason"]
    assert "SKIPPED" in completed.stderr and "style_transfer" in completed.stderr


def _wheel(folder: Path, name: str) -> Path:
    """A minimal pure-Python wheel holding module ``name`` (as a bare CUDA machine would be handed)."""
    import zipfile

    dist = f"{name}-1.0.dist-info"
    files = {f"{name}.py": "ANSWER = 42\n",
             f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
             f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    files[f"{dist}/RECORD"] = "".join(f"{path},,\n" for path in [*files, f"{dist}/RECORD"])
    path = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
    return path


def test_wheels_from_a_folder_are_installed_without_an_index(tmp_path, monkeypatch):
    from gpu_check import install_wheels

    _wheel(tmp_path, "neural_gallery_wheel_probe")
    monkeypatch.setattr(sys, "path", list(sys.path))  # install_wheels puts its folder first: undone after
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # ...in a temporary folder: this test's
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # and it must not need one
    site = install_wheels(tmp_path)
    assert sys.path[0] == str(site) and (site / "neural_gallery_wheel_probe.py").read_text() == "ANSWER = 42\n"

"""ZeroGPU (core.zerogpu): on a ZeroGPU Space the GPU-bound model work runs through ``spaces.GPU`` with its
demo's duration; everywhere else nothing changes.

The real ``spaces`` package is used where it can run here: off ZeroGPU its ``GPU`` decorator hands the
function back untouched. Its ZeroGPU mode cannot start on this machine (it needs a CUDA build of torch and
Hugging Face's device API), so the "declared" test runs in a fresh process with ``SPACES_ZERO_GPU=true`` and
a recording ``spaces.GPU`` whose signature is checked against the real one; it pickles everything that
would cross ZeroGPU's fork (arguments, progress reports, the answer), as the real one does.
"""
from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import spaces

from core import zerogpu
from core.progress import Progress
from core.validation import InputError

ROOT = Path(__file__).resolve().parent.parent


def _counting(limit: int, progress=None) -> list[int]:
    """A stand-in work: reports each step, refuses a bad request with a visitor's message."""
    if limit < 0:
        raise InputError("Pick a positive number.")
    for step in range(limit):
        if progress is not None:
            progress(Progress(step + 1, limit, note=f"step {step + 1}"))
    return list(range(limit))


def test_off_zerogpu_a_work_is_the_plain_function(monkeypatch):
    monkeypatch.delenv(zerogpu.ZERO_GPU_ENV, raising=False)
    assert zerogpu.gpu_call(_counting, 30) is None  # model_work then calls it as before
    assert spaces.GPU(duration=30)(_counting) is _counting  # the real package agrees: a no-op here


def test_the_gpu_path_gives_the_same_answers_progress_and_errors():
    """What ZeroGPU runs (the streamed generator, through the real spaces.GPU) answers as the plain call."""
    through_gpu = spaces.GPU(duration=30)(zerogpu.streamed(_counting))
    seen: list[Progress] = []
    assert zerogpu.call_streamed(through_gpu, (3,), {"progress": seen.append}) == _counting(3)
    assert [step.done for step in seen] == [1, 2, 3]
    assert zerogpu.call_streamed(through_gpu, (2,), {}) == [0, 1]
    with pytest.raises(InputError, match="Pick a positive number"):
        zerogpu.call_streamed(through_gpu, (-1,), {})


def test_the_gradio_space_installs_the_spaces_version_tested_here():
    sys.path.insert(0, str(ROOT / "scripts"))
    from make_gradio_space import space_requirements

    lines = space_requirements((ROOT / "requirements.txt").read_text()).splitlines()
    assert f"spaces=={metadata.version('spaces')}" in lines
    assert "torch==2.13.0" in lines  # the gallery's own pins are kept


DECLARED = r"""
import json, os, pickle, sys, types
wrapped = {}

def GPU(task=None, *, duration=None, size=None):
    def wrap(function):
        def run(*args, **kwargs):
            args, kwargs = pickle.loads(pickle.dumps((args, kwargs)))  # what crosses the fork
            for report in function(*args, **kwargs):
                yield pickle.loads(pickle.dumps(report))
        wrapped[f"{function.__module__}:{function.__qualname__}"] = duration
        return run
    return wrap

fake = types.ModuleType("spaces")
fake.GPU = GPU
sys.modules["spaces"] = fake

from core.device import choose_device
from core.engine import WORK
from demos import style_transfer
from demos.translation import example_sentences
from demos.translation.decoding import translate
sentence = example_sentences()["en"][0]
answer = translate(sentence, "en-ru").text
os.environ["NEURAL_GALLERY_DEVICE"] = "cuda"  # as if CUDA were there (ZeroGPU's main process says it is)
choose_device.cache_clear()
print(json.dumps({"wrapped": wrapped, "answer": answer,
                  "durations": {key: work.gpu_seconds for key, work in WORK.items()},
                  "cpu_only_device": choose_device(gpu_calls=False)}))
"""


@pytest.fixture(scope="module")
def declared_run() -> dict:
    environment = {**os.environ, zerogpu.ZERO_GPU_ENV: "true", "PYTHONPATH": str(ROOT),
                   "NEURAL_GALLERY_DEVICE": "cpu"}
    completed = subprocess.run([sys.executable, "-c", DECLARED], cwd=ROOT, env=environment, capture_output=True,
                               text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_on_zerogpu_each_gpu_work_is_wrapped_with_its_duration(declared_run):
    inspect.signature(spaces.GPU).bind(duration=30)  # the call the recording stand-in took, as the real one takes it
    durations = declared_run["durations"]
    gpu_works = {key: seconds for key, seconds in durations.items() if seconds > 0}
    assert declared_run["wrapped"] == gpu_works  # every work with a duration, and only those
    assert gpu_works["demos.translation.decoding:decode"] == 20
    assert durations["demos.style_transfer:paint_builtin"] == 0  # onnxruntime: the CPU, no GPU call


def test_on_zerogpu_a_wrapped_work_answers_as_it_does_anywhere(declared_run):
    from demos.translation import example_sentences
    from demos.translation.decoding import translate

    assert declared_run["answer"] == translate(example_sentences()["en"][0], "en-ru").text


def test_on_zerogpu_a_demo_without_gpu_calls_keeps_its_models_on_the_cpu(declared_run):
    assert declared_run["cpu_only_device"] == "cpu"


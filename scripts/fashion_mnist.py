"""Fashion-MNIST from the Debian package ``dataset-fashion-mnist`` (MIT), for training and evaluation only.

Setup once: ``apt-get install -y dataset-fashion-mnist``. The files are gzip IDX: a 16-byte
header before the images, 8 bytes before the labels. The app never reads them.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

DATA_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def load_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 28, 28), labels int64 (N,)) of the "train" or "test" split."""
    image_file, label_file = (DATA_DIR / name for name in FILES[split])
    if not image_file.exists():
        raise SystemExit(f"{image_file} is missing: run `apt-get install -y dataset-fashion-mnist` first.")
    images = np.frombuffer(gzip.open(image_file).read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)
    labels = np.frombuffer(gzip.open(label_file).read(), dtype=np.uint8, offset=8).astype(np.int64)
    return images, labels


def as_tensors(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Images as float (N, 1, 28, 28) in [-1, 1], the range both generators produce, and labels."""
    images, labels = load_split(split)
    pixels = torch.from_numpy(images.copy()).float().div(127.5).sub(1.0).unsqueeze(1)
    return pixels, torch.from_numpy(labels)


def batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int, generator: torch.Generator):
    """One shuffled pass over the data, dropping the last incomplete batch."""
    order = torch.randperm(len(images), generator=generator)
    for start in range(0, len(order) - batch_size + 1, batch_size):
        index = order[start:start + batch_size]
        yield images[index], labels[index]


def export_real_examples(path: Path) -> None:
    """The first test image of each class, side by side (280x28 PNG): real pictures for the inpainting demo."""
    from PIL import Image

    images, labels = load_split("test")
    firsts = [images[np.flatnonzero(labels == label)[0]] for label in range(10)]
    Image.fromarray(np.concatenate(firsts, axis=1)).save(path)


if __name__ == "__main__":
    export_real_examples(Path(__file__).resolve().parent.parent / "models" / "generative" / "real_examples.png")

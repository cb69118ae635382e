"""Train the small Fashion-MNIST classifier that judges the generated images (evaluation only).

    apt-get install -y dataset-fashion-mnist
    python scripts/train_fashion_classifier.py          # ~3 epochs, a few minutes on one CPU core

Writes models/generative/fashion_classifier.safetensors. benchmarks/bench_image_generation.py
uses its predictions (does a generated "sneaker" look like a sneaker?) and its 128-number
penultimate features (a Frechet distance between real and generated images).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

WEIGHTS = Path(__file__).resolve().parent.parent / "models" / "generative" / "fashion_classifier.safetensors"
FEATURE_SIZE = 128


class FashionClassifier(nn.Module):
    """Two conv blocks and a 128-unit layer: ~91% on the real test set, enough to judge samples."""

    def __init__(self) -> None:
        super().__init__()
        self.convolutions = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # 14x14
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),  # 7x7
        )
        self.features = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 7 * 7, FEATURE_SIZE), nn.ReLU())
        self.classify = nn.Linear(FEATURE_SIZE, 10)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images in [-1, 1], (N, 1, 28, 28) -> (class logits, penultimate features)."""
        features = self.features(self.convolutions(images))
        return self.classify(features), features


def load_classifier(path: Path = WEIGHTS) -> FashionClassifier:
    from safetensors.torch import load_file

    classifier = FashionClassifier()
    classifier.load_state_dict(load_file(str(path)))
    return classifier.eval()


@torch.no_grad()
def predict(classifier: FashionClassifier, images: torch.Tensor, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """(predicted labels, features) for many images, in batches."""
    outputs = [classifier(images[start:start + batch_size]) for start in range(0, len(images), batch_size)]
    return torch.cat([logits.argmax(1) for logits, _ in outputs]), torch.cat([features for _, features in outputs])


def main() -> None:
    from safetensors.torch import save_file

    from fashion_mnist import as_tensors, batches

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    images, labels = as_tensors("train")
    test_images, test_labels = as_tensors("test")
    classifier = FashionClassifier()
    optimizer = torch.optim.Adam(classifier.parameters(), 1e-3)
    started = time.monotonic()
    for epoch in range(args.epochs):
        classifier.train()
        for batch, batch_labels in batches(images, labels, 128, torch.Generator().manual_seed(epoch)):
            loss = F.cross_entropy(classifier(batch)[0], batch_labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        classifier.eval()
        accuracy = (predict(classifier, test_images)[0] == test_labels).float().mean().item()
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}, test accuracy {accuracy:.4f}, "
              f"{(time.monotonic() - started) / 60:.1f} min", flush=True)
    save_file({k: v.contiguous() for k, v in classifier.state_dict().items()}, str(WEIGHTS))
    print(f"saved {WEIGHTS}")


if __name__ == "__main__":
    main()

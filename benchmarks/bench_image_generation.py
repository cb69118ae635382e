"""Image generation: speed of a 4x4 grid, and quality judged by a Fashion-MNIST classifier.

    apt-get install -y dataset-fashion-mnist                      # real test images (evaluation only)
    python scripts/train_fashion_classifier.py                    # the judge, once
    .venv/bin/python benchmarks/bench_image_generation.py

Quality, per model: (a) the classifier's accuracy on generated images of each requested
class (targets: >= 90% diffusion, >= 80% GAN); (b) the Frechet distance between real test
images and generated ones in the classifier's 128-number feature space (lower is better),
next to the floor: the same distance between two disjoint sets of real test images of the
same size. Writes benchmarks/results/image_generation.json.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
from scipy import linalg

from common import ROOT, median_seconds, write_result

sys.path.insert(0, str(ROOT / "scripts"))

from demos import image_generation as demo  # noqa: E402
from fashion_mnist import as_tensors  # noqa: E402
from train_fashion_classifier import load_classifier, predict  # noqa: E402

GRID = 16


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """||mu_a - mu_b||^2 + Tr(C_a + C_b - 2 (C_a C_b)^1/2), the FID formula on our classifier's features."""
    a, b = features_a.double().numpy(), features_b.double().numpy()
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b).real
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


def speed() -> dict:
    """Warm medians for a 4x4 grid on this machine."""
    demo.load()
    timings = {"gan_4x4_s": median_seconds(lambda: demo.generate_gan("Sneaker", 0, GRID), repeats=20)}
    for guidance in (1.0, demo.DEFAULT_GUIDANCE):
        timings[f"ddim25_4x4_guidance{guidance:g}_s"] = median_seconds(
            lambda: demo.generate_diffusion("Sneaker", 0, GRID, 25, "DDIM", guidance), repeats=3)
    return {key: round(value, 4) for key, value in timings.items()} | {"targets_s": {"gan_4x4": 0.1, "ddim25_4x4": 3.0}}


def generated(model: str, per_class: int, steps: int, guidance: float) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = [], []
    for label, name in enumerate(demo.CLASS_NAMES):
        for start in range(0, per_class, GRID):
            count = min(GRID, per_class - start)
            seed = 1000 * label + start  # disjoint seeds per batch
            if model == "GAN":
                images.append(demo.generate_gan(name, seed, count).images)
            else:
                images.append(demo.generate_diffusion(name, seed, count, steps, "DDIM", guidance).images)
            labels.append(torch.full((count,), label))
    return torch.cat(images), torch.cat(labels)


def quality(classifier, model: str, per_class: int, reference: torch.Tensor, steps: int = 25,
            guidance: float = demo.DEFAULT_GUIDANCE) -> dict:
    images, labels = generated(model, per_class, steps, guidance)
    predicted, features = predict(classifier, images)
    per_class_accuracy = {name: round((predicted[labels == label] == label).float().mean().item(), 3)
                          for label, name in enumerate(demo.CLASS_NAMES)}
    result = {"images": len(images), "accuracy": round((predicted == labels).float().mean().item(), 4),
              "accuracy_per_class": per_class_accuracy,
              "frechet_distance": round(frechet_distance(reference, features), 3)}
    if model == "Diffusion":
        result |= {"sampler": "DDIM", "steps": steps, "guidance": guidance}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gan-per-class", type=int, default=100)
    parser.add_argument("--diffusion-per-class", type=int, default=30)
    args = parser.parse_args()
    classifier = load_classifier()
    test_images, test_labels = as_tensors("test")
    test_predicted, test_features = predict(classifier, test_images)
    order = torch.randperm(len(test_images), generator=torch.Generator().manual_seed(0))
    reference = test_features[order[:5000]]  # generated sets and the floor are compared with these
    held_out = test_features[order[5000:]]
    floors = {str(size): round(frechet_distance(reference, held_out[:size]), 3)
              for size in (args.gan_per_class * 10, args.diffusion_per_class * 10)}
    payload = {
        "classifier": {"real_test_accuracy": round((test_predicted == test_labels).float().mean().item(), 4),
                       "test_images": len(test_images)},
        "frechet_floor_real_vs_real": floors,
        "speed": speed(),
        "quality": {
            "GAN": quality(classifier, "GAN", args.gan_per_class, reference) | {"target_accuracy": 0.8},
            "Diffusion": quality(classifier, "Diffusion", args.diffusion_per_class, reference)
            | {"target_accuracy": 0.9},
            "Diffusion, no guidance": quality(classifier, "Diffusion", args.diffusion_per_class, reference,
                                              guidance=1.0),
        },
    }
    print(write_result("image_generation", payload))


if __name__ == "__main__":
    main()

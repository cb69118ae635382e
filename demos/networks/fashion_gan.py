"""The GAN of the image-generation demo: a class-conditional DCGAN for 28x28 grey images.

The generator maps a latent vector and a class to an image in one pass; the projection
discriminator (Miyato & Koyama 2018) scores an image and a class, kept tame by spectral
normalisation. Trained by scripts/train_gan.py; loaded by demos/image_generation/.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

CLASS_COUNT = 10  # Fashion-MNIST classes (the demo names them: demos.image_generation.CLASS_NAMES)
LATENT_SIZE = 64
GAN_WIDTH = 64


class Generator(nn.Module):
    """A latent vector and a class -> a 28x28 image in [-1, 1]: project to 7x7, upsample twice."""

    def __init__(self, latent_size: int = LATENT_SIZE, width: int = GAN_WIDTH) -> None:
        super().__init__()
        self.width = width
        self.class_embedding = nn.Embedding(CLASS_COUNT, latent_size)
        self.project = nn.Sequential(
            nn.Linear(2 * latent_size, 2 * width * 7 * 7, bias=False), nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU())
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),  # 14x14
            nn.Conv2d(width, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, 2, 1), nn.Tanh(),  # 28x28
        )

    def forward(self, latents: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        code = torch.cat([latents, self.class_embedding(labels)], dim=1)
        return self.upsample(self.project(code).view(-1, 2 * self.width, 7, 7))


class Discriminator(nn.Module):
    """An image and a class -> one logit, "real" when high. Projection discriminator
    (Miyato & Koyama 2018): the class enters as a dot product with the image's features;
    spectral normalisation keeps its gradients tame."""

    def __init__(self, width: int = GAN_WIDTH) -> None:
        super().__init__()
        self.features = nn.Sequential(
            spectral_norm(nn.Conv2d(1, width, 4, 2, 1)), nn.LeakyReLU(0.2),  # 14x14
            spectral_norm(nn.Conv2d(width, 2 * width, 4, 2, 1)), nn.LeakyReLU(0.2),  # 7x7
            spectral_norm(nn.Conv2d(2 * width, 2 * width, 3, 1, 1)), nn.LeakyReLU(0.2),
        )
        self.realness = spectral_norm(nn.Linear(2 * width * 7 * 7, 1))
        self.class_embedding = spectral_norm(nn.Embedding(CLASS_COUNT, 2 * width))

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        features = self.features(images)
        pooled = features.sum(dim=(2, 3))
        return self.realness(features.flatten(1)).squeeze(1) + (self.class_embedding(labels) * pooled).sum(1)

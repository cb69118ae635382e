"""The PPO agent's network: a Nature-CNN torso (Mnih et al. 2015) shared by an actor and a critic."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

FRAME_STACK, FRAME_SIZE = 4, 84


def _layer(layer: nn.Module, gain: float = np.sqrt(2)) -> nn.Module:
    """Orthogonal weights and zero biases: the initialisation the PPO reference implementations use."""
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class ActorCritic(nn.Module):
    """Four stacked 84x84 grey frames -> (action logits, value estimate)."""

    def __init__(self, actions: int) -> None:
        super().__init__()
        self.torso = nn.Sequential(
            _layer(nn.Conv2d(FRAME_STACK, 32, 8, stride=4)), nn.ReLU(),
            _layer(nn.Conv2d(32, 64, 4, stride=2)), nn.ReLU(),
            _layer(nn.Conv2d(64, 64, 3, stride=1)), nn.ReLU(),
            nn.Flatten(),
            _layer(nn.Linear(64 * 7 * 7, 512)), nn.ReLU(),
        )
        # A small actor gain starts the policy near uniform; the critic's gain 1 keeps values on the reward scale.
        self.actor = _layer(nn.Linear(512, actions), gain=0.01)
        self.critic = _layer(nn.Linear(512, 1), gain=1.0)

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``frames``: uint8 (N, 4, 84, 84). Returns logits (N, actions) and values (N,)."""
        hidden = self.torso(frames.float() / 255.0)
        return self.actor(hidden), self.critic(hidden).squeeze(-1)

"""The agent's network: the shipped policy, a visitor's uploaded one, and its forward pass.

One actor-critic per game (``demos.networks.actor_critic``), its weights in
``models/atari/<game>.safetensors`` with the training record beside them. A visitor's upload
is checked to fit the network and the game, then plays through the same ``decide``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
from PIL import Image

from core.device import choose_device
from core.models import MODELS
from core.validation import MB, InputError, read_safetensors
from demos.atari.environment import DEFAULT_GAME, GAMES, action_names, checked_game

if TYPE_CHECKING:
    import torch

    from demos.networks.actor_critic import ActorCritic

MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "atari"
MODEL_CARD_NOTE = "Weights, evaluation and limits: models/atari/MODEL_CARD.md."
MAX_POLICY_BYTES = 20 * MB  # an uploaded policy: 3x the shipped fp32 file (6.4 MB), so fp64 exports fit too


@dataclass
class Policy:
    game: str
    network: ActorCritic  # eval mode, on ``device``, weights frozen; one output per action of the game
    device: str
    upload_name: str | None = None  # the visitor's file name; None: the policy shipped in models/atari/

    @property
    def label(self) -> str:
        return "shipped policy" if self.upload_name is None else f"your upload {self.upload_name}"


# --- what is shipped --------------------------------------------------------------------

def policy_file(game: str) -> Path:
    return MODEL_DIR / f"{game}.safetensors"


def shipped_games() -> list[str]:
    """The games with a trained policy in models/atari/ (training writes them one by one)."""
    return [game for game in GAMES if policy_file(game).exists()]


def training_record(game: str) -> dict | None:
    """What the training script wrote next to the weights: steps, wall time, hyperparameters."""
    path = MODEL_DIR / f"{game}.json"
    return json.loads(path.read_text()) if path.exists() else None


def learning_curve(game: str) -> Path | None:
    path = MODEL_DIR / f"{game}_learning_curve.png"
    return path if path.exists() else None


def learning_curve_picture(game: str) -> Image.Image | None:
    """The learning curve as a picture (read now: the file is not held open)."""
    path = learning_curve(game)
    if path is None:
        return None
    with Image.open(path) as picture:
        return picture.convert("RGB")


def training_note(game: str) -> str | None:
    """The training record in one sentence, as measured by the training script."""
    record = training_record(game)
    if record is None:
        return None
    recent = record.get("mean_score_last_20_training_episodes")
    return (f"{record['algorithm']}: {record['agent_steps']:,} decisions ({record['emulator_frames'] / 1e6:.2f} M "
            f"emulator frames) in {record['training_minutes']:g} min on {record['trained_on']}, "
            f"{record['training_episodes']:,} training games"
            + (f"; mean score of the last 20: {recent:+g}." if recent is not None else "."))


def no_policy_message(game: str) -> str:
    return (f"No trained policy for {GAMES[game]} is shipped yet (models/atari/{game}.safetensors is missing); "
            f"agents ready: {', '.join(GAMES[g] for g in shipped_games()) or 'none yet'}. "
            "The random agent plays every game.")



# --- load -------------------------------------------------------------------------------

def load(game: str = DEFAULT_GAME) -> Policy:
    """The trained actor-critic for ``game``, loaded once per process."""
    game = checked_game(game)
    if not policy_file(game).exists():
        raise InputError(no_policy_message(game))
    return MODELS.get(f"atari:{game}", partial(_build_policy, game))


def _build_policy(game: str) -> Policy:
    from safetensors.torch import load_file

    return _policy(game, load_file(policy_file(game)))


def uploaded_policy(game: str, name: str, source: bytes | str | Path | BinaryIO) -> Policy:
    """A visitor's own policy for ``game`` (the ``<game>.safetensors`` scripts/train_atari.py exports).

    Built for this call only, never cached: the shipped policy other visitors see stays as it is.
    """
    game = checked_game(game)
    return _policy(game, read_safetensors(source, MAX_POLICY_BYTES, "policy file"), upload_name=name)


def _policy(game: str, tensors: dict[str, torch.Tensor], upload_name: str | None = None) -> Policy:
    """The actor-critic for ``game`` holding ``tensors``, checked to fit: shipped and uploaded weights alike."""
    import torch

    from demos.networks.actor_critic import ActorCritic

    with torch.device("meta"):  # shapes only, no memory: the weights all come from ``tensors``
        network = ActorCritic(len(action_names(game)))
    expected = network.state_dict()
    _check_fits(game, tensors, expected)
    # fp32 copies in fresh memory: the same layout for every source, hence bit-identical decisions
    weights = {name: tensor.to(torch.float32, copy=True) for name, tensor in tensors.items()}
    network.load_state_dict(weights, assign=True)
    device = choose_device()
    return Policy(game, network.to(device).eval().requires_grad_(False), device, upload_name)


def _shape(tensor: torch.Tensor) -> str:
    return "x".join(map(str, tensor.shape)) or "scalar"


def _check_fits(game: str, tensors: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    """Refuse weights that are not this network for this game's actions, saying what was expected."""
    import torch

    problems = ([f"{name} is missing" for name in expected if name not in tensors]
                + [f"{name} is not in this network" for name in tensors if name not in expected]
                + [f"{name} is {_shape(tensors[name])}, expected {_shape(wanted)}"
                   for name, wanted in expected.items() if name in tensors and tensors[name].shape != wanted.shape])
    if problems:
        actions = action_names(game)
        shown = "; ".join(problems[:4]) + (f" (and {len(problems) - 4} more)" if len(problems) > 4 else "")
        layout = ", ".join(f"{name} {_shape(wanted)}" for name, wanted in expected.items())
        raise InputError(
            f"This file does not fit the {GAMES[game]} agent: {shown}. Expected the actor-critic that "
            f"scripts/train_atari.py --game {game} exports, with one actor output per action of {GAMES[game]} "
            f"({len(actions)}: {', '.join(actions)}): {layout}. A policy trained on another game fits only that game.")
    if not all(torch.isfinite(tensor).all() for tensor in tensors.values()):
        raise InputError("This policy has NaN or infinite weights (did its training diverge?), so it cannot choose "
                         "actions. Export an earlier checkpoint.")


# --- forward ----------------------------------------------------------------------------

def decide(policy: Policy, stacks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 4, 84, 84) uint8 stacks -> the actor's probabilities (N, actions) and the critic's values (N,)."""
    import torch

    with torch.inference_mode():  # per thread: each Streamlit session and Gradio worker runs in its own
        logits, values = policy.network(torch.from_numpy(np.ascontiguousarray(stacks)).to(policy.device))
    return torch.softmax(logits.double(), dim=-1).cpu().numpy(), values.double().cpu().numpy()

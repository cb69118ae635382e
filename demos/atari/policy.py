"""The agent's network: the shipped policy, a visitor's uploaded one, and its forward pass.

One actor-critic per game (``demos.networks.actor_critic``), its weights in
``models/atari/<game>.safetensors`` with the training record beside them. A visitor's upload
is checked to fit the network and the game, then plays through the same ``decide``. A ``Policy``
names the network; only the model work (``demos.atari.replay``, ``demos.atari.insides``) builds
it, with ``network_of``, in the process that runs it.
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
    """Which network plays: the one shipped for ``game``, or a visitor's upload with its checked weights.

    Plain data, so it travels to wherever the model work runs (``core.engine``); the network itself is
    built there, by ``network_of``."""

    game: str
    upload_name: str | None = None  # the visitor's file name; None: the policy shipped in models/atari/
    weights: dict[str, torch.Tensor] | None = None  # an upload's fp32 weights, checked to fit; None when shipped

    @property
    def label(self) -> str:
        return "shipped policy" if self.upload_name is None else f"your upload {self.upload_name}"


@dataclass
class Network:
    """A policy's actor-critic, ready to run: eval mode, on ``device``, weights frozen."""

    network: ActorCritic  # one output per action of the game
    device: str


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

def shipped_policy(game: str) -> Policy:
    """The policy shipped for ``game`` (nothing loaded: the model work loads it where it runs)."""
    game = checked_game(game)
    if not policy_file(game).exists():
        raise InputError(no_policy_message(game))
    return Policy(game)


def load(game: str = DEFAULT_GAME) -> Policy:
    """The shipped policy for ``game``, its network loaded once per process (the Docker build warms it so)."""
    policy = shipped_policy(game)
    network_of(policy)
    return policy


def network_of(policy: Policy) -> Network:
    """The network that plays for ``policy``: the shipped one, shared, or an upload's, built for this call only
    (never cached: the shipped policy other visitors see stays as it is). Model work only."""
    if policy.weights is None:
        return MODELS.get(f"atari:{policy.game}", partial(_build_shipped, policy.game))
    return _network(policy.game, policy.weights)


def _build_shipped(game: str) -> Network:
    from safetensors.torch import load_file

    tensors = load_file(policy_file(game))
    _check_fits(game, tensors)
    return _network(game, tensors)


def uploaded_policy(game: str, name: str, source: bytes | str | Path | BinaryIO) -> Policy:
    """A visitor's own policy for ``game`` (the ``<game>.safetensors`` scripts/train_atari.py exports), checked to
    fit the network and the game: shipped and uploaded weights pass the same checks."""
    import torch

    game = checked_game(game)
    tensors = read_safetensors(source, MAX_POLICY_BYTES, "policy file")
    _check_fits(game, tensors)
    # copies, not views into the uploaded bytes: the policy travels to the model work and is kept in the episode
    return Policy(game, name, {key: tensor.to(torch.float32, copy=True) for key, tensor in tensors.items()})


def _empty_network(game: str) -> ActorCritic:
    """The actor-critic for ``game``, shapes only, no memory: the weights all come from elsewhere."""
    import torch

    from demos.networks.actor_critic import ActorCritic

    with torch.device("meta"):
        return ActorCritic(len(action_names(game)))


def _network(game: str, tensors: dict[str, torch.Tensor]) -> Network:
    """The actor-critic for ``game`` holding ``tensors`` (checked to fit)."""
    import torch

    network = _empty_network(game)
    # fp32 copies in fresh memory: the same layout for every source, hence bit-identical decisions
    network.load_state_dict({name: tensor.to(torch.float32, copy=True) for name, tensor in tensors.items()},
                            assign=True)
    device = choose_device(gpu_calls=False)  # a game is minutes of emulator work for a tiny network: CPU on ZeroGPU
    return Network(network.to(device).eval().requires_grad_(False), device)


def _shape(tensor: torch.Tensor) -> str:
    return "x".join(map(str, tensor.shape)) or "scalar"


def _check_fits(game: str, tensors: dict[str, torch.Tensor]) -> None:
    """Refuse weights that are not this network for this game's actions, saying what was expected."""
    import torch

    expected = _empty_network(game).state_dict()
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

def decide(network: Network, stacks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 4, 84, 84) uint8 stacks -> the actor's probabilities (N, actions) and the critic's values (N,)."""
    import torch

    with torch.inference_mode():  # per thread: each Streamlit session and Gradio worker runs in its own
        logits, values = network.network(torch.from_numpy(np.ascontiguousarray(stacks)).to(network.device))
    return torch.softmax(logits.double(), dim=-1).cpu().numpy(), values.double().cpu().numpy()

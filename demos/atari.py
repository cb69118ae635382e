"""Atari agents: watch policies we trained with PPO play, with what they wanted at every frame.

Reinforcement learning in one picture: an *agent* sees the screen, picks a joystick action,
and gets a *reward* (a point won or lost in Pong, bricks in Breakout); it learns to act so
that the rewards add up. The agents here were trained in this project with **PPO**
(proximal policy optimisation, Schulman et al. 2017; ``scripts/train_atari.py``): one
network with a shared Nature-CNN torso (Mnih et al. 2015) and two heads, an *actor* that
gives a probability for each action (the policy) and a *critic* that estimates how much
reward is still to come (the value). Weights and training record ship in ``models/atari/``.

The story of a call: preprocess (the standard Atari pipeline: 84x84 grey frames, 4 emulator
frames per decision with the last two max-pooled, a stack of the last 4 frames, up to 30
no-ops at the start, FIRE to serve; exactly the frames the agent trained on), forward (the
actor's probabilities and the critic's value, one action sampled from the policy),
postprocess (a replay video with the agent's mind drawn beside the game), explain (the
stacked frames the network saw, a saliency map of where it looked, its mind over time, and
a random agent on the same seed for comparison).

A visitor who trained an agent with ``scripts/train_atari.py`` can upload its
``<game>.safetensors`` (``uploaded_policy``): checked to fit the network and the game, it plays
through the same path as the shipped policy, for that visitor's call only.
"""
from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator

import numpy as np
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont

from core.contract import ChoiceField, DemoCard, Endpoint, FileField, JsonOutput, NumberField, VideoOutput
from core.device import choose_device
from core.drawing import heatmap_overlay
from core.models import MODELS
from core.timing import stopwatch
from core.validation import MB, InputError, read_safetensors
from core.video import Mp4Writer

if TYPE_CHECKING:
    import gymnasium as gym
    import torch

    from demos.networks.actor_critic import ActorCritic

CARD = DemoCard(
    slug="atari",
    title="Atari Agents (PPO)",
    icon="🕹️",
    pitch="Watch agents we trained with a policy-gradient method play Atari, with what they wanted "
          "and where they looked at every frame.",
    tags=("reinforcement learning", "PPO", "actor-critic", "saliency"),
    inputs=("none", "weights"),
)

MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "atari"
GAMES = {"pong": "Pong", "breakout": "Breakout"}  # our name -> the ALE environment's name
DEFAULT_GAME = "pong"
AGENTS = {"policy": "PPO agent", "random": "Random agent"}
FRAME_SKIP, FRAME_SIZE, STACK, NOOP_MAX = 4, 84, 4, 30  # as in training (ale-py's AtariVectorEnv defaults)
OBSERVATION_SHAPE = (STACK, FRAME_SIZE, FRAME_SIZE)  # uint8: the 4 latest grey frames, oldest first
VIDEO_FPS = 60 / FRAME_SKIP  # one video frame per decision: real game speed (the console runs at 60 Hz)
SCREEN_SCALE, PANEL_WIDTH = 2, 240  # the 160x210 screen drawn 2x, the agent's mind in a panel beside it
MAX_SEED = 2**31 - 1
MAX_STEPS = 5000  # decisions per episode (20,000 emulator frames, 5.5 minutes of play)
DEFAULT_STEPS = 3000  # a whole game of Pong by a good agent
TIME_LIMIT = 150.0  # seconds of computing per episode; the replay so far is kept
REPLAY_SEED = 0  # the recorded replay every visitor sees first
REPLAY_STEPS = DEFAULT_STEPS
SALIENCY_METHODS = {"gradient": "Gradient (fast)", "occlusion": "Occlusion (Greydanus et al. 2018)"}
MAX_POLICY_BYTES = 20 * MB  # an uploaded policy: 3x the shipped fp32 file (6.4 MB), so fp64 exports fit too


@dataclass(frozen=True)
class Progress:
    """Reported after every decision, so a page can show the game as it is played."""

    decisions: int
    limit: int  # decisions at most
    score: float  # so far
    frame: np.ndarray  # the replay's latest frame (the game and the agent's mind)


ProgressCallback = Callable[[Progress], None]


@dataclass
class Policy:
    game: str
    network: ActorCritic  # eval mode, on ``device``, weights frozen; one output per action of the game
    device: str
    upload_name: str | None = None  # the visitor's file name; None: the policy shipped in models/atari/

    @property
    def label(self) -> str:
        return "shipped policy" if self.upload_name is None else f"your upload {self.upload_name}"


@dataclass
class Episode:
    """One game played to the end or to a limit: the replay and everything the agent thought."""

    game: str
    agent: str  # "policy" or "random"
    policy: Policy | None  # the network that played (None: the random agent); saliency asks the same one
    seed: int
    action_names: tuple[str, ...]
    video: bytes  # H.264 MP4, one frame per decision, the agent's mind drawn beside the game
    frames: np.ndarray  # (decisions + 1, 84, 84) uint8: the newest grey input frame after the reset and each step
    screens: list[bytes]  # zlib-compressed colour screens (210, 160, 3), one per frame above
    actions: np.ndarray  # (decisions,) index of the action taken
    probabilities: np.ndarray  # (decisions, actions) the policy's probabilities (uniform for the random agent)
    values: np.ndarray  # (decisions,) the critic's estimate of reward to come (NaN for the random agent)
    rewards: np.ndarray  # (decisions,) the game's real (unclipped) rewards
    stop_reason: str | None  # None: the game ended; "steps" or "time": cut at a limit, the replay so far kept
    seconds: float

    @property
    def device(self) -> str:
        return self.policy.device if self.policy else "cpu"

    @property
    def player(self) -> str:
        """Who played: the random agent, or the PPO agent and whose policy."""
        return AGENTS[self.agent] if self.policy is None else f"{AGENTS[self.agent]}: {self.policy.label}"

    @property
    def decisions(self) -> int:
        return len(self.actions)

    @property
    def score(self) -> float:
        return float(self.rewards.sum())

    @property
    def decisions_per_second(self) -> float:
        return self.decisions / self.seconds if self.seconds else 0.0

    @property
    def note(self) -> str | None:
        """For the visitor, when the replay stops before the game does."""
        if self.stop_reason == "steps":
            return (f"Stopped after {self.decisions:,} decisions (the episode length asked for), before the game "
                    "ended: the replay so far is kept.")
        if self.stop_reason == "time":
            return (f"Stopped at the time limit ({TIME_LIMIT:.0f} s of computing) after {self.decisions:,} "
                    "decisions, before the game ended: the replay so far is kept.")
        return None


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


# --- checks -----------------------------------------------------------------------------

def checked_game(game: str) -> str:
    name = str(game or "").strip().lower()
    if name not in GAMES:
        raise InputError(f"Unknown game {game!r}: choose one of {', '.join(GAMES.values())}.")
    return name


def checked_agent(agent: str) -> str:
    spelled = {**{key: key for key in AGENTS}, **{label.lower(): key for key, label in AGENTS.items()}}
    key = spelled.get(str(agent or "").strip().lower())
    if key is None:
        raise InputError(f"Unknown agent {agent!r}: choose {' or '.join(AGENTS.values())}.")
    return key


def _whole_number(value: object, low: int, high: int, what: str) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not (number.is_integer() and low <= number <= high):
        raise InputError(f"{what} must be a whole number from {low:,} to {high:,}; got {value!r}.")
    return int(number)


def checked_seed(seed: object) -> int:
    return _whole_number(seed, 0, MAX_SEED, "The seed")


def checked_steps(steps: object) -> int:
    return _whole_number(steps, 1, MAX_STEPS, "The episode length (decisions)")


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


# --- preprocess: the environment, as in training ----------------------------------------

def _rom_check(game: str) -> None:
    from ale_py import roms

    try:
        path = roms.get_rom_path(game)
    except OSError:  # a missing or damaged ROM file, or no ROM folder
        path = None
    if path is None:
        raise InputError(f"The {GAMES[game]} ROM is missing from this installation, so the game cannot run. "
                         "The ROMs ship inside the ale-py wheel: reinstall ale-py (requirements.txt).")


@lru_cache(maxsize=len(GAMES))
def action_names(game: str) -> tuple[str, ...]:
    """The game's joystick actions (its minimal set), in the order of the actor's outputs."""
    env = make_env(game)
    try:
        return tuple(env.unwrapped.get_action_meanings())
    finally:
        env.close()


def make_env(game: str) -> gym.Env:
    """The game as the agent trained on it; observations are uint8 arrays of ``OBSERVATION_SHAPE``.

    gymnasium's wrappers reproduce ale-py's native vector environment used in training pixel
    for pixel: grey 84x84 frames (area interpolation), each step repeats the action for 4
    emulator frames and max-pools the last two, FIRE once after the reset (the native
    ``use_fire_reset``; games that need a serve start), then 1-30 no-ops, and a stack of the
    last 4 frames padded with black frames at the start. No sticky actions. ``render()`` gives
    the colour screen.
    """
    import ale_py
    import gymnasium as gym
    from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation

    game = checked_game(game)
    _rom_check(game)
    gym.register_envs(ale_py)
    env = gym.make(f"ALE/{GAMES[game]}-v5", frameskip=1, repeat_action_probability=0.0, render_mode="rgb_array")
    if "FIRE" in env.unwrapped.get_action_meanings():
        env = _with_fire_on_reset(env)
    env = AtariPreprocessing(env, noop_max=NOOP_MAX, frame_skip=FRAME_SKIP, screen_size=FRAME_SIZE)
    return FrameStackObservation(env, STACK, padding_type="zero")


def _with_fire_on_reset(env: gym.Env) -> gym.Env:
    """``env`` pressing FIRE for one emulator frame right after each reset (before the no-ops), as in training."""
    import ale_py
    import gymnasium as gym

    class FireOnReset(gym.Wrapper):
        def reset(self, **kwargs):
            observation, info = self.env.reset(**kwargs)
            self.env.unwrapped.ale.act(ale_py.Action.FIRE)
            return observation, info

    return FireOnReset(env)


# --- forward ----------------------------------------------------------------------------

def decide(policy: Policy, stacks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 4, 84, 84) uint8 stacks -> the actor's probabilities (N, actions) and the critic's values (N,)."""
    import torch

    with torch.inference_mode():  # per thread: each Streamlit session and Gradio worker runs in its own
        logits, values = policy.network(torch.from_numpy(np.ascontiguousarray(stacks)).to(policy.device))
    return torch.softmax(logits.double(), dim=-1).cpu().numpy(), values.double().cpu().numpy()


# --- the episode ------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One decision: what the agent saw, what it wanted and did, what it got."""

    stack: np.ndarray  # (4, 84, 84) uint8, the network's input
    screen: np.ndarray | None  # (210, 160, 3) the colour screen it decided on, when asked for
    action: int
    probabilities: np.ndarray  # the policy's, or uniform for the random agent
    value: float  # the critic's estimate; NaN for the random agent
    reward: float
    after: np.ndarray  # the stack after the action
    over: bool  # the game ended (or reached the emulator's cap of 108,000 frames)


def agent_steps(env: gym.Env, policy: Policy | None, seed: int, screens: bool = True) -> Iterator[Step]:
    """The PPO agent (or, with no policy, the random agent) playing ``env`` from a reset with ``seed``, to the end.

    Actions are sampled, from the policy or uniformly, with a generator seeded with ``seed``,
    which also fixes the no-op start: the same seed gives the same game.
    """
    count = env.action_space.n
    rng = np.random.default_rng(seed)
    stack = np.asarray(env.reset(seed=seed)[0])
    over = False
    while not over:
        screen = env.render() if screens else None
        if policy is None:
            probabilities, value = np.full(count, 1 / count), float("nan")
        else:
            batch_probabilities, batch_values = decide(policy, stack[None])
            probabilities, value = batch_probabilities[0], float(batch_values[0])
        action = int(rng.choice(count, p=probabilities))
        after, reward, terminated, truncated, _ = env.step(action)
        after, over = np.asarray(after), bool(terminated or truncated)
        yield Step(stack, screen, action, probabilities, value, float(reward), after, over)
        stack = after


def play(game: str, seed: int = REPLAY_SEED, max_steps: int = DEFAULT_STEPS, agent: str = "policy",
         progress: ProgressCallback | None = None, time_limit: float = TIME_LIMIT,
         policy: Policy | None = None) -> Episode:
    """Play one game, recorded, to its end, ``max_steps`` decisions or ``time_limit`` seconds, whichever comes first.

    ``progress`` is called after every decision. ``policy``: the PPO agent's network (say, an
    ``uploaded_policy``); the shipped one when None. The random agent needs none.
    """
    game, agent = checked_game(game), checked_agent(agent)
    seed, max_steps = checked_seed(seed), checked_steps(max_steps)
    policy = (policy or load(game)) if agent == "policy" else None
    env = make_env(game)
    names = action_names(game)
    record, stop_reason = _Recorder(len(names)), None
    try:
        with stopwatch() as watch, Mp4Writer(VIDEO_FPS, _video_size()) as writer:
            started = time.perf_counter()
            for step in agent_steps(env, policy, seed):
                record.add(step)
                frame = _video_frame(record, names, agent)
                writer.write(frame)
                if progress:
                    progress(Progress(len(record.actions), max_steps, sum(record.rewards), frame))
                if step.over:
                    break
                if len(record.actions) == max_steps:
                    stop_reason = "steps"
                    break
                if time.perf_counter() - started > time_limit:  # checked after a decision: never an empty replay
                    stop_reason = "time"
                    break
            record.finish(step.after, env.render())
            video = writer.finish()
    finally:
        env.close()
    return record.episode(game, agent, policy, seed, names, video, stop_reason, watch.seconds)


class _Recorder:
    """Collects an episode step by step (lists while playing, arrays at the end)."""

    def __init__(self, action_count: int) -> None:
        self.action_count = action_count
        self.frames: list[np.ndarray] = []
        self.screens: list[bytes] = []
        self.current_screen: np.ndarray | None = None
        self.actions: list[int] = []
        self.probabilities: list[np.ndarray] = []
        self.values: list[float] = []
        self.rewards: list[float] = []

    def add(self, step: Step) -> None:
        self._observe(step.stack, step.screen)
        self.actions.append(step.action)
        self.probabilities.append(step.probabilities)
        self.values.append(step.value)
        self.rewards.append(step.reward)

    def finish(self, stack: np.ndarray, screen: np.ndarray) -> None:
        """The last observation, after the last decision."""
        self._observe(stack, screen)

    def _observe(self, stack: np.ndarray, screen: np.ndarray) -> None:
        self.frames.append(stack[-1].copy())
        self.screens.append(zlib.compress(screen.tobytes(), 1))
        self.current_screen = screen

    def episode(self, game: str, agent: str, policy: Policy | None, seed: int, names: tuple[str, ...],
                video: bytes, stop_reason: str | None, seconds: float) -> Episode:
        return Episode(game, agent, policy, seed, names, video, np.stack(self.frames), self.screens,
                       np.array(self.actions, dtype=np.int64),
                       np.array(self.probabilities, dtype=np.float32).reshape(-1, self.action_count),
                       np.array(self.values, dtype=np.float32), np.array(self.rewards, dtype=np.float32),
                       stop_reason, seconds)


def recorded_replay(game: str, agent: str = "policy", progress: ProgressCallback | None = None) -> Episode:
    """The replay on ``REPLAY_SEED``: played on first use, then kept for every visitor of this process."""
    game, agent, steps = checked_game(game), checked_agent(agent), checked_steps(REPLAY_STEPS)
    if agent == "policy" and not policy_file(game).exists():
        raise InputError(no_policy_message(game))
    return MODELS.get(f"atari_replay:{game}:{agent}:{steps}",
                      partial(play, game, REPLAY_SEED, steps, agent, progress))


# --- postprocess: the replay video ------------------------------------------------------

SCREEN_HEIGHT, SCREEN_WIDTH = 210, 160
VALUE_HISTORY = 120  # decisions drawn in the value trace (8 s of play)


def _video_size() -> tuple[int, int]:
    return SCREEN_WIDTH * SCREEN_SCALE + PANEL_WIDTH, SCREEN_HEIGHT * SCREEN_SCALE


def screen(episode: Episode, index: int) -> np.ndarray:
    """The colour screen (210, 160, 3) at frame ``index`` (0 = after the reset; decision t saw frame t)."""
    return np.frombuffer(zlib.decompress(episode.screens[index]), np.uint8).reshape(SCREEN_HEIGHT, SCREEN_WIDTH, 3)


@lru_cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


@lru_cache(maxsize=4096)
def _label(text: str, size: int, fill: tuple[int, int, int]) -> Image.Image:
    """Text as a transparent picture, rendered once: FreeType costs ~3 ms a call, and most labels repeat."""
    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    picture = Image.new("RGBA", (max(1, right), max(1, bottom)), (0, 0, 0, 0))
    ImageDraw.Draw(picture).text((0, 0), text, font=font, fill=fill)
    return picture


def _write(panel: Image.Image, position: tuple[int, int], text: str, size: int = 12,
           fill: tuple[int, int, int] = (200, 200, 200)) -> None:
    label = _label(text, size, fill)
    panel.paste(label, position, label)


WHITE, GREY, HEADING, DIM = (255, 255, 255), (200, 200, 200), (160, 170, 190), (110, 110, 120)


def _video_frame(record: _Recorder, names: tuple[str, ...], agent: str) -> np.ndarray:
    """The screen the agent decided on, 2x, and beside it the decision: probabilities, value, score."""
    game = np.asarray(Image.fromarray(record.current_screen).resize(
        (SCREEN_WIDTH * SCREEN_SCALE, SCREEN_HEIGHT * SCREEN_SCALE), Image.NEAREST))
    panel = Image.new("RGB", (PANEL_WIDTH, game.shape[0]), (24, 26, 33))
    draw = ImageDraw.Draw(panel)
    _write(panel, (10, 8), AGENTS[agent], 18, WHITE)
    step = len(record.actions) - 1
    _write(panel, (10, 34), f"decision {step:,} ({step / VIDEO_FPS:.1f} s)", 13, GREY)
    _write(panel, (160, 34), f"score {sum(record.rewards):+g}", 13, GREY)
    _write(panel, (10, 62), "Action probabilities", 13, HEADING)
    chosen, probabilities = record.actions[-1], record.probabilities[-1]
    for index, (name, probability) in enumerate(zip(names, probabilities)):
        top = 84 + index * 22
        colour = (255, 159, 64) if index == chosen else (90, 140, 210)
        _write(panel, (10, top + 2), name, 12, WHITE if index == chosen else GREY)
        draw.rectangle((96, top + 3, 96 + max(1, round(100 * probability)), top + 16), fill=colour)
        _write(panel, (200, top + 2), f"{probability:.0%}", 12, GREY)
    _draw_value_trace(panel, draw, record.values, top=100 + len(names) * 22)
    recent = [reward for reward in record.rewards[-8:] if reward]  # a reward stays on screen ~0.5 s
    if recent:
        _write(panel, (10, game.shape[0] - 34), f"reward {recent[-1]:+g}", 20,
               (80, 220, 120) if recent[-1] > 0 else (240, 90, 90))
    return np.concatenate([game, np.asarray(panel)], axis=1)


def _draw_value_trace(panel: Image.Image, draw: ImageDraw.ImageDraw, values: list[float], top: int) -> None:
    value = values[-1]
    if np.isnan(value):
        _write(panel, (10, top), "No critic: actions drawn uniformly", 13, HEADING)
        return
    _write(panel, (10, top), f"Critic's value estimate {value:+.2f}", 13, HEADING)
    recent = np.array(values[-VALUE_HISTORY:])
    left, right, upper, lower = 40, PANEL_WIDTH - 10, top + 28, top + 112
    scale = max(1.0, float(np.abs(recent).max()))
    middle = (upper + lower) // 2
    draw.line((left, middle, right, middle), fill=(70, 70, 80))
    xs = left + np.arange(recent.size) * (right - left) / (VALUE_HISTORY - 1)
    ys = middle - recent / scale * (lower - upper) / 2
    if recent.size > 1:
        draw.line(list(zip(xs.tolist(), ys.tolist())), fill=(120, 200, 255), width=2)
    _write(panel, (10, upper - 4), f"+{scale:.1f}", 10, DIM)
    _write(panel, (10, lower - 8), f"-{scale:.1f}", 10, DIM)
    _write(panel, (10, middle - 6), "0", 10, DIM)


# --- explain ----------------------------------------------------------------------------

def input_stack(episode: Episode, step: int) -> np.ndarray:
    """The (4, 84, 84) stack the network saw at decision ``step``: frames step-3 .. step, black before the start."""
    step = _checked_step(episode, step)
    frames = [episode.frames[index] if index >= 0 else np.zeros_like(episode.frames[0])
              for index in range(step - STACK + 1, step + 1)]
    return np.stack(frames)


def _checked_step(episode: Episode, step: int) -> int:
    return _whole_number(step, 0, episode.decisions - 1, "The decision to inspect")


@dataclass
class Saliency:
    method: str
    heat: np.ndarray  # 2-D in [0, 1]: where the chosen action's score is most sensitive
    frame_shares: tuple[float, ...] | None  # the gradient's share in each of the 4 stacked frames, oldest first


def saliency(episode: Episode, step: int, method: str = "gradient") -> Saliency:
    """Where the policy looked at decision ``step``, by the gradient or by occluding patches."""
    if method not in SALIENCY_METHODS:
        raise InputError(f"Unknown saliency method {method!r}: choose {' or '.join(SALIENCY_METHODS)}.")
    policy = episode.policy or load(episode.game)  # the random agent's screens, seen by the shipped policy
    stack = input_stack(episode, step)
    if method == "gradient":
        return _gradient_saliency(policy, stack, int(episode.actions[step]))
    return _occlusion_saliency(policy, stack)


def _normalised(heat: np.ndarray) -> np.ndarray:
    top = float(np.percentile(heat, 99.5))
    return np.clip(heat / top, 0.0, 1.0) if top > 0 else np.zeros_like(heat)


def _gradient_saliency(policy: Policy, stack: np.ndarray, action: int) -> Saliency:
    """|d logit(chosen action) / d pixel| (Simonyan et al. 2014), smoothed: the pixels whose change moves the choice."""
    import torch
    from scipy.ndimage import gaussian_filter

    frames = torch.from_numpy(stack[None].astype(np.float32)).to(policy.device).requires_grad_(True)
    with torch.enable_grad():
        logits, _ = policy.network(frames)
        logits[0, action].backward()
    gradient = np.abs(frames.grad[0].cpu().numpy())
    totals = gradient.sum(axis=(1, 2))
    shares = tuple(float(share) for share in totals / totals.sum()) if totals.sum() > 0 else None
    return Saliency("gradient", _normalised(gaussian_filter(gradient.sum(0), sigma=1.0)), shares)


OCCLUSION_STRIDE, OCCLUSION_SIGMA = 3, 5.0


def _occlusion_saliency(policy: Policy, stack: np.ndarray) -> Saliency:
    """Greydanus et al. 2018: blur a soft patch of all 4 frames at each place, score 1/2 ||change of the logits||^2."""
    import torch
    from scipy.ndimage import gaussian_filter

    image = stack.astype(np.float32)
    blurred = gaussian_filter(image, sigma=(0, 3, 3))
    centres = range(0, FRAME_SIZE, OCCLUSION_STRIDE)
    grid = np.arange(FRAME_SIZE)
    masks = [np.exp(-((grid[:, None] - y) ** 2 + (grid[None, :] - x) ** 2) / (2 * OCCLUSION_SIGMA ** 2))
             for y in centres for x in centres]
    with torch.inference_mode():
        reference, _ = policy.network(torch.from_numpy(image[None]).to(policy.device))
        changes = []
        for start in range(0, len(masks), 64):
            mask = np.stack(masks[start:start + 64])[:, None]
            batch = torch.from_numpy((image * (1 - mask) + blurred * mask).astype(np.float32)).to(policy.device)
            logits, _ = policy.network(batch)
            changes.append((0.5 * (logits - reference) ** 2).sum(1).cpu().numpy())
    heat = np.concatenate(changes).reshape(len(centres), len(centres))
    return Saliency("occlusion", _normalised(heat), None)


def saliency_overlay(episode: Episode, step: int, found: Saliency, scale: int = 3) -> Image.Image:
    """The colour screen at decision ``step`` (scaled up) with the saliency over it (red = looked here)."""
    picture = Image.fromarray(screen(episode, step)).resize((SCREEN_WIDTH * scale, SCREEN_HEIGHT * scale),
                                                           Image.NEAREST)
    return heatmap_overlay(picture, found.heat, alpha=0.5)


def stacked_frames(episode: Episode, step: int, found: Saliency | None = None,
                   scale: int = 3) -> list[tuple[Image.Image, str]]:
    """The 4 grey frames the network received at ``step``, oldest first, captioned with the gradient's share."""
    stack = input_stack(episode, step)
    pictures = []
    for index, frame in enumerate(stack):
        picture = Image.fromarray(frame).resize((FRAME_SIZE * scale, FRAME_SIZE * scale), Image.NEAREST)
        age = STACK - 1 - index
        caption = "now" if age == 0 else f"{age} decision{'s' * (age > 1)} ago"
        if step - age < 0:
            caption += " (black: before the start)"
        if found is not None and found.frame_shares is not None:
            caption += f": {found.frame_shares[index]:.0%} of the gradient"
        pictures.append((picture, caption))
    return pictures


def mind_figure(episode: Episode, step: int | None = None) -> Figure:
    """The agent's mind over the whole episode: action probabilities, the critic's value, rewards and score."""
    figure = Figure(figsize=(9, 5.2), layout="constrained")
    rows = figure.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": (1.3, 1, 0.8)})
    seconds = np.arange(episode.decisions) / VIDEO_FPS
    extent = (0, episode.decisions / VIDEO_FPS, -0.5, len(episode.action_names) - 0.5)
    image = rows[0].imshow(episode.probabilities.T, aspect="auto", origin="lower", cmap="viridis", vmin=0, vmax=1,
                           extent=extent, interpolation="nearest")
    rows[0].set_yticks(range(len(episode.action_names)), episode.action_names, fontsize=7)
    rows[0].set_title("Probability of each action (the actor)", fontsize=9)
    figure.colorbar(image, ax=rows[0], pad=0.01, fraction=0.02)
    if np.isnan(episode.values).all():
        rows[1].text(0.5, 0.5, "The random agent has no critic", ha="center", va="center", transform=rows[1].transAxes)
    else:
        rows[1].plot(seconds, episode.values, linewidth=0.8, color="tab:blue")
        rows[1].axhline(0, color="grey", linewidth=0.5)
    rows[1].set_title("Value estimate: discounted (clipped) reward still to come (the critic)", fontsize=9)
    won, lost = episode.rewards > 0, episode.rewards < 0
    rows[2].plot(seconds, np.cumsum(episode.rewards), color="black", linewidth=1, label="score")
    rows[2].scatter(seconds[won], np.cumsum(episode.rewards)[won], color="tab:green", s=12, label="reward > 0")
    rows[2].scatter(seconds[lost], np.cumsum(episode.rewards)[lost], color="tab:red", s=12, label="reward < 0")
    rows[2].set_title("Score (sum of rewards)", fontsize=9)
    rows[2].set_xlabel("game time (s); 15 decisions per second")
    rows[2].legend(fontsize=7, loc="upper left")
    for axes in rows:
        axes.tick_params(labelsize=7)
        if step is not None:
            axes.axvline(step / VIDEO_FPS, color="tab:orange", linewidth=1.2)
    return figure


def decision_figure(episode: Episode, step: int) -> Figure:
    """One decision: a bar per action (the one taken in orange)."""
    step = _checked_step(episode, step)
    figure = Figure(figsize=(4.2, 2.6), layout="constrained")
    axes = figure.add_subplot()
    names = episode.action_names
    colours = ["tab:orange" if index == episode.actions[step] else "tab:blue" for index in range(len(names))]
    axes.barh(names[::-1], episode.probabilities[step][::-1], color=colours[::-1])
    axes.set_xlim(0, 1)
    axes.set_title(f"Decision {step:,}: took {names[episode.actions[step]]}", fontsize=9)
    axes.tick_params(labelsize=8)
    return figure


def summary(episode: Episode) -> dict:
    """The episode in numbers (and the mind at every decision), for the API and downloads."""
    return {
        "game": episode.game, "agent": episode.agent, "policy": episode.policy.label if episode.policy else None,
        "seed": episode.seed, "score": episode.score,
        "decisions": episode.decisions, "emulator_frames": episode.decisions * FRAME_SKIP,
        "game_over": episode.stop_reason is None, "stopped_early": episode.stop_reason, "note": episode.note,
        "device": episode.device, "seconds": round(episode.seconds, 2), "actions": list(episode.action_names),
        "steps": [{"action": episode.action_names[action], "reward": float(reward),
                   "value": None if np.isnan(value) else round(float(value), 3),
                   "probabilities": [round(float(p), 3) for p in probabilities]}
                  for action, reward, value, probabilities in zip(episode.actions, episode.rewards, episode.values,
                                                                  episode.probabilities)],
    }


HOW_IT_WORKS = """
**What the agent sees.** Not the colour screen: the standard Atari preprocessing turns each
screen grey and shrinks it to 84x84 pixels. The agent decides every 4th frame (15 times a
second) and its action is repeated in between; the last two frames are max-pooled (pixel by
pixel), because old consoles draw some objects only every other frame. One frame shows where the ball is
but not where it is going, so the network receives the **last 4 frames stacked**: motion
is in the differences between them. Each game starts with FIRE (to serve) and up to 30
random no-ops, so that games start differently.

**The network.** The Nature-CNN of DQN (Mnih et al. 2015): three convolutions (8x8 stride
4, 4x4 stride 2, 3x3) and a 512-unit layer, shared by two heads. The **actor** gives a
probability for each joystick action: the policy. The **critic** estimates the *value*:
how much reward, discounted by 0.99 per decision, is still to come. In a trained agent it
rises as a point is about to be won and drops before one is lost.

**How it learned: PPO.** The agent played several games at once (8 on a CPU), 128 decisions
each, then learned from that batch. Policy gradients make actions that turned out *better than the critic
expected* (the *advantage*, estimated with GAE) more probable, and worse ones less. PPO
(Schulman et al. 2017) clips the ratio of an action's new to old probability to 0.9-1.1
while learning from a batch, so one lucky batch cannot wreck the policy. Rewards were clipped to +-1 in training (the
scores shown are the real ones); an entropy bonus kept it exploring. It starts as a random
agent: the random agent beside its replay shows where it began.

**Your own agent.** Train one with `python scripts/train_atari.py --game pong --minutes 30` (run
it again to train on: it resumes), write its weights with `--export-only --export-dir my_agent`,
and upload `my_agent/pong.safetensors` under *Play a fresh episode now*. It plays the same
seeds through the same code as ours, with its probabilities, value and saliency on show. The
file holds tensors only (safetensors), so nothing in it runs; only you see your agent.

**Saliency.** The *gradient* map shows which pixels would change the chosen action's score
most if they changed a little (Simonyan et al. 2014); it is quick but noisy. *Occlusion*
(Greydanus et al. 2018) blurs a small patch at each place in turn and measures how much the
policy's outputs move: slower, but it says what the agent actually relies on.
"""


# --- Gradio / HTTP endpoint -------------------------------------------------------------

def _endpoint(game: str, agent: str, seed: float, max_steps: float,
              policy_file: str | None = None) -> tuple[bytes, dict]:
    policy = uploaded_policy(game, Path(policy_file).name, Path(policy_file)) if policy_file else None
    episode = play(game, seed, max_steps, checked_agent(agent), policy=policy)
    return episode.video, summary(episode)


ENDPOINT = Endpoint(
    fn=_endpoint,
    inputs=(
        ChoiceField("game", "Game (the PPO agent needs a trained policy; the random agent plays any)",
                    tuple(GAMES.values()), "Pong"),
        ChoiceField("agent", "Agent", tuple(AGENTS.values()), AGENTS["policy"]),
        NumberField("seed", "Seed (the no-op start and the sampled actions)", 0, MAX_SEED, REPLAY_SEED),
        NumberField("max_steps", f"Episode length cap (decisions; 15 per second of play, {TIME_LIMIT:.0f} s of "
                                 "computing at most)", 1, MAX_STEPS, DEFAULT_STEPS),
        FileField("policy_file", "Your own policy (optional): the <game>.safetensors scripts/train_atari.py "
                                 f"exports, up to {MAX_POLICY_BYTES // MB} MB; plays instead of ours",
                  (".safetensors",)),
    ),
    outputs=(VideoOutput("Replay, the agent's mind beside the game"), JsonOutput("Score and every decision")),
)

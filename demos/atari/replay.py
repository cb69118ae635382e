"""Playing an episode and its replay video: the agent's mind drawn beside the game at every decision.

Forward (``agent_steps``: the policy's probabilities and value, one action sampled) and
postprocess (``play`` records every decision into an ``Episode`` and an H.264 replay). Playing is
the demo's model work (``core.engine``): the game and the network run together, in this process or
in the demo's Serve replica, and the visitor hears of every decision. The recorded replays every
visitor sees first: ``demos.atari.recorded``.
"""
from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Iterator

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.engine import model_work
from core.progress import Progress, ProgressCallback
from core.timing import stopwatch
from core.video import Mp4Writer
from demos.atari.environment import (AGENTS, DEFAULT_STEPS, FRAME_SKIP, action_names, checked_agent, checked_game,
                                     checked_seed, checked_steps, make_env)
from demos.atari.policy import Network, Policy, decide, network_of, shipped_policy

if TYPE_CHECKING:
    import gymnasium as gym

VIDEO_FPS = 60 / FRAME_SKIP  # one video frame per decision: real game speed (the console runs at 60 Hz)
SCREEN_SCALE, PANEL_WIDTH = 2, 240  # the 160x210 screen drawn 2x, the agent's mind in a panel beside it
TIME_LIMIT = 150.0  # seconds of computing per episode; the replay so far is kept
REPLAY_SEED = 0  # the recorded replays every visitor sees first (demos.atari.recorded) ...
REPLAY_STEPS = DEFAULT_STEPS  # ... and their length


@dataclass
class Episode:
    """One game played to the end or to a limit: the replay and everything the agent thought."""

    game: str
    agent: str  # "policy" or "random"
    policy: Policy | None  # the policy that played (None: the random agent); saliency asks the same one
    device: str  # where it played
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


def agent_steps(env: gym.Env, policy: Policy | Network | None, seed: int, screens: bool = True) -> Iterator[Step]:
    """The PPO agent (or, with no policy, the random agent) playing ``env`` from a reset with ``seed``, to the end.

    Actions are sampled, from the policy or uniformly, with a generator seeded with ``seed``,
    which also fixes the no-op start: the same seed gives the same game. Model work: runs the network.
    """
    network = network_of(policy) if isinstance(policy, Policy) else policy
    count = env.action_space.n
    rng = np.random.default_rng(seed)
    stack = np.asarray(env.reset(seed=seed)[0])
    over = False
    while not over:
        screen = env.render() if screens else None
        if network is None:
            probabilities, value = np.full(count, 1 / count), float("nan")
        else:
            batch_probabilities, batch_values = decide(network, stack[None])
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

    ``progress`` hears of every decision: how many of ``max_steps``, the score so far (``note``) and
    the replay's latest frame, the game and the agent's mind (``preview``). ``policy``: the PPO
    agent's network (say, an ``uploaded_policy``); the shipped one when None. The random agent needs none.
    """
    game, agent = checked_game(game), checked_agent(agent)
    seed, max_steps = checked_seed(seed), checked_steps(max_steps)
    policy = (policy or shipped_policy(game)) if agent == "policy" else None
    return played(game, seed, max_steps, agent, policy, float(time_limit), progress=progress)


@model_work("atari", gpu_seconds=0)  # CPU on ZeroGPU: see demos/atari/policy.py
def played(game: str, seed: int, max_steps: int, agent: str, policy: Policy | None, time_limit: float,
           progress: ProgressCallback | None = None) -> Episode:
    """``play``, its requests checked: the game and the network, decision by decision."""
    network = network_of(policy) if policy is not None else None
    env = make_env(game)
    names = action_names(game)
    record, stop_reason = _Recorder(len(names)), None
    try:
        with stopwatch() as watch, Mp4Writer(VIDEO_FPS, _video_size()) as writer:
            started = time.perf_counter()
            for step in agent_steps(env, network, seed):
                record.add(step)
                frame = _video_frame(record, names, agent)
                writer.write(frame)
                if progress:
                    progress(Progress(len(record.actions), max_steps, f"score {sum(record.rewards):+g}", frame))
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
    return record.episode(game, agent, policy, network.device if network else "cpu", seed, names, video,
                          stop_reason, watch.seconds)


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

    def episode(self, game: str, agent: str, policy: Policy | None, device: str, seed: int, names: tuple[str, ...],
                video: bytes, stop_reason: str | None, seconds: float) -> Episode:
        return Episode(game, agent, policy, device, seed, names, video, np.stack(self.frames), self.screens,
                       np.array(self.actions, dtype=np.int64),
                       np.array(self.probabilities, dtype=np.float32).reshape(-1, self.action_count),
                       np.array(self.values, dtype=np.float32), np.array(self.rewards, dtype=np.float32),
                       stop_reason, seconds)


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

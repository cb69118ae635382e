"""The game as the agent trained on it: the ALE environment, its frames, and the checks on what a caller asks.

Preprocess, as in training: 84x84 grey frames, 4 emulator frames per decision with the last
two max-pooled, a stack of the last 4 frames, up to 30 no-ops at the start, FIRE to serve.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from core.validation import InputError

if TYPE_CHECKING:
    import gymnasium as gym

GAMES = {"pong": "Pong", "breakout": "Breakout"}  # our name -> the ALE environment's name
DEFAULT_GAME = "pong"
AGENTS = {"policy": "PPO agent", "random": "Random agent"}  # value -> label
FRAME_SKIP, FRAME_SIZE, STACK, NOOP_MAX = 4, 84, 4, 30  # as in training (ale-py's AtariVectorEnv defaults)
OBSERVATION_SHAPE = (STACK, FRAME_SIZE, FRAME_SIZE)  # uint8: the 4 latest grey frames, oldest first
MAX_SEED = 2**31 - 1
MAX_STEPS = 5000  # decisions per episode (20,000 emulator frames, 5.5 minutes of play)
DEFAULT_STEPS = 3000  # a whole game of Pong by a good agent


# --- checks -----------------------------------------------------------------------------

def checked_game(game: str) -> str:
    if not isinstance(game, str) or game not in GAMES:
        raise InputError(f"Unknown game {game!r}: choose one of {', '.join(GAMES)}.")
    return game


def checked_agent(agent: str) -> str:
    if not isinstance(agent, str) or agent not in AGENTS:
        raise InputError(f"Unknown agent {agent!r}: choose {' or '.join(AGENTS)}.")
    return agent


def whole_number(value: object, low: int, high: int, what: str) -> int:
    """``value`` as an int from ``low`` to ``high``, or an ``InputError`` naming ``what``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not (number.is_integer() and low <= number <= high):
        raise InputError(f"{what} must be a whole number from {low:,} to {high:,}; got {value!r}.")
    return int(number)


def checked_seed(seed: object) -> int:
    return whole_number(seed, 0, MAX_SEED, "The seed")


def checked_steps(steps: object) -> int:
    return whole_number(steps, 1, MAX_STEPS, "The episode length (decisions)")


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

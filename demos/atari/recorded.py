"""The recorded replays every visitor sees first: the shipped policy and the random agent on ``REPLAY_SEED``.

Work shared by every visitor, so done once per process (or Serve replica) and kept in
``core.memo.RESULTS``, not among the models: the Pong agent's game takes about 26 s here, and no
model load should wait for it. ``precompute_replays`` plays them all in the background as that
process starts, so that only a visitor in its first seconds waits (for the rest of one replay).
"""
from __future__ import annotations

import threading

from core.engine import model_work
from core.memo import RESULTS
from core.progress import ProgressCallback
from demos.atari import replay
from demos.atari.environment import AGENTS, checked_agent, checked_game, checked_steps
from demos.atari.policy import shipped_games, shipped_policy
from demos.atari.replay import REPLAY_SEED, TIME_LIMIT, Episode, played


def recorded_replay(game: str, agent: str = "policy", progress: ProgressCallback | None = None) -> Episode:
    """The replay on ``REPLAY_SEED``: played once per process (or replica), then kept for every visitor.
    ``progress`` hears of the play if this caller is the one who plays it."""
    # replay.REPLAY_STEPS is read at each call: tests shorten it
    game, agent, steps = checked_game(game), checked_agent(agent), checked_steps(replay.REPLAY_STEPS)
    if agent == "policy":
        shipped_policy(game)  # an InputError if none is shipped
    return kept_replay(game, agent, steps, progress=progress)


@model_work("atari", gpu_seconds=0)
def kept_replay(game: str, agent: str, steps: int, progress: ProgressCallback | None = None) -> Episode:
    """``recorded_replay``: kept where the model work runs, so that the replica plays it once for all visitors."""
    return RESULTS.get(f"atari_replay:{game}:{agent}:{steps}",
                       lambda reported: played(game, REPLAY_SEED, steps, agent,
                                               shipped_policy(game) if agent == "policy" else None, TIME_LIMIT,
                                               progress=reported), progress)


def precompute_replays() -> threading.Thread:
    """Play every shipped game's recorded replays (the PPO agent's and the random agent's) in a background
    thread, the default game first, so that the first visitor does not wait for them: call it once as the
    process that runs the model work starts (embedded: the front end; Ray: each replica). A visitor who
    opens the page meanwhile waits only for the rest of the replay being played (``RESULTS`` plays each once)."""
    def play_all() -> None:
        for game in shipped_games():
            for agent in AGENTS:
                kept_replay(game, agent, checked_steps(replay.REPLAY_STEPS))

    thread = threading.Thread(target=play_all, name="atari-replays", daemon=True)
    thread.start()
    return thread

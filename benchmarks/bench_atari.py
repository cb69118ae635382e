"""Atari agents: evaluation scores (PPO policy vs a random agent), replay speed, and what training cost.

    .venv/bin/python benchmarks/bench_atari.py                 # 10 evaluation games per agent and game
    .venv/bin/python benchmarks/bench_atari.py --episodes 1    # a quick check
    .venv/bin/python benchmarks/bench_atari.py --games pong --compare a.safetensors b.safetensors
        # choose between exports on 60 validation games (seeds 1000-1059), never on the evaluation seeds

For each game with a shipped policy (models/atari/<game>.safetensors): whole games, played
to the end (the emulator stops a game at 108,000 frames), with the demo's own environment
and sampling, on seeds 100, 101, ... for both the policy and a uniformly random agent.
Targets (issue 10): Pong >= +18, Breakout >= 100 mean score over 10 games. Then the speed
of replay generation on this machine (environment, network, the panel drawn, H.264
encoding: what a visitor waits for), and the training's steps and wall time read from
models/atari/<game>.json. Writes benchmarks/results/atari.json.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from common import write_result

from demos import atari as demo

EVALUATION_SEEDS = 100  # first seed; the recorded replay uses demo.REPLAY_SEED (0)
# For choosing which export to ship. 60, not 20: a policy's bad games come in runs of lost serves,
# and the shipped Pong policy scored +18.5 on seeds 1000-1019 but +16.9 on 1020-1059.
VALIDATION_SEEDS, VALIDATION_GAMES = 1000, 60
TARGETS = {"pong": 18.0, "breakout": 100.0}
SPEED_DECISIONS = 600


def whole_game(game: str, agent: str, seed: int, policy: demo.Policy | None = None) -> tuple[float, int]:
    """Score and length (decisions) of one game played to its end, without recording; ``policy``
    replaces the shipped one."""
    policy = policy or (demo.load(game) if agent == "policy" else None)
    env = demo.make_env(game)
    try:
        score, decisions = 0.0, 0
        for step in demo.agent_steps(env, policy, seed, screens=False):
            score, decisions = score + step.reward, decisions + 1
        return score, decisions
    finally:
        env.close()


def evaluation(game: str, agent: str, episodes: int) -> dict:
    started = time.perf_counter()
    games = [whole_game(game, agent, EVALUATION_SEEDS + index) for index in range(episodes)]
    scores = [score for score, _ in games]
    print(f"{game} {agent}: {scores}", flush=True)
    return {"episodes": episodes, "seeds": [EVALUATION_SEEDS + index for index in range(episodes)], "scores": scores,
            "mean_score": round(statistics.mean(scores), 2),
            "std_score": round(statistics.pstdev(scores), 2), "min_score": min(scores), "max_score": max(scores),
            "mean_decisions": round(statistics.mean(length for _, length in games), 1),
            "seconds": round(time.perf_counter() - started, 1)}


def compare(game: str, files: list[str]) -> None:
    """Mean validation score of each candidate export, printed (a choice, not a benchmark result)."""
    for path in files:
        policy = demo.uploaded_policy(game, Path(path).name, Path(path))
        scores = [whole_game(game, "policy", seed, policy)[0]
                  for seed in range(VALIDATION_SEEDS, VALIDATION_SEEDS + VALIDATION_GAMES)]
        print(f"{path}: mean {statistics.mean(scores):+.2f} ± {statistics.pstdev(scores):.2f} over "
              f"{VALIDATION_GAMES} validation games {scores}", flush=True)


def replay_speed(game: str, agent: str) -> dict:
    """One recorded replay (video and panel included) of ``SPEED_DECISIONS`` decisions, warm."""
    demo.play(game, demo.REPLAY_SEED, 20, agent)  # warm-up: policy load, ffmpeg start
    episode = demo.play(game, demo.REPLAY_SEED, SPEED_DECISIONS, agent)
    return {"decisions": episode.decisions, "seconds": round(episode.seconds, 2),
            "video_frames_per_s": round(episode.decisions_per_second, 1),
            "emulator_frames_per_s": round(episode.decisions_per_second * demo.FRAME_SKIP, 1),
            "video_kb": round(len(episode.video) / 1024, 1), "device": episode.device}


def training(game: str) -> dict | None:
    record = demo.training_record(game)
    if record is None:
        return None
    keys = ("agent_steps", "emulator_frames", "updates", "training_minutes", "trained_on", "training_episodes",
            "mean_score_last_20_training_episodes")
    return {key: record.get(key) for key in keys}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=10, help="evaluation games per agent and game")
    parser.add_argument("--games", nargs="+", choices=list(demo.GAMES), default=None,
                        help="default: every game with a shipped policy")
    parser.add_argument("--compare", nargs="+", metavar="SAFETENSORS", default=None,
                        help="candidate exports of one game (--games) to compare on validation games")
    args = parser.parse_args()
    if args.compare:
        compare(args.games[0], args.compare)
        return
    games = args.games or demo.shipped_games()
    load_before = os.getloadavg()[0]  # other work on the machine slows the speed figures
    results = {}
    for game in games:
        policy, random = evaluation(game, "policy", args.episodes), evaluation(game, "random", args.episodes)
        results[game] = {
            "evaluation": {"policy": policy, "random": random, "target_mean_score": TARGETS[game],
                           "target_met": policy["mean_score"] >= TARGETS[game] and args.episodes >= 10},
            "replay_generation": {agent: replay_speed(game, agent) for agent in demo.AGENTS},
            "training": training(game),
        }
    write_result("atari", {"games": results, "load_average_1min_at_start": round(load_before, 2),
                           "missing_policies": [game for game in demo.GAMES if game not in demo.shipped_games()]})


if __name__ == "__main__":
    main()

"""Train a PPO agent on an Atari game: one readable file, in the spirit of CleanRL's ppo_atari_envpool.

    python scripts/train_atari.py --game pong --minutes 120   # resumes from runs/atari/pong/checkpoint.pt
    python scripts/train_atari.py --game pong --export-only   # models/atari/pong.safetensors + .json + curve
    python scripts/train_atari.py --game pong --minutes 120 --warm-start models/atari/pong.safetensors
                                                              # no checkpoint (fresh clone): go on from the shipped policy

PPO (Schulman et al. 2017): the clipped surrogate objective, generalised advantage estimation,
an actor and a critic sharing a Nature-CNN torso, vectorised environments (ale-py's native
AtariVectorEnv: 84x84 grey frames, stack of 4, frame skip 4 with max-pooling, up to 30 no-op
starts). Rewards are clipped to their sign for training only; the logged scores are the real ones.
Runs on CUDA when present (with more environment workers), on the CPU otherwise; the network runs
in bfloat16 autocast where the hardware computes it natively (CUDA; CPUs with AMX, where one
update took 1.2 s instead of 2.9 s on one thread). Checkpoints every few minutes and resumes
where it stopped.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import deque
from pathlib import Path

import numpy as np
import torch
from ale_py.vector_env import AtariVectorEnv
from torch.distributions import Categorical

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.device import bf16_autocast_helps, choose_device  # noqa: E402
from demos.networks.actor_critic import ActorCritic  # noqa: E402
from training_kit import Checkpointer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# Breakout's agent learns faster when losing a life ends its (training) episode, as in the Nature DQN setup.
LIFE_LOSS_ENDS_EPISODE = {"pong": False, "breakout": True}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--game", choices=sorted(LIFE_LOSS_ENDS_EPISODE), default="pong")
    parser.add_argument("--total-frames", type=int, default=10_000_000, help="emulator frames (4 per agent step)")
    parser.add_argument("--minutes", type=float, default=60.0, help="stop (checkpointed) after this much training time")
    parser.add_argument("--envs", type=int, default=None, help="parallel games (8 on CPU, 32 on CUDA)")
    parser.add_argument("--rollout", type=int, default=128, help="steps per game between updates")
    parser.add_argument("--minibatches", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=4, help="passes over each rollout")
    parser.add_argument("--learning-rate", type=float, default=2.5e-4, help="annealed linearly to 0 over --total-frames")
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--gae-lambda", type=float, default=0.95)
    parser.add_argument("--clip", type=float, default=0.1)
    parser.add_argument("--entropy", type=float, default=0.01)
    parser.add_argument("--value-weight", type=float, default=0.5)
    parser.add_argument("--max-grad-norm", type=float, default=0.5)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work-dir", type=Path, default=None, help="default runs/atari/<game>")
    parser.add_argument("--export-dir", type=Path, default=ROOT / "models" / "atari")
    parser.add_argument("--export-only", action="store_true", help="export the latest checkpoint and stop")
    parser.add_argument("--warm-start", type=Path, default=None,
                        help="when there is no checkpoint, go on from an exported policy (.safetensors beside its .json)")
    return parser.parse_args()


def make_envs(game: str, count: int, seed: int, threads: int) -> AtariVectorEnv:
    envs = AtariVectorEnv(game, num_envs=count, num_threads=threads, autoreset_mode="SameStep",
                          repeat_action_probability=0.0, reward_clipping=False,
                          life_loss_info=LIFE_LOSS_ENDS_EPISODE[game])
    envs.reset(seed=seed)
    return envs


EPISODE_FIELDS = ("agent_steps", "score", "length")


def fresh_state() -> dict:
    """Counters and logs of a run that has not started; saved with the network and optimiser."""
    return {"agent_steps": 0, "updates": 0, "seconds": 0.0, "episodes": [], "updates_log": []}


def agent_steps(state: dict) -> str:
    return f"{state['agent_steps']:,} agent steps"


def warm_start(agent: ActorCritic, weights: Path) -> dict:
    """Go on from an exported policy when its checkpoint is gone (runs/ is not in a fresh clone): the
    weights, counters and episode log carry on, so the learning-rate schedule does too; Adam's
    moments start again."""
    from safetensors.torch import load_file

    agent.load_state_dict(load_file(weights))
    summary = json.loads(weights.with_suffix(".json").read_text())
    log = weights.with_name(f"{weights.stem}_episodes.json")
    episodes = [dict(zip(EPISODE_FIELDS, row)) for row in json.loads(log.read_text())] if log.exists() else []
    state = fresh_state()
    state.update(agent_steps=summary["agent_steps"], updates=summary["updates"], episodes=episodes,
                 seconds=summary["training_minutes"] * 60, warm_started_at=summary["agent_steps"],
                 episodes_not_logged=summary["training_episodes"] - len(episodes))
    print(f"warm start from {weights}: {agent_steps(state)}", flush=True)
    return state


def forward(agent: ActorCritic, frames: torch.Tensor, args: argparse.Namespace) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits and values, computed in bfloat16 where that pays, returned in float32."""
    with torch.autocast(frames.device.type, dtype=torch.bfloat16, enabled=args.bf16):
        logits, values = agent(frames)
    return logits.float(), values.float()


def games_over(terminated: np.ndarray, truncated: np.ndarray, lives_before: np.ndarray,
               lives_now: np.ndarray) -> np.ndarray:
    """Which games ended with this step. A game over resets the game within the step, so the info
    already shows the next game's full lives; a lost life that only ends a training episode
    (Breakout) shows one fewer. Pong has no lives (always 0): every termination is a game over."""
    return truncated | (terminated & (lives_now >= lives_before))


def advantages_and_returns(rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor, next_value: torch.Tensor,
                           next_done: torch.Tensor, gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation, backwards through the rollout; a finished game cuts the sum."""
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(next_value)
    for t in reversed(range(len(rewards))):
        following_value, following_done = (next_value, next_done) if t == len(rewards) - 1 else (values[t + 1], dones[t + 1])
        alive = 1.0 - following_done
        delta = rewards[t] + gamma * following_value * alive - values[t]
        running = delta + gamma * lam * alive * running
        advantages[t] = running
    return advantages, advantages + values


def ppo_update(agent: ActorCritic, optimizer: torch.optim.Optimizer, batch: dict[str, torch.Tensor],
               args: argparse.Namespace) -> dict[str, float]:
    """Several epochs of minibatch steps on the clipped surrogate objective plus value loss minus entropy bonus."""
    size = len(batch["actions"])
    minibatch = size // args.minibatches
    logged: dict[str, list[float]] = {"policy_loss": [], "value_loss": [], "entropy": [], "approx_kl": [], "clipped": []}
    for _ in range(args.epochs):
        order = torch.randperm(size, device=batch["actions"].device)
        for start in range(0, size, minibatch):
            index = order[start:start + minibatch]
            logits, values = forward(agent, batch["frames"][index], args)
            distribution = Categorical(logits=logits)
            log_ratio = distribution.log_prob(batch["actions"][index]) - batch["log_probs"][index]
            ratio = log_ratio.exp()
            advantages = batch["advantages"][index]
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
            policy_loss = torch.max(-advantages * ratio,
                                    -advantages * ratio.clamp(1 - args.clip, 1 + args.clip)).mean()
            # The value loss is clipped too (as in the reference), so one update cannot move values far.
            old_values = batch["values"][index]
            clipped_values = old_values + (values - old_values).clamp(-args.clip, args.clip)
            value_loss = 0.5 * torch.max((values - batch["returns"][index]) ** 2,
                                         (clipped_values - batch["returns"][index]) ** 2).mean()
            entropy = distribution.entropy().mean()
            loss = policy_loss + args.value_weight * value_loss - args.entropy * entropy
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
            optimizer.step()
            with torch.no_grad():
                logged["policy_loss"].append(policy_loss.item())
                logged["value_loss"].append(value_loss.item())
                logged["entropy"].append(entropy.item())
                logged["approx_kl"].append(((ratio - 1) - log_ratio).mean().item())
                logged["clipped"].append(((ratio - 1).abs() > args.clip).float().mean().item())
    return {key: round(float(np.mean(values)), 5) for key, values in logged.items()}


def train(args: argparse.Namespace, agent: ActorCritic, optimizer: torch.optim.Optimizer,
          checkpointer: Checkpointer, state: dict, device: torch.device) -> None:
    envs = make_envs(args.game, args.envs, args.seed + state["updates"], threads=args.env_threads)
    steps_per_update = args.envs * args.rollout
    total_updates = args.total_frames // 4 // steps_per_update
    frames_shape = (args.rollout, args.envs, 4, 84, 84)
    frames = torch.zeros(frames_shape, dtype=torch.uint8, device=device)
    actions, log_probs, rewards, dones, values = (torch.zeros(args.rollout, args.envs, device=device) for _ in range(5))
    observation, info = envs.reset(seed=args.seed + state["updates"])
    next_frames, lives = torch.from_numpy(observation).to(device), info["lives"]
    next_done = torch.zeros(args.envs, device=device)
    scores, lengths = np.zeros(args.envs), np.zeros(args.envs, dtype=int)
    recent = deque((episode["score"] for episode in state["episodes"][-20:]), maxlen=20)
    started = time.monotonic() - state["seconds"]
    budget_end = time.monotonic() + args.minutes * 60
    while state["updates"] < total_updates and time.monotonic() < budget_end:
        fraction_left = 1.0 - state["updates"] / total_updates
        for group in optimizer.param_groups:
            group["lr"] = args.learning_rate * fraction_left
        update_started = time.monotonic()
        for t in range(args.rollout):
            frames[t], dones[t] = next_frames, next_done
            with torch.no_grad():
                logits, values[t] = forward(agent, next_frames, args)
            distribution = Categorical(logits=logits)
            action = distribution.sample()
            actions[t], log_probs[t] = action, distribution.log_prob(action)
            observation, reward, terminated, truncated, info = envs.step(action.cpu().numpy())
            rewards[t] = torch.as_tensor(np.sign(reward), dtype=torch.float32, device=device)
            next_frames = torch.from_numpy(observation).to(device)
            next_done = torch.as_tensor(terminated | truncated, dtype=torch.float32, device=device)
            scores += reward
            lengths += 1
            game_over, lives = games_over(terminated, truncated, lives, info["lives"]), info["lives"]
            for env in np.flatnonzero(game_over):
                episode = {"agent_steps": state["agent_steps"] + (t + 1) * args.envs,
                           "score": float(scores[env]), "length": int(lengths[env])}
                state["episodes"].append(episode)
                recent.append(episode["score"])
                scores[env], lengths[env] = 0.0, 0
        with torch.no_grad():
            next_value = forward(agent, next_frames, args)[1]
        advantages, returns = advantages_and_returns(rewards, values, dones, next_value, next_done,
                                                     args.gamma, args.gae_lambda)
        batch = {"frames": frames.reshape(-1, 4, 84, 84), "actions": actions.reshape(-1).long(),
                 "log_probs": log_probs.reshape(-1), "advantages": advantages.reshape(-1),
                 "returns": returns.reshape(-1), "values": values.reshape(-1)}
        losses = ppo_update(agent, optimizer, batch, args)
        state["updates"] += 1
        state["agent_steps"] += steps_per_update
        state["seconds"] = time.monotonic() - started
        speed = steps_per_update / (time.monotonic() - update_started)
        state["updates_log"].append({"agent_steps": state["agent_steps"], "steps_per_s": round(speed, 1),
                                         **losses})
        if state["updates"] % 10 == 0:
            mean_score = f"{np.mean(recent):+.1f}" if recent else "n/a"
            print(f"{state['agent_steps']:>9,} steps ({state['agent_steps'] * 4 / 1e6:.2f}M frames) "
                  f"{state['seconds'] / 60:.1f} min {speed:.0f} steps/s  score(last {len(recent)}) {mean_score}  "
                  f"entropy {losses['entropy']:.3f} kl {losses['approx_kl']:.4f}", flush=True)
        if checkpointer.due():
            checkpointer.save(state)
    checkpointer.save(state)
    envs.close()


def save_learning_curve(episodes: list[dict], path: Path, game: str, state: dict) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 3.5))
    axes = figure.subplots()
    frames = np.array([episode["agent_steps"] * 4 for episode in episodes]) / 1e6
    scores = np.array([episode["score"] for episode in episodes])
    axes.plot(frames, scores, ".", alpha=0.25, markersize=3, label="episode score")
    window = min(20, len(scores))
    if window:
        axes.plot(frames[window - 1:], np.convolve(scores, np.ones(window) / window, mode="valid"),
                  label=f"mean of {window}")
    if state.get("episodes_not_logged") and len(frames):  # an early export had no episode log
        axes.axvline(frames[0], color="grey", linestyle="--",
                     label=f"log starts ({state['episodes_not_logged']} earlier games not logged)")
    axes.set_xlabel("emulator frames (millions)")
    axes.set_ylabel("score")
    axes.set_title(f"PPO on {game.title()}: training episodes")
    axes.legend()
    figure.savefig(path, dpi=100, bbox_inches="tight")


def export(args: argparse.Namespace, agent: ActorCritic, state: dict, device: torch.device) -> None:
    """Weights (safetensors), training summary (JSON) and learning curve (PNG) into models/atari/."""
    from safetensors.torch import save_file

    args.export_dir.mkdir(parents=True, exist_ok=True)
    weights = {name: tensor.detach().cpu().contiguous() for name, tensor in agent.state_dict().items()}
    save_file(weights, args.export_dir / f"{args.game}.safetensors")
    episodes = state["episodes"]
    summary = {
        "game": args.game, "algorithm": "PPO (clipped objective, GAE), Nature-CNN actor-critic",
        "agent_steps": state["agent_steps"], "emulator_frames": state["agent_steps"] * 4,
        "updates": state["updates"], "training_minutes": round(state["seconds"] / 60, 1),
        "trained_on": str(device) if device.type != "cpu" else f"cpu ({os.cpu_count()} cores, {args.threads} torch threads)",
        "bf16_autocast_last_run": args.bf16,
        "training_episodes": len(episodes) + state.get("episodes_not_logged", 0),
        "warm_started_at_agent_steps": state.get("warm_started_at"),
        "mean_score_last_20_training_episodes": round(float(np.mean([e["score"] for e in episodes[-20:]])), 2)
        if episodes else None,
        "hyperparameters": {key: getattr(args, key) for key in
                            ("envs", "rollout", "minibatches", "epochs", "learning_rate", "gamma", "gae_lambda",
                             "clip", "entropy", "value_weight", "max_grad_norm", "total_frames", "seed")},
    }
    (args.export_dir / f"{args.game}.json").write_text(json.dumps(summary, indent=2) + "\n")
    # One compact row per game, so a later warm start keeps the whole learning curve.
    rows = [[episode[field] for field in EPISODE_FIELDS] for episode in episodes]
    (args.export_dir / f"{args.game}_episodes.json").write_text(json.dumps(rows, separators=(",", ":")) + "\n")
    if episodes:
        save_learning_curve(episodes, args.export_dir / f"{args.game}_learning_curve.png", args.game, state)
    print(f"exported {args.game} to {args.export_dir}", flush=True)


def main() -> None:
    args = parse_arguments()
    device = torch.device(choose_device())
    torch.set_num_threads(args.threads)  # training owns the machine, unlike a gallery request
    torch.manual_seed(args.seed)
    args.envs = args.envs or (32 if device.type == "cuda" else 8)
    args.env_threads = os.cpu_count() if device.type == "cuda" else 1
    args.bf16 = bf16_autocast_helps(device.type)
    args.work_dir = args.work_dir or ROOT / "runs" / "atari" / args.game
    envs = make_envs(args.game, 1, args.seed, threads=1)
    actions = envs.single_action_space.n
    envs.close()
    agent = ActorCritic(actions).to(device)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    checkpointer = Checkpointer(args.work_dir / "checkpoint.pt", {"agent": agent}, {"optimizer": optimizer},
                                fresh_state=fresh_state, describe=agent_steps)
    state = checkpointer.restore()
    if args.warm_start and state["updates"] == 0:
        state = warm_start(agent, args.warm_start)
    if not args.export_only:
        train(args, agent, optimizer, checkpointer, state, device)
    export(args, agent, state, device)


if __name__ == "__main__":
    main()

"""What the agent saw and where it looked: the input stack, saliency, its mind over time, the episode in numbers.

A page inspects one moment of an episode (``default_step`` unless the visitor picks another): the
mind over time with that moment marked, where the agent looked, the stacked frames it saw, and
that decision's probabilities and numbers. Saliency runs the network: it is the demo's model work
(``core.engine``), sent the policy and the stack, never the network.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from core.drawing import heatmap_overlay
from core.engine import model_work
from core.validation import InputError
from demos.atari.environment import FRAME_SIZE, FRAME_SKIP, STACK, whole_number
from demos.atari.policy import MODEL_CARD_NOTE, Network, Policy, network_of, shipped_policy, training_note
from demos.atari.replay import SCREEN_HEIGHT, SCREEN_WIDTH, VIDEO_FPS, Episode, screen

SALIENCY_METHODS = {"gradient": "Gradient (fast)", "occlusion": "Occlusion (Greydanus et al. 2018)"}
DEFAULT_SALIENCY = "gradient"
INSPECTED_STEP = 150  # the moment inspected first: 10 s into the game, when play is under way


# --- explain ----------------------------------------------------------------------------

def default_step(episode: Episode) -> int:
    """The decision inspected until the visitor picks another (the last one of a short episode)."""
    return min(episode.decisions - 1, INSPECTED_STEP)


def input_stack(episode: Episode, step: int) -> np.ndarray:
    """The (4, 84, 84) stack the network saw at decision ``step``: frames step-3 .. step, black before the start."""
    step = _checked_step(episode, step)
    frames = [episode.frames[index] if index >= 0 else np.zeros_like(episode.frames[0])
              for index in range(step - STACK + 1, step + 1)]
    return np.stack(frames)


def _checked_step(episode: Episode, step: int) -> int:
    return whole_number(step, 0, episode.decisions - 1, "The decision to inspect")


@dataclass
class Saliency:
    method: str
    heat: np.ndarray  # 2-D in [0, 1]: where the chosen action's score is most sensitive
    frame_shares: tuple[float, ...] | None  # the gradient's share in each of the 4 stacked frames, oldest first


def saliency(episode: Episode, step: int, method: str = DEFAULT_SALIENCY) -> Saliency:
    """Where the policy looked at decision ``step``, by the gradient or by occluding patches."""
    if method not in SALIENCY_METHODS:
        raise InputError(f"Unknown saliency method {method!r}: choose {' or '.join(SALIENCY_METHODS)}.")
    policy = episode.policy or shipped_policy(episode.game)  # the random agent's screens, seen by the shipped policy
    return saliency_of(policy, input_stack(episode, step), int(episode.actions[step]), method)


@model_work("atari", gpu_seconds=0)
def saliency_of(policy: Policy, stack: np.ndarray, action: int, method: str) -> Saliency:
    """Where ``policy``'s network looked at this (4, 84, 84) stack when it chose ``action``."""
    network = network_of(policy)
    if method == "gradient":
        return _gradient_saliency(network, stack, action)
    return _occlusion_saliency(network, stack)


def _normalised(heat: np.ndarray) -> np.ndarray:
    top = float(np.percentile(heat, 99.5))
    return np.clip(heat / top, 0.0, 1.0) if top > 0 else np.zeros_like(heat)


def _gradient_saliency(network: Network, stack: np.ndarray, action: int) -> Saliency:
    """|d logit(chosen action) / d pixel| (Simonyan et al. 2014), smoothed: the pixels whose change moves the choice."""
    import torch
    from scipy.ndimage import gaussian_filter

    frames = torch.from_numpy(stack[None].astype(np.float32)).to(network.device).requires_grad_(True)
    with torch.enable_grad():
        logits, _ = network.network(frames)
        logits[0, action].backward()
    gradient = np.abs(frames.grad[0].cpu().numpy())
    totals = gradient.sum(axis=(1, 2))
    shares = tuple(float(share) for share in totals / totals.sum()) if totals.sum() > 0 else None
    return Saliency("gradient", _normalised(gaussian_filter(gradient.sum(0), sigma=1.0)), shares)


OCCLUSION_STRIDE, OCCLUSION_SIGMA = 3, 5.0


def _occlusion_saliency(network: Network, stack: np.ndarray) -> Saliency:
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
        reference, _ = network.network(torch.from_numpy(image[None]).to(network.device))
        changes = []
        for start in range(0, len(masks), 64):
            mask = np.stack(masks[start:start + 64])[:, None]
            batch = torch.from_numpy((image * (1 - mask) + blurred * mask).astype(np.float32)).to(network.device)
            logits, _ = network.network(batch)
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


def stacked_frames_figure(episode: Episode, step: int, found: Saliency | None = None) -> Figure:
    """``stacked_frames`` side by side in one figure, each under its caption."""
    figure = Figure(figsize=(9, 2.9), layout="constrained")
    for axes, (picture, caption) in zip(figure.subplots(1, STACK), stacked_frames(episode, step, found, scale=1)):
        axes.imshow(np.asarray(picture), cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        axes.set_title(caption.replace(": ", ":\n").replace(" (", "\n("), fontsize=8)
        axes.set_axis_off()
    return figure


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


def moment_numbers(episode: Episode, step: int) -> dict[str, str]:
    """The critic's value, the reward and the score at decision ``step``."""
    step = _checked_step(episode, step)
    return {"Value": f"{episode.values[step]:+.2f}", "Reward": f"{episode.rewards[step]:+g}",
            "Score": f"{episode.rewards[:step + 1].sum():+g}"}


def moment_note(episode: Episode, step: int) -> str:
    """Markdown: the decision inspected in numbers, and how the shipped agent was trained."""
    numbers = ", ".join(f"{name.lower()} {value}" for name, value in moment_numbers(episode, step).items())
    note = training_note(episode.game)
    return (f"**Decision {step:,}** ({step / VIDEO_FPS:.1f} s into the game): {numbers}."
            + (f"\n\n**How it learned.** {note} {MODEL_CARD_NOTE}" if note else ""))


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

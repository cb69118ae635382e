"""What the training scripts share: resumable checkpoints; for the generative ones also EMA, sample grids, loss curves."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image

from fashion_mnist import batches

CHECKPOINT_MINUTES = 3.0


def fresh_epoch_state() -> dict:
    """The training state of an epoch-based run that has not started."""
    return {"epoch": 0, "step": 0, "step_in_epoch": 0, "seconds": 0.0, "history": []}


def epoch_state_after(export_metadata: Path, steps_per_epoch: int) -> dict:
    """The training state an export was made at (its training.json), for a warm start: the loss
    history starts again, and ``warm_started_at`` lets the learning-rate warm-up start again too."""
    metadata = json.loads(export_metadata.read_text())
    state = fresh_epoch_state()
    state.update(epoch=metadata["epochs"], step=metadata["steps"], seconds=metadata["minutes"] * 60,
                 step_in_epoch=metadata["steps"] - metadata["epochs"] * steps_per_epoch,
                 warm_started_at=metadata["steps"])
    return state


def epoch_and_step(state: dict) -> str:
    return f"epoch {state['epoch']}, step {state['step']}"


class Checkpointer:
    """Saves modules, optimisers and the training state every few minutes; restores them on restart.

    ``fresh_state`` makes the state of a run that has not started; ``describe`` says in a few
    words how far a state got, for the log."""

    def __init__(self, path: Path, modules: dict[str, torch.nn.Module], optimizers: dict,
                 fresh_state: Callable[[], dict] = fresh_epoch_state,
                 describe: Callable[[dict], str] = epoch_and_step) -> None:
        self.path, self.modules, self.optimizers = path, modules, optimizers
        self.fresh_state, self.describe = fresh_state, describe
        self.last_save = time.monotonic()

    def restore(self) -> dict:
        if not self.path.exists():
            return self.fresh_state()
        saved = torch.load(self.path, map_location="cpu", weights_only=False)
        for name, module in self.modules.items():
            module.load_state_dict(saved["modules"][name])
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(saved["optimizers"][name])
        print(f"resumed from {self.path}: {self.describe(saved['state'])}", flush=True)
        return saved["state"]

    def due(self) -> bool:
        return time.monotonic() - self.last_save > CHECKPOINT_MINUTES * 60

    def save(self, state: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        saved = {"modules": {name: module.state_dict() for name, module in self.modules.items()},
                 "optimizers": {name: optimizer.state_dict() for name, optimizer in self.optimizers.items()},
                 "state": state}
        temporary = self.path.with_suffix(".tmp")
        torch.save(saved, temporary)
        temporary.replace(self.path)  # a crash mid-save never leaves a broken checkpoint
        self.last_save = time.monotonic()
        print(f"checkpoint: {self.describe(state)}", flush=True)


@torch.no_grad()
def update_ema(average: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """Exponential moving average of the weights (buffers such as BatchNorm statistics copied)."""
    for averaged, current in zip(average.parameters(), model.parameters()):
        averaged.lerp_(current, 1.0 - decay)
    for averaged, current in zip(average.buffers(), model.buffers()):
        averaged.copy_(current)


def save_sample_grid(images: torch.Tensor, path: Path, columns: int = 8) -> None:
    """Images in [-1, 1], (N, 1, H, W), as one PNG with ``columns`` per row."""
    pixels = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()[:, 0]
    rows = -(-len(pixels) // columns)
    pixels = np.concatenate([pixels, np.zeros((rows * columns - len(pixels), *pixels.shape[1:]), np.uint8)])
    grid = pixels.reshape(rows, columns, *pixels.shape[1:]).transpose(0, 2, 1, 3).reshape(
        rows * pixels.shape[1], columns * pixels.shape[2])
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid).resize((grid.shape[1] * 2, grid.shape[0] * 2), Image.NEAREST).save(path)


def save_loss_curves(history: list[dict], path: Path, title: str) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 3.5))
    axes = figure.subplots()
    steps = [entry["step"] for entry in history]
    window = max(1, len(history) // 100)
    for key in (key for key in history[0] if key != "step"):
        values = np.convolve([entry[key] for entry in history], np.ones(window) / window, mode="valid")
        axes.plot(steps[window - 1:], values, label=key)
    axes.set_xlabel("step")
    axes.set_title(title)
    axes.legend()
    figure.savefig(path, dpi=100, bbox_inches="tight")


def write_export_metadata(path: Path, metadata: dict, history: list[dict]) -> None:
    """Training summary next to an exported model: length and the final losses (mean of the last 200 steps)."""
    final = {key: round(float(np.mean([entry[key] for entry in history[-200:]])), 4)
             for key in history[-1] if key != "step"} if history else {}
    path.write_text(json.dumps({**metadata, "final_losses": final}, indent=2) + "\n")


def training_arguments(description: str, work_dir: Path, export: Path, learning_rate: float, ema_decay: float,
                       batch_size: int) -> argparse.ArgumentParser:
    """The options both training scripts take; each adds its own."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=60.0, help="stop (and export) after this much training time")
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--learning-rate", type=float, default=learning_rate)
    parser.add_argument("--ema-decay", type=float, default=ema_decay, help="the most the EMA decay warms up to")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--work-dir", type=Path, default=work_dir)
    parser.add_argument("--export", type=Path, default=export)
    parser.add_argument("--export-only", action="store_true", help="export the latest checkpoint and stop")
    return parser


def ema_decay(step: int, most: float) -> float:
    """Warm-up (as in diffusers' EMAModel): early weights are soon forgotten, so a short run is not
    dragged towards its random initialisation."""
    return min(most, (1 + step) / (10 + step))


def train_epochs(args: argparse.Namespace, state: dict, checkpointer: Checkpointer, data: tuple[torch.Tensor, torch.Tensor],
                 train_step: Callable[[torch.Tensor, torch.Tensor], dict[str, float]],
                 save_samples: Callable[[Path], None], title: str) -> None:
    """Shuffled epochs of ``train_step(images, labels) -> losses`` until --epochs or --minutes run out;
    logs every 50 steps, checkpoints every few minutes, sample grid and loss curves every epoch.
    Resumes mid-epoch: the shuffle is seeded by the epoch number."""
    images, labels = data
    started, budget = time.monotonic() - state["seconds"], args.minutes * 60
    while state["epoch"] < args.epochs and time.monotonic() - started < budget:
        shuffler = torch.Generator().manual_seed(state["epoch"])
        for step_in_epoch, (batch, batch_labels) in enumerate(batches(images, labels, args.batch_size, shuffler)):
            if step_in_epoch < state["step_in_epoch"]:
                continue
            losses = train_step(batch, batch_labels)
            state["step"] += 1
            state["step_in_epoch"] = step_in_epoch + 1
            state["seconds"] = time.monotonic() - started
            state["history"].append({"step": state["step"], **losses})
            if state["step"] % 50 == 0:
                print(f"epoch {state['epoch']} step {state['step']} {state['seconds'] / 60:.1f} min "
                      + " ".join(f"{key} {value:.4f}" for key, value in losses.items()), flush=True)
            if checkpointer.due() or state["seconds"] > budget:
                checkpointer.save(state)
                save_samples(args.work_dir / "samples_latest.png")
            if state["seconds"] > budget:
                break
        else:
            state["epoch"] += 1
            state["step_in_epoch"] = 0
            save_samples(args.work_dir / f"samples_epoch{state['epoch']:02d}.png")
            save_loss_curves(state["history"], args.work_dir / "losses.png", title)
            checkpointer.save(state)
    checkpointer.save(state)

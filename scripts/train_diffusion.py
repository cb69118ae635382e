"""Train the class-conditional diffusion UNet of demos/image_generation/ on Fashion-MNIST and export it.

    apt-get install -y dataset-fashion-mnist                 # the data (once)
    python scripts/train_diffusion.py --minutes 60           # resumable: rerun to continue
    python scripts/train_diffusion.py --minutes 60 --warm-start models/generative/diffusion
                                                             # no checkpoint (fresh clone): go on from the shipped one

DDPM training (Ho et al. 2020): noise a real image to a random level t, ask the UNet for
the noise. The class is dropped 10% of the time so the same network also learns the
class-free estimate that classifier-free guidance needs. Checkpoints, sample grids and loss
curves go to --work-dir; the exponential moving average of the UNet is exported as a
diffusers pipeline (unet + scheduler) to models/generative/diffusion when training ends.
"""
from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from demos.image_generation import (  # noqa: E402
    CLASS_COUNT, NO_CLASS, build_noise_schedule, build_unet, pipeline_class, sample,
)
from fashion_mnist import as_tensors  # noqa: E402
from training_kit import (  # noqa: E402
    Checkpointer, ema_decay, epoch_state_after, save_sample_grid, train_epochs, training_arguments, update_ema,
    write_export_metadata,
)

EXPORT_DIR = Path(__file__).resolve().parent.parent / "models" / "generative" / "diffusion"
RUNS = Path(__file__).resolve().parent.parent / "runs" / "generative"  # checkpoints, kept between sessions (gitignored)
CLASS_DROPOUT = 0.1


def main() -> None:
    parser = training_arguments(__doc__, RUNS / "diffusion", EXPORT_DIR, learning_rate=1e-3,
                                ema_decay=0.995, batch_size=32)
    parser.add_argument("--warmup-steps", type=int, default=100, help="learning-rate warm-up")
    parser.add_argument("--warm-start", type=Path, default=None,
                        help="when there is no checkpoint (runs/ is not in a fresh clone), go on from this export")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    unet = build_unet().to(device)
    ema_unet = copy.deepcopy(unet).eval()
    optimizer = torch.optim.AdamW(unet.parameters(), args.learning_rate, weight_decay=0.0)
    checkpointer = Checkpointer(args.work_dir / "checkpoint.pt", {"unet": unet, "ema_unet": ema_unet},
                                {"unet": optimizer})
    state = checkpointer.restore()
    data = as_tensors("train")
    if args.warm_start and state["step"] == 0:
        state = warm_start(args.warm_start, unet, ema_unet, steps_per_epoch=len(data[0]) // args.batch_size)
    if not args.export_only:
        schedule = build_noise_schedule()

        def train_step(clean: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
            # Fresh AdamW moments after a warm start get a warm-up of their own.
            steps_since_start = state["step"] - state.get("warm_started_at", 0)
            for group in optimizer.param_groups:
                group["lr"] = args.learning_rate * min(1.0, (steps_since_start + 1) / args.warmup_steps)
            loss = diffusion_step(unet, schedule, optimizer, clean.to(device), labels.to(device))
            update_ema(ema_unet, unet, ema_decay(state["step"], args.ema_decay))
            return {"noise MSE": loss}

        train_epochs(args, state, checkpointer, data, train_step,
                     lambda path: save_samples(ema_unet, path), "Diffusion training")
    export(ema_unet, state, args.export)


def warm_start(export: Path, unet, ema_unet, steps_per_epoch: int) -> dict:
    """Both the UNet and its average start from the exported average; the optimiser starts afresh."""
    exported = type(unet).from_pretrained(str(export / "unet")).state_dict()
    unet.load_state_dict(exported)
    ema_unet.load_state_dict(exported)
    state = epoch_state_after(export / "training.json", steps_per_epoch)
    print(f"warm start from {export}: epoch {state['epoch']}, step {state['step']}", flush=True)
    return state


def diffusion_step(unet, schedule, optimizer, clean: torch.Tensor, labels: torch.Tensor) -> float:
    noise = torch.randn_like(clean)
    timesteps = torch.randint(0, schedule.config.num_train_timesteps, (len(clean),), device=clean.device)
    labels = torch.where(torch.rand(len(labels), device=labels.device) < CLASS_DROPOUT, NO_CLASS, labels)
    predicted = unet(schedule.add_noise(clean, noise, timesteps), timesteps, class_labels=labels).sample
    loss = F.mse_loss(predicted, noise)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
    optimizer.step()
    return loss.item()


def save_samples(ema_unet, path: Path) -> None:
    """Two images per class, DDIM 20 steps, guidance 2: a quick look, not the evaluation."""
    pipeline = pipeline_class()(unet=ema_unet, scheduler=build_noise_schedule())
    images = sample(pipeline, torch.arange(CLASS_COUNT).repeat(2), seed=0, steps=20, scheduler="DDIM",
                    guidance=2.0).images
    save_sample_grid(images, path, columns=CLASS_COUNT)


def export(ema_unet, state, path: Path) -> None:
    pipeline = pipeline_class()(unet=ema_unet.cpu(), scheduler=build_noise_schedule())
    pipeline.save_pretrained(str(path))
    metadata = {"epochs": state["epoch"], "steps": state["step"], "minutes": round(state["seconds"] / 60, 1),
                "warm_started_at_step": state.get("warm_started_at")}
    write_export_metadata(path / "training.json", metadata, state["history"])
    print(f"exported {path}: {json.dumps(metadata)}", flush=True)


if __name__ == "__main__":
    main()

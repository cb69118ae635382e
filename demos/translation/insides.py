"""Explain: where the decoder looked while writing one sentence (its cross-attention, every layer and
head), the subword tokens on both sides, and the n-best lists with their scores."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from core.engine import model_work
from core.markdown import code_words
from core.validation import InputError
from demos.translation.decoding import Translation
from demos.translation.model import Attention, load


@dataclass(frozen=True)
class TranslationInsides:
    """One sentence's insides, as the page shows them."""
    attention: Attention
    figure: Figure  # the cross-attention heatmap of the chosen layer and head (None: their average)
    tokens: str  # Markdown: the subword tokens the encoder read and those the decoder wrote


def cross_attention(translation: Translation, sentence: int = 0, alternative: int = 0) -> Attention:
    """Where the decoder looked while writing one sentence's translation (``attend``)."""
    if not 0 <= sentence < len(translation.sentences):
        raise InputError(f"There is no sentence {sentence + 1}; this text has {len(translation.sentences)}.")
    chosen = translation.sentences[sentence]
    hypothesis = chosen.hypotheses[min(alternative, len(chosen.hypotheses) - 1)]
    return attend(translation.model, chosen.source.text, translation.target_language, hypothesis.token_ids)


@model_work("translation", gpu_seconds=10)
def attend(model: str, source_text: str, target_language: str, token_ids: list[int]) -> Attention:
    """One teacher-forced pass of ``model`` over a written translation (its ``token_ids``), keeping every
    layer's and head's cross-attention."""
    return load(model).attend(source_text, target_language, token_ids)


def attention_figure(attention: Attention, layer: int | None = None, head: int | None = None) -> Figure:
    """Heatmap of one layer and head (None: averaged): rows are output tokens, columns source tokens."""
    weights = attention.weights if layer is None else attention.weights[layer:layer + 1]
    weights = weights.mean(axis=0)
    weights = weights.mean(axis=0) if head is None else weights[head]
    rows, columns = weights.shape
    figure = Figure(figsize=(min(12.0, 1.6 + 0.42 * columns), min(12.0, 1.4 + 0.34 * rows)), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(weights, cmap="Blues", vmin=0.0, vmax=max(float(weights.max()), 1e-6), aspect="auto")
    axes.set_xticks(np.arange(columns), [_shown(t) for t in attention.source_tokens], rotation=60,
                    ha="right", fontsize=8)
    axes.set_yticks(np.arange(rows), [_shown(t) for t in attention.target_tokens], fontsize=8)
    axes.set_xlabel("source tokens (encoder)", fontsize=9)
    axes.set_ylabel("output tokens (decoder)", fontsize=9)
    where = f"layer {layer + 1}" if layer is not None else "all layers"
    which = f"head {head + 1}" if head is not None else "all heads"
    axes.set_title(f"Cross-attention: {where}, {which}", fontsize=10)
    figure.colorbar(image, ax=axes, shrink=0.8, label="attention weight")
    return figure


def _shown(token: str) -> str:
    """A subword as a reader sees it: ▁ (a word start) becomes a leading space marker."""
    return re.sub("^▁", "·", token)


def tokens_markdown(attention: Attention) -> str:
    """The subword tokens on both sides, each as code (a visitor's text stays text)."""
    return (f"**Subword tokens the encoder read**\n\n{code_words(attention.source_tokens)}\n\n"
            f"**Subword tokens the decoder wrote**\n\n{code_words(attention.target_tokens)}")


def explain(translation: Translation, sentence: int = 0, layer: int | None = None,
            head: int | None = None) -> TranslationInsides:
    """The insides for one sentence: its subword tokens on both sides and the cross-attention heatmap."""
    attention = cross_attention(translation, sentence)
    return TranslationInsides(attention, attention_figure(attention, layer, head), tokens_markdown(attention))


def alternatives_table(translation: Translation) -> list[dict[str, object]]:
    """One row per hypothesis of every sentence: the n-best lists with their scores."""
    return [{"sentence": index + 1, "rank": rank + 1, "translation": h.text, "score": round(h.score, 3),
             "per-token probability": round(float(np.exp(h.score)), 3)}
            for index, s in enumerate(translation.sentences) for rank, h in enumerate(s.hypotheses)]


def attention_layout(translation: Translation) -> tuple[int, int]:
    """(decoder layers, cross-attention heads) of the model that made ``translation``."""
    return translation.layout

"""Explain: the text shaded by score or by attention, the similarity heatmap and a 2D map of the
embeddings (extractive), the generated tokens and their cross-attention (abstractive), and the
numbers behind every sentence."""
from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from demos.summarisation.abstractive import SummaryGeneration
from demos.summarisation.summary import Summary


@dataclass(frozen=True)
class SummaryInsides:
    """How a summary was made, as the page shows it; a field is None where the method has no such inside."""
    shaded: str  # HTML: the analysed text, each sentence shaded by its score (or its share of the attention)
    sentences: list[dict[str, object]]  # one row per sentence: the numbers behind the choice (``sentence_table``)
    similarity: Figure | None = None  # extractive: the cosine similarity of every pair of sentences
    embedding_map: Figure | None = None  # extractive: the sentence embeddings in 2D
    tokens: str | None = None  # abstractive, HTML: the generated tokens shaded by the model's probability
    attention: Figure | None = None  # abstractive: what the generator read while writing each token


def explain(summary: Summary) -> SummaryInsides:
    """The shaded text and the sentence table, then the similarity heatmap and embedding map (extractive)
    or the generated tokens and their cross-attention (abstractive)."""
    shaded, rows = shaded_html(summary), sentence_table(summary)
    if summary.generation is not None:
        return SummaryInsides(shaded, rows, tokens=token_html(summary.generation), attention=attention_figure(summary))
    return SummaryInsides(shaded, rows, similarity=similarity_figure(summary),
                          embedding_map=embedding_map_figure(summary))


def shaded_html(summary: Summary) -> str:
    """The analysed text with each sentence's background as strong as its score; chosen ones bold."""
    pieces, cursor = [], 0
    for index, sentence in enumerate(summary.sentences):
        pieces.append(html.escape(summary.source[cursor:sentence.start]))
        strength = float(summary.scores[index])
        style = f"background: rgba(255, 165, 0, {0.08 + 0.72 * strength:.2f}); border-radius: 3px"
        if index in summary.chosen:
            style += "; font-weight: 700; outline: 2px solid #d9480f"
        pieces.append(f'<span style="{style}" title="sentence {index + 1}: score {strength:.2f}">'
                      f"{html.escape(sentence.text)}</span>")
        cursor = sentence.end
    body = "".join(pieces).replace("\n\n", "<br><br>")
    return f'<div style="line-height: 1.9; white-space: normal">{body}</div>'


def similarity_figure(summary: Summary) -> Figure:
    """The cosine similarity of every pair of sentences; chosen sentences' numbers in red."""
    count, similarity = len(summary.sentences), summary.ranking.similarity
    figure = Figure(figsize=(5.2, 4.4), layout="constrained")
    axes = figure.add_subplot()
    off_diagonal = similarity[~np.eye(count, dtype=bool)]
    # colours span the pairs, not the diagonal's 1.0, which would wash the pairs out
    image = axes.imshow(similarity, cmap="viridis", interpolation="nearest",
                        vmin=off_diagonal.min(), vmax=off_diagonal.max())
    figure.colorbar(image, ax=axes, shrink=0.8, label="cosine similarity")
    step = max(1, count // 25)
    ticks = np.arange(0, count, step)
    axes.set_xticks(ticks, [str(t + 1) for t in ticks], fontsize=7)
    axes.set_yticks(ticks, [str(t + 1) for t in ticks], fontsize=7)
    for label in [*axes.get_xticklabels(), *axes.get_yticklabels()]:
        if int(label.get_text()) - 1 in summary.chosen:
            label.set_color("#d9480f")
            label.set_fontweight("bold")
    axes.set_title("Sentence similarity (red: chosen)", fontsize=10)
    axes.set_xlabel("sentence", fontsize=9)
    axes.set_ylabel("sentence", fontsize=9)
    return figure


def embedding_map(embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The embeddings projected on their two main directions (PCA), and the variance share of each."""
    centred = embeddings - embeddings.mean(axis=0)
    _, singular, directions = np.linalg.svd(centred, full_matrices=False)
    variance = singular**2 / max(float((singular**2).sum()), 1e-12)
    return centred @ directions[:2].T, variance[:2]  # two or more sentences give two directions


def embedding_map_figure(summary: Summary) -> Figure:
    """A 2D map (PCA) of the sentence embeddings: neighbours say similar things."""
    points, variance = embedding_map(summary.ranking.embeddings)
    chosen = np.isin(np.arange(len(points)), summary.chosen)
    figure = Figure(figsize=(5.2, 4.4), layout="constrained")
    axes = figure.add_subplot()
    axes.scatter(*points[~chosen].T, s=40 + 160 * summary.scores[~chosen], c="#74c0fc", edgecolors="#1864ab",
                 label="other (size = score)")
    axes.scatter(*points[chosen].T, s=120, marker="*", c="#d9480f", label="chosen for the summary")
    for index, (x, y) in enumerate(points):
        axes.annotate(str(index + 1), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    axes.set_xlabel(f"principal direction 1 ({variance[0]:.0%} of variance)", fontsize=9)
    axes.set_ylabel(f"principal direction 2 ({variance[1]:.0%} of variance)", fontsize=9)
    axes.set_title("Sentence embeddings in 2D (PCA)", fontsize=10)
    axes.legend(fontsize=8, loc="best")
    return figure


def token_html(generation: SummaryGeneration) -> str:
    """The generated tokens, each shaded by how sure the model was of it (hover: the probability)."""
    spans = [f'<span style="background: rgba(34, 139, 230, {0.1 + 0.7 * token.probability:.2f}); '
             f'border-radius: 3px" title="p = {token.probability:.2f}">{html.escape(token.text)}</span>'
             for token in generation.tokens]
    return f'<div style="line-height: 2.1; white-space: pre-wrap">{"".join(spans)}</div>'


def attention_figure(summary: Summary) -> Figure:
    """Cross-attention of every generated token (across) on every source sentence (down)."""
    attention = summary.generation.attention.T
    figure = Figure(figsize=(7.5, 4.4), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(attention, cmap="magma", aspect="auto", interpolation="nearest")
    figure.colorbar(image, ax=axes, shrink=0.8, label="share of attention")
    step = max(1, len(summary.sentences) // 25)
    rows = np.arange(0, len(summary.sentences), step)
    axes.set_yticks(rows, [str(row + 1) for row in rows], fontsize=7)
    if len(summary.generation.tokens) <= 60:
        axes.set_xticks(np.arange(len(summary.generation.tokens)),
                        [token.text.strip() for token in summary.generation.tokens], rotation=90, fontsize=7)
    axes.set_title("What the generator read while writing each token", fontsize=10)
    axes.set_xlabel("generated token", fontsize=9)
    axes.set_ylabel("source sentence", fontsize=9)
    return figure


def sentence_table(summary: Summary) -> list[dict[str, object]]:
    """One row per sentence: the numbers behind the choice (extractive) or its share of attention."""
    rows = [{"#": index + 1, "chosen": index in summary.chosen, "score": round(float(summary.scores[index]), 3),
             "sentence": sentence.text} for index, sentence in enumerate(summary.sentences)]
    if summary.ranking is not None:
        for row, centrality, lead in zip(rows, summary.ranking.centrality, summary.ranking.lead):
            row.update(centrality=round(float(centrality), 3), lead=round(float(lead), 3))
    return rows

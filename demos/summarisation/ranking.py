"""Postprocess (extractive): from sentence vectors to the chosen sentences. The cosine similarities
make a graph of sentences, TextRank (PageRank on that graph) ranks them by centrality, a small bonus
goes to coming early, and MMR picks one at a time so the summary does not repeat itself."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Ranking:
    """The extractive insides."""
    similarity: np.ndarray  # cosine similarity of every pair of sentences
    centrality: np.ndarray  # TextRank, scaled to [0, 1]
    lead: np.ndarray  # position prior in [0, 1]
    embeddings: np.ndarray


def similarity_graph(similarity: np.ndarray) -> np.ndarray:
    """Edge weights in [0, 1]: cosines stretched per text, no self-loops.

    Encoders differ in how spread their cosines are (E5's mostly sit between 0.7 and 0.95),
    so each text's lowest pair maps to 0 and its highest to 1.
    """
    off_diagonal = ~np.eye(len(similarity), dtype=bool)
    low, high = similarity[off_diagonal].min(), similarity[off_diagonal].max()
    graph = (similarity - low) / (high - low) if high > low else np.ones_like(similarity)
    return np.clip(graph, 0.0, 1.0) * off_diagonal


def textrank(graph: np.ndarray, damping: float = 0.85, iterations: int = 200) -> np.ndarray:
    """PageRank on a weighted graph: the stationary visit rate of a random reader."""
    count = len(graph)
    out_weight = graph.sum(axis=1, keepdims=True)
    transition = np.divide(graph, out_weight, out=np.full_like(graph, 1.0 / count), where=out_weight > 0)
    rank = np.full(count, 1.0 / count)
    for _ in range(iterations):
        previous, rank = rank, (1.0 - damping) / count + damping * transition.T @ rank
        if np.abs(rank - previous).sum() < 1e-9:
            break
    return rank


def lead_prior(count: int) -> np.ndarray:
    """1 for the first sentence, slowly falling: news stories put the gist first."""
    return 1.0 / np.sqrt(np.arange(count) + 1.0)


def _unit_range(values: np.ndarray) -> np.ndarray:
    spread = values.max() - values.min()
    return (values - values.min()) / spread if spread > 0 else np.ones_like(values)


def mmr_select(scores: np.ndarray, graph: np.ndarray, keep: int, diversity: float) -> list[int]:
    """Maximal marginal relevance: best score, minus likeness to what is already chosen."""
    chosen = [int(np.argmax(scores))]
    while len(chosen) < keep:
        value = (1.0 - diversity) * scores - diversity * graph[:, chosen].max(axis=1)
        value[chosen] = -np.inf
        chosen.append(int(np.argmax(value)))
    return sorted(chosen)


def rank(embeddings: np.ndarray, length: str, keep: int, lead_weight: float,
         diversity: float) -> tuple[np.ndarray, list[int], Ranking]:
    """Similarity graph, TextRank, lead prior, then MMR (or the top centrality for a headline):
    each sentence's score, the chosen sentence indices in ascending order, and the insides."""
    similarity = embeddings @ embeddings.T
    graph = similarity_graph(similarity)
    centrality = _unit_range(textrank(graph))
    lead = lead_prior(len(embeddings))
    if length == "headline":
        scores, chosen = centrality, [int(np.argmax(centrality))]
    else:
        scores = (1.0 - lead_weight) * centrality + lead_weight * lead
        chosen = mmr_select(scores, graph, keep, diversity)
    return scores, chosen, Ranking(similarity, centrality, lead, embeddings)

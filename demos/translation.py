"""Neural machine translation, Russian <-> English, with a Transformer we trained ourselves.

A translator is not a dictionary plus grammar rules: it is a network that learned from
pairs of sentences, one the translation of the other. This one is an encoder-decoder
Transformer (a transformers ``MarianMTModel``, the architecture of the OPUS-MT models):

- the **encoder** reads the source sentence, cut into subword tokens by a SentencePiece
  vocabulary shared by both languages, and gives every token a context-aware vector;
- the **decoder** writes the translation one token at a time; at each step its
  **cross-attention** looks back at the encoder's vectors, weighting the source tokens it
  needs now. Those weights are the heatmap this demo draws;
- **beam search** keeps the few best partial translations at every step instead of only the
  single most likely token, and returns an n-best list with scores.

One model serves both directions: the first source token names the target language
(``>>rus<<`` or ``>>eng<<``); at the same training compute it scored higher on the dev sets
than two one-way models (``scripts/compare_translation.py``). The bundled model was trained on about 50k sentence pairs
(``scripts/train_translation.py``; see ``models/translation/MODEL_CARD.md``). The hub
models (Helsinki-NLP OPUS-MT, one per direction, trained on millions of pairs) load through
the very same ``from_pretrained`` code when the network allows.

The story of a call: preprocess (validate, detect the language, split into sentences, add
the target-language tag), forward (batched beam search, n-best), postprocess (re-join the
sentences as they were laid out), explain (cross-attention of one sentence).
"""
from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from core.contract import ASSETS, ChoiceField, DemoCard, Endpoint, JsonOutput, NumberField, TextField, TextOutput
from core.device import choose_device
from core.documents import read_document
from core.hub import local_files_only
from core.language import LANGUAGES, Sentence, detect_language, split_sentences
from core.models import MODELS
from core.timing import Deadline, stopwatch
from core.validation import MAX_TEXT_CHARS, InputError, read_text

CARD = DemoCard(
    slug="translation",
    title="Translation (Russian ↔ English)",
    icon="🌍",
    pitch="Translate between Russian and English with a Transformer trained here, and watch where it looks.",
    tags=("Transformer", "encoder-decoder", "cross-attention", "beam search", "SentencePiece"),
    inputs=("text", "document"),
)

MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "translation"
EXAMPLES_FILE = ASSETS / "translation" / "examples.json"
LOSS_CURVE = ASSETS / "translation" / "loss_curve.png"
SCORES_FILE = ASSETS.parent / "benchmarks" / "results" / "translation.json"  # scripts/evaluate_translation.py
CHOICES_FILE = ASSETS.parent / "benchmarks" / "results" / "translation_choices.json"  # scripts/compare_translation.py
DIRECTIONS = {"en-ru": "English → Russian", "ru-en": "Russian → English"}
MODEL_CHOICES = {"bundled": "Bundled (trained here, offline)", "hub": "Hub: Helsinki-NLP OPUS-MT (needs network)"}
HUB_MODELS = {"en-ru": "Helsinki-NLP/opus-mt-en-ru", "ru-en": "Helsinki-NLP/opus-mt-ru-en"}
TARGET_TAGS = {"en": ">>eng<<", "ru": ">>rus<<"}
MAX_SENTENCES = 40  # longer texts are cut here, with a notice
MAX_DOCUMENT_CHARS = 5_000_000  # only a document's opening is kept; this refuses only absurd extractions
MAX_SOURCE_TOKENS = 128  # a longer sentence is cut: the model saw nothing longer in training
MAX_BEAMS = 8
LENGTH_PENALTY = 1.0  # beam search ranks by log-probability / length**LENGTH_PENALTY; best on the dev sets
BATCH_SIZE = 16
SCORES_BUDGET_BYTES = 64 * 2**20  # beam search keeps every step's scores: rows x beams x steps x vocabulary
TIME_LIMIT = 60.0  # seconds of beam search per request, checked between batches
MAX_SOURCE_CHARS = 3_000  # per request, about 40 sentences of 12 words: long sentences cost far more
BUNDLED_LIMITS = ("The bundled model was trained here from scratch on about 50,000 sentence pairs (short "
                  "Tatoeba sentences and news) on a CPU: short everyday sentences usually come out right or "
                  "nearly right; expect errors on long, rare or technical ones. The hub model (OPUS-MT) learned "
                  "from millions of pairs.")


@dataclass
class Translator:
    name: str  # the path or hub id it was loaded from
    tokenizer: object  # MarianTokenizer
    model: object  # MarianMTModel
    device: str

    @property
    def bidirectional(self) -> bool:
        """One model for both directions, steered by a target-language tag (ours); hub models are one-way."""
        return all(tag in self.tokenizer.get_vocab() for tag in TARGET_TAGS.values())


@dataclass
class Hypothesis:
    text: str
    score: float  # mean log-probability per output token (beam search's ranking)
    token_ids: list[int]


@dataclass
class SentenceTranslation:
    source: Sentence
    hypotheses: list[Hypothesis]  # best first

    @property
    def best(self) -> str:
        return self.hypotheses[0].text


@dataclass
class Translation:
    text: str  # the whole translation, laid out like the source
    source_text: str
    source_language: str
    target_language: str
    language_detected: bool
    sentences: list[SentenceTranslation]
    model: str
    device: str
    seconds: float
    notices: list[str] = field(default_factory=list)


def load(path_or_id: str | Path = MODEL_DIR) -> Translator:
    """The translator at a local folder or hub id, loaded once per process."""
    return MODELS.get(f"translation:{path_or_id}", partial(load_translator, path_or_id))


def load_translator(path_or_id: str | Path) -> Translator:
    """The one loading path for the bundled model, a hub checkpoint or any saved MarianMT folder."""
    import torch
    from transformers import MarianMTModel, MarianTokenizer

    device = choose_device()
    dtype = torch.float16 if device == "cuda" else torch.float32  # fp16 on disk; CPUs compute in fp32
    local_only = local_files_only(path_or_id)
    try:
        with warnings.catch_warnings():  # it recommends sacremoses, which only its unused normalize() needs
            warnings.filterwarnings("ignore", message="Recommended: pip install sacremoses")
            tokenizer = MarianTokenizer.from_pretrained(str(path_or_id), local_files_only=local_only)
        # eager attention: the only kind that hands back the cross-attention weights we draw
        model = MarianMTModel.from_pretrained(str(path_or_id), dtype=dtype, attn_implementation="eager",
                                              local_files_only=local_only)
    # no network (offline, the tokenizer even gets no file paths: TypeError), unknown id, or no checkpoint
    except (OSError, ValueError, TypeError) as error:
        raise InputError(f"The model {path_or_id} could not be loaded ({error.__class__.__name__}); the hub "
                         "models need a network connection. The bundled model works offline.") from None
    return Translator(str(path_or_id), tokenizer, model.to(device).eval(), device)


def model_source(model: str, direction: str) -> str | Path:
    """"bundled", "hub" (one OPUS-MT model per direction), or a local folder."""
    if model == "bundled":
        return MODEL_DIR
    if model == "hub":
        return HUB_MODELS[direction]
    return model


# --- preprocess -------------------------------------------------------------------------

@dataclass
class Prepared:
    source: str
    source_language: str
    target_language: str
    language_detected: bool
    sentences: list[Sentence]
    notices: list[str]


def resolve_direction(text: str, direction: str) -> tuple[str, str, bool, list[str]]:
    """(source language, target language, detected?, notices); "auto" detects the source language."""
    if direction not in ("auto", *DIRECTIONS):
        raise InputError(f"Unknown direction {direction!r}; choose auto, {', '.join(DIRECTIONS)}.")
    if direction == "auto":
        source = detect_language(text, min_letters=2)
        return source, _other(source), True, []
    source, target = direction.split("-")
    notices = []
    try:
        looks_like = detect_language(text, min_letters=2)
    except InputError:
        looks_like = source  # mixed or unclear script: the visitor's choice stands
    if looks_like != source:
        notices.append(f"The text looks {LANGUAGES[looks_like]}, but you chose {DIRECTIONS[direction]}: "
                       "words the model does not know may come out unchanged.")
    return source, target, False, notices


def _other(language: str) -> str:
    return "ru" if language == "en" else "en"


def prepare(text: str, direction: str = "auto") -> Prepared:
    """Validate, work out the direction, split into sentences, cap very long texts."""
    text = read_text(text)
    if not any(char.isalpha() for char in text):
        raise InputError("There are no words here to translate (only numbers, symbols or emoji). "
                         "Write a sentence in Russian or English.")
    source, target, detected, notices = resolve_direction(text, direction)
    sentences = split_sentences(text, source)
    kept = _sentences_within_limits(sentences)
    if kept < len(sentences):
        notices.append(f"The text has {len(sentences)} sentences ({len(text):,} characters); only the first "
                       f"{kept} were translated (at most {MAX_SENTENCES} sentences and {MAX_SOURCE_CHARS:,} "
                       "characters at a time).")
        sentences = sentences[:kept]
    return Prepared(text[:sentences[-1].end], source, target, detected, sentences, notices)


def _sentences_within_limits(sentences: list[Sentence]) -> int:
    """How many of the first sentences one request translates: MAX_SENTENCES, and no more text than
    MAX_SOURCE_CHARS (the first sentence always, however long: it is cut at MAX_SOURCE_TOKENS)."""
    kept = 1
    while (kept < min(len(sentences), MAX_SENTENCES)
           and sentences[kept].end - sentences[0].start <= MAX_SOURCE_CHARS):
        kept += 1
    return kept


@dataclass
class SourceDocument:
    text: str  # the opening of the document: at most MAX_SENTENCES sentences
    notices: list[str]


def read_source_document(file_name: str, data: bytes, direction: str = "auto") -> SourceDocument:
    """An uploaded .txt, .md, .pdf or .docx as source text: a longer document is cut after the
    sentences one translation takes, with a notice, rather than refused."""
    text = read_document(file_name, data, max_chars=MAX_DOCUMENT_CHARS)
    prepared = prepare(text[:MAX_TEXT_CHARS], direction)  # the opening is enough to find MAX_SENTENCES
    if not any(char.isalpha() for char in text[len(prepared.source):]):
        return SourceDocument(prepared.source, [])
    return SourceDocument(prepared.source, [
        f"{file_name} is longer than one translation ({len(text):,} characters): its first "
        f"{len(prepared.sentences)} sentences are translated (at most {MAX_SENTENCES} sentences and "
        f"{MAX_SOURCE_CHARS:,} characters at a time)."])


def model_inputs(translator: Translator, sentences: list[str], target_language: str) -> list[str]:
    """What the encoder reads: each sentence, after the target-language tag if the model needs one."""
    if not translator.bidirectional:
        return sentences
    return [f"{TARGET_TAGS[target_language]} {sentence}" for sentence in sentences]


# --- forward ----------------------------------------------------------------------------

def generate(translator: Translator, inputs: list[str], beams: int, alternatives: int,
             length_penalty: float = LENGTH_PENALTY) -> list[list[Hypothesis]]:
    """Beam search for each input, in length-sorted batches; ``alternatives`` hypotheses each, best first."""
    lengths = [len(ids) for ids in translator.tokenizer(inputs, truncation=True,
                                                           max_length=MAX_SOURCE_TOKENS)["input_ids"]]
    results: dict[int, list[Hypothesis]] = {}
    deadline = Deadline(TIME_LIMIT, "Translate a shorter text, use a smaller beam, or try again when the server "
                                    "is less busy.")
    for batch in _batches(lengths, beams, translator.model.config.vocab_size):
        deadline.check()
        for index, hypotheses in zip(batch, _generate_batch(translator, [inputs[i] for i in batch],
                                                             beams, alternatives, length_penalty)):
            results[index] = hypotheses
    return [results[i] for i in range(len(inputs))]


def _new_tokens(source_tokens: int) -> int:
    return min(256, 2 * source_tokens + 10)  # a translation is rarely twice its source


def _batches(lengths: list[int], beams: int, vocabulary: int) -> list[list[int]]:
    """Indices in length order (little padding), grouped so each batch's kept scores fit SCORES_BUDGET_BYTES."""
    batches: list[list[int]] = []
    for index in sorted(range(len(lengths)), key=lengths.__getitem__):
        rows = len(batches[-1]) + 1 if batches else 1
        scores_bytes = rows * beams * _new_tokens(lengths[index]) * vocabulary * 4
        if batches and rows <= BATCH_SIZE and scores_bytes <= SCORES_BUDGET_BYTES:
            batches[-1].append(index)
        else:
            batches.append([index])
    return batches


def _generate_batch(translator: Translator, inputs: list[str], beams: int,
                    alternatives: int, length_penalty: float) -> list[list[Hypothesis]]:
    import torch

    tokenizer, model = translator.tokenizer, translator.model
    encoded = tokenizer(inputs, return_tensors="pt", padding=True, truncation=True,
                        max_length=MAX_SOURCE_TOKENS).to(translator.device)
    with torch.inference_mode():
        output = model.generate(
            **encoded, num_beams=beams, num_return_sequences=alternatives, do_sample=False,
            max_new_tokens=_new_tokens(encoded["input_ids"].shape[1]), length_penalty=length_penalty,
            output_scores=True, return_dict_in_generate=True,
        )
        scores = _sequence_scores(model, output, beams)
    texts = tokenizer.batch_decode(output.sequences, skip_special_tokens=True)
    flat = [Hypothesis(text.strip(), float(score), _content_ids(ids, tokenizer))
            for text, score, ids in zip(texts, scores.tolist(), output.sequences.tolist())]
    return [flat[i:i + alternatives] for i in range(0, len(flat), alternatives)]


def _sequence_scores(model, output, beams: int):
    """Mean log-probability per generated token, whatever length penalty ranked the beams."""
    beam_indices = output.beam_indices if beams > 1 else None  # beam search hands back log-probabilities
    steps = model.compute_transition_scores(output.sequences, output.scores, beam_indices,
                                            normalize_logits=beams == 1)
    generated = steps.isfinite() & (steps != 0)
    return (steps.where(generated, 0).sum(1) / generated.sum(1).clamp(min=1)).float().cpu()


def _content_ids(ids: list[int], tokenizer) -> list[int]:
    """The generated token ids up to and including </s>, without the decoder's start and padding."""
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    content = [i for i in ids[1:] if i != pad]
    return content[:content.index(eos) + 1] if eos in content else content


# --- postprocess ------------------------------------------------------------------------

def rejoin(source: str, sentences: list[Sentence], translations: list[str]) -> str:
    """The translated sentences laid out like the source: paragraphs and line breaks kept."""
    pieces = []
    for index, (sentence, translated) in enumerate(zip(sentences, translations)):
        if index:
            gap = source[sentences[index - 1].end:sentence.start]
            pieces.append("\n" * gap.count("\n") if "\n" in gap else " ")
        pieces.append(translated)
    return "".join(pieces)


# --- the whole call ---------------------------------------------------------------------

def translate(text: str, direction: str = "auto", model: str = "bundled", beams: int = 4,
              alternatives: int = 1) -> Translation:
    """Translate ``text`` sentence by sentence; ``alternatives`` hypotheses per sentence (n-best).

    ``model``: "bundled", "hub", or a local folder holding any saved MarianMT checkpoint.
    """
    beams, alternatives = int(beams), int(alternatives)
    if not 1 <= beams <= MAX_BEAMS:
        raise InputError(f"Beam size must be 1 to {MAX_BEAMS}.")
    if not 1 <= alternatives <= beams:
        raise InputError("Ask for at least one alternative, and at most as many as the beam size.")
    if model not in MODEL_CHOICES and not Path(model).is_dir():
        raise InputError(f"Unknown model {model!r}; choose one of: {', '.join(MODEL_CHOICES)}.")
    prepared = prepare(text, direction)
    translator = load(model_source(model, f"{prepared.source_language}-{prepared.target_language}"))
    notices = prepared.notices + _truncation_notices(translator, prepared.sentences)
    with stopwatch() as watch:
        inputs = model_inputs(translator, [s.text for s in prepared.sentences], prepared.target_language)
        hypotheses = generate(translator, inputs, beams, alternatives)
    sentences = [SentenceTranslation(s, h) for s, h in zip(prepared.sentences, hypotheses)]
    return Translation(
        rejoin(prepared.source, prepared.sentences, [s.best for s in sentences]), prepared.source,
        prepared.source_language, prepared.target_language, prepared.language_detected, sentences,
        translator.name, translator.device, watch.seconds, notices,
    )


def _truncation_notices(translator: Translator, sentences: list[Sentence]) -> list[str]:
    lengths = [len(translator.tokenizer.tokenize(s.text)) for s in sentences]
    return [f"Sentence {i + 1} is {n} subword tokens long; only its first {MAX_SOURCE_TOKENS} were translated."
            for i, n in enumerate(lengths) if n >= MAX_SOURCE_TOKENS]


def example_sentences() -> dict[str, list[str]]:
    """Bundled examples per source language: {"en": [...], "ru": [...]}."""
    return json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))


# --- explain ----------------------------------------------------------------------------

@dataclass
class Attention:
    source_tokens: list[str]  # what the encoder read (tag and </s> included)
    target_tokens: list[str]  # what the decoder wrote (</s> included)
    weights: np.ndarray  # (layers, heads, target tokens, source tokens); each row sums to 1


def cross_attention(translation: Translation, sentence: int = 0, alternative: int = 0) -> Attention:
    """Where the decoder looked while writing one sentence's translation: one teacher-forced pass
    over the chosen hypothesis, keeping every layer's and head's cross-attention."""
    import torch

    if not 0 <= sentence < len(translation.sentences):
        raise InputError(f"There is no sentence {sentence + 1}; this text has {len(translation.sentences)}.")
    translator = load(translation.model)
    chosen = translation.sentences[sentence]
    hypothesis = chosen.hypotheses[min(alternative, len(chosen.hypotheses) - 1)]
    source = model_inputs(translator, [chosen.source.text], translation.target_language)
    encoded = translator.tokenizer(source, return_tensors="pt", truncation=True,
                                   max_length=MAX_SOURCE_TOKENS).to(translator.device)
    start = translator.model.config.decoder_start_token_id
    decoder_ids = torch.tensor([[start] + hypothesis.token_ids[:-1]], device=translator.device)
    with torch.inference_mode():
        output = translator.model(**encoded, decoder_input_ids=decoder_ids, output_attentions=True)
    weights = torch.stack(output.cross_attentions)[:, 0].float().cpu().numpy()
    tokenizer = translator.tokenizer
    return Attention(tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist()),
                     tokenizer.convert_ids_to_tokens(hypothesis.token_ids), weights)


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


def explain(translation: Translation, sentence: int = 0, layer: int | None = None,
            head: int | None = None) -> dict[str, object]:
    """The insides for one sentence: its subword tokens on both sides and the cross-attention heatmap."""
    attention = cross_attention(translation, sentence)
    return {"attention": attention, "figure": attention_figure(attention, layer, head),
            "source_tokens": attention.source_tokens, "target_tokens": attention.target_tokens}


def alternatives_table(translation: Translation) -> list[dict[str, object]]:
    """One row per hypothesis of every sentence: the n-best lists with their scores."""
    return [{"sentence": index + 1, "rank": rank + 1, "translation": h.text, "score": round(h.score, 3),
             "per-token probability": round(float(np.exp(h.score)), 3)}
            for index, s in enumerate(translation.sentences) for rank, h in enumerate(s.hypotheses)]


def attention_layout(translation: Translation) -> tuple[int, int]:
    """(decoder layers, cross-attention heads) of the model that made ``translation``."""
    config = load(translation.model).model.config
    return config.decoder_layers, config.decoder_attention_heads


def training_story() -> dict[str, object]:
    """How the bundled model was made, from the files the training and evaluation scripts wrote."""
    story: dict[str, object] = {"loss_curve": LOSS_CURVE if LOSS_CURVE.exists() else None}
    for name, path in (("training", MODEL_DIR / "training.json"), ("data_splits", MODEL_DIR / "data_splits.json"),
                       ("scores", SCORES_FILE), ("choices", CHOICES_FILE)):
        story[name] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return story


def story_numbers(story: dict[str, object]) -> dict[str, str]:
    """The headline numbers of the bundled model's training, for a row of metrics."""
    training, splits = story["training"], story["data_splits"]
    numbers = {}
    if splits:
        numbers["Training pairs"] = f"{splits['sizes']['train']:,}"
        numbers["Held-out test pairs"] = f"{splits['sizes']['tatoeba_test'] + splits['sizes']['news_test']:,}"
    if training:
        numbers["Parameters"] = f"{training['parameters_million']} M"
        numbers["Update steps"] = f"{training['steps']:,}"
        numbers["Training time"] = f"{training['train_minutes']:.0f} min ({training['device'].upper()})"
    return numbers


def design_table(story: dict[str, object]) -> list[dict[str, object]]:
    """One model for both directions vs one per direction: dev BLEU at the same training compute, a row each."""
    return [{"design": row["candidate"],
             **{f"{score['dev_set']} dev, {DIRECTIONS[score['direction']]}": score["bleu"] for score in row["scores"]},
             "mean": row["mean_dev_bleu"]}
            for row in story["choices"].get("design", [])]


def score_table(story: dict[str, object]) -> list[dict[str, object]]:
    """BLEU and chrF per held-out test set and direction, as measured by scripts/evaluate_translation.py."""
    return [{"test set": row["test_set"], "direction": DIRECTIONS[row["direction"]], "BLEU": row["bleu"],
             "chrF": row["chrf"], "sentences": row["sentences"]} for row in story["scores"].get("scores", [])]


HOW_IT_WORKS = """
**Learning from parallel text, not from rules.** Nobody wrote grammar rules for this model.
It saw about 50,000 pairs of sentences (an English sentence and its Russian translation)
and adjusted its millions of weights so that, reading one side, it would give high
probability to the other, token by token (*cross-entropy* loss). The curve below is that
loss falling during training. Every pair is used in both directions: a tag at the start of
the input (`>>rus<<` or `>>eng<<`) tells the one model which language to write. We also
trained two one-way models with the same total compute: the one model scored higher on the
held-out dev sentences (table below; news most of all), as if learning to read and write both
languages helped each direction.

**Subwords.** Words are cut into pieces from an 8,000-entry SentencePiece vocabulary shared
by both languages (`·объясн` + `ить`), so rare words and Russian endings are built from
common pieces and nothing is "out of vocabulary".

**Encoder, decoder, attention.** The *encoder* (a stack of Transformer layers) reads all
source tokens at once; self-attention lets each token gather context from the others. The
*decoder* (another stack) writes the translation left to right. In each layer its **cross-attention**
compares what it is about to write with every source token and takes a weighted mix of
their vectors: the heatmap shows those weights, one row per output token. Bright cells
often line up with the words being translated; some heads track word order, others
punctuation or the end of the sentence.

**Beam search.** Taking the single most likely token at each step (greedy) can paint the
model into a corner. Beam search keeps the *k* best partial translations and returns the
best complete ones: the **n-best list**, scored by mean log-probability per token.

**Small data, honest limits.** Big systems learn from tens of millions of pairs; this one
from fifty thousand, on a CPU, so label smoothing, dropout and learning-rate warm-up help it
generalise, and the training script averages the last checkpoints when that lowers the dev loss. Its scores on held-out sentences are below, and
the OPUS-MT hub models are one click away when the network allows.
"""


# --- Gradio / HTTP endpoint -------------------------------------------------------------

def _endpoint(text: str, direction: str, beams: float, alternatives: float, model: str) -> tuple[str, dict]:
    translation = translate(text or "", direction=direction, model=model, beams=int(beams),
                            alternatives=int(alternatives))
    details = {
        "source_language": translation.source_language, "target_language": translation.target_language,
        "language_detected": translation.language_detected, "model": translation.model,
        "device": translation.device, "seconds": round(translation.seconds, 3), "notices": translation.notices,
        "sentences": [{"source": s.source.text,
                       "alternatives": [{"text": h.text, "score": round(h.score, 3)} for h in s.hypotheses]}
                      for s in translation.sentences],
    }
    return translation.text, details


ENDPOINT = Endpoint(
    fn=_endpoint,
    inputs=(
        TextField("text", "Text (Russian or English)", example_sentences()["en"][0], lines=6),
        ChoiceField("direction", "Direction", ("auto", *DIRECTIONS), "auto"),
        NumberField("beams", "Beam size", 1, MAX_BEAMS, 4),
        NumberField("alternatives", "Alternatives per sentence (n-best)", 1, MAX_BEAMS, 1),
        ChoiceField("model", "Model", tuple(MODEL_CHOICES), "bundled"),
    ),
    outputs=(TextOutput("Translation"), JsonOutput("Details")),
)

"""Neural machine translation, Russian <-> English: a pre-trained encoder reads, a decoder trained here writes.

A translator is not a dictionary plus grammar rules: it is a network that learned from
pairs of sentences, one the translation of the other. This one is an encoder-decoder:

- the **encoder** is multilingual-e5-small (the summariser's sentence encoder), pre-trained on web
  text in about 100 languages and frozen: it reads the source sentence, cut into its 250k-piece
  SentencePiece vocabulary, and gives every token a context-aware vector. That is **transfer
  learning**: 50k sentence pairs could not teach a network to read two languages, but they can
  teach a small decoder to write from a reader that already can;
- the **decoder** (trained here) writes the translation one subword token at a time, after a tag
  naming the target language (``>>rus<<`` or ``>>eng<<``), so one decoder writes both languages;
  at each step its **cross-attention** looks back at the encoder's vectors, weighting the source
  tokens it needs now. Those weights are the heatmap this demo draws;
- **beam search** keeps the few best partial translations at every step instead of only the
  single most likely token, returns an n-best list with scores, and forbids the loops a small
  model falls into (an n-gram written twice, a span three times in a row).

The first bundled model, a MarianMT trained here from scratch on the same pairs, stays one click away
("scratch"), and so do the hub models (Helsinki-NLP OPUS-MT, one per direction, trained on tens of
millions of pairs) when the network allows: the same pairs, three amounts of prior knowledge.

The story of a call: preprocess (validate, detect the language, split into sentences), forward (batched
beam search, n-best), postprocess (re-join the sentences as they were laid out), explain (cross-attention
of one sentence).

The package reads in that order: ``model`` (what a translator hands back, loading), ``e5_reader`` and
``marian`` (the two kinds of model), ``source`` (checking the text or document, its direction and
sentences, laying the translation out again), ``decoding`` (batched requests, the whole call),
``insides`` (cross-attention, tokens, alternatives), ``story`` (how the bundled model was trained and
scored); here, the card, the story for the page and the endpoint.
"""
from __future__ import annotations

from core.contract import (ChoiceField, DemoCard, Endpoint, FigureOutput, JsonOutput, MarkdownOutput, NumberField,
                           TableOutput, TextField, TextOutput, choices)
# the demo's public face, as pages, tests, scripts and benchmarks use it (``demo.X``)
from demos.translation.decoding import (LENGTH_PENALTY, MAX_BEAMS, REQUESTS_PER_BATCH, TIME_LIMIT, Decoded, Request,
                                        SentenceTranslation, Translation, decode, generate, translate)
from demos.translation.insides import (TranslationInsides, alternatives_table, attend, attention_figure,
                                       attention_layout, cross_attention, explain, tokens_markdown)
from demos.translation.model import (HUB_MODELS, MAX_SOURCE_TOKENS, MODEL_CHOICES, MODEL_DIR, SCRATCH_MODEL_DIR,
                                     TARGET_TAGS, Attention, Hypothesis, Translator, load, load_translator,
                                     model_source)
from demos.translation.side_by_side import Side, second_model_to_compare, side_by_side
from demos.translation.source import (DIRECTION_LABELS, DIRECTIONS, EXAMPLES, MAX_DOCUMENT_CHARS,
                                      MAX_SENTENCES, MAX_SOURCE_CHARS, PreparedSource, SourceDocument,
                                      example_sentences, prepare, read_source_document, rejoin, resolve_direction)
from demos.translation.story import (BUNDLED_LIMITS, CHOICES_FILE, DEV_FILES, LOSS_CURVE, SCORES_FILE, design_table,
                                     reader_table, score_table, story_numbers, training_story)

CARD = DemoCard(
    slug="translation",
    title="Translation (Russian ↔ English)",
    icon="🌍",
    pitch="Translate between Russian and English: a pre-trained encoder reads, a decoder trained here writes, "
          "and you watch where it looks.",
    tags=("Transformer", "transfer learning", "cross-attention", "beam search", "SentencePiece"),
    inputs=("text", "document"),
)


HOW_IT_WORKS = """
**Reading is borrowed, writing is learned.** The bundled translator reads with
*multilingual-e5-small*, a 12-layer Transformer encoder pre-trained (by others, on web text in
about 100 languages) to give similar vectors to sentences that mean the same. It is frozen: we
only trained what sits on top, a mix of two of its layers, one adapter layer and a 3-layer
decoder (6 M parameters), on about 50,000 pairs of sentences (an English sentence and its
Russian translation), each used in both directions. Training adjusts the decoder's weights so that,
given E5's reading of one side, it gives high probability to the other, token by token
(*cross-entropy* loss); the curve below is that loss falling, on held-out dev sentences too.
A tag (`>>rus<<` or `>>eng<<`) as the decoder's first token tells it which language to write.

**Transfer learning, measured.** The first bundled model (choose "scratch") learned to read
*and* write from the same 50,000 pairs. On the same dev sentences the E5 reader scores higher,
most of all on news and general text, the sentences least like its training pairs (table below):
what the encoder learned before, on far more text, carries over.

**Subwords.** Words are cut into pieces, so rare words and Russian endings are built from common
pieces and nothing is "out of vocabulary": E5 reads with its own 250,000 pieces (`▁passage:` is
the prefix E5 was trained to see before a text), the decoder writes with 8,000 (`·объясн` + `ить`).

**Attention.** In each decoder layer, **cross-attention** compares what it is about to write
with every source token and takes a weighted mix of their vectors: the heatmap shows those
weights, one row per output token. Bright cells often line up with the words being translated;
some heads track word order, others punctuation or the end of the sentence.

**Beam search.** Taking the single most likely token at each step (greedy) can paint the
model into a corner. Beam search keeps the *k* best partial translations and returns the
best complete ones: the **n-best list**, scored by mean log-probability per token. It also
forbids writing an n-gram twice and a span three times in a row: small models loop otherwise.

**Small data, honest limits.** Big systems learn from tens of millions of pairs; this decoder
from fifty thousand, on a CPU. Its scores on held-out sentences are below, and the OPUS-MT hub
models are one click away when the network allows.
"""


# --- Gradio / HTTP endpoint -------------------------------------------------------------

def _endpoint(text: str, direction: str, beams: int, alternatives: int, model: str) -> tuple:
    """The translation and its details, then the insides as the page shows them by default: the first
    sentence's cross-attention averaged over layers and heads, its tokens, and the n-best lists."""
    translation = translate(text or "", direction=direction, model=model, beams=beams, alternatives=alternatives)
    details = {
        "source_language": translation.source_language, "target_language": translation.target_language,
        "language_detected": translation.language_detected, "model": model,  # the choice: no server path
        # what to expect of the model, beside its answer, as the page has it beside the model choice
        **({"limits": BUNDLED_LIMITS} if model == "bundled" else {}),
        "device": translation.device, "seconds": round(translation.seconds, 3), "notices": translation.notices,
        "sentences": [{"source": s.source.text,
                       "alternatives": [{"text": h.text, "score": round(h.score, 3)} for h in s.hypotheses]}
                      for s in translation.sentences],
    }
    insides = explain(translation)
    return translation.text, details, insides.figure, insides.tokens, alternatives_table(translation)


def _side_by_side_endpoint(text: str, direction: str, beams: int, first_model: str, second_model: str) -> tuple:
    """Both models' translations (or a model's message where it could not run), then their cross-attention."""
    sides = side_by_side(text or "", direction=direction, models=(first_model, second_model), beams=beams)
    details = [{"model": side.model, "message": side.message} if side.translation is None else
               {"model": side.model, "device": side.translation.device,
                "seconds": round(side.translation.seconds, 3), "notices": side.translation.notices}
               for side in sides]
    return (*(side.translation.text if side.translation else side.message for side in sides), details,
            *(side.figure for side in sides))


ENDPOINTS = (Endpoint(
    fn=_endpoint,
    inputs=(
        TextField("text", "Text (Russian or English)", example_sentences()["en"][0], lines=6),
        ChoiceField("direction", "Direction", choices(DIRECTION_LABELS, DIRECTION_LABELS.get), "auto"),
        NumberField("beams", "Beam size", 1, MAX_BEAMS, 4, integer=True),
        NumberField("alternatives", "Alternatives per sentence (n-best)", 1, MAX_BEAMS, 1, integer=True),
        ChoiceField("model", "Model", choices(MODEL_CHOICES, MODEL_CHOICES.get), "bundled"),
    ),
    outputs=(TextOutput("Translation"), JsonOutput("Details")),
    insides=(
        FigureOutput("Where the decoder looked: cross-attention of the first sentence, all layers and heads "
                     "averaged (a row per output token, a column per source token)"),
        MarkdownOutput("The first sentence's subword tokens (▁ marks the start of a word)"),
        TableOutput("Alternatives (n-best) of every sentence; score: mean log-probability per output token "
                    "(closer to 0 = more confident)"),
    ),
    title="Translate",
), Endpoint(
    fn=_side_by_side_endpoint,
    inputs=(
        TextField("text", "Text (Russian or English)", example_sentences()["en"][0], lines=4),
        ChoiceField("direction", "Direction", choices(DIRECTION_LABELS, DIRECTION_LABELS.get), "auto"),
        NumberField("beams", "Beam size", 1, MAX_BEAMS, 4, integer=True),
        ChoiceField("first_model", "Left model", choices(MODEL_CHOICES, MODEL_CHOICES.get), "bundled"),
        # the first bundled model by default, which runs anywhere; the hub's OPUS-MT where the network allows
        ChoiceField("second_model", "Right model", choices(MODEL_CHOICES, MODEL_CHOICES.get), "scratch"),
    ),
    outputs=(TextOutput("Left model's translation"), TextOutput("Right model's translation (or why it could "
                                                                "not run)"), JsonOutput("Details")),
    insides=(FigureOutput("Where the left model's decoder looked (first sentence, layers and heads averaged)"),
             FigureOutput("Where the right model's decoder looked")),
    title="Side by side",
    api_suffix="_side_by_side",
))


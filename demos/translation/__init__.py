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

The package reads in that order: ``model`` (loading, the target-language tag), ``source`` (checking
the text or document, its direction and sentences, laying the translation out again), ``decoding``
(beam search, n-best, the whole call), ``insides`` (cross-attention, tokens, alternatives), ``story``
(how the bundled model was trained and scored); here, the card, the story for the page and the endpoint.
"""
from __future__ import annotations

from core.contract import (ChoiceField, DemoCard, Endpoint, FigureOutput, JsonOutput, MarkdownOutput, NumberField,
                           TableOutput, TextField, TextOutput, choices)
# the demo's public face, as pages, tests, scripts and benchmarks use it (``demo.X``)
from demos.translation.decoding import (BATCH_SIZE, LENGTH_PENALTY, MAX_BEAMS, REQUESTS_PER_BATCH, SCORES_BUDGET_BYTES,
                                        TIME_LIMIT, Decoded, Hypothesis, Request, SentenceTranslation, Translation,
                                        decode, generate, translate)
from demos.translation.insides import (Attention, TranslationInsides, alternatives_table, attend, attention_figure,
                                       attention_layout, cross_attention, explain, tokens_markdown)
from demos.translation.model import (HUB_MODELS, MAX_SOURCE_TOKENS, MODEL_CHOICES, MODEL_DIR, TARGET_TAGS, Translator,
                                     load, load_translator, model_inputs, model_source)
from demos.translation.source import (DIRECTION_LABELS, DIRECTIONS, EXAMPLES, MAX_DOCUMENT_CHARS,
                                      MAX_SENTENCES, MAX_SOURCE_CHARS, PreparedSource, SourceDocument,
                                      example_sentences, prepare, read_source_document, rejoin, resolve_direction)
from demos.translation.story import (BUNDLED_LIMITS, CHOICES_FILE, LOSS_CURVE, SCORES_FILE, design_table,
                                     score_table, story_numbers, training_story)

CARD = DemoCard(
    slug="translation",
    title="Translation (Russian ↔ English)",
    icon="🌍",
    pitch="Translate between Russian and English with a Transformer trained here, and watch where it looks.",
    tags=("Transformer", "encoder-decoder", "cross-attention", "beam search", "SentencePiece"),
    inputs=("text", "document"),
)


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
),)

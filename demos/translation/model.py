"""The model: one loading path for the bundled bidirectional MarianMT, a hub OPUS-MT checkpoint or any
saved MarianMT folder, and the target-language tag the bundled model reads first."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from core.contract import ASSETS
from core.device import choose_device
from core.hub import local_files_only
from core.models import MODELS
from core.validation import InputError

MODEL_DIR = ASSETS.parent / "models" / "translation"
MODEL_CHOICES = {"bundled": "Bundled (trained here, offline)", "hub": "Hub: Helsinki-NLP OPUS-MT (needs network)"}
HUB_MODELS = {"en-ru": "Helsinki-NLP/opus-mt-en-ru", "ru-en": "Helsinki-NLP/opus-mt-ru-en"}
TARGET_TAGS = {"en": ">>eng<<", "ru": ">>rus<<"}
MAX_SOURCE_TOKENS = 128  # a longer sentence is cut: the model saw nothing longer in training


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


def load(path_or_id: str | Path = MODEL_DIR) -> Translator:
    """The translator at a local folder or hub id, loaded once per process."""
    return MODELS.get(f"translation:{path_or_id}", partial(load_translator, path_or_id))


def load_translator(path_or_id: str | Path) -> Translator:
    """The one loading path for the bundled model, a hub checkpoint or any saved MarianMT folder."""
    import torch
    from transformers import MarianMTModel, MarianTokenizer

    device = choose_device()
    local_only = local_files_only(path_or_id)
    try:
        with warnings.catch_warnings():  # it recommends sacremoses, which only its unused normalize() needs
            warnings.filterwarnings("ignore", message="Recommended: pip install sacremoses")
            tokenizer = MarianTokenizer.from_pretrained(str(path_or_id), local_files_only=local_only)
        # eager attention: the only kind that hands back the cross-attention weights we draw
        # float32 weights (float16 on disk) everywhere: on CUDA generation runs in float16 autocast (decoding.py),
        # which keeps layer norms and softmax in float32, as float16 weights would not
        model = MarianMTModel.from_pretrained(str(path_or_id), dtype=torch.float32, attn_implementation="eager",
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


def model_inputs(translator: Translator, sentences: list[str], target_language: str) -> list[str]:
    """What the encoder reads: each sentence, after the target-language tag if the model needs one."""
    if not translator.bidirectional:
        return sentences
    return [f"{TARGET_TAGS[target_language]} {sentence}" for sentence in sentences]

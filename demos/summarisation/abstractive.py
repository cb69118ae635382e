"""Forward (abstractive, the hub upgrade): an encoder-decoder Transformer (BART trained on CNN/DailyMail
for English, mBART trained on Gazeta for Russian, or any saved summariser) writes a new summary token by
token; a teacher-forced pass then reads off each token's probability and the cross-attention summed over
each source sentence (which sentences the generator read while writing). ``generate`` is the model work
(``core.engine``): it loads the summariser itself, where it runs, and hands back plain data."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from core.device import choose_device
from core.engine import model_work
from core.hub import local_files_only
from core.language import Sentence
from core.models import MODELS
from core.timing import stopwatch
from core.validation import InputError
from demos.summarisation.article import PreparedArticle

HUB_SUMMARISERS = {"en": "facebook/bart-large-cnn", "ru": "IlyaGusev/mbart_ru_sum_gazeta"}
HEADLINE_TOKENS = 32  # the abstractive length budget: a headline, or about this many tokens per sentence kept
TOKENS_PER_SENTENCE = 40
NUM_BEAMS = 4


@dataclass
class Seq2Seq:
    name: str  # the folder or hub id it was loaded from
    tokenizer: object  # a fast tokenizer (its offsets map tokens to sentences)
    model: object  # AutoModelForSeq2SeqLM, eager attention
    device: str


@dataclass
class GeneratedToken:
    text: str
    probability: float  # the model's probability for this token, given the text and the tokens before


@dataclass
class SummaryGeneration:
    """The abstractive insides."""
    tokens: list[GeneratedToken]
    attention: np.ndarray  # (generated tokens, sentences): cross-attention summed over each sentence's tokens


@dataclass
class Written:
    """What the generator hands back."""
    text: str
    generation: SummaryGeneration
    device: str
    seconds: float  # the generation alone: the model's loading is left out
    notices: list[str]


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


@model_work("summarisation", gpu_seconds=30)
def generate(prepared: PreparedArticle, model: str, max_new_tokens: int) -> Written:
    """Beam search writes the summary; a second, teacher-forced pass reads off what it attended to.
    ``model``: the summariser's folder or hub id, loaded here once per process (or replica)."""
    import torch

    seq2seq = load_abstractive(model)
    with stopwatch() as watch:
        inputs = seq2seq.tokenizer(prepared.source, truncation=True, max_length=_max_source_tokens(seq2seq),
                                   return_offsets_mapping=True, return_tensors="pt")
        offsets = inputs.pop("offset_mapping")[0].numpy()
        inputs = inputs.to(seq2seq.device)
        notices = [f"The model reads at most {_max_source_tokens(seq2seq)} tokens: only the beginning of the text "
                   "was summarised."] if inputs["input_ids"].shape[1] == _max_source_tokens(seq2seq) else []
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
        text = seq2seq.tokenizer.decode(ids[0], skip_special_tokens=True).strip()
    return Written(text, SummaryGeneration(tokens, attention), seq2seq.device, watch.seconds, notices)


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

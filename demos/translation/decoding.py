"""Forward: batched beam search, each sentence's n-best hypotheses with their scores, and the whole
call from a source text to a ``Translation`` laid out like it. ``decode`` is the model work
(``core.engine``): many visitors' sentences go through one beam search, where the model runs."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.device import mixed_precision
from core.engine import model_work
from core.language import Sentence
from core.timing import Deadline, stopwatch
from core.validation import InputError
from demos.translation.model import MAX_SOURCE_TOKENS, MODEL_CHOICES, Translator, load, model_inputs, model_source
from demos.translation.source import prepare, rejoin

MAX_BEAMS = 8
LENGTH_PENALTY = 1.0  # beam search ranks by log-probability / length**LENGTH_PENALTY; best on the dev sets
BATCH_SIZE = 16
SCORES_BUDGET_BYTES = 64 * 2**20  # beam search keeps every step's scores: rows x beams x steps x vocabulary
TIME_LIMIT = 60.0  # seconds of beam search per request, checked between batches
REQUESTS_PER_BATCH = 8  # visitors' texts decoded together: 3x the requests per second on short sentences


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
    layout: tuple[int, int] = (0, 0)  # (decoder layers, cross-attention heads) of the model


@dataclass(frozen=True)
class Request:
    """One visitor's sentences, as the translator is asked for them."""
    model: str  # a folder or hub id
    sentences: tuple[str, ...]
    target_language: str
    beams: int
    alternatives: int


@dataclass
class Decoded:
    """What the translator hands back for one request."""
    hypotheses: list[list[Hypothesis]]  # per sentence, best first
    device: str
    seconds: float  # the beam search that wrote them (with other visitors' sentences, when batched)
    notices: list[str]  # sentences cut at MAX_SOURCE_TOKENS
    layout: tuple[int, int]  # (decoder layers, cross-attention heads)


@model_work("translation", batch=REQUESTS_PER_BATCH, gpu_seconds=20)
def decode(requests: list[Request]) -> list[Decoded]:
    """Beam search for many requests: those with the same model and beam settings share one ``generate``
    (its length-sorted batches then fill up: the same hypotheses as alone, scores to float rounding)."""
    decoded: list[Decoded | None] = [None] * len(requests)
    groups: dict[tuple[str, int, int], list[int]] = {}
    for index, request in enumerate(requests):
        groups.setdefault((request.model, request.beams, request.alternatives), []).append(index)
    for (model, beams, alternatives), members in groups.items():
        translator = load(model)  # once per process (or replica), outside the timing
        inputs = [model_inputs(translator, list(requests[i].sentences), requests[i].target_language) for i in members]
        with stopwatch() as watch:
            hypotheses = generate(translator, [text for own in inputs for text in own], beams, alternatives)
        config, start = translator.model.config, 0
        for index, own in zip(members, inputs):
            decoded[index] = Decoded(hypotheses[start:start + len(own)], translator.device, watch.seconds,
                                     _truncation_notices(translator, requests[index].sentences),
                                     (config.decoder_layers, config.decoder_attention_heads))
            start += len(own)
    return decoded


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
    with torch.inference_mode(), mixed_precision(torch.device(translator.device).type):  # float16 on CUDA
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
    source = str(model_source(model, f"{prepared.source_language}-{prepared.target_language}"))
    decoded = decode([Request(source, tuple(s.text for s in prepared.sentences), prepared.target_language, beams,
                              alternatives)])[0]
    sentences = [SentenceTranslation(s, h) for s, h in zip(prepared.sentences, decoded.hypotheses)]
    return Translation(
        rejoin(prepared.source, prepared.sentences, [s.best for s in sentences]), prepared.source,
        prepared.source_language, prepared.target_language, prepared.language_detected, sentences,
        source, decoded.device, decoded.seconds, prepared.notices + decoded.notices, decoded.layout,
    )


def _truncation_notices(translator: Translator, sentences: tuple[str, ...]) -> list[str]:
    lengths = [len(translator.tokenizer.tokenize(sentence)) for sentence in sentences]
    return [f"Sentence {i + 1} is {n} subword tokens long; only its first {MAX_SOURCE_TOKENS} were translated."
            for i, n in enumerate(lengths) if n >= MAX_SOURCE_TOKENS]

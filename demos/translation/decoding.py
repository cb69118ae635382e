"""Forward: batched beam search, each sentence's n-best hypotheses with their scores, and the whole
call from a source text to a ``Translation`` laid out like it. ``decode`` is the model work
(``core.engine``): many visitors' sentences go through one beam search, where the model runs."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.engine import model_work
from core.language import Sentence
from core.timing import Deadline, stopwatch
from core.validation import InputError
from demos.translation.model import MAX_SOURCE_TOKENS, MODEL_CHOICES, Hypothesis, Translator, load, model_source
from demos.translation.source import prepare, rejoin

MAX_BEAMS = 8
LENGTH_PENALTY = 1.0  # beam search ranks by log-probability / length**LENGTH_PENALTY; best on the dev sets
TIME_LIMIT = 60.0  # seconds of beam search per request, checked between batches
REQUESTS_PER_BATCH = 8  # visitors' texts decoded together: 3x the requests per second on short sentences


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
    """Beam search for many requests: those with the same model, beam settings and target language share one
    ``generate`` (its length-sorted batches then fill up: the same hypotheses as alone, scores to float rounding)."""
    decoded: list[Decoded | None] = [None] * len(requests)
    groups: dict[tuple[str, int, int, str], list[int]] = {}
    for index, request in enumerate(requests):
        groups.setdefault((request.model, request.beams, request.alternatives, request.target_language),
                          []).append(index)
    for (model, beams, alternatives, language), members in groups.items():
        translator = load(model)  # once per process (or replica), outside the timing
        sentences = [list(requests[i].sentences) for i in members]
        with stopwatch() as watch:
            hypotheses = generate(translator, [s for own in sentences for s in own], language, beams, alternatives)
        start = 0
        for index, own in zip(members, sentences):
            decoded[index] = Decoded(hypotheses[start:start + len(own)], translator.device, watch.seconds,
                                     _truncation_notices(translator, own, language), translator.layout)
            start += len(own)
    return decoded


def generate(translator: Translator, sentences: list[str], target_language: str, beams: int, alternatives: int,
             length_penalty: float = LENGTH_PENALTY) -> list[list[Hypothesis]]:
    """Beam search for each sentence, in the batches the model takes; ``alternatives`` hypotheses each, best
    first. The time limit is checked between batches."""
    lengths = translator.source_lengths(sentences, target_language)
    results: dict[int, list[Hypothesis]] = {}
    deadline = Deadline(TIME_LIMIT, "Translate a shorter text, use a smaller beam, or try again when the server "
                                    "is less busy.")
    for batch in translator.batches(lengths, beams):
        deadline.check()
        written = translator.write([sentences[i] for i in batch], target_language, beams, alternatives,
                                   length_penalty)
        results.update(zip(batch, written))
    return [results[i] for i in range(len(sentences))]


# --- the whole call ---------------------------------------------------------------------

def translate(text: str, direction: str = "auto", model: str = "bundled", beams: int = 4,
              alternatives: int = 1) -> Translation:
    """Translate ``text`` sentence by sentence; ``alternatives`` hypotheses per sentence (n-best).

    ``model``: "bundled", "scratch", "hub", or a local folder holding a saved translator of either kind.
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


def _truncation_notices(translator: Translator, sentences: list[str], target_language: str) -> list[str]:
    lengths = translator.source_lengths(sentences, target_language)
    return [f"Sentence {i + 1} is {n} subword tokens long; only its first {MAX_SOURCE_TOKENS} were translated."
            for i, n in enumerate(lengths) if n > MAX_SOURCE_TOKENS]

"""Russian and English text: which of the two a text is, and where its sentences end.

Shared by the text demos (summarisation, translation). Detection needs no model: the
script (Cyrillic or Latin) decides, and for Latin text the share of common English function
words tells English from other Latin-script languages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from core.validation import InputError

LANGUAGES = {"en": "English", "ru": "Russian"}

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_NON_RUSSIAN_CYRILLIC = re.compile(r"[іїєґўђјљњћџ]", re.IGNORECASE)  # Ukrainian, Belarusian, Serbian...
_ENGLISH_FUNCTION_WORDS = frozenset(
    "the and of to is was that for with on it as are by this be at from have has which were not but "
    "his her they their he she we you will would an or been its after said".split()
)
MIN_LETTERS = 20
SHORT_TEXT_WORDS = 12  # below this, Latin script alone says English


def detect_language(text: str, min_letters: int = MIN_LETTERS) -> str:
    """"en" or "ru" from the script and, for Latin text, the share of English function words."""
    sample = text[:20_000]
    letters = sum(char.isalpha() for char in sample)
    if letters < min_letters:
        raise InputError("There are too few letters here to tell the language. Write in Russian or English.")
    cyrillic, latin = len(_CYRILLIC.findall(sample)), len(_LATIN.findall(sample))
    if cyrillic > 0.6 * letters and len(_NON_RUSSIAN_CYRILLIC.findall(sample)) < 0.005 * letters:
        return "ru"
    if latin > 0.6 * letters:
        words = re.findall(r"[a-z']+", sample.lower())
        too_short_to_judge = len(words) < SHORT_TEXT_WORDS
        if too_short_to_judge or sum(word in _ENGLISH_FUNCTION_WORDS for word in words) >= 0.12 * len(words):
            return "en"
    raise InputError("This text does not look Russian or English, the two languages this demo reads. "
                     "If it is, choose the language by hand.")


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # character offsets into the analysed text
    end: int


# A sentence ends at . ! ? or … (maybe followed by closing quotes or brackets), before a
# space and a capital letter, digit or opening quote.
_ENGLISH_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_ENGLISH_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt vs etc e.g i.e cf al a.m p.m u.s u.k u.n inc ltd co corp no nos fig "
    "gen col lt sgt capt rev gov sen rep jan feb mar apr jun jul aug sep sept oct nov dec approx dept est".split()
)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def split_sentences(text: str, language: str) -> list[Sentence]:
    """Sentences with their offsets; blank lines always end one (headlines have no full stop)."""
    sentences = []
    for block_start, block_end in _blocks(text):
        block = text[block_start:block_end]
        spans = _razdel_spans(block) if language == "ru" else _english_spans(block)
        for start, end in spans:
            raw = block[start:end]
            if any(char.isalpha() for char in raw):
                first = block_start + start + len(raw) - len(raw.lstrip())
                sentences.append(Sentence(" ".join(raw.split()), first, first + len(raw.strip())))
    return sentences


def _blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph, paragraphs being separated by blank lines."""
    breaks = list(_PARAGRAPH_BREAK.finditer(text))
    starts = [0] + [match.end() for match in breaks]
    ends = [match.start() for match in breaks] + [len(text)]
    return list(zip(starts, ends))


def _razdel_spans(text: str) -> list[tuple[int, int]]:
    from razdel import sentenize

    return [(piece.start, piece.stop) for piece in sentenize(text)]


def _english_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in _ENGLISH_BOUNDARY.finditer(text):
        if not _ends_with_abbreviation(text[start:match.end()]):
            spans.append((start, match.end()))
            start = match.end()
    return spans + [(start, len(text))]


def _ends_with_abbreviation(sentence: str) -> bool:
    """True when the final full stop belongs to "Dr.", "e.g.", an initial like "J." and so on."""
    if not sentence.rstrip("\"'”’)]").endswith("."):
        return False
    words = sentence.rstrip("\"'”’)].").split()
    last = words[-1].lstrip("\"'“‘([").lower() if words else ""
    return last in _ENGLISH_ABBREVIATIONS or (len(last) == 1 and last.isalpha())

"""Preprocess: the article checked, its language detected (unless chosen), split into sentences and
cut when very long; and how many of them the summary keeps."""
from __future__ import annotations

from dataclasses import dataclass

from core.contract import ASSETS
from core.language import LANGUAGES, Sentence, detect_language, split_sentences
from core.validation import InputError, read_text

LANGUAGE_CHOICES = {"auto": "Detect", **LANGUAGES}
LENGTH_MODES = {"sentences": "Sentences", "ratio": "Share of the text", "headline": "Headline (one line)"}
MAX_SENTENCES = 150  # longer texts are cut here (with a notice): the graph grows with the square
EXAMPLES_DIR = ASSETS / "summarisation"


@dataclass
class PreparedArticle:
    source: str
    language: str
    language_detected: bool
    sentences: list[Sentence]
    notices: list[str]


def prepare(text: str, language: str = "auto") -> PreparedArticle:
    """Validate, detect the language (unless chosen), split, and cut very long texts."""
    text = read_text(text)
    if language not in LANGUAGE_CHOICES:
        raise InputError(f"Unknown language {language!r}; choose {', '.join(LANGUAGE_CHOICES)}.")
    detected = language == "auto"
    language = detect_language(text) if detected else language
    sentences, notices = split_sentences(text, language), []
    if len(sentences) > MAX_SENTENCES:
        notices.append(f"The text has {len(sentences)} sentences; only the first {MAX_SENTENCES} were "
                       "summarised.")
        sentences = sentences[:MAX_SENTENCES]
    if len(sentences) < 2:
        raise InputError("This text is a single sentence: there is nothing to choose from. "
                         "Paste a longer article (at least two sentences).")
    return PreparedArticle(text[:sentences[-1].end], language, detected, sentences, notices)


def summary_length(sentence_count: int, length: str, count: int, ratio: float) -> int:
    """How many sentences to keep: a number, a share of the text, or one (headline)."""
    if length == "headline":
        return 1
    if length == "sentences":
        if count < 1:
            raise InputError("Ask for at least one sentence.")
        return min(int(count), sentence_count)
    if length == "ratio":
        if not 0.0 < ratio <= 1.0:
            raise InputError("The ratio must be above 0 and at most 1.")
        return max(1, round(ratio * sentence_count))
    raise InputError(f"Unknown length mode {length!r}; choose one of: {', '.join(LENGTH_MODES)}.")


def example_articles() -> dict[str, str]:
    """Bundled example articles: "EN · headline" -> body (the headline is the file's first line)."""
    articles = {}
    for path in sorted(EXAMPLES_DIR.glob("*.txt")):
        headline, body = path.read_text(encoding="utf-8").split("\n", 1)
        articles[f"{path.stem[:2].upper()} · {headline}"] = body.strip()
    return articles

"""Summarisation latency: a 1,000-word article, warm, for each bundled encoder.

Target (issue 7): <= 1 s per 1,000-word article on the CPU. The article is the bundled
examples of one language, repeated and cut to 1,000 words at a sentence end.
"""
from __future__ import annotations

import os
import time

from common import median_seconds, write_result

from demos import summarisation

WORDS = 1_000
TARGET_SECONDS = 1.0
RUNS = (("minilm", "en"), ("e5", "en"), ("e5", "ru"))


def article(language: str, words: int = WORDS) -> str:
    """The examples in ``language`` repeated until ``words`` words, cut at a sentence end."""
    bodies = [text for name, text in summarisation.example_articles().items() if name.startswith(language.upper())]
    sentences = [s.text for body in bodies for s in summarisation.split_sentences(body, language)]
    kept: list[str] = []
    while sum(len(sentence.split()) for sentence in kept) < words:
        kept.append(sentences[len(kept) % len(sentences)])
    return " ".join(kept)


def main() -> None:
    rows = []
    for encoder, language in RUNS:
        text = article(language)
        summary = summarisation.summarise(text, language=language, encoder=encoder)  # also loads the model
        cpu_start = time.process_time()
        seconds = median_seconds(lambda: summarisation.summarise(text, language=language, encoder=encoder))
        cpu_seconds = (time.process_time() - cpu_start) / 6  # 1 warm-up + 5 timed calls, all threads
        rows.append({"encoder": summarisation.ENCODERS[encoder], "language": language, "words": len(text.split()),
                     "sentences": len(summary.sentences), "device": summary.device, "seconds": round(seconds, 3),
                     "cpu_seconds_per_call": round(cpu_seconds, 3),
                     "meets_target": seconds <= TARGET_SECONDS})
    write_result("summarisation", {
        "what": "median of 5 warm summarise() calls (split, embed, TextRank, MMR; 3 sentences kept)",
        "load_average_1min": round(os.getloadavg()[0], 2),  # other work on the machine slows every figure
        "rows": rows,
        "targets": {"seconds_per_1000_words_max": TARGET_SECONDS},
        "meets_targets": all(row["meets_target"] for row in rows),
    })


if __name__ == "__main__":
    main()

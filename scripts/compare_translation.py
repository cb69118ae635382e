"""Choose the translator's design and decoding on the held-out dev slices, never on the test slices.

Two questions from the issue, answered with sacrebleu BLEU and chrF on Tatoeba dev and news dev
(both directions) through the demo's own batched beam search:

- ``--candidates``: one bidirectional model against two one-way models trained with the same
  recipe and the same total compute (``scripts/train_translation.py --direction``). A candidate
  is ``name=path[,path]``; each path's ``training.json`` says which direction it learned.
- ``--decoding beams:length_penalty ...``: decoding settings, for the candidate that scored best.

Writes ``benchmarks/results/translation_choices.json``.

Usage: .venv/bin/python scripts/compare_translation.py \
    --candidates bidirectional=models/translation \
        one-way=runs/candidates/translation_en-ru,runs/candidates/translation_ru-en \
    --decoding 4:0.6 4:1.4 2:1.0 6:1.0
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.common import write_result  # noqa: E402
from demos import translation  # noqa: E402
from scripts.evaluate_translation import direction_models, held_out_pairs, scored_pairs  # noqa: E402

DEV_SETS = ("tatoeba_dev", "news_dev")


def dev_scores(models: dict[str, str], data_dir: Path, beams: int, length_penalty: float) -> list[dict]:
    rows = []
    for name in DEV_SETS:
        for row in scored_pairs(models, held_out_pairs(data_dir, name), name.split("_")[0], beams, length_penalty):
            rows.append({"dev_set": row.pop("test_set"), **{k: v for k, v in row.items() if k != "examples"}})
    return rows


def mean_bleu(rows: list[dict]) -> float:
    return round(sum(r["bleu"] for r in rows) / len(rows), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO / "runs" / "translation" / "data")
    parser.add_argument("--candidates", nargs="+", required=True, help="name=path[,path]")
    parser.add_argument("--decoding", nargs="*", default=[], help="beams:length_penalty settings to try")
    args = parser.parse_args()
    candidates = dict(spec.split("=", 1) for spec in args.candidates)
    design = []
    for name, spec in candidates.items():
        rows = dev_scores(direction_models(spec), args.data_dir, 4, translation.LENGTH_PENALTY)
        design.append({"candidate": name, "models": spec, "mean_dev_bleu": mean_bleu(rows), "scores": rows})
    best = max(design, key=lambda d: d["mean_dev_bleu"])
    best_models = direction_models(best["models"])
    decoding = [{"beams": 4, "length_penalty": translation.LENGTH_PENALTY, "mean_dev_bleu": best["mean_dev_bleu"],
                 "scores": best["scores"]}]  # the design comparison's own setting
    for setting in args.decoding:
        beams, length_penalty = int(setting.split(":")[0]), float(setting.split(":")[1])
        rows = dev_scores(best_models, args.data_dir, beams, length_penalty)
        decoding.append({"beams": beams, "length_penalty": length_penalty, "mean_dev_bleu": mean_bleu(rows),
                         "scores": rows})
    write_result("translation_choices", {
        "what": "design and decoding chosen on the held-out dev slices (Tatoeba dev 500, news dev 300 pairs), "
                "sacrebleu BLEU/chrF, both directions; beam 4 and the demo's length penalty for the design",
        "design": design, "best_design": best["candidate"],
        "decoding": decoding,
        "best_decoding": max(({k: d[k] for k in ("beams", "length_penalty", "mean_dev_bleu")} for d in decoding),
                             key=lambda d: d["mean_dev_bleu"], default=None),
    })


if __name__ == "__main__":
    main()

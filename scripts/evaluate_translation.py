"""Score the bundled translator on held-out pairs with sacrebleu (BLEU and chrF), both directions.

The held-out Tatoeba and news test slices are the ones ``scripts/prepare_translation_data.py``
wrote; their pair hashes are checked against ``models/translation/data_splits.json`` so the
numbers refer to exactly the published split. Translation goes through the demo's own
code (``demos.translation``: loading, target-language tag, batched beam search). Writes
``benchmarks/results/translation.json``.

Usage: .venv/bin/python scripts/evaluate_translation.py [--beams 4] [--limit N] [--model models/translation]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.common import write_result  # noqa: E402
from demos import translation  # noqa: E402

TEST_SETS = ("tatoeba_test", "news_test")
TARGET_BLEU = 20.0


def held_out_pairs(data_dir: Path, name: str) -> list[tuple[str, str]]:
    """(english, russian) pairs of a test slice, verified against the published split hashes."""
    pairs = [tuple(line.split("\t")) for line in (data_dir / f"{name}.tsv").read_text(encoding="utf-8").splitlines()]
    published = json.loads((translation.MODEL_DIR / "data_splits.json").read_text())["held_out_sha1_prefixes"][name]
    hashes = [hashlib.sha1(f"{en}\t{ru}".encode()).hexdigest()[:12] for en, ru in pairs]
    if hashes != published:
        raise SystemExit(f"{name}: the pairs differ from models/translation/data_splits.json; rerun the preparation")
    return pairs


def score_direction(translator, sources: list[str], references: list[str], target: str, beams: int) -> dict:
    import sacrebleu

    started = time.perf_counter()
    inputs = translation.model_inputs(translator, sources, target)
    hypotheses = [best[0].text for best in translation.generate(translator, inputs, beams, 1)]
    seconds = time.perf_counter() - started
    return {"bleu": round(sacrebleu.corpus_bleu(hypotheses, [references]).score, 2),
            "chrf": round(sacrebleu.corpus_chrf(hypotheses, [references]).score, 2),
            "sentences": len(sources), "seconds": round(seconds, 1),
            "examples": [{"source": s, "reference": r, "hypothesis": h}
                         for s, r, h in list(zip(sources, references, hypotheses))[:5]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO / "runs" / "translation" / "data")
    parser.add_argument("--model", default=str(translation.MODEL_DIR))
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--limit", type=int, default=None, help="first N pairs of each test set (quick runs)")
    args = parser.parse_args()
    translator = translation.load(args.model)
    rows = []
    for name in TEST_SETS:
        pairs = held_out_pairs(args.data_dir, name)[:args.limit]
        english, russian = [en for en, _ in pairs], [ru for _, ru in pairs]
        for direction, sources, references in (("en-ru", english, russian), ("ru-en", russian, english)):
            row = {"test_set": name.split("_")[0], "direction": direction,
                   **score_direction(translator, sources, references, direction[-2:], args.beams)}
            print(json.dumps({k: v for k, v in row.items() if k != "examples"}), flush=True)
            rows.append(row)
    training_file = Path(args.model) / "training.json"
    training = json.loads(training_file.read_text()) if training_file.exists() else None
    reached = all(r["bleu"] >= TARGET_BLEU for r in rows if r["test_set"] == "tatoeba")
    write_result("translation", {
        "what": "sacrebleu corpus BLEU and chrF (default settings) on held-out pairs; demo's batched beam search",
        "model": args.model, "beams": args.beams, "length_penalty": 1.0, "limit": args.limit,
        "target": f"BLEU >= {TARGET_BLEU:.0f} on held-out Tatoeba, both directions",
        "reaches_target": reached,
        "note": run_note(training, reached),
        "scores": rows,
        "training": training,
    })


def run_note(training: dict | None, reached: bool) -> str:
    if not training:
        return "no training summary next to the model"
    return (f"{training['device'].upper()} training: {training['steps']} update steps in {training['train_minutes']} min "
            f"(last run on {training['threads']} torch thread(s)); the BLEU >= {TARGET_BLEU:g} Tatoeba target is "
            + ("reached" if reached else "not reached: train on (--warm-start) or use the GPU recipe (--preset gpu)"))


if __name__ == "__main__":
    main()

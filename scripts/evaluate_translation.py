"""Score the bundled translators on held-out pairs with sacrebleu (BLEU and chrF), both directions.

The held-out Tatoeba and news test slices are the ones ``scripts/prepare_translation_data.py``
wrote; their pair hashes are checked against ``models/translation/data_splits.json`` so the
numbers refer to exactly the published split. Translation goes through the demo's own
code (``demos.translation``: loading, target-language tag, batched beam search). Writes
``benchmarks/results/translation.json``.

Usage: .venv/bin/python scripts/evaluate_translation.py [--beams 4] [--limit N] [--models models/translation]
(``--models`` also takes one-way models, one per direction: ``path,path``)
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
from scripts.train_translation import DIRECTIONS, directions_of  # noqa: E402

TEST_SETS = ("tatoeba_test", "news_test")
TARGET_BLEU = 20.0
CALL_SENTENCES = 64  # sentences per call, as a long text would come from visitors


def training_record(model: str) -> dict:
    return json.loads((Path(model) / "training.json").read_text(encoding="utf-8"))


def direction_models(spec: str) -> dict[str, str]:
    """``path[,path]`` -> the model that translates each direction, from each one's training.json."""
    chosen = {}
    for path in spec.split(","):
        chosen.update(dict.fromkeys(directions_of(training_record(path).get("direction", "both")), path))
    missing = set(DIRECTIONS) - set(chosen)
    if missing:
        raise SystemExit(f"{spec}: no model for {sorted(missing)}")
    return chosen


def held_out_pairs(data_dir: Path, name: str) -> list[tuple[str, str]]:
    """(english, russian) pairs of a test slice, verified against the published split hashes."""
    pairs = [tuple(line.split("\t")) for line in (data_dir / f"{name}.tsv").read_text(encoding="utf-8").splitlines()]
    published = json.loads((translation.MODEL_DIR / "data_splits.json").read_text())["held_out_sha1_prefixes"][name]
    hashes = [hashlib.sha1(f"{en}\t{ru}".encode()).hexdigest()[:12] for en, ru in pairs]
    if hashes != published:
        raise SystemExit(f"{name}: the pairs differ from models/translation/data_splits.json; rerun the preparation")
    return pairs


def score_direction(translator, sources: list[str], references: list[str], target: str, beams: int,
                    length_penalty: float = translation.LENGTH_PENALTY) -> dict:
    import sacrebleu

    started = time.perf_counter()
    hypotheses = [best[0].text for start in range(0, len(sources), CALL_SENTENCES)  # each call within its time limit
                  for best in translation.generate(translator, sources[start:start + CALL_SENTENCES], target, beams, 1,
                                                   length_penalty)]
    seconds = time.perf_counter() - started
    return {"bleu": round(sacrebleu.corpus_bleu(hypotheses, [references]).score, 2),
            "chrf": round(sacrebleu.corpus_chrf(hypotheses, [references]).score, 2),
            "sentences": len(sources), "seconds": round(seconds, 1),
            "examples": [{"source": s, "reference": r, "hypothesis": h}
                         for s, r, h in list(zip(sources, references, hypotheses))[:5]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO / "runs" / "translation" / "data")
    parser.add_argument("--models", default=str(translation.MODEL_DIR),
                        help="path[,path]: one bidirectional model, or one per direction")
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--limit", type=int, default=None, help="first N pairs of each test set (quick runs)")
    args = parser.parse_args()
    models = direction_models(args.models)
    rows = []
    for name in TEST_SETS:
        rows += scored_pairs(models, held_out_pairs(args.data_dir, name)[:args.limit], name.split("_")[0], args.beams)
    trainings = {path: training_record(path) for path in dict.fromkeys(models.values())}
    reached = all(r["bleu"] >= TARGET_BLEU for r in rows if r["test_set"] == "tatoeba")
    write_result("translation", {
        "what": "sacrebleu corpus BLEU and chrF (default settings) on held-out pairs; demo's batched beam search",
        "models": models, "beams": args.beams, "length_penalty": translation.LENGTH_PENALTY, "limit": args.limit,
        "target": f"BLEU >= {TARGET_BLEU:.0f} on held-out Tatoeba, both directions",
        "reaches_target": reached,
        "note": run_note(trainings, reached),
        "scores": rows,
        "training": trainings,
    })


def scored_pairs(models: dict[str, str], pairs: list[tuple[str, str]], test_set: str, beams: int,
                 length_penalty: float = translation.LENGTH_PENALTY) -> list[dict]:
    """One row per direction: each direction's model translating one side of ``pairs`` into the other."""
    english, russian = [en for en, _ in pairs], [ru for _, ru in pairs]
    rows = []
    for direction, sources, references in (("en-ru", english, russian), ("ru-en", russian, english)):
        translator = translation.load(models[direction])
        rows.append({"test_set": test_set, "direction": direction, "model": models[direction],
                     **score_direction(translator, sources, references, direction[-2:], beams, length_penalty)})
        print(json.dumps({k: v for k, v in rows[-1].items() if k != "examples"}), flush=True)
    return rows


def run_note(trainings: dict[str, dict], reached: bool) -> str:
    """One clause per model (a bidirectional one serves both directions)."""
    runs = "; ".join(f"{Path(path).name} ({t.get('direction', 'both')}): {t['steps']} update steps in "
                     f"{t['train_minutes']} min on the {t['device'].upper()}" for path, t in trainings.items())
    return (f"{runs}; the BLEU >= {TARGET_BLEU:g} Tatoeba target is "
            + ("reached" if reached else "not reached: train on (--warm-start) or use the GPU recipe (--preset gpu)"))


if __name__ == "__main__":
    main()

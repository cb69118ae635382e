"""How the bundled model was made, for the page's story: its loss curve, training record, data splits,
held-out scores (scripts/evaluate_translation.py) and the one-model-or-two comparison
(scripts/compare_translation.py), each read from the file its script wrote."""
from __future__ import annotations

import json

from core.contract import ASSETS
from demos.translation.model import MODEL_DIR
from demos.translation.source import DIRECTIONS

LOSS_CURVE = MODEL_DIR / "loss_curve.png"  # scripts/train_translation_e5.py export
SCORES_FILE = ASSETS.parent / "benchmarks" / "results" / "translation.json"  # scripts/evaluate_translation.py
CHOICES_FILE = ASSETS.parent / "benchmarks" / "results" / "translation_choices.json"  # scripts/compare_translation.py
# scripts/train_translation_e5.py evaluate (the bundled model) and baseline (the first one), on the dev sets
DEV_FILES = {"e5": ASSETS.parent / "benchmarks" / "results" / "translation_e5_dev.json",
             "scratch": ASSETS.parent / "benchmarks" / "results" / "translation_scratch_dev.json"}
DEV_SET_NAMES = {"flores_dev": "FLORES dev (general text)", "news_dev": "news dev", "tatoeba_dev": "Tatoeba dev"}
BUNDLED_LIMITS = ("The bundled model reads with multilingual E5 (pre-trained on web text in about 100 languages) "
                  "and writes with a small decoder trained here on about 50,000 sentence pairs on a CPU: short "
                  "everyday sentences usually come out right or nearly right, news and general text often "
                  "garbled; expect errors on long, rare or technical sentences. The hub model (OPUS-MT) learned "
                  "from tens of millions of pairs.")


def training_story() -> dict[str, object]:
    """How the bundled model was made, from the files the training and evaluation scripts wrote."""
    story: dict[str, object] = {"loss_curve": LOSS_CURVE if LOSS_CURVE.exists() else None}
    for name, path in (("training", MODEL_DIR / "training.json"), ("data_splits", MODEL_DIR / "data_splits.json"),
                       ("scores", SCORES_FILE), ("choices", CHOICES_FILE), *DEV_FILES.items()):
        story[name] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return story


def story_numbers(story: dict[str, object]) -> dict[str, str]:
    """The headline numbers of the bundled model's training, for a row of metrics."""
    training, splits = story["training"], story["data_splits"]
    numbers = {}
    if splits:
        numbers["Training pairs"] = f"{splits['sizes']['train']:,}"
        numbers["Held-out test pairs"] = f"{splits['sizes']['tatoeba_test'] + splits['sizes']['news_test']:,}"
    if training:
        numbers["Parameters"] = f"{training['parameters_million']} M"
        numbers["Update steps"] = f"{training['steps']:,}"
        # the device in the label: a metric's value is cut with an ellipsis past its column's width
        numbers[f"Training time ({training['device'].upper()})"] = f"{training['train_minutes']:.0f} min"
    return numbers


def design_table(story: dict[str, object]) -> list[dict[str, object]]:
    """One model for both directions vs one per direction: dev BLEU at the same training compute, a row per dev
    set and direction (then their mean) and a column per design, which fits a phone's width."""
    bleu = {row["candidate"]: {**{f"{score['dev_set']} dev, {DIRECTIONS[score['direction']]}": score["bleu"]
                                  for score in row["scores"]}, "mean": row["mean_dev_bleu"]}
            for row in story["choices"].get("design", [])}
    return [{"dev set": dev_set, **{design: scores[dev_set] for design, scores in bleu.items()}}
            for dev_set in next(iter(bleu.values()), {})]


def score_table(story: dict[str, object]) -> list[dict[str, object]]:
    """BLEU and chrF per held-out test set and direction, as measured by scripts/evaluate_translation.py."""
    return [{"test set": row["test_set"], "direction": DIRECTIONS[row["direction"]], "BLEU": row["bleu"],
             "chrF": row["chrf"], "sentences": row["sentences"]} for row in story["scores"].get("scores", [])]


def reader_table(story: dict[str, object]) -> list[dict[str, object]]:
    """The bundled model against the first one (trained from scratch) on the dev sets: BLEU, a row per dev set
    and direction. The first model trained on FLORES dev, so its FLORES score is not a held-out one."""
    bleu = {name: {(row["set"], row["direction"]): row["bleu"] for row in story[name].get("rows", [])}
            for name in DEV_FILES}
    return [{"dev set": f"{DEV_SET_NAMES[dev_set]}, {DIRECTIONS[direction]}",
             "E5 reads (bundled)": score,
             "from scratch (first model)": _first_model_score(bleu["scratch"], dev_set, direction)}
            for (dev_set, direction), score in bleu["e5"].items()]


def _first_model_score(bleu: dict[tuple[str, str], float], dev_set: str, direction: str) -> str:
    score = bleu.get((dev_set, direction))
    if score is None:
        return "–"
    return f"{score} (trained on it)" if dev_set == "flores_dev" else f"{score}"

"""Candidates for the translation page's examples: the Tatoeba dev pairs (held out from training and from the
test sets) that the bundled model translates exactly as the reference, at the page's settings (beam 4).

The page's first impression should be the model at its honest best, chosen on dev, never on a test set. This
prints the exact ones, shortest last; pick short everyday sentences among them for ``EXAMPLES`` in
``demos/translation/source.py`` (the tests check each one again). Needs ``runs/translation_e5/data`` (the e5
script's ``prepare``) or ``runs/translation/data`` (``prepare_translation_data.py``) for the dev pairs.

Usage: .venv/bin/python scripts/choose_translation_examples.py [--model bundled]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from demos import translation  # noqa: E402

DEV_FILES = (REPO / "runs" / "translation_e5" / "data" / "tatoeba_dev.tsv",
             REPO / "runs" / "translation" / "data" / "tatoeba_dev.tsv")


def dev_pairs() -> list[tuple[str, str]]:
    for path in DEV_FILES:
        if path.exists():
            return [tuple(line.split("\t")) for line in path.read_text(encoding="utf-8").splitlines()]
    raise SystemExit("no Tatoeba dev file: run scripts/train_translation_e5.py prepare first")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="bundled")
    args = parser.parse_args()
    pairs = dev_pairs()
    exact = {}
    for language, target, side in (("en", "ru", 0), ("ru", "en", 1)):
        direction = f"{language}-{target}"
        exact[language] = sorted(((p[side], p[1 - side]) for p in pairs  # as the page does: sentence by sentence
                                  if translation.translate(p[side], direction, args.model).text == p[1 - side]),
                                 key=lambda item: -len(item[0]))
        print(f"{language}: {len(exact[language])} of {len(pairs)} exact", flush=True)
    print(json.dumps(exact, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()

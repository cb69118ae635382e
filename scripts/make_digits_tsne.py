"""The t-SNE map of scikit-learn's 1,797 digits that the clustering lab shows, computed once and shipped:
scikit-learn's t-SNE takes from tens of seconds to minutes on a 2-core CPU, far past a page's second.

Run: ``.venv/bin/python scripts/make_digits_tsne.py`` (writes models/clustering_lab/digits_tsne.npy).
The same scikit-learn version and seed give the same map (tests/test_clustering_lab.py checks it keeps
the digits' neighbourhoods).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demos.clustering_lab.digits import TSNE_FILE, TSNE_SETTINGS, load  # noqa: E402


def main() -> None:
    from sklearn.manifold import TSNE

    start = time.perf_counter()
    xy = TSNE(n_components=2, **TSNE_SETTINGS).fit_transform(load().images).astype(np.float32)
    TSNE_FILE.parent.mkdir(parents=True, exist_ok=True)
    np.save(TSNE_FILE, xy)
    print(f"{TSNE_FILE.relative_to(ROOT)}: {xy.shape} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()

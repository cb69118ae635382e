"""Load every demo's bundled model once and report time and memory (used by the Docker build)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.models import MODELS, resident_bytes  # noqa: E402
from demos import DEMOS  # noqa: E402

if __name__ == "__main__":
    for demo in DEMOS:
        demo.load()
    for row in MODELS.stats():
        print(row)
    print(f"resident memory with every model loaded: {resident_bytes() / 2**20:.0f} MB")

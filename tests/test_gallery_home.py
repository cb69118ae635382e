"""The gallery home: every registered demo has a card and a page; no model is loaded."""
import subprocess
import sys
from pathlib import Path

from core.models import MODELS
from demos import CARDS, DEMOS


def test_home_renders_a_card_per_demo_without_loading_models(gallery):
    MODELS.clear()
    app = gallery.run()
    assert not app.exception
    headings = [h.value for h in app.subheader]
    for demo in DEMOS:
        assert f"{demo.CARD.icon} {demo.CARD.title}" in headings
    assert MODELS.stats() == []
    captions = [caption.value for caption in app.caption]
    assert any(caption.endswith("Input: image, camera") for caption in captions)  # emotion, style transfer
    assert any(caption.endswith("Input: none needed (optional: image)") for caption in captions)  # inpainting


def test_every_demo_declares_a_page_and_a_thumbnail():
    for demo in DEMOS:
        card = demo.CARD
        assert card.thumbnail.exists(), card.slug
        assert Path(card.page).exists(), card.slug
        assert all(endpoint.inputs and endpoint.outputs and endpoint.insides for endpoint in demo.ENDPOINTS)


def test_cards_read_from_source_are_the_demos_own_cards():
    assert CARDS == tuple(demo.CARD for demo in DEMOS)


def test_opening_the_gallery_imports_no_demo_and_no_torch():
    """The home page is the first thing a visitor sees: it must not wait for torch, pandas or
    any demo module (measured by benchmarks/bench_cold_start.py)."""
    probe = ("import sys, runpy; runpy.run_path('app.py'); "
             "print(sorted(m for m in sys.modules if m.startswith('demos.') or m in ('torch', 'pandas')))")
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                               cwd=Path(__file__).resolve().parent.parent)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "[]"

"""The gallery home: every registered demo has a card and a page; no model is loaded."""
from pathlib import Path

from core.models import MODELS
from demos import DEMOS


def test_home_renders_a_card_per_demo_without_loading_models(gallery):
    MODELS.clear()
    app = gallery.run()
    assert not app.exception
    headings = [h.value for h in app.subheader]
    for demo in DEMOS:
        assert f"{demo.CARD.icon} {demo.CARD.title}" in headings
    assert MODELS.stats() == []


def test_every_demo_declares_a_page_and_a_thumbnail():
    for demo in DEMOS:
        card = demo.CARD
        assert card.thumbnail.exists(), card.slug
        assert Path(card.page).exists(), card.slug
        assert demo.ENDPOINT.inputs and demo.ENDPOINT.outputs

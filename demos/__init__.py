"""The registry of demos: the gallery home, the navigation and the Gradio app are built from it.

Adding a demo = one module here (with CARD, load, its functions, ENDPOINT) + one page.
Importing a demo module loads no model.
"""
from __future__ import annotations

from types import ModuleType

from demos import (audio_digits, emotion, image_generation, object_detection, recommender, style_transfer,
                   summarisation, translation)

DEMOS: tuple[ModuleType, ...] = (style_transfer, object_detection, emotion, audio_digits, recommender, summarisation,
                                 translation, image_generation)


def by_slug(slug: str) -> ModuleType:
    return next(demo for demo in DEMOS if demo.CARD.slug == slug)

"""The registry of demos: the gallery home, the navigation and the Gradio app are built from it.

Adding a demo = one module here (with CARD, load, its functions, ENDPOINT), its name below,
and one page. Importing a demo module loads no model; the home page does not even import
the demo modules: ``CARDS`` are read from their source (``core.contract.read_card``).
"""
from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from core.contract import DemoCard, read_card

DEMO_NAMES: tuple[str, ...] = ("style_transfer", "object_detection", "emotion", "audio_digits", "recommender",
                               "summarisation", "translation", "image_generation", "atari")  # gallery order

CARDS: tuple[DemoCard, ...] = tuple(read_card(Path(__file__).with_name(f"{name}.py")) for name in DEMO_NAMES)


def __getattr__(name: str) -> tuple[ModuleType, ...]:
    """``DEMOS``, every demo module, imported on first use (by the Gradio app, scripts and tests)."""
    if name == "DEMOS":
        return tuple(importlib.import_module(f"demos.{demo}") for demo in DEMO_NAMES)
    raise AttributeError(f"module 'demos' has no attribute {name!r}")


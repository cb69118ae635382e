"""The registry of demos: the gallery home, the navigation and the Gradio app are built from it.

Adding a demo = one module here (with CARD, load, its functions, ENDPOINT) or a package whose
``__init__.py`` holds them, its name below, and one page. A lab of the course is a demo in the same
contract, named in ``LAB_NAMES`` instead: the front ends show it in a second group, "Labs".
Importing a demo module loads no model; the home page does not even import the demo modules:
``CARDS`` are read from their source (``core.contract.read_card``).
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

from core.contract import DemoCard, check_demo, read_card

DEMO_NAMES: tuple[str, ...] = ("style_transfer", "object_detection", "emotion", "audio_digits", "recommender",
                               "summarisation", "translation", "image_generation", "atari")  # gallery order
LAB_NAMES: tuple[str, ...] = ("convolution_lab", "cnn_lab", "knn_lab", "backprop_lab",
                              "clustering_lab")  # the course's labs, in the order the lectures reach them
GALLERY_NAMES = DEMO_NAMES + LAB_NAMES  # one registry: demos, then labs


def _source(name: str) -> Path:
    """Where the demo's CARD is written: ``<name>.py``, or ``<name>/__init__.py`` for a demo split into a package."""
    module = Path(__file__).with_name(f"{name}.py")
    return module if module.exists() else Path(__file__).with_name(name) / "__init__.py"


log = logging.getLogger("neural_gallery")


@dataclass(frozen=True)
class BrokenDemo:
    """A demo that failed to import or to keep the contract: the front ends show it as an error."""

    card: DemoCard
    error: str  # one line; the traceback is in the server log


@dataclass(frozen=True)
class Registry:
    demos: tuple[ModuleType, ...]  # imported and checked (core.contract.check_demo)
    broken: tuple[BrokenDemo, ...]


def read_cards(names: tuple[str, ...]) -> tuple[DemoCard, ...]:
    """Every demo's card from its source; one that cannot be read becomes an error card."""
    return tuple(_card(name) for name in names)


def _card(name: str) -> DemoCard:
    try:
        return read_card(_source(name))
    except (OSError, SyntaxError, ValueError, TypeError) as error:
        log.exception("the card of demo %s cannot be read", name)
        return DemoCard(name, name.replace("_", " ").capitalize(), "⚠️", "This demo is unavailable right now.",
                        (), ("none",), error=f"{type(error).__name__}: {error}")


def register(names: tuple[str, ...]) -> Registry:
    """Import and check each named demo; one that fails is logged and kept as a ``BrokenDemo``, so the rest
    of the gallery runs."""
    demos, broken = [], []
    for name, card in zip(names, read_cards(names)):
        try:
            module = importlib.import_module(f"demos.{name}")
            check_demo(module, card)
        except Exception as error:  # any failure of one demo's code must leave the others serving
            log.exception("demo %s failed to register", name)
            broken.append(BrokenDemo(card, f"{type(error).__name__}: {error}".splitlines()[0][:300]))
        else:
            demos.append(module)
    return Registry(tuple(demos), tuple(broken))


CARDS: tuple[DemoCard, ...] = read_cards(GALLERY_NAMES)


def is_lab(card: DemoCard) -> bool:
    """Whether the card is a lab's (a card's slug is its module's name, an unreadable one's included)."""
    return card.slug in LAB_NAMES


@cache
def registry() -> Registry:
    """The registered demos and labs, imported and checked once per process."""
    return register(GALLERY_NAMES)


def __getattr__(name: str) -> tuple[ModuleType, ...]:
    """``DEMOS``, every registered demo and lab module, imported on first use (by the Gradio app, scripts
    and tests)."""
    if name == "DEMOS":
        return registry().demos
    raise AttributeError(f"module 'demos' has no attribute {name!r}")

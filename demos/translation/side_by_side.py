"""Side by side: the same text through two models, each with where its decoder looked. What 50k pairs buy
against tens of millions (the hub's OPUS-MT), or what a pre-trained reader buys (the bundled model against
the first one, trained from scratch), is itself a lesson of the course."""
from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure

from core.validation import InputError
from demos.translation.decoding import MODEL_CHOICES, Translation, translate
from demos.translation.insides import explain
from demos.translation.model import ModelUnavailable


@dataclass(frozen=True)
class Side:
    model: str  # a MODEL_CHOICES key
    translation: Translation | None  # None: this model could not run (the hub offline), see ``message``
    figure: Figure | None  # the first sentence's cross-attention, all layers and heads averaged
    message: str = ""


def side_by_side(text: str, direction: str = "auto", models: tuple[str, str] = ("bundled", "hub"),
                 beams: int = 4) -> tuple[Side, Side]:
    """``text`` through both ``models``; a model that cannot run (say, the hub offline) gets its message on
    its side, while the other still answers. A bad text is refused for both."""
    if len(models) != 2 or models[0] == models[1] or not set(models) <= set(MODEL_CHOICES):
        raise InputError(f"Choose two different models of: {', '.join(MODEL_CHOICES)}.")
    first = _side(text, direction, models[0], beams)
    second = _side(text, direction, models[1], beams)
    if first.translation is None and second.translation is None:
        raise InputError(first.message)
    return first, second


def second_model_to_compare(first: str) -> str:
    """The hub's OPUS-MT when the network allows (the bigger lesson), else the other bundled model."""
    from core.hub import hub_reachable

    if first != "hub" and hub_reachable(timeout=1.0):
        return "hub"
    return "scratch" if first != "scratch" else "bundled"


def _side(text: str, direction: str, model: str, beams: int) -> Side:
    try:
        translation = translate(text, direction=direction, model=model, beams=beams)
    except ModelUnavailable as error:  # a bad text is raised instead: the same for both models
        return Side(model, None, None, str(error))
    return Side(model, translation, explain(translation).figure)

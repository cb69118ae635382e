"""What every demo module declares, in terms no front end owns.

A demo module exposes:
- ``CARD``: a ``DemoCard`` (the gallery home and the navigation are built from these);
- ``load()``: its model(s), through ``core.models.MODELS``;
- plain functions that take and return Python, numpy and PIL objects (the pages call them);
- ``ENDPOINT``: one ``Endpoint`` that the Gradio app (and its HTTP API) serves as is, under the slug;
- optionally ``EXTRA_ENDPOINTS``: more ``Endpoint``s (say, video next to photos), each served
  under the slug plus its ``api_suffix``.

``check_demo`` checks a module against this when it is registered (``demos.DEMOS``).
"""
from __future__ import annotations

import ast
import inspect
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, NoReturn

ASSETS = Path(__file__).resolve().parent.parent / "assets"
MAX_FIELD_CHARS = 100_000  # core.validation.MAX_TEXT_CHARS (tests/test_contract.py keeps them equal)
InputKind = Literal["image", "camera", "text", "document", "audio", "microphone", "video", "weights", "none"]


@dataclass(frozen=True)
class DemoCard:
    slug: str  # url path, page file name (views/<slug>.py) and API name
    title: str
    icon: str
    pitch: str  # one line on the card
    tags: tuple[str, ...]
    inputs: tuple[InputKind, ...]
    error: str = ""  # set only on the stand-in card of a demo whose source cannot be read

    @property
    def thumbnail(self) -> Path:
        return ASSETS / "thumbnails" / f"{self.slug}.png"

    @property
    def page(self) -> str:
        return f"views/{self.slug}.py"


def read_card(module_path: Path) -> DemoCard:
    """The ``CARD = DemoCard(...)`` of a demo module, read from its source without importing it:
    the gallery home and the navigation need every card, but importing every demo (and with it
    torch, pandas, matplotlib...) would slow down the first page a visitor sees. Its fields must
    therefore be literals (tests/test_gallery_home.py checks the static card equals the imported one)."""
    for node in ast.parse(module_path.read_text(encoding="utf-8")).body:
        if (isinstance(node, ast.Assign) and [getattr(target, "id", None) for target in node.targets] == ["CARD"]
                and isinstance(node.value, ast.Call)):
            return DemoCard(**{keyword.arg: ast.literal_eval(keyword.value) for keyword in node.value.keywords})
    raise ValueError(f"{module_path} has no CARD = DemoCard(...)")


# Front-end-neutral fields for an endpoint's inputs and outputs.
def _refuse(message: str) -> NoReturn:
    from core.validation import InputError  # here: the gallery home reads cards without numpy and PIL

    raise InputError(message)


# Each field checks a value sent for it (``checked``): an API caller is not held by the widgets' ranges.
@dataclass(frozen=True)
class ImageField:
    name: str
    label: str
    optional: bool = False

    def checked(self, value: Any) -> Any:
        if value is None and not self.optional:
            _refuse(f"{self.label}: add a picture first.")
        return value


@dataclass(frozen=True)
class ChoiceField:
    name: str
    label: str
    choices: tuple[str, ...]
    default: str

    def checked(self, value: Any) -> str:
        if value not in self.choices:
            _refuse(f"{self.label}: {str(value)[:40]!r} is not one of {', '.join(self.choices)}.")
        return value


@dataclass(frozen=True)
class NumberField:
    name: str
    label: str
    minimum: float
    maximum: float
    default: float
    step: float = 1

    def checked(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            _refuse(f"{self.label}: expected a number from {self.minimum:g} to {self.maximum:g}.")
        if not self.minimum <= value <= self.maximum:
            _refuse(f"{self.label}: {value:g} is outside {self.minimum:g}-{self.maximum:g}.")
        return value


@dataclass(frozen=True)
class TextField:
    name: str
    label: str
    default: str = ""
    lines: int = 1

    def checked(self, value: Any) -> str:
        value = "" if value is None else value
        if not isinstance(value, str):
            _refuse(f"{self.label}: expected text.")
        if len(value) > MAX_FIELD_CHARS:
            _refuse(f"{self.label}: the text is too long ({len(value):,} characters); "
                    f"the limit is {MAX_FIELD_CHARS:,}.")
        return value


@dataclass(frozen=True)
class AudioField:
    name: str
    label: str

    def checked(self, value: Any) -> Any:  # a file path: the demo checks the file itself
        return value


@dataclass(frozen=True)
class VideoField:
    name: str
    label: str

    def checked(self, value: Any) -> Any:  # a file path: the demo checks the file itself
        return value


@dataclass(frozen=True)
class FileField:
    """An optional file of any other kind (say, weights), handed to the demo as its path: the demo checks it."""

    name: str
    label: str
    file_types: tuple[str, ...]  # extensions with the dot, e.g. (".safetensors",)

    def checked(self, value: Any) -> Any:
        return value


@dataclass(frozen=True)
class ImageOutput:
    label: str


@dataclass(frozen=True)
class JsonOutput:
    label: str


@dataclass(frozen=True)
class TextOutput:
    label: str


@dataclass(frozen=True)
class VideoOutput:
    label: str  # the value is an MP4 clip's bytes


Field = ImageField | ChoiceField | NumberField | TextField | AudioField | VideoField | FileField
Output = ImageOutput | JsonOutput | TextOutput | VideoOutput


@dataclass(frozen=True)
class Endpoint:
    """``fn(**{field.name: value})`` returns one value per output, in order."""

    fn: Callable[..., tuple[Any, ...]]
    inputs: tuple[Field, ...]
    outputs: tuple[Output, ...]
    title: str = ""  # names the endpoint's tab when a demo has several
    api_suffix: str = ""  # appended to the slug for the API name, e.g. "_video"

    def run(self, **values: Any) -> tuple[Any, ...]:
        """``fn`` on values each checked by its field first (``InputError`` for the first bad one)."""
        return self.fn(**{field.name: field.checked(values.get(field.name)) for field in self.inputs})


class ContractError(Exception):
    """A demo module that does not declare what the front ends need; ``str(error)`` lists every gap."""


def check_demo(module: Any, static_card: DemoCard | None = None) -> None:
    """Check a demo module against the contract above, or raise ``ContractError`` naming each problem.

    ``static_card``: the card read from its source (``read_card``), which the module's own must equal.
    """
    problems = []
    card = getattr(module, "CARD", None)
    if not isinstance(card, DemoCard):
        problems.append("CARD is not a DemoCard")
    elif static_card is not None and card != static_card:
        problems.append("CARD differs from the card read from its source (its fields must be literals)")
    load = getattr(module, "load", None)
    if not callable(load):
        problems.append("load is not a function")
    else:
        required = [parameter.name for parameter in inspect.signature(load).parameters.values()
                    if parameter.default is inspect.Parameter.empty
                    and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)]
        if required:
            problems.append(f"load() needs {', '.join(required)}: it must load the bundled model with no arguments")
    endpoints = (getattr(module, "ENDPOINT", None), *getattr(module, "EXTRA_ENDPOINTS", ()))
    for endpoint in endpoints:
        problems.extend(_endpoint_problems(endpoint))
    suffixes = [getattr(endpoint, "api_suffix", None) for endpoint in endpoints]
    if len(set(suffixes)) != len(suffixes):
        problems.append("two endpoints share an api_suffix (their API names would clash)")
    if problems:
        raise ContractError(f"{getattr(module, '__name__', module)}: " + "; ".join(problems))


def _endpoint_problems(endpoint: Any) -> list[str]:
    if not isinstance(endpoint, Endpoint):
        return [f"{endpoint!r} is not an Endpoint"]
    problems = []
    parameters = inspect.signature(endpoint.fn).parameters
    names = [field.name for field in endpoint.inputs]
    missing = [name for name in names if name not in parameters]
    if missing:
        problems.append(f"{endpoint.fn.__name__} takes no {', '.join(missing)}")
    if len(set(names)) != len(names):
        problems.append(f"{endpoint.fn.__name__} has two inputs of the same name")
    if not endpoint.outputs:
        problems.append(f"{endpoint.fn.__name__} declares no outputs")
    for field in endpoint.inputs:
        if isinstance(field, ChoiceField) and field.default not in field.choices:
            problems.append(f"{field.name}: the default {field.default!r} is not a choice")
        if isinstance(field, NumberField) and not field.minimum <= field.default <= field.maximum:
            problems.append(f"{field.name}: the default {field.default:g} is outside its range")
    return problems

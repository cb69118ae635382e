"""What every demo module declares, in terms no front end owns.

A demo module exposes:
- ``CARD``: a ``DemoCard`` (the gallery home and the navigation are built from these);
- ``load()``: its model(s), through ``core.models.MODELS``, callable with no arguments;
- plain functions that take and return Python, numpy and PIL objects (the pages call them);
- ``ENDPOINTS``: a tuple of ``Endpoint``s that the Gradio app (and its HTTP API) serves as they are,
  each under the slug plus its ``api_suffix`` (the first has none). An endpoint returns its answer
  (``outputs``) and then how the model got there (``insides``: figures, pictures, tables, Markdown).

``check_demo`` checks a module against this when it is registered (``demos.registry``), and
``Endpoint.run`` checks every value sent in and every result handed back.
"""
from __future__ import annotations

import ast
import inspect
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, NoReturn

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


Choice = tuple[str, str]  # (the value the demo and the API take, the label a visitor reads)


def choices(values: Iterable[str], label: Callable[[str], str] = str) -> tuple[Choice, ...]:
    """(value, label) pairs for ``values``, each labelled ``label(value)`` (the value itself by default)."""
    return tuple((value, label(value)) for value in values)


@dataclass(frozen=True)
class ChoiceField:
    name: str
    label: str
    choices: tuple[Choice, ...]
    default: str  # a value

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(value for value, _ in self.choices)

    def checked(self, value: Any) -> str:
        if value not in self.values:
            _refuse(f"{self.label}: {str(value)[:40]!r} is not one of {', '.join(self.values)}.")
        return value


@dataclass(frozen=True)
class NumberField:
    name: str
    label: str
    minimum: float
    maximum: float
    default: float
    step: float = 1
    integer: bool = False  # the demo gets an int, and 2.5 is refused

    def checked(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            _refuse(f"{self.label}: expected a number from {self.minimum:g} to {self.maximum:g}.")
        if not self.minimum <= value <= self.maximum:
            _refuse(f"{self.label}: {value:g} is outside {self.minimum:g}-{self.maximum:g}.")
        if self.integer:
            if value != int(value):
                _refuse(f"{self.label}: expected a whole number, not {value:g}.")
            return int(value)
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


# Outputs: each says what its value is, and ``accepts`` checks a result (None: nothing to show this time).
@dataclass(frozen=True)
class ImageOutput:
    label: str

    def accepts(self, value: Any) -> bool:  # a PIL image
        return _type_named(value, "PIL.Image.Image")


@dataclass(frozen=True)
class FigureOutput:
    label: str  # a matplotlib Figure, shown and sent as a PNG

    def accepts(self, value: Any) -> bool:
        return _type_named(value, "matplotlib.figure.Figure")


@dataclass(frozen=True)
class TableOutput:
    label: str  # rows: a list of dicts with the same keys, shown as a table and sent as JSON

    def accepts(self, value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(row, dict) and row.keys() == value[0].keys()
                                               for row in value)


@dataclass(frozen=True)
class MarkdownOutput:
    label: str  # Markdown written by the demo; visitor text in it escaped with core.markdown.plain

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str)


@dataclass(frozen=True)
class JsonOutput:
    label: str

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (dict, list))


@dataclass(frozen=True)
class TextOutput:
    label: str

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str)


@dataclass(frozen=True)
class VideoOutput:
    label: str  # the value is an MP4 clip's bytes

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bytes)


def _type_named(value: Any, name: str) -> bool:
    """Whether ``value`` is an instance of the class ``module.Class`` (checked without importing its library)."""
    return any(f"{cls.__module__}.{cls.__qualname__}" == name for cls in type(value).__mro__)


Field = ImageField | ChoiceField | NumberField | TextField | AudioField | VideoField | FileField
Output = ImageOutput | FigureOutput | TableOutput | MarkdownOutput | JsonOutput | TextOutput | VideoOutput
INSIDE_KINDS = (FigureOutput, ImageOutput, TableOutput, MarkdownOutput)  # what an explanation can be made of


class ContractError(Exception):
    """A demo that does not keep the contract; ``str(error)`` names every gap."""


@dataclass(frozen=True)
class Endpoint:
    """``fn(**{field.name: value})`` returns one value per output, then one per inside, in order.

    ``fn`` may also take ``progress``, a ``core.progress.ProgressCallback`` the front end shows."""

    fn: Callable[..., tuple[Any, ...]]
    inputs: tuple[Field, ...]
    outputs: tuple[Output, ...]
    insides: tuple[Output, ...] = ()  # how the model got there (INSIDE_KINDS)
    title: str = ""  # names the endpoint's tab when a demo has several
    api_suffix: str = ""  # appended to the slug for the API name, e.g. "_video"

    @property
    def results(self) -> tuple[Output, ...]:
        return (*self.outputs, *self.insides)

    @property
    def takes_progress(self) -> bool:
        return "progress" in inspect.signature(self.fn).parameters

    def run(self, progress: Callable[..., None] | None = None, **values: Any) -> tuple[Any, ...]:
        """``fn`` on values each checked by its field first (``InputError`` for the first bad one); its
        results checked against ``outputs`` and ``insides`` (``ContractError``)."""
        checked = {field.name: field.checked(values.get(field.name)) for field in self.inputs}
        results = self.fn(**checked, progress=progress) if self.takes_progress else self.fn(**checked)
        if not isinstance(results, tuple) or len(results) != len(self.results):
            raise ContractError(f"{self.fn.__name__} returned {len(results) if isinstance(results, tuple) else 1} "
                                f"values for {len(self.results)} outputs and insides")
        wrong = [result.label for result, value in zip(self.results, results)
                 if value is not None and not result.accepts(value)]
        if wrong:
            raise ContractError(f"{self.fn.__name__} returned the wrong kind of value for {', '.join(wrong)}")
        return results


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
    endpoints = getattr(module, "ENDPOINTS", None)
    if not isinstance(endpoints, tuple) or not endpoints:
        problems.append("ENDPOINTS is not a tuple of Endpoints")
        endpoints = ()
    for endpoint in endpoints:
        problems.extend(_endpoint_problems(endpoint))
    suffixes = [getattr(endpoint, "api_suffix", None) for endpoint in endpoints]
    if len(set(suffixes)) != len(suffixes):
        problems.append("two endpoints share an api_suffix (their API names would clash)")
    if len(endpoints) > 1 and not all(getattr(endpoint, "title", "") for endpoint in endpoints):
        problems.append("an endpoint among several has no title (it names the endpoint's tab)")
    if isinstance(card, DemoCard):
        problems.extend(_work_problems(module, card.slug))
    if problems:
        raise ContractError(f"{getattr(module, '__name__', module)}: " + "; ".join(problems))


def _work_problems(module: Any, slug: str) -> list[str]:
    """Model work (core.engine) runs in its demo's deployment: a work marked with another demo's slug would
    be sent where nobody has imported it."""
    from core.engine import WORK

    package = getattr(module, "__name__", "")
    return [f"{work.key} is marked as model work of {work.demo!r}, not {slug!r}" for work in WORK.values()
            if (work.function.__module__ == package or work.function.__module__.startswith(package + "."))
            and work.demo != slug]


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
    if not endpoint.insides:
        problems.append(f"{endpoint.fn.__name__} declares no insides (how the model got there)")
    if not all(isinstance(inside, INSIDE_KINDS) for inside in endpoint.insides):
        problems.append(f"{endpoint.fn.__name__}: insides are figures, images, tables or Markdown")
    labels = [result.label for result in endpoint.results]
    if len(set(labels)) != len(labels):
        problems.append(f"{endpoint.fn.__name__} has two outputs of the same label")
    for field in endpoint.inputs:
        problems.extend(f"{field.name}: {problem}" for problem in _field_problems(field))
    return problems


def _field_problems(field: Field) -> list[str]:
    if isinstance(field, ChoiceField):
        return [] if field.default in field.values else [f"the default {field.default!r} is not a choice"]
    if isinstance(field, NumberField):
        problems = [] if field.minimum <= field.default <= field.maximum else \
            [f"the default {field.default:g} is outside its range"]
        numbers = (field.minimum, field.maximum, field.default, field.step)
        if field.integer and not all(float(number).is_integer() for number in numbers):
            problems.append("an integer field needs whole-number bounds, default and step")
        return problems
    return []

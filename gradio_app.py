"""The same demos behind a Gradio front end: one tab per registered demo, one API endpoint per ``Endpoint``.

Run: ``.venv/bin/python gradio_app.py`` (port 7860). Each demo's ``ENDPOINTS`` declare their
inputs, outputs and insides in front-end-neutral terms (core.contract); this file maps them to
Gradio components, so no demo knows which front end calls it. The HTTP API returns the insides
too: pictures and figures as PNG files, tables as JSON.
"""
from __future__ import annotations

import html
import logging
import os
import tempfile
import uuid
from functools import cache
from pathlib import Path
from typing import Any, Callable

import gradio as gr
from gradio import processing_utils
from gradio.utils import get_upload_folder

from core import contract, zerogpu
from core.engine import engine, start_shared_work
from core.markdown import plain
from core.media import example_photo, example_photo_names, png_bytes
from core.plotting import figure_png
from core.serving import SHARES
from core.validation import InputError, read_image
from demos import Registry, registry

MAX_UPLOAD = "20mb"
CONCURRENCY_PER_DEMO = 1  # embedded: each demo's model runs one request at a time; demos run side by side
DELETE_CACHE = (60, 300)  # every minute, delete uploads and results older than five minutes
EXAMPLES_FOLDER = Path(tempfile.gettempdir()) / "neural_gallery_examples"
# answered examples (see _examples_answered_once): out of the code folder, which the image keeps read-only, and
# one folder per process, so that a restart with a new model never answers from the old one
os.environ.setdefault("GRADIO_EXAMPLES_CACHE", tempfile.mkdtemp(prefix="neural_gallery_answered_examples_"))
log = logging.getLogger("neural_gallery")


def _cached_once(data: bytes, file_name: str) -> str:
    """Store a result in Gradio's cache under its content hash, written once and atomically.

    Gradio's own helpers rewrite the hash-named file in place on every request, so two
    visitors getting the same result (say, both clicked the same example) could download a
    half-written file; measured with 8 concurrent clients.
    """
    return _written_once(Path(get_upload_folder()) / processing_utils.hash_bytes(data) / file_name, data)


def _written_once(path: Path, data: bytes) -> str:
    """``path`` holding ``data``, written only if absent, under a temporary name renamed into place
    (a reader never sees half a file). A file already there is touched: the cache sweep (DELETE_CACHE) goes
    by its age, and would otherwise delete a result written minutes ago before this visitor fetches it."""
    try:
        os.utime(path)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial_file = path.with_name(f".{uuid.uuid4().hex}.part")
        partial_file.write_bytes(data)
        os.replace(partial_file, path)
    return str(path.resolve())


def _component(field: contract.Field) -> gr.components.Component:
    if isinstance(field, contract.ImageField):
        return gr.Image(label=field.label, type="filepath", sources=["upload", "webcam", "clipboard"])
    if isinstance(field, contract.ChoiceField):  # Gradio's pairs are (label, value); the API takes the value
        return gr.Dropdown([(label, value) for value, label in field.choices], value=field.default, label=field.label)
    if isinstance(field, contract.NumberField):
        return gr.Slider(field.minimum, field.maximum, value=field.default, step=field.step, label=field.label,
                         precision=0 if field.integer else None)
    if isinstance(field, contract.AudioField):
        return gr.Audio(type="filepath", sources=["upload", "microphone"], label=field.label)
    if isinstance(field, contract.VideoField):  # the path goes to the demo, which checks it with core.video
        return gr.Video(sources=["upload", "webcam"], label=field.label)
    if isinstance(field, contract.FileField):  # the path goes to the demo, which checks the file itself
        return gr.File(label=field.label, file_types=list(field.file_types), type="filepath")
    return gr.Textbox(value=field.default, lines=field.lines, label=field.label)


INSIDES_HEADING = "### 🔍 How the model got there"
INSIDE_CLASS = "inside"  # marks each inside's box (the browser test finds them by it)
INSIDE_MIN_WIDTH = 420
SHORT_LABEL = 80  # characters: a title, set in bold; longer, a caption
# Tables among the insides fit their box: Gradio sizes each column to its longest line, so on a phone a table
# scrolled sideways, its score column out of sight, with nothing to say so. Here columns share the box's width,
# long text wraps (inside a word only where a word is wider than its column), a column stays wide enough for a
# number, and the type is smaller on a phone. A table that still cannot fit says that it scrolls: the cue shows
# only while its box can scroll (a scroll timeline is active only on a box that scrolls).
TABLE_CSS = """
.inside table { width: 100% !important; }
.inside th, .inside td { width: auto !important; min-width: 0 !important; max-width: none !important; }
.inside .table-wrap * {
  white-space: normal !important; word-break: normal !important; font-family: var(--font) !important;
}
.inside .table-wrap th { min-width: 4em !important; }
.inside .table-wrap td * { overflow-wrap: anywhere !important; }
.inside .table-container { timeline-scope: --table-scroll; }
.inside .virtual-table-viewport { scroll-timeline: --table-scroll inline; }
.inside .table-container::after {
  content: "Scroll sideways for more columns →"; display: block; max-height: 0; overflow: hidden; opacity: 0;
  font-size: var(--text-sm); color: var(--body-text-color-subdued); animation: scroll-cue linear both;
  animation-timeline: --table-scroll;
}
@keyframes scroll-cue { from, to { max-height: 2em; opacity: 1; } }
@media (max-width: 640px) {
  .inside .table-wrap { font-size: var(--text-sm); }
  .inside .table-wrap th { font-size: var(--text-xs); }
  .inside .cell-wrap { padding: var(--size-0-5); }
}
"""


def _inside(inside: contract.Output) -> gr.components.Component:
    """One inside in its own box, wide enough that two or three share a row, under its label written out in
    full (a component's own label floats over its picture, and some labels are a caption's length)."""
    with gr.Column(min_width=INSIDE_MIN_WIDTH, elem_classes=[INSIDE_CLASS]):
        gr.Markdown(f"**{plain(inside.label)}**" if len(inside.label) <= SHORT_LABEL else plain(inside.label))
        component = _output(inside)
        component.show_label = False
        return component


def _output(output: contract.Output) -> gr.components.Component:
    if isinstance(output, (contract.ImageOutput, contract.FigureOutput)):
        return gr.Image(label=output.label, format="png")
    if isinstance(output, contract.TableOutput):
        return gr.Dataframe(label=output.label, interactive=False, wrap=True)
    if isinstance(output, contract.MarkdownOutput):
        return gr.Markdown(container=True)  # a Markdown box shows no label: _inside writes it above
    if isinstance(output, contract.JsonOutput):
        return gr.JSON(label=output.label)
    if isinstance(output, contract.VideoOutput):
        return gr.Video(label=output.label)
    return gr.Textbox(label=output.label, lines=6)


def _call(endpoint: contract.Endpoint, queue: str, request: gr.Request, progress: gr.Progress,
          *payloads: Any) -> tuple[Any, ...]:
    """Run a demo on the raw payloads; bad input becomes a Gradio error message, never a traceback."""
    try:
        kwargs = {field.name: _decoded(field, payload) for field, payload in zip(endpoint.inputs, payloads)}
        results = endpoint.run(progress=lambda step: progress(step.fraction, desc=step.note or None), **kwargs)
        return tuple(_shown(output, value) for output, value in zip(endpoint.results, results))
    except InputError as error:
        raise gr.Error(_as_html(str(error)), print_exception=False) from None
    except Exception:
        log.exception("demo failed")
        raise gr.Error("Something went wrong on our side while running the model. Please try again.",
                       print_exception=False) from None
    finally:
        SHARES.release(request.session_hash or "anonymous", queue)


def _as_html(message: str) -> str:
    """Gradio renders error messages as HTML: a visitor's file name or title in one stays text."""
    return html.escape(message, quote=False)


def _decoded(field: contract.Field, payload: Any) -> Any:
    """What the demo takes from a component's raw payload (events skip Gradio's own preprocessing, which
    would decode uploads with messages of its own): an image checked by core, other files as paths."""
    if isinstance(field, (contract.ImageField, contract.AudioField, contract.VideoField, contract.FileField)):
        path = _uploaded_path(payload)
        return read_image(Path(path)) if isinstance(field, contract.ImageField) and path else path
    return payload


def _uploaded_path(payload: Any) -> str | None:
    """The server-side path in a file payload: FileData, or a video's {"video": FileData}."""
    if isinstance(payload, dict) and isinstance(payload.get("video"), dict):
        payload = payload["video"]
    if not isinstance(payload, dict):
        return None
    if payload.get("path") is None and payload.get("url"):
        raise InputError("This upload did not reach the server as a file. Please upload it again.")
    return payload.get("path")


def _shown(output: contract.Output, value: Any) -> Any:
    """A demo's result as a component takes it: pictures and clips as files in Gradio's cache."""
    if value is None:
        return None
    if isinstance(output, contract.ImageOutput):
        return _cached_once(png_bytes(value), "result.png")
    if isinstance(output, contract.FigureOutput):
        return _cached_once(figure_png(value), "figure.png")
    if isinstance(output, contract.TableOutput):  # sent as {"headers": [...], "data": [[...], ...]}
        return {"headers": list(value[0]) if value else [], "data": [list(row.values()) for row in value]}
    if isinstance(output, contract.VideoOutput):
        return _cached_once(value, "annotated.mp4")
    return value


def _admission(queue: str) -> Callable[..., list[dict[str, Any]]]:
    """A validator that runs as a request arrives, before it waits: one visitor may hold only a fair share
    of a demo's queue, and a demo only so many requests, so a flood on one demo spares every other."""

    def admit(request: gr.Request, *payloads: Any) -> list[dict[str, Any]]:  # Gradio fills in positional Requests
        try:
            SHARES.admit(request.session_hash or "anonymous", queue)
        except InputError as error:  # shown beside the first input; the API client raises it as ValidationError
            return [gr.validate(False, _as_html(str(error)))] + [gr.validate(True, "")] * (len(payloads) - 1)
        return [gr.validate(True, "")] * len(payloads)

    return admit


@cache
def _example_photo_files() -> tuple[str, ...]:
    """The bundled sample photos as files (clickable examples), written once per process into one folder."""
    return tuple(_written_once(EXAMPLES_FOLDER / f"{name.split()[0].lower()}.png", png_bytes(example_photo(name)))
                 for name in example_photo_names())




def _serve(endpoint: contract.Endpoint, api_name: str, queue: str) -> None:
    """Inputs, a Run button, the answer and the insides for one endpoint, served under ``api_name`` in ``queue``."""
    # Gradio hands a Progress to the parameter whose default is one, and fills in Request by annotation
    def handler(request: gr.Request, progress: gr.Progress = gr.Progress(), *payloads: Any) -> tuple[Any, ...]:
        return _call(endpoint, queue, request, progress, *payloads)

    with gr.Row():
        with gr.Column():
            inputs = [_component(field) for field in endpoint.inputs]
            run = gr.Button("Run", variant="primary")
        with gr.Column():
            outputs = [_output(output) for output in endpoint.outputs]
    examples = gr.Row()  # filled once the insides exist: a clicked example answers into them too
    gr.Markdown(INSIDES_HEADING)
    with gr.Row(equal_height=False):  # side by side where they fit, wrapping onto more rows where not
        insides = [_inside(inside) for inside in endpoint.insides]
    if isinstance(endpoint.inputs[0], contract.ImageField):
        with examples:
            _examples_answered_once(endpoint, inputs, outputs + insides, handler)

    run.click(handler, inputs, outputs + insides, api_name=api_name, preprocess=False,
              validator=_admission(queue), concurrency_id=queue, concurrency_limit=concurrency_per_demo())


def concurrency_per_demo() -> int:
    """How many of a demo's requests Gradio runs at once. Embedded, one: the model is in this process. In Ray
    mode, every request the demo admits (``core.serving``): held back here, they would reach the cluster one
    at a time, so Serve could neither batch visitors' items nor see the load that scales its replicas."""
    return CONCURRENCY_PER_DEMO if engine().name == "embedded" else SHARES.per_queue


def _examples_answered_once(endpoint: contract.Endpoint, inputs: list, results: list,
                            handler: Callable[..., tuple[Any, ...]]) -> None:
    """Example photos that answer when clicked (at the other inputs' defaults): the first click on one runs
    the model, later clicks, by anyone, get its answer from Gradio's example cache (``cache_mode="lazy"``):
    a class clicking the same example costs one run."""
    values = [getattr(field, "default", None) for field in endpoint.inputs[1:]]
    # Gradio leaves out of an example the inputs it has no value for (an optional picture): so do we
    kept = [0] + [index for index, value in enumerate(values, start=1) if value is not None]

    def answer(request: gr.Request, progress: gr.Progress = gr.Progress(), *payloads: Any) -> tuple[Any, ...]:
        full = [None] * len(endpoint.inputs)
        for index, payload in zip(kept, payloads):
            full[index] = payload
        return handler(request, progress, *full)

    gr.Examples([[path, *(values[index - 1] for index in kept[1:])] for path in _example_photo_files()],
                inputs=[inputs[index] for index in kept], outputs=results, fn=answer, cache_examples=True,
                cache_mode="lazy", preprocess=False, visible_columns=[0])  # the photos; settings at defaults


UNAVAILABLE = "⚠️ This demo could not be loaded on this server; every other tab works. (The error is logged.)"


def build(demos: Registry | None = None) -> gr.Blocks:
    """One tab per registered demo, and an error tab for each demo that failed to register."""
    demos = demos or registry()
    if engine().name == "embedded":  # in Ray mode each replica does this for its demo
        zerogpu.load_models(demos.demos)  # on ZeroGPU only: its GPU calls get the models loaded before launch
        for demo in demos.demos:
            start_shared_work(demo)
    with gr.Blocks(title="Neural Gallery", delete_cache=DELETE_CACHE) as blocks:
        gr.HTML(head=f"<style>{TABLE_CSS}</style>")  # in the page's head, however the app is launched
        gr.Markdown("# 🖼️ Neural Gallery\nLive machine-learning demos, each with its insides on show.")
        for broken in demos.broken:
            with gr.Tab(f"⚠️ {broken.card.title}"):
                gr.Markdown(UNAVAILABLE)
        for demo in demos.demos:
            card = demo.CARD
            with gr.Tab(f"{card.icon} {card.title}"):
                gr.Markdown(card.pitch)
                if len(demo.ENDPOINTS) > 1:  # one inner tab each, one queue for the demo's model
                    for endpoint in demo.ENDPOINTS:
                        with gr.Tab(endpoint.title):
                            _serve(endpoint, card.slug + endpoint.api_suffix, card.slug)
                else:
                    _serve(demo.ENDPOINTS[0], card.slug, card.slug)
    return blocks.queue(max_size=None)  # bounded per demo and per visitor by core.serving instead


if __name__ == "__main__":
    build().launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
                   server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")), max_file_size=MAX_UPLOAD)

"""The same demos behind a Gradio front end: one tab per registered demo, one API endpoint per ``Endpoint``.

Run: ``.venv/bin/python gradio_app.py`` (port 7860). Each demo's ``ENDPOINT`` declares its
inputs and outputs in front-end-neutral terms (core.contract); this file maps them to Gradio
components, so no demo knows which front end calls it.
"""
from __future__ import annotations

import logging
import os
import tempfile
import uuid
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
from gradio import processing_utils

from core import contract
from core.media import example_photo, example_photo_names, png_bytes
from core.validation import InputError, read_image
from demos import DEMOS

MAX_UPLOAD = "20mb"
log = logging.getLogger("neural_gallery")


class UploadedImage(gr.Image):
    """An image box that hands the raw upload to core validation instead of decoding it itself,
    so a damaged or oversized file gets our message rather than Gradio's generic failure."""

    def preprocess(self, payload: Any) -> str | None:
        return None if payload is None else payload.path


def _cached_once(data: bytes, file_name: str, cache_dir: str) -> str:
    """Store a result in Gradio's cache under its content hash, written once and atomically.

    Gradio's own helpers rewrite the hash-named file in place on every request, so two
    visitors getting the same result (say, both clicked the same example) could download a
    half-written file; measured with 8 concurrent clients.
    """
    path = Path(cache_dir) / processing_utils.hash_bytes(data) / file_name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial_file = path.with_name(f".{uuid.uuid4().hex}.part")
        partial_file.write_bytes(data)
        os.replace(partial_file, path)
    return str(path.resolve())


class ResultImage(gr.Image):
    """An output image box for the PIL pictures demos return, cached with ``_cached_once``."""

    def postprocess(self, value: Any) -> Any:
        if value is None:
            return None
        return super().postprocess(_cached_once(png_bytes(value), "result.png", self.GRADIO_CACHE))


class AnnotatedClip(gr.Video):
    """A video box fed the MP4 bytes a demo returns, cached with ``_cached_once`` (no stray temp files)."""

    def postprocess(self, value: bytes | None) -> Any:
        if value is None:
            return None
        return super().postprocess(_cached_once(value, "annotated.mp4", self.GRADIO_CACHE))


def _component(field: contract.Field) -> gr.components.Component:
    if isinstance(field, contract.ImageField):
        return UploadedImage(label=field.label, type="filepath", sources=["upload", "webcam", "clipboard"])
    if isinstance(field, contract.ChoiceField):
        return gr.Dropdown(list(field.choices), value=field.default, label=field.label)
    if isinstance(field, contract.NumberField):
        return gr.Slider(field.minimum, field.maximum, value=field.default, step=field.step, label=field.label)
    if isinstance(field, contract.AudioField):
        return gr.Audio(type="filepath", sources=["upload", "microphone"], label=field.label)
    if isinstance(field, contract.VideoField):  # the path goes to the demo, which checks it with core.video
        return gr.Video(sources=["upload", "webcam"], label=field.label)
    if isinstance(field, contract.FileField):  # the path goes to the demo, which checks the file itself
        return gr.File(label=field.label, file_types=list(field.file_types), type="filepath")
    return gr.Textbox(value=field.default, lines=field.lines, label=field.label)


def _output(output: contract.Output) -> gr.components.Component:
    if isinstance(output, contract.ImageOutput):
        return ResultImage(label=output.label, type="pil", format="png")
    if isinstance(output, contract.JsonOutput):
        return gr.JSON(label=output.label)
    if isinstance(output, contract.VideoOutput):
        return AnnotatedClip(label=output.label)
    return gr.Textbox(label=output.label, lines=6)


def _call(endpoint: contract.Endpoint, *values: Any) -> tuple[Any, ...]:
    """Run a demo; bad input becomes a Gradio error message, never a traceback."""
    try:
        kwargs = {field.name: _decoded(field, value) for field, value in zip(endpoint.inputs, values)}
        return endpoint.fn(**kwargs)
    except InputError as error:
        raise gr.Error(str(error)) from None
    except Exception:
        log.exception("demo failed")
        raise gr.Error("Something went wrong on our side while running the model. Please try again.") from None


def _decoded(field: contract.Field, value: Any) -> Any:
    if isinstance(field, contract.ImageField) and value is not None:
        return read_image(Path(value))
    return value


def _example_photo_files() -> list[str]:
    """The bundled sample photos as files, so Gradio can offer them as clickable examples."""
    folder = Path(tempfile.mkdtemp(prefix="gallery_examples_"))
    paths = []
    for name in example_photo_names():
        path = folder / f"{name.split()[0].lower()}.png"
        example_photo(name).save(path)
        paths.append(str(path))
    return paths


def _serve(endpoint: contract.Endpoint, api_name: str) -> None:
    """Inputs, a Run button and outputs for one endpoint, served under ``api_name``."""
    with gr.Row():
        with gr.Column():
            inputs = [_component(field) for field in endpoint.inputs]
            run = gr.Button("Run", variant="primary")
        with gr.Column():
            outputs = [_output(output) for output in endpoint.outputs]
    if isinstance(endpoint.inputs[0], contract.ImageField):
        gr.Examples([[path] for path in _example_photo_files()], inputs=[inputs[0]])
    run.click(partial(_call, endpoint), inputs, outputs, api_name=api_name)


def build() -> gr.Blocks:
    with gr.Blocks(title="Neural Gallery") as blocks:
        gr.Markdown("# 🖼️ Neural Gallery\nLive machine-learning demos, each with its insides on show.")
        for demo in DEMOS:
            card, extra = demo.CARD, getattr(demo, "EXTRA_ENDPOINTS", ())
            with gr.Tab(f"{card.icon} {card.title}"):
                gr.Markdown(card.pitch)
                if extra:  # several endpoints: one inner tab each
                    for endpoint in (demo.ENDPOINT, *extra):
                        with gr.Tab(endpoint.title):
                            _serve(endpoint, card.slug + endpoint.api_suffix)
                else:
                    _serve(demo.ENDPOINT, card.slug)
    return blocks.queue(default_concurrency_limit=2, max_size=32)


if __name__ == "__main__":
    build().launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
                   server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")), max_file_size=MAX_UPLOAD)

"""Shared test setup: run from the repo root, on the CPU, with small generated inputs."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # AppTest resolves app.py and pages/ relative to the working directory
os.environ.setdefault("HF_HUB_OFFLINE", "1")


APP_TIMEOUT = 120  # seconds an AppTest run may take: model loads on 2 slow cores, not a latency target


@pytest.fixture
def gallery():
    """The Streamlit gallery under AppTest, not yet run: ``gallery.switch_page(...)`` picks a demo."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_TIMEOUT)


def image_captions(app) -> list[str]:
    """Captions of every image an AppTest run shows."""
    return [caption for element in app.get("image") for caption in element.captions]


@pytest.fixture(scope="session")
def gradio_client():
    """A gradio_client.Client talking to the real Gradio app, launched once for the session."""
    from gradio_client import Client

    import gradio_app

    app = gradio_app.build()
    _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True,
                           max_file_size=gradio_app.MAX_UPLOAD)
    yield Client(url, verbose=False)
    app.close()

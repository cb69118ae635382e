"""Shared test setup: run from the repo root, on the CPU, with small generated inputs."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # AppTest resolves app.py and pages/ relative to the working directory
sys.path.append(str(ROOT / "scripts"))  # screenshot.py: the browser kit
os.environ.setdefault("HF_HUB_OFFLINE", "1")


APP_TIMEOUT = 120  # seconds an AppTest run may take: model loads on 2 slow cores, not a latency target
BROWSER_TIMEOUT_MS = 90_000  # a browser wait for a result, likewise


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


@pytest.fixture(scope="session")
def gallery_url():
    """The real Streamlit gallery, served once for the whole session (browser tests);
    GALLERY_URL=http://... points them at a gallery already running instead."""
    from screenshot import serve_gallery

    if os.environ.get("GALLERY_URL"):
        yield os.environ["GALLERY_URL"].rstrip("/")
        return
    with serve_gallery() as server:
        yield server.url


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium under Playwright, launched once for the session."""
    from playwright.sync_api import sync_playwright
    from screenshot import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A fresh browser context (a new visitor: own cookies, own Streamlit session) and its tab."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (``item.rep_call``), for fixtures that act on failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def failure_screenshot(page, request):
    """On failure, what the page showed, in tests/screenshots/failed-<test name>.png."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        folder = ROOT / "tests" / "screenshots"
        folder.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        page.screenshot(path=folder / f"failed-{name}.png")

"""Shared test setup: run from the repo root, on the CPU, with small generated inputs."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # AppTest resolves app.py and views/ relative to the working directory
sys.path.append(str(ROOT / "scripts"))  # screenshot.py: the browser kit
os.environ.setdefault("HF_HUB_OFFLINE", "1")


APP_TIMEOUT = 120  # seconds an AppTest run may take: model loads on 2 slow cores, not a latency target
BROWSER_TIMEOUT_MS = 90_000  # a browser wait for a result, likewise


@pytest.fixture
def gallery():
    """The Streamlit gallery under AppTest, not yet run: ``gallery.switch_page(...)`` picks a demo."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_TIMEOUT)


def as_shown(markdown: str) -> str:
    """Markdown as the visitor reads it, for visitor strings the pages escape (``ui.streamlit_kit.plain``)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def image_captions(app) -> list[str]:
    """Captions of every image an AppTest run shows."""
    return [caption for element in app.get("image") for caption in element.captions]


@pytest.fixture(scope="session")
def gradio_url():
    """The real Gradio app, launched in this process once for the session."""
    import gradio_app

    app = gradio_app.build()
    _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True,
                           max_file_size=gradio_app.MAX_UPLOAD)
    yield url.rstrip("/")
    app.close()


@pytest.fixture(scope="session")
def gradio_client(gradio_url):
    """A gradio_client.Client talking to the real Gradio app."""
    from gradio_client import Client

    return Client(gradio_url, verbose=False)


@pytest.fixture(scope="session")
def gradio_space_url(tmp_path_factory):
    """The folder scripts/make_gradio_space.py lays out, run from a temporary directory as a Space runs it
    (``python gradio_app.py``, the port from the environment), once for the session."""
    import socket
    import subprocess
    import time
    import urllib.request

    space = tmp_path_factory.mktemp("space") / "neural-gallery"
    subprocess.run([sys.executable, "scripts/make_gradio_space.py", str(space)], cwd=ROOT, check=True,
                   capture_output=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (space.parent / "server.log").open("wb")
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_TEMP_DIR": str(space.parent / "gradio-cache"), "PYTHONPATH": ""}
    server = subprocess.Popen([sys.executable, "gradio_app.py"], cwd=space, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"the Space did not start: {(space.parent / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
    yield url
    server.terminate()
    server.wait(timeout=30)
    log.close()


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


# `make test` runs the suite on two pytest-xdist workers, a test file at a time (``-n 2 --dist loadfile``): alone,
# one pytest process leaves a core idle while a browser, a server or a Ray cluster works. Files that share one heavy
# thing run on one worker, one after another: a second gallery server or Space would only compete for the same
# two cores, and the Ray tests (and the probe that looks for a raylet on this machine) assume the only
# Ray cluster here is theirs. (xdist's own ``loadgroup`` marks do not take under pytest 9: xdist 3.8 renames the
# items through an attribute pytest 9 no longer reads.)
RAY_FILES = {"test_engine_ray.py", "test_serve_ray.py", "test_deploy_kuberay.py"}
SPACE_FILES = {"test_browser_gradio.py", "test_gradio_space.py"}


def shared_heavy_thing(test_file: str) -> str | None:
    """The group of files a test file runs with: "gallery" (the gallery server and Chromium), "space" (the
    Space, launched from a copy of its folder), "ray"."""
    name = Path(test_file).name
    if name in SPACE_FILES:
        return "space"
    if name.startswith("test_browser"):
        return "gallery"
    return "ray" if name in RAY_FILES else None


@pytest.hookimpl(optionalhook=True)  # the suite still runs in one process where xdist is absent
def pytest_xdist_make_scheduler(config, log):
    """With ``--dist loadfile``: a file's tests on one worker, and the files sharing a heavy thing too."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedHeavyThingScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.split("::", 1)[0]
            return shared_heavy_thing(file) or file

    return SharedHeavyThingScheduling(config, log)


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

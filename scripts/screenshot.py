"""The gallery in Debian's Chromium: start a Streamlit server, wait for pages, take screenshots.

Used by the browser tests and benchmarks, and as a command:
``screenshot.py URL OUT.png [wait-text]`` screenshots one page of a running gallery.
"""
from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
STREAMLIT = [sys.executable, "-m", "streamlit", "run", "app.py"]  # bare: no shared work begun before a visitor
# what make run and the Docker image serve: the shared work (Atari's replays) begun as the server starts
GALLERY_SERVER = [sys.executable, "-m", "ui.streamlit_server"]
# no file watcher: files edited while a server runs neither reload modules nor show a "source changed" notice
STREAMLIT_FLAGS = ["--server.headless", "true", "--browser.gatherUsageStats", "false",
                   "--server.fileWatcherType", "none"]
# a page is busy while Streamlit shows its running icon or greys out elements of the previous run
BUSY = "document.querySelector('[data-testid=stStatusWidgetRunningIcon], [data-stale=true]')"
README_SCREENSHOTS = ROOT / "docs" / "screenshots"
README_WIDTH = 800


@dataclass(frozen=True)
class GalleryServer:
    url: str
    process: subprocess.Popen


@contextmanager
def serve_gallery(command: list[str] | None = None, start_timeout: float = 90) -> Iterator[GalleryServer]:
    """The gallery's Streamlit server, as make run starts it, on a free loopback port, stopped on exit.

    ``command``: what to run instead of make run's server (server flags are appended).
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([*(command or GALLERY_SERVER), "--server.address", "127.0.0.1",
                                "--server.port", str(port), *STREAMLIT_FLAGS],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the Streamlit server did not start (exit code {process.poll()})") from None
                time.sleep(0.2)
        yield GalleryServer(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def settle(page, timeout_ms: float = 90_000) -> None:
    """Wait until the page's script run is over: not busy at two looks half a second apart."""
    page.wait_for_timeout(700)  # an action's rerun starts
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        page.wait_for_function(f"() => !{BUSY}", timeout=max(1.0, deadline - time.monotonic()) * 1000)
        page.wait_for_timeout(500)
        if not page.evaluate(f"() => !!{BUSY}"):
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the page kept running")


def save_screenshot(page, out: Path, crop_sidebar: bool = True, readme_height: int = 1000) -> Path:
    """Full-page PNG at ``out``; with UPDATE_SCREENSHOTS=1, also a small copy for the README.

    The README copy is the top ``readme_height`` pixels (sidebar cropped off unless told),
    README_WIDTH wide, in 256 colours.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    whole_page(page, out)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        left = 0
        sidebar = page.get_by_test_id("stSidebar")
        if crop_sidebar and sidebar.count() and (box := sidebar.bounding_box()):
            left = int(box["x"] + box["width"])
        readme_copy(out.read_bytes(), README_SCREENSHOTS / out.name, left, readme_height)
    return out


def whole_page(page, out: Path | str, max_height: int = 8000) -> None:
    """Screenshot the whole page. Streamlit scrolls inside its main section, not the document, so
    ``full_page`` alone shows one viewport: the viewport is stretched to the content for the shot."""
    viewport = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]')?.scrollHeight ?? 0")
    page.set_viewport_size({"width": viewport["width"], "height": min(max(height, viewport["height"]), max_height)})
    page.wait_for_timeout(500)  # charts and images lay out again
    page.screenshot(path=out, full_page=True)
    page.set_viewport_size(viewport)


def readme_copy(png: bytes, out: Path, left: int = 0, height: int = 1000) -> Path:
    with Image.open(io.BytesIO(png)) as shot:
        picture = shot.convert("RGB").crop((left, 0, shot.width, min(height, shot.height)))
    scale = README_WIDTH / picture.width
    small = picture.resize((README_WIDTH, round(picture.height * scale)), Image.LANCZOS)
    out.parent.mkdir(parents=True, exist_ok=True)
    small.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, optimize=True)
    return out


def screenshot(url: str, out: str, wait_text: str | None = None, height: int = 1000) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": height})
        page.goto(url)
        if wait_text:
            page.get_by_text(wait_text).first.wait_for(timeout=60_000)
        settle(page)
        whole_page(page, out)
        browser.close()


if __name__ == "__main__":
    screenshot(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)

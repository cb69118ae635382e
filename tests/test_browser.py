"""What only a real browser shows: the gallery served by Streamlit, driven in Debian's Chromium."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT
from core.media import example_photo

sys.path.insert(0, str(ROOT / "scripts"))
from screenshot import CHROMIUM_ARGS  # noqa: E402

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (make test installs it)")
SCREENSHOTS = ROOT / "tests" / "screenshots"


@pytest.fixture(scope="module")
def gallery_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    yield url
    server.terminate()
    server.wait()


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        yield context.new_page()
        browser.close()


def test_first_visitor_landing_on_a_demo_url_gets_the_gallery_navigation(gallery_url, page):
    # runs first, against a fresh server: no session has been through app.py yet
    page.goto(f"{gallery_url}/style_transfer")
    page.get_by_text("Stylised,").first.wait_for(timeout=60_000)
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.get_by_text("Gallery", exact=True).is_visible()
    assert not sidebar.get_by_text("style transfer", exact=True).count()  # no raw file list


def test_home_shows_a_card_per_demo(gallery_url, page):
    page.goto(gallery_url)
    page.get_by_text("Open demo").first.wait_for(timeout=60_000)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "home.png")


def test_visitor_uploads_a_photo_stylises_it_and_downloads_the_png(gallery_url, page, tmp_path: Path):
    photo = tmp_path / "my_photo.jpg"
    example_photo("Rocket").save(photo)
    page.goto(f"{gallery_url}/style_transfer")
    page.get_by_text("Upload", exact=True).first.click()
    page.locator("input[type=file]").first.set_input_files(str(photo))
    page.get_by_text("Stylised, 512x").first.wait_for(timeout=60_000)
    page.screenshot(path=SCREENSHOTS / "style_transfer.png", full_page=True)
    with page.expect_download(timeout=30_000) as download_info:
        page.get_by_role("button", name="Download PNG").click()
    saved = tmp_path / "download.png"
    download_info.value.save_as(saved)
    assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

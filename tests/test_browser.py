"""What only a real browser shows: the gallery served by Streamlit, driven in Debian's Chromium.

Every demo page is driven in test_browser_demos.py, bad uploads in test_browser_bad_inputs.py;
the server and the browser are shared by the whole session (conftest.py).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import ROOT
from screenshot import save_screenshot

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None,
                                reason="Debian chromium is not installed (make test installs it)")
SCREENSHOTS = ROOT / "tests" / "screenshots"


def test_first_visitor_landing_on_a_demo_url_gets_the_gallery_navigation(gallery_url, page):
    # the first browser test of the session (this file sorts first): no session has been through app.py yet
    page.goto(f"{gallery_url}/style_transfer")
    page.get_by_text("Stylised,").first.wait_for()
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.get_by_text("Gallery", exact=True).is_visible()
    assert not sidebar.get_by_text("style transfer", exact=True).count()  # no raw file list


def test_home_shows_a_card_per_demo(gallery_url, page):
    from demos import CARDS, is_lab

    page.goto(gallery_url)
    labs = sum(map(is_lab, CARDS))
    expect(page.get_by_text("Open demo")).to_have_count(len(CARDS) - labs)  # cards render one by one
    expect(page.get_by_text("Open lab")).to_have_count(labs)
    page.wait_for_function("() => [...document.images].every(image => image.complete)")
    save_screenshot(page, SCREENSHOTS / "home.png", crop_sidebar=False, readme_height=2000)


def test_visitor_downloads_the_stylised_png(gallery_url, page, tmp_path: Path):
    page.goto(f"{gallery_url}/style_transfer")
    page.get_by_text("Stylised, 512x").first.wait_for()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download PNG").click()
    saved = tmp_path / "download.png"
    download_info.value.save_as(saved)
    assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

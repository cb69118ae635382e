"""The kNN, backprop and clustering labs in a real browser, beyond their Visits (tests/test_browser_demos.py):
a training run that lives across clicks, and a visitor's broken CSV answered with a message."""
from __future__ import annotations

import shutil

import pytest

from screenshot import settle
from test_browser_demos import click, metric, see, upload_file

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None,
                                reason="Debian chromium is not installed (make test installs it)")


def test_the_network_keeps_training_across_clicks_and_resets(gallery_url, page, failure_screenshot, tmp_path):
    page.goto(f"{gallery_url}/backprop_lab")
    see(page, metric("0"))
    for _ in range(3):
        click("1 step")(page, tmp_path)
        settle(page)
    see(page, metric("3"))
    click("100 steps")(page, tmp_path)
    see(page, metric("103"))
    click("Reset")(page, tmp_path)
    see(page, metric("0"))
    page.get_by_role("tab", name="Loss surface").click()
    see(page, lambda page: page.get_by_text("Start: w (slope)").first)


def test_a_csv_with_a_word_for_a_number_gets_a_message(gallery_url, page, failure_screenshot, tmp_path):
    page.goto(f"{gallery_url}/knn_lab")
    see(page, lambda page: page.get_by_text("Best k (lowest test error)").first)
    broken = tmp_path / "broken.csv"
    broken.write_text("x,y,label\n" + "1,2,a\n" * 5 + "1,two,b\n" + "2,1,b\n" * 10, encoding="utf-8")
    upload_file(page, broken)
    message = page.get_by_test_id("stAlertContentError")
    message.wait_for()
    assert "Line 7: x and y must be finite numbers, not 1, two." in message.inner_text()

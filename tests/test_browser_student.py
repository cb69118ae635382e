"""What a student relies on in the style transfer, emotion and spoken-digit pages, in Chromium on a phone
(390x844) and a laptop (1440x900) (tests/test_browser_phone.py checks that every page fits): every emotion named
in the legend and probabilities that end at 1; no download when there is no face; feature maps big enough to read
on a phone; a player that does not call a 0.7-second recording "0:00 / 0:00"."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import ROOT
from core.audio import read_audio, resample, wav_bytes
from demos.audio_digits import example_recordings
from demos.emotion import EMOTIONS
from demos.emotion.insides import MAP_COLUMNS
from screenshot import save_screenshot
from test_browser_demos import VISITS, choose, metric, see, upload_file
from test_browser_phone import SCREENS, nothing_wider_than_the_screen, open_page

pytestmark = [pytest.mark.skipif(shutil.which("chromium") is None,
                                 reason="Debian chromium is not installed (make test installs it)"),
              pytest.mark.usefixtures("failure_screenshot")]
SCREENSHOTS = ROOT / "tests" / "screenshots"
MIN_MAP_PX = 80  # a feature map's width on screen: 15x15 activations at 5 px each or more
# the text of every label of the page's Vega charts (axes, legends) and its right edge
CHART_LABELS = """(role) => [...document.querySelectorAll(`[data-testid=stVegaLiteChart] .role-${role}-label text`)]
  .map(text => ({text: text.textContent, right: text.getBoundingClientRect().right}))"""


@pytest.mark.parametrize("screen", list(SCREENS))
def test_a_group_photo_names_every_emotion_on_probabilities_that_end_at_1(gallery_url, page, tmp_path, screen):
    open_page(page, gallery_url, "emotion", screen)
    choose("Your photo: example", "Group photo (12 faces, LFW)")(page, tmp_path)
    see(page, VISITS["emotion"].example_result)
    width = page.viewport_size["width"]
    legend = page.evaluate(CHART_LABELS, "legend")
    assert sorted(label["text"] for label in legend) == sorted(EMOTIONS)
    assert all(label["right"] <= width for label in legend), legend  # none cut off at the screen's edge
    numbers = [float(label["text"]) for label in page.evaluate(CHART_LABELS, "axis")
               if re.fullmatch(r"[\d.]+", label["text"])]
    assert max(numbers) == 1.0, numbers  # both probability axes end at 1, not 1.1
    nothing_wider_than_the_screen(page)
    save_screenshot(page, SCREENSHOTS / f"{screen}_emotion_group_photo.png")


@pytest.mark.parametrize("screen", list(SCREENS))
def test_a_photo_without_a_face_says_the_model_reads_faces_and_offers_no_download(gallery_url, page, tmp_path,
                                                                                    screen):
    open_page(page, gallery_url, "emotion", screen)
    choose("Your photo: example", "Coffee (no face)")(page, tmp_path)
    see(page, lambda page: page.get_by_text("this model reads human faces only").first)
    assert not page.get_by_test_id("stDownloadButton").count()
    nothing_wider_than_the_screen(page)  # what the detector saw, as wide as the screen at most


def test_feature_maps_are_big_enough_to_read_on_a_phone(gallery_url, page):
    open_page(page, gallery_url, "emotion", "phone")
    grids = page.locator("img[alt^='Feature maps of']")
    expect(grids).to_have_count(2)  # the first convolution's and a deeper stage's
    for index in range(grids.count()):
        assert grids.nth(index).bounding_box()["width"] / MAP_COLUMNS >= MIN_MAP_PX


def recording_under_a_second(folder: Path) -> Path:
    """The bundled 'zero' (0.71 s) as a phone records it, at 16 kHz."""
    samples, rate = read_audio(example_recordings()["zero"].read_bytes())
    path = folder / "my zero.wav"
    path.write_bytes(wav_bytes(resample(samples, rate, 16_000), 16_000))
    return path


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_player_gives_a_short_recordings_real_length(gallery_url, page, tmp_path, screen):
    """Chromium's player counts whole seconds, so it would read "0:00 / 0:00": its readout is hidden and the
    caption under it gives the length to the hundredth of a second."""
    open_page(page, gallery_url, "audio_digits", screen)
    upload_file(page, recording_under_a_second(tmp_path))
    see(page, metric(re.compile(r"^\d$")))
    assert page.get_by_text(re.compile(r"^What was analysed: 0\.7\d s")).is_visible()
    player = page.locator(".st-key-audio_digits_analysed audio")
    assert 0.5 < player.evaluate("audio => audio.duration") < 1
    shown = player.screenshot()
    page.evaluate("""() => { for (const sheet of document.styleSheets) {
      if ([...sheet.cssRules].some(rule => rule.cssText.includes("media-controls-current-time-display"))) {
        sheet.disabled = true;
      } } }""")
    assert player.screenshot() != shown, "the player's own time readout was not hidden"

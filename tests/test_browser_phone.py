"""Every page as a student meets it on a phone (390x844) and a laptop (1440x900), in a real browser:
the page runs its example and nothing is wider than the screen, except inside a box that scrolls
sideways itself (a wide table)."""
from __future__ import annotations

import shutil

import pytest

from conftest import ROOT
from screenshot import save_screenshot, settle
from test_browser_demos import VISITS, see

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None,
                                reason="Debian chromium is not installed (make test installs it)")
SCREENSHOTS = ROOT / "tests" / "screenshots"
SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1440, "height": 900}}

# Elements whose right edge passes the viewport, unless a box around them scrolls sideways (overflow-x auto or
# scroll) and itself fits; zero-size, invisible and screen-reader-only elements do not count.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const scrollsInside = (element) => {
    for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
      const style = getComputedStyle(box);
      if (["auto", "scroll"].includes(style.overflowX) && box.getBoundingClientRect().right <= width + 1) return true;
    }
    return false;
  };
  const found = [];
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    if (box.width < 1 || box.height < 1 || style.visibility === "hidden" || style.opacity === "0") continue;
    if (box.right <= width + 1 || box.left >= width || scrollsInside(element)) continue;
    const name = element.getAttribute("data-testid") || element.getAttribute("aria-label") || element.className;
    found.push(`${element.tagName.toLowerCase()} ${String(name).slice(0, 60)}: right edge ${Math.round(box.right)} px`);
  }
  return {pageWidth: document.documentElement.scrollWidth, width, found: found.slice(0, 12)};
}"""


def nothing_overflows(page) -> None:
    measured = page.evaluate(OVERFLOWING)
    assert measured["pageWidth"] <= measured["width"] and not measured["found"], measured


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_home_page_fits_the_screen(gallery_url, page, failure_screenshot, screen):
    page.set_viewport_size(SCREENS[screen])
    page.goto(gallery_url)
    page.get_by_text("Neural Style Transfer").first.wait_for()
    settle(page)
    nothing_overflows(page)
    save_screenshot(page, SCREENSHOTS / f"{screen}_home.png", readme_height=1600 if screen == "phone" else 1000)


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("slug", list(VISITS))
def test_every_page_runs_its_example_and_fits_the_screen(gallery_url, page, failure_screenshot, slug, screen):
    page.set_viewport_size(SCREENS[screen])
    page.goto(f"{gallery_url}/{slug}")
    see(page, VISITS[slug].ready)
    page.wait_for_timeout(500)  # charts lay out to their column's width
    nothing_overflows(page)
    save_screenshot(page, SCREENSHOTS / f"{screen}_{slug}.png", readme_height=1800 if screen == "phone" else 1000)

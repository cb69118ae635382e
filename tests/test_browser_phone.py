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

# Visible elements whose right edge passes the screen, unless a box inside the page scrolls them sideways and
# itself fits. Streamlit scrolls the whole page inside its main section, so that box and the ones around it do
# not count as "a box that scrolls": anything past the edge there is cut off, or makes the page scroll sideways.
# Screen-reader-only copies (inside a 1-px box that clips them, as a slider's range input) are not seen.
WIDER_THAN_THE_SCREEN = """() => {
  const main = document.querySelector("[data-testid=stMain]");
  const width = document.documentElement.clientWidth;
  const around = (element, test) => {
    for (let box = element.parentElement; box && box !== main; box = box.parentElement) if (test(box)) return true;
    return false;
  };
  const scrolls = (box) => ["auto", "scroll"].includes(getComputedStyle(box).overflowX)
    && box.getBoundingClientRect().right <= width + 1;
  const screenReaderOnly = (box) => getComputedStyle(box).overflow === "hidden" && box.getBoundingClientRect().width <= 1;
  const found = [];
  for (const element of main.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    if (box.width < 1 || box.height < 1 || style.visibility === "hidden" || style.opacity === "0") continue;
    if (box.right <= width + 1 || box.left >= width || around(element, scrolls) || around(element, screenReaderOnly)) {
      continue;
    }
    const name = element.getAttribute("data-testid") || element.getAttribute("aria-label") || element.textContent;
    found.push(`${element.tagName.toLowerCase()} ${String(name).slice(0, 60)}: right edge ${Math.round(box.right)} px`);
  }
  return {pageWidth: Math.max(document.documentElement.scrollWidth, main.scrollWidth), width, found: found.slice(0, 12)};
}"""


def nothing_wider_than_the_screen(page) -> None:
    measured = page.evaluate(WIDER_THAN_THE_SCREEN)
    assert measured["pageWidth"] <= measured["width"] and not measured["found"], measured


def open_page(page, gallery_url: str, slug: str, screen: str) -> None:
    """The page at this screen size, its example's result shown and its charts laid out."""
    page.set_viewport_size(SCREENS[screen])
    page.goto(f"{gallery_url}/{slug}")
    see(page, VISITS[slug].ready)
    page.wait_for_timeout(500)  # charts lay out to their column's width


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_home_page_fits_the_screen(gallery_url, page, failure_screenshot, screen):
    page.set_viewport_size(SCREENS[screen])
    page.goto(gallery_url)
    page.get_by_text("Neural Style Transfer").first.wait_for()
    settle(page)
    nothing_wider_than_the_screen(page)
    save_screenshot(page, SCREENSHOTS / f"{screen}_home.png", readme_height=1600 if screen == "phone" else 1000)


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("slug", list(VISITS))
def test_every_page_runs_its_example_and_fits_the_screen(gallery_url, page, failure_screenshot, slug, screen):
    open_page(page, gallery_url, slug, screen)
    nothing_wider_than_the_screen(page)
    save_screenshot(page, SCREENSHOTS / f"{screen}_{slug}.png", readme_height=1800 if screen == "phone" else 1000)


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_styles_are_offered_by_name_under_their_thumbnails(gallery_url, page, failure_screenshot, screen):
    from demos import style_transfer

    open_page(page, gallery_url, "style_transfer", screen)
    chosen = page.get_by_test_id("stBaseButton-primary").filter(has_text="Blue swirls")  # the default style
    chosen.scroll_into_view_if_needed()
    box, width = chosen.bounding_box(), SCREENS[screen]["width"]
    assert chosen.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= width
    for name in style_transfer.BUILTIN_STYLE_NAMES:
        assert page.get_by_role("button", name=name, exact=True).is_visible(), name
    assert not page.get_by_role("button", name="#19", exact=True).count()

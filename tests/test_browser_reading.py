"""What a student reads on the translation, summarisation and recommender pages, in a real browser on a laptop
(1440x900) and a phone (390x844): the first translation is the bundled model at its honest best, an article is
summarised by a button and read as prose, recommendations keep their scores in sight and the latent map its
width and its whole legend, and nothing is cut at the screen's edge, in the insides' tabs either."""
from __future__ import annotations

import shutil

import pytest

from conftest import ROOT
from demos import recommender, summarisation, translation
from screenshot import save_screenshot, settle
from test_browser_demos import ARTICLE, see, shows
from test_browser_gradio import open_tab
from test_browser_phone import SCREENS, nothing_wider_than_the_screen, open_page

pytestmark = [pytest.mark.skipif(shutil.which("chromium") is None,
                                 reason="Debian chromium is not installed (make test installs it)"),
              pytest.mark.usefixtures("failure_screenshot")]
SCREENSHOTS = ROOT / "tests" / "screenshots"

# Boxes in the page that cut content wider than themselves (a segmented control or a dataframe scrolling its
# options or columns out of sight, with nothing to say so), except where the reader sees there is more: a text
# field scrolls its own text, "…" ends a cut label, arrows scroll a bar of tabs.
CUT_OFF = """() => {
  const main = document.querySelector("[data-testid=stMain]");
  const cut = [];
  for (const element of main.querySelectorAll("*")) {
    const style = getComputedStyle(element), box = element.getBoundingClientRect();
    if (box.width < 8 || box.height < 1 || style.overflowX === "visible") continue;
    if (element.scrollWidth <= element.clientWidth + 1 || element.matches("input, textarea")) continue;
    if (style.textOverflow === "ellipsis" || element.matches("[role=tablist]")) continue;
    const name = String(element.getAttribute("data-testid") || element.className).slice(0, 50);
    cut.push(`${element.tagName.toLowerCase()} ${name}: ${element.scrollWidth} px in ${element.clientWidth}`);
  }
  return cut.slice(0, 12);
}"""

# The latent map's SVG (Vega): its box, each legend's title, labels and box, and the x axis' box.
LATENT_MAP = """() => {
  const chart = document.querySelector("[data-testid=stVegaLiteChart]");
  const box = (element) => { const r = element.getBoundingClientRect(); return {left: r.left, right: r.right}; };
  return {chart: box(chart.querySelector("svg")),
          legends: [...chart.querySelectorAll("[aria-roledescription=legend]")].map(legend => ({
            title: legend.querySelector(".role-legend-title text")?.textContent, box: box(legend),
            labels: [...legend.querySelectorAll(".role-legend-label text")].map(label => label.textContent)})),
          xAxis: box(chart.querySelector("[aria-roledescription=axis]"))};
}"""


def nothing_is_cut_off(page) -> None:
    nothing_wider_than_the_screen(page)
    assert not page.evaluate(CUT_OFF)


def in_sight(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"] + 1


def every_tab_fits(page, tabs: list[str]) -> None:
    """Open each tab of the insides in turn: what it shows fits the screen too."""
    for tab in tabs:
        page.get_by_role("tab", name=tab, exact=True).click()
        settle(page)
        page.wait_for_timeout(500)  # charts lay out to the tab's width
        nothing_is_cut_off(page)


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_first_translation_is_right_and_every_direction_and_chart_is_in_sight(gallery_url, page, screen):
    source, reference = next(iter(translation.EXAMPLES["en"].items()))
    open_page(page, gallery_url, "translation", screen)
    assert page.get_by_label("Source text (Russian or English)").input_value() == source
    assert page.get_by_test_id("stCode").inner_text().strip() == reference  # the dev reference, word for word
    assert page.get_by_text(translation.BUNDLED_LIMITS[:60]).is_visible()  # the limits note beside it
    directions = page.get_by_test_id("stButtonGroup").first
    assert all(in_sight(page, directions.get_by_text(label, exact=True).first)
               for label in translation.DIRECTION_LABELS.values())
    page.get_by_text("Training of the bundled model").wait_for()
    nothing_is_cut_off(page)  # the training chart and the BLEU tables included
    save_screenshot(page, SCREENSHOTS / f"{screen}_translation.png", readme_height=1800 if screen == "phone" else 1000)


@pytest.mark.parametrize("screen", list(SCREENS))
def test_a_pasted_article_is_summarised_by_the_button_and_reads_as_prose(gallery_url, page, screen):
    open_page(page, gallery_url, "summarisation", screen)
    article = page.get_by_label("Article (Russian or English)")
    assert article.input_value() == next(iter(summarisation.example_articles().values()))  # there from the start
    example = summarisation.summarise(article.input_value()).text
    article.fill(ARTICLE)
    page.wait_for_timeout(1500)  # pasting alone changes nothing...
    assert shows(example)(page).is_visible()
    page.get_by_role("button", name="Summarise", exact=True).click()  # ...the button summarises
    summary = summarisation.summarise(ARTICLE).text
    see(page, shows(summary))
    font = shows(summary)(page).evaluate("element => element.closest('pre, code') ? 'code' : "
                                              "getComputedStyle(element).fontFamily")
    assert "mono" not in font.lower() and font != "code", font
    nothing_is_cut_off(page)
    save_screenshot(page, SCREENSHOTS / f"{screen}_summarisation.png",
                    readme_height=1800 if screen == "phone" else 1000)
    every_tab_fits(page, ["Similarity heatmap", "Embedding map", "Numbers"])


@pytest.mark.parametrize("screen", list(SCREENS))
def test_recommendations_keep_their_scores_in_sight_and_the_map_its_width_and_legend(gallery_url, page, screen):
    open_page(page, gallery_url, "recommender", screen)
    table = page.get_by_test_id("stTable").first
    assert all(in_sight(page, table.get_by_role("columnheader", name=name, exact=True))
               for name in ("rank", "movie", "score"))
    page.get_by_test_id("stVegaLiteChart").locator("[aria-roledescription=legend]").first.wait_for()
    shown = page.evaluate(LATENT_MAP)
    chart = shown["chart"]
    legends = {legend["title"]: legend for legend in shown["legends"]}
    model = recommender.load()
    genres = set(recommender.latent_map(model)["genre"])
    assert set(legends["genre (rarest listed)"]["labels"]) == genres  # every genre on the map, none cut off
    assert legends["you"]["labels"] == ["your pick", "recommended"]
    assert all(chart["left"] - 1 <= legend["box"]["left"] and legend["box"]["right"] <= chart["right"] + 1
               for legend in legends.values())
    # the map keeps the chart's width (a legend at its side took half of it on a phone)
    assert shown["xAxis"]["right"] - shown["xAxis"]["left"] > 0.7 * (chart["right"] - chart["left"])
    nothing_is_cut_off(page)
    save_screenshot(page, SCREENSHOTS / f"{screen}_recommender.png", readme_height=1800 if screen == "phone" else 1000)
    every_tab_fits(page, ["One user-movie pair", "Movies like this", "How good is it?", "How it works"])
    page.get_by_text("Compare ALS with the two baselines (most popular, user-based CF)").click()
    see(page, shows("Most popular", exact=True))
    nothing_is_cut_off(page)  # three tables side by side, or one under another on a phone


def test_the_gradio_summary_reads_as_prose(page, gradio_url):
    page.set_viewport_size({"width": 2400, "height": 1200})  # every tab in one row (test_browser_gradio)
    page.goto(gradio_url)
    panel = open_tab(page, summarisation, summarisation.ENDPOINTS[0])
    panel.get_by_role("button", name="Run", exact=True).click()
    summary = panel.get_by_label("Summary", exact=True)
    page.wait_for_function("([box]) => box.value.trim().length > 0", arg=[summary.element_handle()],
                           timeout=120_000)
    assert "mono" not in summary.evaluate("box => getComputedStyle(box).fontFamily").lower()

"""A person in a real browser uses every tab of the Gradio app, and of the Space folder: gives an input
(an example click or an upload), presses Run and sees the result and, below it, how the model got there."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

import gradio_app
from core import contract
from demos import DEMOS
from endpoint_samples import QUICK, sample_file
from screenshot import save_screenshot

SCREENSHOTS = Path(__file__).parent / "screenshots"

pytestmark = pytest.mark.usefixtures("failure_screenshot")
RESULT_TIMEOUT_MS = 120_000
TABS = [(demo, endpoint) for demo in DEMOS for endpoint in demo.ENDPOINTS]
TAB_IDS = [demo.CARD.slug + endpoint.api_suffix for demo, endpoint in TABS]


@pytest.fixture(params=["app", "space"])
def server_url(request):
    return request.getfixturevalue("gradio_url" if request.param == "app" else "gradio_space_url")


def open_tab(page, demo, endpoint):
    name = f"{demo.CARD.icon} {demo.CARD.title}"
    page.get_by_role("tab").first.wait_for()
    if page.get_by_role("tab", name=name).count():
        page.get_by_role("tab", name=name).click()
    else:  # the tabs that do not fit the row wait behind Gradio's "…" menu
        page.locator(".overflow-menu > button").first.click()
        page.locator(".overflow-dropdown button").filter(has_text=name).first.click()
    if endpoint.title and len(demo.ENDPOINTS) > 1:
        page.get_by_role("tab", name=endpoint.title, exact=True).click()
    return page.get_by_role("tabpanel").filter(visible=True).last


def give_inputs(panel, endpoint, folder) -> None:
    for index, field in enumerate(endpoint.inputs):
        if isinstance(field, contract.ImageField) and not field.optional:
            panel.get_by_text("Examples").locator("xpath=..").locator("img").first.click()  # a sample photo
            panel.locator("[data-testid=image] img").first.wait_for()  # in the input box
        elif isinstance(field, (contract.AudioField, contract.VideoField)):
            panel.locator("input[type=file]").first.set_input_files(str(sample_file(field, folder)))
            panel.locator("audio, video").first.wait_for(state="attached")  # the upload is in
        elif isinstance(field, contract.NumberField) and field.name in QUICK:
            number = panel.get_by_role("spinbutton").nth(_number_index(endpoint, index))
            number.fill(str(QUICK[field.name]))
            number.press("Enter")


def _number_index(endpoint, index: int) -> int:
    return sum(isinstance(field, contract.NumberField) for field in endpoint.inputs[:index])


def result_shown(panel, output):
    """A locator for a picture or clip output once it shows a result."""
    if isinstance(output, contract.ImageOutput):
        return panel.locator("img[src*='result.png']")
    if isinstance(output, contract.FigureOutput):
        return panel.locator("img[src*='figure.png']")
    if isinstance(output, contract.VideoOutput):
        return panel.locator("video[src*='annotated.mp4']")
    raise ValueError(f"{output} has no picture to wait for")


def expect_result(page, panel, output) -> None:
    """The result appears; an error toast instead fails the test with its message."""
    if isinstance(output, contract.TextOutput):
        box = panel.get_by_label(output.label, exact=True)
        page.wait_for_function("([box]) => box.value.trim().length > 0 || document.querySelector('.toast-body')",
                               arg=[box.element_handle()], timeout=RESULT_TIMEOUT_MS)
    else:
        result_shown(panel, output).or_(page.locator(".toast-body")).first.wait_for(timeout=RESULT_TIMEOUT_MS)
    toasts = page.locator(".toast-body")
    assert not toasts.count(), toasts.first.inner_text()


def expect_insides(panel, endpoint) -> None:
    """Every inside the endpoint declares is on show with something in it, under its label."""
    boxes = panel.locator(f".{gradio_app.INSIDE_CLASS}")
    assert boxes.count() == len(endpoint.insides)
    for index, inside in enumerate(endpoint.insides):
        box = boxes.nth(index)
        assert inside.label in box.inner_text() or box.get_by_label(inside.label).count()
        if isinstance(inside, (contract.ImageOutput, contract.FigureOutput)):
            box.locator("img[src*='.png']").first.wait_for(timeout=RESULT_TIMEOUT_MS)
        elif isinstance(inside, contract.TableOutput):
            box.get_by_role("gridcell").first.wait_for(timeout=RESULT_TIMEOUT_MS)
        else:  # the label's own Markdown comes first, then the inside's
            expect(box.locator(".prose").last).to_have_text(re.compile(r"\w{3}"), timeout=RESULT_TIMEOUT_MS)


@pytest.mark.parametrize("demo, endpoint", TABS, ids=TAB_IDS)
def test_every_tab_runs_in_a_browser_and_shows_its_insides(page, server_url, tmp_path, demo, endpoint):
    page.set_viewport_size({"width": 2400, "height": 1200})  # every demo's tab in one row, none in the overflow menu
    page.goto(server_url)
    panel = open_tab(page, demo, endpoint)
    give_inputs(panel, endpoint, tmp_path)
    panel.get_by_role("button", name="Run", exact=True).click()
    expect_result(page, panel, endpoint.outputs[0])
    expect_insides(panel, endpoint)
    assert not page.get_by_text(re.compile("Something went wrong|Error")).filter(visible=True).count()
    page.set_viewport_size({"width": 1400, "height": 1000})  # as a visitor's screen shows it, for the README
    save_screenshot(page, SCREENSHOTS / f"gradio_{demo.CARD.slug + endpoint.api_suffix}.png", readme_height=2400)


def test_every_picture_box_loads_its_front_end(page, gradio_url):
    """Boxes for pictures and clips are Gradio's own: none waits for a custom component's missing files."""
    failed = []
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    page.goto(gradio_url)
    page.locator("input[type=file]").first.wait_for(state="attached")
    page.wait_for_timeout(1500)
    assert not page.get_by_text("Loading...").filter(visible=True).count()
    assert not [url for url in failed if "custom_component" in url]


def run_tab(page, url: str, demo, folder: Path):
    """The tab of ``demo`` after its example ran (on a wide screen, where every tab's button is in sight)."""
    page.set_viewport_size({"width": 2400, "height": 1200})
    page.goto(url)
    endpoint = demo.ENDPOINTS[0]
    panel = open_tab(page, demo, endpoint)
    give_inputs(panel, endpoint, folder)
    panel.get_by_role("button", name="Run", exact=True).click()
    expect_result(page, panel, endpoint.outputs[0])
    return panel


def test_the_style_dropdown_offers_the_styles_by_name(page, gradio_url):
    from demos import style_transfer

    page.set_viewport_size({"width": 2400, "height": 1200})
    page.goto(gradio_url)
    panel = open_tab(page, style_transfer, style_transfer.ENDPOINTS[0])
    style = panel.get_by_label("Built-in style")
    assert style.input_value() == "Blue swirls"
    style.click()
    expect(page.get_by_role("option", name="Navy dots", exact=True)).to_be_visible()
    assert not page.get_by_role("option", name=re.compile(r"^#?\d+$")).count()  # no bare numbers


@pytest.mark.parametrize("slug", ["recommender", "summarisation"])
def test_a_table_of_the_insides_shows_every_column_on_a_phone(page, gradio_url, tmp_path, slug):
    """At 390x844 the recommendations' and the sentences' tables fit their boxes, score column included;
    a table that cannot fit says that it scrolls sideways."""
    demo = next(demo for demo in DEMOS if demo.CARD.slug == slug)
    panel = run_tab(page, gradio_url, demo, tmp_path)
    table = panel.locator(f".{gradio_app.INSIDE_CLASS}").filter(has=page.get_by_role("gridcell")).first
    table.get_by_role("gridcell").first.wait_for(timeout=RESULT_TIMEOUT_MS)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(1000)  # the tables lay out again
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    headers = table.get_by_role("columnheader")
    assert "score" in headers.all_inner_texts()
    for index in range(headers.count()):
        header = headers.nth(index).bounding_box()
        assert box["x"] - 1 <= header["x"] and header["x"] + header["width"] <= box["x"] + box["width"] + 1, \
            headers.nth(index).inner_text()
    assert box["x"] + box["width"] <= 390
    save_screenshot(page, SCREENSHOTS / f"phone_gradio_{slug}.png", readme_height=2400)


def test_a_table_too_wide_for_its_box_says_that_it_scrolls(page, gradio_url, tmp_path):
    """The emotion table (a face and seven probabilities): on a narrow phone it cannot fit, and says so;
    where it fits, nothing says it scrolls."""
    from demos import emotion

    panel = run_tab(page, gradio_url, emotion, tmp_path)
    table = panel.locator(".table-container").first
    table.get_by_role("gridcell").first.wait_for(timeout=RESULT_TIMEOUT_MS)
    shown = """el => { const box = el.querySelector('.virtual-table-viewport'), cue = getComputedStyle(el, '::after');
                      return {scrolls: box.scrollWidth > box.clientWidth + 1,
                              cue: cue.opacity === '1' && cue.content.includes('Scroll sideways')}; }"""
    laptop = table.evaluate(shown)
    assert laptop["cue"] == laptop["scrolls"], laptop
    page.set_viewport_size({"width": 320, "height": 700})
    page.wait_for_timeout(1000)  # the table lays out again
    assert table.evaluate(shown) == {"scrolls": True, "cue": True}

"""Every demo as a visitor meets it in a real browser: open the page, see the default example's
result, pick another example, then give the page a file of one's own through its uploader
(typed text where the page has no uploader), and see each result.

A new demo needs one ``Visit`` in ``VISITS`` (test_every_demo_has_a_visit fails until it has one).
Markers are functions of the page returning a Playwright locator: building a locator is the same
call in the sync API (these tests) and the async one (benchmarks/bench_browser_concurrency.py).
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image, ImageDraw

from conftest import ROOT
from core.audio import read_audio, resample, wav_bytes
from core.media import example_photo
from demos.audio_digits import example_recordings
from demos.summarisation import example_articles
from labs_more_files import labelled_points_csv, upload_digit_in_digits_tab
from screenshot import save_screenshot, settle
from test_summarisation_documents import word_document

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None,
                                reason="Debian chromium is not installed (make test installs it)")
SCREENSHOTS = ROOT / "tests" / "screenshots"
FAILURE_TEXT = ("Traceback", "Something went wrong on our side")

Marker = Callable[..., object]  # page -> Locator
Action = Callable[..., None]  # (page, folder for files the visitor makes) -> None


# --- what a visitor does on a page ---------------------------------------------------------

def shows(text: str | re.Pattern, exact: bool = False) -> Marker:
    return lambda page: page.get_by_text(text, exact=exact).first


def metric(value: str | re.Pattern) -> Marker:
    return lambda page: page.get_by_test_id("stMetricValue").get_by_text(value, exact=True).first


def open_selectbox(label: str) -> Action:
    return lambda page, folder: page.get_by_test_id("stSelectbox").filter(has_text=label).first.click()


def choose(label: str, option: str) -> Action:
    """Pick ``option`` in the selectbox labelled ``label``."""
    def act(page, folder: Path) -> None:
        open_selectbox(label)(page, folder)
        page.get_by_role("option", name=option, exact=True).click()
    return act


def option(name: str | re.Pattern) -> Marker:
    """An entry of the open selectbox's list."""
    return lambda page: page.get_by_role("option", name=name).first


def click(name: str) -> Action:
    """Click what reads ``name``: a segmented control's segment, a pill, a toggle, a button."""
    return lambda page, folder: page.get_by_text(name, exact=True).first.click()


def upload_file(page, path: Path) -> None:
    """Switch the page's source control to Upload (if not there yet) and give it ``path``."""
    uploader = page.get_by_test_id("stFileUploader").first
    if not uploader.is_visible():
        page.get_by_test_id("stButtonGroup").get_by_text("Upload", exact=True).first.click()
    uploader.locator("input[type=file]").set_input_files(str(path))


def upload(make: Callable[[Path], Path]) -> Action:
    return lambda page, folder: upload_file(page, make(folder))


def slide_to_start(label: str) -> Action:
    """Move the slider labelled ``label`` to its lowest value, as with the Home key."""
    def act(page, folder: Path) -> None:
        page.get_by_test_id("stSlider").filter(has_text=label).get_by_role("slider").press("Home")
    return act


def steps(*actions: Action) -> Action:
    def act(page, folder: Path) -> None:
        for action in actions:
            action(page, folder)
            settle(page)
    return act


# --- files a visitor brings ------------------------------------------------------------------

def portrait_jpeg(folder: Path) -> Path:
    """A drawn 300x400 picture: sky, sun, hills."""
    picture = Image.new("RGB", (300, 400), (90, 150, 220))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((190, 40, 260, 110), fill=(250, 210, 60))
    draw.polygon([(0, 400), (0, 250), (120, 180), (300, 280), (300, 400)], fill=(40, 120, 60))
    path = folder / "my drawing.jpg"
    picture.save(path, quality=90)
    return path


def photo_jpeg(name: str, side: int = 480) -> Callable[[Path], Path]:
    """A bundled example photo, shrunk and saved as the visitor's own JPEG."""
    def make(folder: Path) -> Path:
        picture = example_photo(name)
        picture.thumbnail((side, side))
        path = folder / f"my {name.split()[0].lower()}.jpg"
        picture.save(path, quality=85)
        return path
    return make


def recording_at_16khz(digit: str) -> Callable[[Path], Path]:
    """A bundled recording of ``digit`` resampled to 16 kHz with some silence around it:
    what a phone or laptop records, not the 8 kHz the model works at."""
    def make(folder: Path) -> Path:
        samples, rate = read_audio(example_recordings()[digit].read_bytes())
        silence = np.zeros(16_000 // 4, dtype=np.float32)
        path = folder / f"my {digit}.wav"
        path.write_bytes(wav_bytes(np.concatenate([silence, resample(samples, rate, 16_000), silence]), 16_000))
        return path
    return make


ARTICLE = ("The city council voted on Tuesday to close the old harbour bridge to cars from next spring. "
           "Engineers found deep cracks in two of its steel supports during an inspection last month. "
           "Buses, bicycles and pedestrians will still be allowed to cross while repairs are planned. "
           "Shop owners near the harbour worry that fewer visitors will come by car. "
           "The council promised a free shuttle bus between the main car park and the harbour. "
           "Repairs are expected to take two years and to cost about forty million euros. "
           "A new bridge was considered but rejected as too expensive and too slow to build.")


def article_txt(folder: Path) -> Path:
    path = folder / "harbour bridge.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    return path


def letter_docx(folder: Path) -> Path:
    """A short Word document in English."""
    path = folder / "letter.docx"
    path.write_bytes(word_document(["The weather is good, so we are going to the park.", "I love my cat."]))
    return path


def letterboxd_csv(folder: Path) -> Path:
    """Liked films as Letterboxd exports them: Name and Year columns."""
    path = folder / "letterboxd.csv"
    path.write_text("Date,Name,Year,Letterboxd URI,Rating\n2024-03-01,The Matrix,1999,https://boxd.it/a,5\n"
                    "2024-03-02,Alien,1979,https://boxd.it/b,4.5\n", encoding="utf-8")
    return path


def fashion_png(folder: Path) -> Path:
    """A trouser drawn on black, Fashion-MNIST style, at 4x its 28x28."""
    picture = Image.new("L", (112, 112), 0)
    ImageDraw.Draw(picture).polygon([(36, 8), (76, 8), (84, 104), (64, 104), (56, 40), (48, 104), (28, 104)],
                                    fill=210)
    path = folder / "trouser.png"
    picture.save(path)
    return path


def trained_policy(folder: Path) -> Path:
    """A Pong policy as scripts/train_atari.py exports it (the shipped weights: the page cannot tell)."""
    path = folder / "my pong agent.safetensors"
    shutil.copyfile(ROOT / "models" / "atari" / "pong.safetensors", path)
    return path


def type_text(label: str, text: str, submit: str | None = None) -> Action:
    """Type into the text box labelled ``label``, then press Enter or click ``submit``."""
    def act(page, folder: Path) -> None:
        box = page.get_by_label(label, exact=True)
        box.fill(text)
        if submit:
            page.get_by_role("button", name=submit).click()
        else:
            box.press("Enter")
    return act


# --- one entry per demo ------------------------------------------------------------------------

@dataclass(frozen=True)
class Visit:
    ready: Marker  # the result of the example the page opens with
    example: Action  # pick another example...
    example_result: Marker  # ...and its result
    own_input: Action  # upload a file made here (or type, where the page has no uploader)...
    own_result: Marker  # ...and its result
    uploads: bool = True  # False: the page offers no uploader
    readme_height: int = 1000  # pixels of the page (from the top) in the README screenshot


VISITS: dict[str, Visit] = {
    "style_transfer": Visit(
        ready=shows("Stylised, 512x512"),
        example=choose("Your photo: example", "Rocket"), example_result=shows(re.compile(r"Stylised, 512x34\d")),
        own_input=upload(portrait_jpeg), own_result=shows("Stylised, 384x512"), readme_height=1150),
    "object_detection": Visit(
        ready=shows(re.compile(r"\d+ objects? found at confidence")),
        example=choose("Your photo: example", "Cat (Chelsea)"),
        example_result=shows(re.compile(r"[1-9]\d* objects? found at confidence")),
        own_input=upload(photo_jpeg("Coffee")), own_result=shows(re.compile(r"[1-9]\d* objects? found")),
        readme_height=1050),
    "emotion": Visit(
        ready=shows(re.compile(r"\d+ face\(s\) found")),
        example=choose("Your photo: example", "Group photo (12 faces, LFW)"),
        example_result=shows(re.compile(r"1[0-2] face\(s\) found")),
        own_input=upload(photo_jpeg("Astronaut")), own_result=shows("1 face(s) found", exact=True)),
    "audio_digits": Visit(
        ready=shows("Digits heard"),
        # how many digits, not which: which is the model's job (benchmarks/bench_audio_digits.py)
        example=choose("Your recording: example", "four zero two"), example_result=metric(re.compile(r"^\d{3}$")),
        own_input=upload(recording_at_16khz("seven")), own_result=metric(re.compile(r"^\d$"))),
    "recommender": Visit(
        ready=shows("ALS (latent factors)", exact=True),
        example=click("Compare ALS with the two baselines (most popular, user-based CF)"),
        example_result=shows("Most popular", exact=True),
        # the uploaded list's picks show in the "A movie" list of the user-movie tab (recommendations + picks)
        own_input=steps(upload(letterboxd_csv), click("One user-movie pair"), open_selectbox("A movie")),
        own_result=option(re.compile(r"^Matrix, The \(1999\)"))),
    "summarisation": Visit(
        ready=shows("Summary", exact=True),
        example=choose("Article: example", next(name for name in example_articles() if name.startswith("RU"))),
        example_result=shows("Russian (detected)"),
        own_input=upload(article_txt), own_result=shows("English (detected)"), readme_height=1420),
    "translation": Visit(
        ready=shows("English → Russian (detected)"),
        example=click("Кто дал вам эти яблоки?"), example_result=shows("Russian → English (detected)"),
        own_input=upload(letter_docx), own_result=shows("English → Russian (detected)")),
    "image_generation": Visit(
        ready=shows("9 × Sneaker, Diffusion"),
        example=choose("Class", "Ankle boot"), example_result=shows("9 × Ankle boot, Diffusion"),
        own_input=steps(click("Inpaint (diffusion)"), upload(fashion_png)),  # opens on an example picture
        own_result=shows("Filled in as T-shirt/top")),
    "atari": Visit(
        ready=shows(re.compile(r"Played at \d+ decisions/s")),  # the recorded replay, played on first use
        example=click("Occlusion (Greydanus et al. 2018)"), example_result=shows("where the choice came from (red)"),
        own_input=steps(click("Play a fresh episode now"), upload(trained_policy), type_text("Seed", "7"),
                        slide_to_start("Episode length cap"), click("Play")),
        own_result=shows("PPO agent: your upload my pong agent.safetensors, seed 7.")),
    "convolution_lab": Visit(
        ready=shows("Output 256x256: values"),  # the astronaut, Sobel x at stride 1, padding 1
        example=choose("Your photo: example", "Coffee"), example_result=shows("Output 256x171: values"),
        own_input=upload(portrait_jpeg), own_result=shows("Output 192x256: values"), readme_height=1400),
    "cnn_lab": Visit(
        ready=shows("Grad-CAM for 285 · Egyptian cat: where the evidence lies"),
        example=choose("Your photo: example", "Coffee"), example_result=shows("Grad-CAM for 967 · espresso"),
        own_input=steps(upload(photo_jpeg("Motorcycle")), click("Run gradient ascent")),
        own_result=shows("class 130, flamingo; the network gives it"), readme_height=1300),
    "knn_lab": Visit(
        ready=shows("300 points in 2 classes: class 0, class 1"),
        example=choose("Toy set", "blobs"), example_result=shows("300 points in 3 classes"),
        own_input=upload(labelled_points_csv), own_result=shows("40 points in 2 classes: cat, dog"),
        readme_height=1250),
    "backprop_lab": Visit(
        ready=metric("0"),  # the network before its first step
        example=click("100 steps"), example_result=metric("100"),
        own_input=steps(upload(labelled_points_csv), click("100 steps")),
        own_result=shows("40 points in 2 classes: cat, dog"), readme_height=1250),
    "clustering_lab": Visit(
        ready=shows("300 points in 2 classes: class 0, class 1"),
        example=choose("Toy set", "blobs"), example_result=shows("300 points in 3 classes"),
        own_input=upload_digit_in_digits_tab, own_result=metric("7"), readme_height=1250),
}


# --- the tests ---------------------------------------------------------------------------------

def see(page, marker: Marker) -> None:
    """Wait for a result, let the run finish, and check it is shown without an error or a traceback."""
    marker(page).wait_for()
    settle(page)
    assert marker(page).is_visible()
    shown = page.get_by_test_id("stMain").inner_text()
    assert not any(text in shown for text in FAILURE_TEXT), shown[:2000]
    assert not page.get_by_test_id("stException").count()
    errors = page.get_by_test_id("stAlertContentError")
    assert not errors.count(), errors.first.inner_text()


def test_every_demo_has_a_visit():
    from demos import CARDS

    assert sorted(VISITS) == sorted(card.slug for card in CARDS)


@pytest.mark.parametrize("slug", list(VISITS))
def test_visitor_tries_an_example_then_their_own_input(gallery_url, page, failure_screenshot, tmp_path, slug):
    visit = VISITS[slug]
    page.goto(f"{gallery_url}/{slug}")
    see(page, visit.ready)
    visit.example(page, tmp_path)
    see(page, visit.example_result)
    save_screenshot(page, SCREENSHOTS / f"{slug}.png", readme_height=visit.readme_height)
    visit.own_input(page, tmp_path)
    see(page, visit.own_result)
    if visit.uploads:
        assert page.get_by_test_id("stFileChipName").count() == 1
    else:  # if the page grows an uploader, its Visit should use it
        assert not page.get_by_test_id("stFileUploader").count()
        assert not page.get_by_test_id("stButtonGroup").get_by_text("Upload", exact=True).count()

"""What a visitor brings to the kNN, backprop and clustering labs in the browser tests: a CSV of labelled
points and a hand-drawn digit, and the way to hand the digit to the clustering page's second tab."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

DIGITS_TAB = "Digits: maps and your digit"


def labelled_points_csv(folder: Path) -> Path:
    """40 points: cats to the left, dogs to the right, the way a spreadsheet exports them."""
    rng = np.random.default_rng(5)
    lines = ["x,y,label"] + [f"{x:.2f},{y:.2f},{'cat' if x < 0 else 'dog'}"
                             for x, y in rng.normal(0, 1, size=(40, 2))]
    path = folder / "my points.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def drawn_seven(folder: Path) -> Path:
    """A 7 drawn with a thick pen on white paper, as a photo of it would look cropped."""
    picture = Image.new("RGB", (240, 320), "white")
    ImageDraw.Draw(picture).line([(50, 60), (190, 60), (110, 280)], fill=(30, 30, 30), width=26, joint="curve")
    path = folder / "my seven.png"
    picture.save(path)
    return path


def upload_digit_in_digits_tab(page, folder: Path) -> None:
    """Open the clustering page's digits tab, switch its source to Upload and give it a drawn 7."""
    page.get_by_role("tab", name=DIGITS_TAB).click()
    panel = page.get_by_role("tabpanel", name=DIGITS_TAB)
    panel.get_by_test_id("stButtonGroup").get_by_text("Upload", exact=True).first.click()
    panel.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(drawn_seven(folder)))

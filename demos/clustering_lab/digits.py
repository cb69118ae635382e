"""scikit-learn's 1,797 handwritten digits (8x8 pixels, ink 0-16), their PCA and t-SNE maps, and a
visitor's picture of a digit turned into the same 8x8 form and placed among them."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from core.memo import RESULTS
from core.models import MODELS
from core.validation import InputError

SIDE = 8
INK_MAX = 16.0  # the digits' pixel scale
INK_THRESHOLD = 0.25  # of the darkest ink: what counts as part of the stroke when cropping
TSNE_KEY = "clustering_lab/tsne"
TSNE_FILE = Path(__file__).resolve().parents[2] / "models" / "clustering_lab" / "digits_tsne.npy"
TSNE_SETTINGS = {"init": "pca", "perplexity": 30, "random_state": 0}
EXAMPLE_DIGITS = "0123456789"


@dataclass(frozen=True)
class Digits:
    images: np.ndarray  # (1797, 64), ink 0-16
    labels: np.ndarray  # (1797,), 0-9
    pca: object  # sklearn PCA with 2 components, fitted on the images
    pca_xy: np.ndarray  # (1797, 2)


def load() -> Digits:
    return MODELS.get("clustering_lab/digits", _load_digits)


def _load_digits() -> Digits:
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA

    data = load_digits()
    pca = PCA(n_components=2, random_state=0).fit(data.data)
    return Digits(data.data, data.target, pca, pca.transform(data.data))


def tsne_map() -> np.ndarray:
    """The digits' t-SNE map, (1797, 2), made once by scripts/make_digits_tsne.py (it takes from tens of seconds
    to minutes here) and read once per process."""
    return RESULTS.get(TSNE_KEY, lambda _progress: np.load(TSNE_FILE))


def as_digit(picture: Image.Image) -> np.ndarray:
    """A picture of one digit as the data set's 64 numbers: ink (dark on light, or light on dark) cropped to
    its box, centred in a square as tall as it (the data set's digits fill their 8 rows), averaged down to
    8x8, scaled to 0-16."""
    grey = np.asarray(ImageOps.grayscale(picture), dtype=float) / 255.0
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    ink = 1.0 - grey if border.mean() > 0.5 else grey  # the background is what the edges show
    ink = np.clip(ink - np.median(border if border.mean() <= 0.5 else 1.0 - border), 0.0, None)
    if ink.max() < 0.1:
        raise InputError("No digit found in this picture: draw or write one digit, dark on light or light on dark.")
    rows, columns = np.nonzero(ink >= INK_THRESHOLD * ink.max())
    cropped = ink[rows.min():rows.max() + 1, columns.min():columns.max() + 1]
    side = max(cropped.shape)
    square = np.zeros((side, side))
    top, left = (side - cropped.shape[0]) // 2, (side - cropped.shape[1]) // 2
    square[top:top + cropped.shape[0], left:left + cropped.shape[1]] = cropped
    small = np.asarray(Image.fromarray((square * 255).astype(np.uint8)).resize((SIDE, SIDE), Image.BOX), float)
    return (small / max(small.max(), 1e-9) * INK_MAX).ravel()


def digit_picture(digit: np.ndarray, side: int = 96) -> Image.Image:
    """64 ink values as a picture (dark ink on white), ``side`` pixels square."""
    pixels = (255 - np.asarray(digit).reshape(SIDE, SIDE) / INK_MAX * 255).clip(0, 255).astype(np.uint8)
    return Image.fromarray(pixels).resize((side, side), Image.NEAREST)


def example_digit(character: str) -> Image.Image:
    """A digit written in a font, a little thick, as a stand-in for one the visitor draws."""
    if character not in EXAMPLE_DIGITS:
        raise InputError(f"Example digits are {', '.join(EXAMPLE_DIGITS)}.")
    picture = Image.new("L", (120, 160), 255)
    ImageDraw.Draw(picture).text((60, 80), character, fill=0, anchor="mm", stroke_width=4, stroke_fill=0,
                                 font=ImageFont.load_default(size=110))
    return picture.convert("RGB")


@dataclass(frozen=True)
class Placement:
    digit: np.ndarray  # the visitor's 64 values
    neighbours: np.ndarray  # indices of the nearest data-set digits, nearest first
    distances: np.ndarray
    pca_xy: np.ndarray  # (2,): exact, PCA is a linear map
    tsne_xy: np.ndarray  # (2,): the mean of the neighbours' places (t-SNE cannot place a new point)

    @property
    def vote(self) -> int:
        """The digit most neighbours show (a kNN classifier; a tie goes to the nearer one's digit)."""
        labels = load().labels[self.neighbours]
        counts = np.bincount(labels, minlength=10)
        tied = np.flatnonzero(counts == counts.max())
        return int(next(label for label in labels if label in tied))


def place(digit: np.ndarray, count: int, tsne_xy: np.ndarray) -> Placement:
    """The visitor's digit among the data set's: its ``count`` nearest digits (pixel distance) and its place
    on both maps."""
    digits = load()
    distances = np.sqrt(((digits.images - digit) ** 2).sum(axis=1))
    nearest = np.argsort(distances, kind="stable")[:count]
    return Placement(digit, nearest, distances[nearest], digits.pca.transform(digit[None])[0],
                     tsne_xy[nearest].mean(axis=0))

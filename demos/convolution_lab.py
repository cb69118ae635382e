"""Lab: convolutions by hand. Slide a small kernel over a photo: at each place, multiply element by element,
then sum. Then the same operation with the 32 filters a trained CNN (MobileNetV2, ImageNet) learned for its
first layer.

What a CNN's convolution layer computes is a *cross-correlation*: the kernel is not flipped (a mathematician's
convolution flips it). ``cross_correlate`` here is that, with stride and zero padding; tests check it against
``scipy.signal.correlate2d`` (and ``convolve2d`` with the flipped kernel) and against the network's own layer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image, ImageDraw

from core.contract import (ChoiceField, DemoCard, Endpoint, FigureOutput, ImageField, ImageOutput, JsonOutput,
                           MarkdownOutput, NumberField, TextField, choices)
from core.engine import model_work
from core.media import resize_longer_side
from core.plotting import mosaic_figure
from core.timing import stopwatch
from core.validation import InputError

CARD = DemoCard(
    slug="convolution_lab",
    title="Convolutions by Hand",
    icon="🧮",
    pitch="Slide a kernel over your photo, see every product and sum, then a trained CNN's first 32 filters.",
    tags=("convolution", "kernels", "stride and padding", "cross-correlation"),
    inputs=("image", "camera"),
)

KERNEL_SIDES = (3, 5)
MAX_STRIDE = 4
MAX_PADDING = 2
SIZES = (64, 128, 256, 512)  # the photo's longer side, in pixels, as it is convolved
DEFAULT_SIZE = 256
FILTERS_SIZE = 224  # the photo's longer side for the trained network's first layer (what it was trained at)


@dataclass(frozen=True)
class Preset:
    title: str
    kernels: tuple[tuple[tuple[float, ...], ...], ...]  # one, or two whose outputs combine (the gradient magnitude)
    note: str  # what it does, for the page


SOBEL_X = ((-1, 0, 1), (-2, 0, 2), (-1, 0, 1))
SOBEL_Y = ((-1, -2, -1), (0, 0, 0), (1, 2, 1))
_BINOMIAL_5 = (1, 4, 6, 4, 1)
PRESETS = {
    "sobel_x": Preset("Sobel x", (SOBEL_X,), "brightness rising from left to right: vertical edges"),
    "sobel_y": Preset("Sobel y", (SOBEL_Y,), "brightness rising from top to bottom: horizontal edges"),
    "gradient_magnitude": Preset("Gradient magnitude (Sobel x and y)", (SOBEL_X, SOBEL_Y),
                                 "√(x² + y²) of the two Sobel outputs: edges in any direction"),
    "laplacian": Preset("Laplacian", (((0, 1, 0), (1, -4, 1), (0, 1, 0)),),
                        "the centre against its four neighbours: zero where brightness changes evenly"),
    "box_blur": Preset("Box blur", ((tuple([1 / 9] * 3),) * 3,), "the mean of the 3x3 neighbourhood"),
    "gaussian_blur": Preset("Gaussian blur (5x5)", (tuple(tuple(a * b / 256 for b in _BINOMIAL_5)
                                                          for a in _BINOMIAL_5),),
                            "a weighted mean, the nearest pixels counting most"),
    "sharpen": Preset("Sharpen", (((0, -1, 0), (-1, 5, -1), (0, -1, 0)),),
                      "the pixel plus its difference from its neighbours"),
    "emboss": Preset("Emboss", (((-2, -1, 0), (-1, 1, 1), (0, 1, 2)),), "light from the top left, as on metal"),
}
CUSTOM = "custom"
DEFAULT_CUSTOM_KERNEL = "0 -1 0\n-1 5 -1\n0 -1 0"
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?(/[+-]?(\d+(\.\d*)?|\.\d+))?$")  # 2, -0.5, 1e-3, 1/9


def load() -> object:
    """The trained CNN whose first layer the lab shows (the hand convolution needs no model)."""
    from demos.networks.mobilenet_v2 import load_imagenet_cnn

    return load_imagenet_cnn()


# --- the kernel -------------------------------------------------------------------------------

def parse_kernel(text: str) -> np.ndarray:
    """A square kernel typed as rows of numbers: rows on lines (or split by ";"), numbers split by spaces or
    commas; a fraction like 1/9 is fine. A visitor's mistake raises ``InputError`` saying what to fix."""
    rows = [row.replace(",", " ").split() for row in re.split(r"[;\n]", text or "") if row.strip()]
    if not rows:
        raise InputError("Kernel: type 3 or 5 rows of 3 or 5 numbers, e.g. 0 -1 0 / -1 5 -1 / 0 -1 0 on three "
                         "lines.")
    values = [[_number(word, row_number) for word in row] for row_number, row in enumerate(rows, start=1)]
    side = len(values)
    if side not in KERNEL_SIDES or any(len(row) != side for row in values):
        widths = sorted({len(row) for row in values})
        raise InputError(f"Kernel: it must be 3x3 or 5x5; this one has {side} rows of "
                         f"{' or '.join(map(str, widths))} numbers.")
    return np.array(values, dtype=np.float64)


def _number(word: str, row_number: int) -> float:
    if not NUMBER.match(word):
        raise InputError(f"Kernel, row {row_number}: {word[:20]!r} is not a number (use digits, a point, a minus "
                         "sign, or a fraction such as 1/9).")
    numerator, _, denominator = word.partition("/")
    divisor = float(denominator) if denominator else 1.0
    value = float(numerator) / divisor if divisor else np.inf  # 1/0: refused below, as any infinity
    if not np.isfinite(value) or abs(value) > 1e6:
        raise InputError(f"Kernel, row {row_number}: {word[:20]} is not a finite number up to a million.")
    return value


def kernels_for(preset: str, custom_text: str = "") -> tuple[np.ndarray, ...]:
    if preset == CUSTOM:
        return (parse_kernel(custom_text),)
    if preset not in PRESETS:
        raise InputError(f"Kernel: {preset[:40]!r} is not one of {', '.join([*PRESETS, CUSTOM])}.")
    return tuple(np.array(kernel, dtype=np.float64) for kernel in PRESETS[preset].kernels)


def kernel_text(kernel: np.ndarray) -> str:
    """A kernel as the visitor would type it (fractions of the blurs rounded to 4 digits)."""
    return "\n".join(" ".join(f"{value:.4g}" for value in row) for row in kernel)


def typed_kernels(preset: str, typed: str) -> tuple[np.ndarray, ...]:
    """The kernels for a page that shows the preset's numbers for editing: the preset's own (exact fractions)
    while its numbers stand as shown, the typed ones once the visitor edits them."""
    kernels = kernels_for(preset, typed)
    if preset != CUSTOM and len(kernels) == 1 and typed.strip() != kernel_text(kernels[0]):
        return (parse_kernel(typed),)
    return kernels


# --- the convolution --------------------------------------------------------------------------

def output_side(size: int, kernel: int, stride: int, padding: int) -> int:
    """The lecture's formula: floor((n + 2p - k) / s) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def cross_correlate(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """What a CNN's convolution computes on one channel: at each position (every ``stride`` pixels of the image
    with ``padding`` zeros around it), the sum of the patch times the kernel, element by element."""
    windows = sliding_window_view(np.pad(image, padding), kernel.shape)[::stride, ::stride]
    return np.einsum("ijkl,kl->ij", windows, kernel)


def greyscale(photo: Image.Image, size: int) -> np.ndarray:
    """The photo as brightness 0-255 (ITU-R 601 luma, PIL's "L"), its longer side ``size`` pixels."""
    if size not in SIZES:
        raise InputError(f"Size: {size} is not one of {', '.join(map(str, SIZES))}.")
    return np.asarray(resize_longer_side(photo.convert("RGB"), size).convert("L"), dtype=np.float64)


@dataclass
class Convolved:
    image: np.ndarray  # greyscale 0-255, as convolved
    kernels: tuple[np.ndarray, ...]
    maps: tuple[np.ndarray, ...]  # one per kernel
    output: np.ndarray  # the map, or the magnitude of two
    stride: int
    padding: int
    seconds: float


def convolve(photo: Image.Image, kernels: tuple[np.ndarray, ...], stride: int = 1, padding: int = 0,
             size: int = DEFAULT_SIZE) -> Convolved:
    """Every kernel over the photo's brightness; two kernels' maps combine as the gradient magnitude."""
    if not (1 <= stride <= MAX_STRIDE and 0 <= padding <= MAX_PADDING):
        raise InputError(f"Stride must be 1 to {MAX_STRIDE} and padding 0 to {MAX_PADDING}.")
    image = greyscale(photo, size)
    side = kernels[0].shape[0]
    if min(output_side(length, side, stride, padding) for length in image.shape) < 1:
        raise InputError(f"This photo is too narrow for a {side}x{side} kernel at size {size}: pick a larger size.")
    with stopwatch() as watch:
        maps = tuple(cross_correlate(image, kernel, stride, padding) for kernel in kernels)
        output = maps[0] if len(maps) == 1 else np.hypot(*maps)
    return Convolved(image, kernels, maps, output, stride, padding, watch.seconds)


def keeps_brightness(kernels: tuple[np.ndarray, ...]) -> bool:
    """A kernel whose numbers add up to 1 (a blur, sharpening) gives an image in the photo's own 0-255 range."""
    return len(kernels) == 1 and abs(kernels[0].sum() - 1) < 1e-6


def output_picture(result: Convolved) -> Image.Image:
    """The output as a greyscale picture: the image a brightness-keeping kernel makes, clipped to 0-255; with
    negative values, zero is mid-grey and the largest magnitude black or white; otherwise 0-255 as they are, or
    scaled down to fit past 255."""
    values = result.output
    if keeps_brightness(result.kernels):
        scaled = values
    elif values.min() < 0:
        scaled = 127.5 + 127.5 * values / max(np.abs(values).max(), 1e-12)
    else:
        scaled = values * (255 / values.max()) if values.max() > 255 else values
    return Image.fromarray(np.clip(scaled + 0.5, 0, 255).astype(np.uint8))


def shown_how(result: Convolved) -> str:
    low, high = float(result.output.min()), float(result.output.max())
    if keeps_brightness(result.kernels):
        return f"values {low:.0f} to {high:.0f}, shown as brightness clipped to 0-255"
    if low < 0:
        return f"values {low:.0f} to {high:.0f}: mid-grey is 0, black the most negative, white the most positive"
    if high > 255:
        return f"values 0 to {high:.0f}, scaled down to 0-255 to show"
    return f"values {low:.0f} to {high:.0f}, shown as brightness 0-255"


# --- one output pixel, by hand ----------------------------------------------------------------

@dataclass
class PixelSum:
    row: int  # of the output
    column: int
    top: int  # the patch's top-left corner in the image (negative: in the padding)
    left: int
    patch: np.ndarray
    products: tuple[np.ndarray, ...]  # one per kernel
    sums: tuple[float, ...]
    value: float  # the output pixel: the sum, or the magnitude of two
    moved: bool  # the pixel asked for was past the output's edge and was moved onto it


def pixel_sum(result: Convolved, row: int, column: int) -> PixelSum:
    """The patch under the kernel for output pixel (row, column), the products and their sum."""
    last_row, last_column = result.output.shape[0] - 1, result.output.shape[1] - 1
    kept_row, kept_column = min(max(row, 0), last_row), min(max(column, 0), last_column)
    side = result.kernels[0].shape[0]
    padded_top, padded_left = kept_row * result.stride, kept_column * result.stride  # in the padded image
    patch = np.pad(result.image, result.padding)[padded_top:padded_top + side, padded_left:padded_left + side]
    top, left = padded_top - result.padding, padded_left - result.padding
    products = tuple(patch * kernel for kernel in result.kernels)
    sums = tuple(float(product.sum()) for product in products)
    value = sums[0] if len(sums) == 1 else float(np.hypot(*sums))
    return PixelSum(kept_row, kept_column, top, left, patch, products, sums, value,
                    (kept_row, kept_column) != (row, column))


def _grid(axes, values: np.ndarray, title: str, signed: bool) -> None:
    """A small matrix with every number written in its cell."""
    limit = max(np.abs(values).max(), 1e-12)
    axes.imshow(values, cmap="RdBu_r" if signed else "gray", vmin=-limit if signed else 0,
                vmax=limit if signed else 255)
    font = 8 if values.shape[0] <= 3 else 6
    for (y, x), value in np.ndenumerate(values):
        shade = abs(value) / limit > 0.6 if signed else value < 128
        axes.text(x, y, f"{value:.3g}", ha="center", va="center", fontsize=font, color="white" if shade else "black")
    axes.set_title(title, fontsize=9)
    axes.set_xticks([])
    axes.set_yticks([])


def pixel_figure(result: Convolved, pixel: PixelSum) -> Figure:
    """For each kernel: patch ⊙ kernel = products, and the sum they add up to."""
    figure = Figure(figsize=(7.2, 2.5 * len(result.kernels) + 0.4), layout="constrained")
    rows = figure.subplots(len(result.kernels), 3, squeeze=False)
    for axes, kernel, products, total in zip(rows, result.kernels, pixel.products, pixel.sums):
        _grid(axes[0], pixel.patch, "patch (brightness)", signed=False)
        _grid(axes[1], kernel, "kernel", signed=True)
        _grid(axes[2], products, f"products: sum = {total:.4g}", signed=True)
    ending = f" → √(x² + y²) = {pixel.value:.4g}" if len(result.kernels) > 1 else ""
    figure.suptitle(f"Output pixel (row {pixel.row}, column {pixel.column}): patch × kernel, summed{ending}",
                    fontsize=10)
    return figure


def where_figure(result: Convolved, pixel: PixelSum) -> Image.Image:
    """The image (with its zero padding) and, in red, the patch that made the picked pixel."""
    padded = np.pad(result.image, result.padding)
    scale = max(1, 512 // max(padded.shape))  # small images are blown up so the square shows
    image = Image.fromarray(padded.astype(np.uint8)).convert("RGB")
    image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    side = result.kernels[0].shape[0]
    top, left = (pixel.top + result.padding) * scale, (pixel.left + result.padding) * scale
    draw = ImageDraw.Draw(image)
    draw.rectangle((left - 2, top - 2, left + side * scale + 1, top + side * scale + 1), outline=(255, 40, 40),
                   width=2)
    return image


def pixel_words(result: Convolved, pixel: PixelSum) -> str:
    side = result.kernels[0].shape[0]
    height, width = result.image.shape
    moved = (f"(The pixel asked for lies past the output's edge: the nearest one, row {pixel.row}, column "
             f"{pixel.column}, is shown.) ") if pixel.moved else ""
    return (f"{moved}The image is {width}x{height}; with padding {result.padding} and stride {result.stride} a "
            f"{side}x{side} kernel gives ⌊(n + 2p − k) / s⌋ + 1 = "
            f"{result.output.shape[1]}x{result.output.shape[0]} outputs. Output pixel (row {pixel.row}, column "
            f"{pixel.column}) reads the patch whose top-left corner is image row {pixel.top}, column {pixel.left} "
            f"(negative: the padding's zeros). Its value: **{pixel.value:.4g}**.")


# --- a trained network's first layer -----------------------------------------------------------

@dataclass
class FirstLayer:
    filters: np.ndarray  # (32, 3, 3, 3): out, colour, row, column
    responses: np.ndarray  # (32, H, W): each filter on the photo, stride 2, after batch norm and ReLU6
    crop: Image.Image  # the photo as the network saw it
    device: str
    seconds: float


@model_work("convolution_lab", gpu_seconds=10)
def first_layer(photo: Image.Image) -> FirstLayer:
    """MobileNetV2's first layer (32 colour filters of 3x3, stride 2) on the photo at 224 px."""
    import torch

    from demos.networks.mobilenet_v2 import to_input

    cnn = load()
    seen = resize_longer_side(photo.convert("RGB"), FILTERS_SIZE)
    with stopwatch() as watch, torch.inference_mode():
        responses = cnn.network.features[0](to_input(seen, cnn.device))[0].cpu().numpy()
    filters = cnn.network.first_layer.weight.detach().cpu().numpy()
    return FirstLayer(filters, responses, seen, cnn.device, watch.seconds)


def filters_figure(layer: FirstLayer) -> Figure:
    """The 32 filters as tiny colour pictures (each scaled on its own: grey is 0)."""
    weights = layer.filters.transpose(0, 2, 3, 1)
    scaled = 0.5 + 0.5 * weights / np.maximum(np.abs(weights).max(axis=(1, 2, 3), keepdims=True), 1e-12)
    return mosaic_figure(scaled, "MobileNetV2's 32 first-layer filters (3x3 over red, green, blue)", tile_inches=0.7)


def responses_figure(layer: FirstLayer) -> Figure:
    """Each filter's output on the photo, scaled on its own (bright: strong), in the filters' order."""
    return mosaic_figure(unit_scaled(layer.responses), "What each filter finds in your photo (after batch norm "
                         "and ReLU6)")


def unit_scaled(maps: np.ndarray) -> np.ndarray:
    """(N, H, W) maps each stretched to [0, 1]."""
    low = maps.min(axis=(1, 2), keepdims=True)
    return (maps - low) / np.maximum(maps.max(axis=(1, 2), keepdims=True) - low, 1e-12)


HOW_IT_WORKS = """
**A convolution, by hand.** Put the kernel (a small grid of numbers) on the top-left corner of the image.
Multiply each number by the pixel under it, add the products up: that is one output pixel. Move the kernel
*stride* pixels to the right and do it again; at the end of a row, move down. *Padding* adds a border of zeros
first, so that the kernel can also sit over the edge pixels. An n-pixel side gives ⌊(n + 2p − k) / s⌋ + 1
outputs.

**Cross-correlation, strictly.** A mathematician's convolution flips the kernel first. A CNN's "convolution"
layer does not (it learns its kernels, so a flip would change nothing but their look): it computes a
cross-correlation, and so does this lab (scipy's `correlate2d`, not `convolve2d`). For symmetric kernels (the
blurs, the Laplacian) the two agree; Sobel x flipped is Sobel x negated.

**Kernels by hand, kernels learned.** Edge detectors (Sobel), blurs, sharpening were designed by people. A CNN
learns its own: the first layer of MobileNetV2, trained on ImageNet, holds 32 kernels of 3x3 over the three
colour channels (each output sums 27 products; batch normalisation then scales and shifts it), and many of
them turn out to be edge and colour detectors much like the ones above.
"""

# --- Gradio / HTTP endpoints -------------------------------------------------------------------

KERNEL_CHOICES = (*((name, preset.title) for name, preset in PRESETS.items()), (CUSTOM, "Custom (typed below)"))


def _by_hand(photo: Image.Image, kernel: str, custom_kernel: str, stride: int, padding: int, size: str, row: int,
             column: int) -> tuple[Image.Image, dict, Figure, Image.Image, str]:
    result = convolve(photo, kernels_for(kernel, custom_kernel), stride, padding, int(size))
    pixel = pixel_sum(result, row, column)
    details = {"image": list(result.image.shape[::-1]), "output": list(result.output.shape[::-1]),
               "shown": shown_how(result), "pixel": {"row": pixel.row, "column": pixel.column, "value": pixel.value},
               "seconds": round(result.seconds, 4)}
    return (output_picture(result), details, pixel_figure(result, pixel), where_figure(result, pixel),
            pixel_words(result, pixel) + "\n\n" + HOW_IT_WORKS)


def _trained_filters(photo: Image.Image) -> tuple[Figure, Figure, str]:
    layer = first_layer(photo)
    return filters_figure(layer), responses_figure(layer), HOW_IT_WORKS


ENDPOINTS = (
    Endpoint(
        fn=_by_hand,
        inputs=(ImageField("photo", "Your photo"),
                ChoiceField("kernel", "Kernel", KERNEL_CHOICES, "sobel_x"),
                TextField("custom_kernel", "Custom kernel (rows of 3 or 5 numbers)", DEFAULT_CUSTOM_KERNEL, lines=5),
                NumberField("stride", "Stride", 1, MAX_STRIDE, 1, integer=True),
                NumberField("padding", "Padding (zeros around the image)", 0, MAX_PADDING, 1, integer=True),
                ChoiceField("size", "Photo size (longer side, px)", choices(map(str, SIZES)), str(DEFAULT_SIZE)),
                NumberField("row", "Output pixel: row", 0, 511, 80, integer=True),
                NumberField("column", "Output pixel: column", 0, 511, 120, integer=True)),
        outputs=(ImageOutput("Output feature map"), JsonOutput("Details")),
        insides=(FigureOutput("The picked output pixel: patch × kernel, summed"),
                 ImageOutput("Where the kernel sat (red square), on the padded image"),
                 MarkdownOutput("How it works")),
        title="Your kernel"),
    Endpoint(
        fn=_trained_filters,
        inputs=(ImageField("photo", "Your photo"),),
        outputs=(FigureOutput("MobileNetV2's first-layer filters"),),
        insides=(FigureOutput("What each filter finds in your photo"), MarkdownOutput("How a CNN convolves")),
        title="A trained CNN's first filters", api_suffix="_filters"),
)

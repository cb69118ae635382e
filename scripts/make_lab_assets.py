"""Card thumbnails of the labs, made with the labs' own functions: the convolution and CNN labs on a bundled
photo, the others their first picture at their defaults.

Run after changing one of them: ``.venv/bin/python scripts/make_lab_assets.py``.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PIL import Image  # noqa: E402

from core.contract import ASSETS, Endpoint  # noqa: E402
from core.media import example_photo  # noqa: E402
from core.plotting import figure_png  # noqa: E402
from demos import backprop_lab, clustering_lab, cnn_lab, convolution_lab, knn_lab  # noqa: E402
from make_assets import THUMBNAIL, card_thumbnail  # noqa: E402


def side_by_side(left: Image.Image, right: Image.Image) -> Image.Image:
    """Two pictures, each a half of the card."""
    half = (THUMBNAIL[0] // 2, THUMBNAIL[1])
    card = Image.new("RGB", THUMBNAIL)
    for index, picture in enumerate((left, right)):
        scale = max(half[0] / picture.width, half[1] / picture.height)
        resized = picture.convert("RGB").resize((round(picture.width * scale), round(picture.height * scale)),
                                                Image.LANCZOS)
        offset = ((resized.width - half[0]) // 2, (resized.height - half[1]) // 2)
        card.paste(resized.crop((*offset, offset[0] + half[0], offset[1] + half[1])), (index * half[0], 0))
    return card


def convolution_lab_thumbnail() -> Image.Image:
    """The cat and its edges (the gradient magnitude of Sobel x and y)."""
    cat = example_photo("Cat (Chelsea)")
    edges = convolution_lab.convolve(cat, convolution_lab.kernels_for("gradient_magnitude"), size=512)
    return side_by_side(cat, convolution_lab.output_picture(edges))


def cnn_lab_thumbnail() -> Image.Image:
    """Grad-CAM on the cat, and the flamingo the network dreams of (the first preset class, default settings)."""
    seen = cnn_lab.look(example_photo("Cat (Chelsea)"))
    dream = cnn_lab.maximise(("class", cnn_lab.PRESET_CLASSES[0][0], 0), cnn_lab.DEFAULT_STEPS, cnn_lab.DEFAULT_JITTER,
                             cnn_lab.DEFAULT_BLUR)
    return side_by_side(cnn_lab.cam_picture(seen), dream.image)


def first_picture(endpoint: Endpoint) -> Image.Image:
    """The endpoint's first output (a figure) at every input's default."""
    defaults = {field.name: getattr(field, "default", None) for field in endpoint.inputs}
    return Image.open(io.BytesIO(figure_png(endpoint.run(**defaults)[0], dpi=100))).convert("RGB")


def main() -> None:
    thumbnails = [("convolution_lab", convolution_lab_thumbnail()), ("cnn_lab", cnn_lab_thumbnail())]
    thumbnails += [(lab.CARD.slug, first_picture(lab.ENDPOINTS[0])) for lab in (knn_lab, backprop_lab, clustering_lab)]
    for slug, thumbnail in thumbnails:
        path = ASSETS / "thumbnails" / f"{slug}.png"
        card_thumbnail(thumbnail).save(path, optimize=True)
        print(path.relative_to(ASSETS.parent))


if __name__ == "__main__":
    main()

"""Render the gallery's static pictures with the real models: card thumbnails and style swatches.

Run after changing a demo: ``.venv/bin/python scripts/make_assets.py``.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from core.contract import ASSETS  # noqa: E402
from core.media import example_photo  # noqa: E402
from demos import style_transfer  # noqa: E402

THUMBNAIL = (480, 270)


def card_thumbnail(image: Image.Image) -> Image.Image:
    """Centre-crop to the card's 16:9 box."""
    scale = max(THUMBNAIL[0] / image.width, THUMBNAIL[1] / image.height)
    resized = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
    left, top = (resized.width - THUMBNAIL[0]) // 2, (resized.height - THUMBNAIL[1]) // 2
    return resized.crop((left, top, left + THUMBNAIL[0], top + THUMBNAIL[1]))


def style_assets() -> None:
    cat = example_photo("Cat (Chelsea)")
    for index, path in enumerate(style_transfer.builtin_style_thumbnails()):
        style_transfer.stylize(cat, index, size=160).image.save(path, quality=85)
    photo = example_photo("Astronaut")
    halves = [photo, style_transfer.stylize(photo, 19, size=512).image]
    side_by_side = Image.new("RGB", (1024, 512))
    for offset, half in enumerate(halves):
        side_by_side.paste(half, (offset * 512, 0))
    card_thumbnail(side_by_side).save(ASSETS / "thumbnails" / "style_transfer.png", optimize=True)


def audio_digits_assets() -> None:
    """Waveform, log-mel and MFCC of the bundled "seven", with what the CNN heard."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from demos import audio_digits

    result = audio_digits.classify(audio_digits.example_recordings()["seven"])
    steps = audio_digits.pipeline(audio_digits.trim(result.samples))
    figure = Figure(figsize=(THUMBNAIL[0] / 100, THUMBNAIL[1] / 100), dpi=100)
    panels = figure.subplots(3, 1, gridspec_kw={"height_ratios": (1, 2, 1.4), "hspace": 0.05})
    panels[0].plot(steps.samples, linewidth=0.6, color="#1f77b4")
    panels[0].set_xlim(0, steps.samples.size)
    panels[1].imshow(steps.log_mel_db, origin="lower", aspect="auto", cmap="magma")
    panels[2].imshow(steps.coefficients[1:], origin="lower", aspect="auto", cmap="coolwarm")
    for axes, name in zip(panels, ("waveform", "log-mel", "MFCC")):
        axes.set_axis_off()
        axes.text(0.01, 0.95, name, transform=axes.transAxes, va="top", fontsize=9, color="white",
                  bbox={"facecolor": "black", "alpha": 0.5, "linewidth": 0})
    word = result.words[0]
    panels[1].text(0.98, 0.9, f"heard: {word.digit} ({word.probabilities.max():.0%})", transform=panels[1].transAxes,
                   ha="right", va="top", fontsize=14, color="white", fontweight="bold")
    figure.subplots_adjust(0, 0, 1, 1)
    FigureCanvasAgg(figure).print_png(ASSETS / "thumbnails" / "audio_digits.png")


def object_detection_assets() -> None:
    """The coffee photo at the card's 16:9, with the boxes the detector drew."""
    from demos import object_detection

    photo = card_thumbnail(example_photo("Coffee"))
    object_detection.detect(photo).image.save(ASSETS / "thumbnails" / "object_detection.png", optimize=True)


def emotion_assets() -> None:
    """The astronaut with her box and emotion, and an inset of Grad-CAM on the network's input."""
    from demos import emotion

    result = emotion.recognise(example_photo("Astronaut"))
    thumbnail = result.annotated.crop((0, 0, 512, 288)).resize(THUMBNAIL, Image.LANCZOS)
    inset = emotion.gradcam_overlay(emotion.explain(result.faces[0]), size=116)
    thumbnail.paste(Image.new("RGB", (120, 120), "white"), (THUMBNAIL[0] - 128, THUMBNAIL[1] - 128))
    thumbnail.paste(inset, (THUMBNAIL[0] - 126, THUMBNAIL[1] - 126))
    thumbnail.save(ASSETS / "thumbnails" / "emotion.png", optimize=True)


def summarisation_assets() -> None:
    """The similarity heatmap and the embedding map of a Russian example, side by side."""
    import io

    from demos import summarisation

    article = next(text for name, text in summarisation.example_articles().items() if name.startswith("RU"))
    summary = summarisation.summarise(article)
    halves = []
    for figure in (summarisation.similarity_figure(summary), summarisation.embedding_map_figure(summary)):
        figure.set_size_inches(4.0, 4.5)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100, facecolor="white")
        halves.append(Image.open(buffer).convert("RGB").resize((400, 450), Image.LANCZOS))
    side_by_side = Image.new("RGB", (800, 450), "white")
    for offset, half in enumerate(halves):
        side_by_side.paste(half, (offset * 400, 0))
    card_thumbnail(side_by_side).save(ASSETS / "thumbnails" / "summarisation.png", optimize=True)


def recommender_assets() -> None:
    """The latent-space map of the movie vectors, with the example picks and their recommendations."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from demos import recommender

    model = recommender.load()
    result = recommender.recommend(model, recommender.resolve_titles(model.catalogue, recommender.EXAMPLE_PICKS))
    points = recommender.latent_map(model, result)
    figure = Figure(figsize=(4.8, 2.7), dpi=100)
    axes = figure.add_axes((0, 0, 1, 1))
    others = points[points["role"] == "other movie"]
    codes = others["genre"].astype("category").cat.codes
    axes.scatter(others["x"], others["y"], c=codes, cmap="tab20", s=6, alpha=0.5, linewidths=0)
    for role, marker, colour in (("your pick", "D", "#e45756"), ("recommended", "o", "#ffd700")):
        chosen = points[points["role"] == role]
        axes.scatter(chosen["x"], chosen["y"], marker=marker, c=colour, s=70, edgecolors="black", linewidths=0.8)
    axes.set_axis_off()
    FigureCanvasAgg(figure).print_png(ASSETS / "thumbnails" / "recommender.png")


def translation_assets() -> None:
    """The cross-attention heatmap of an example sentence translated by the bundled model."""
    import io

    from demos import translation

    result = translation.translate(translation.example_sentences()["en"][0])
    figure = translation.explain(result).figure
    figure.set_size_inches(4.8, 2.7)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, facecolor="white")
    card_thumbnail(Image.open(buffer).convert("RGB")).save(ASSETS / "thumbnails" / "translation.png", optimize=True)


def image_generation_assets() -> None:
    """Three diffusion samples being denoised, left (noise) to right (the image)."""
    import torch

    from demos import image_generation

    tiles = []
    for name in ("Sneaker", "Dress", "Bag"):
        trajectory = image_generation.generate_diffusion(name, 0, 1, 25, "DDIM", 2.0).trajectory
        tiles += [frame.noisy[0] for frame in trajectory.frames[::8]] + [trajectory.images[0]]  # 4 steps + result
    card_thumbnail(image_generation.grid(torch.stack(tiles), columns=5, scale=4).convert("RGB")).save(
        ASSETS / "thumbnails" / "image_generation.png", optimize=True)


def atari_assets() -> None:
    """A moment of the Pong replay (the game and the agent's mind) and the 4 stacked frames the network saw."""
    from demos import atari

    moments = []
    episode = atari.play("pong", atari.REPLAY_SEED, 100,
                         progress=lambda progress: moments.append(progress.preview) if progress.done == 100 else None)
    thumbnail = Image.new("RGB", THUMBNAIL, (24, 26, 33))
    thumbnail.paste(Image.fromarray(moments[-1]).resize((360, 270), Image.LANCZOS), (0, 0))
    for index, frame in enumerate(atari.input_stack(episode, episode.decisions - 1)):
        grey = Image.fromarray(frame).resize((62, 62), Image.NEAREST).convert("RGB")
        thumbnail.paste(grey, (389, 5 + index * 66))
    thumbnail.save(ASSETS / "thumbnails" / "atari.png", optimize=True)


if __name__ == "__main__":
    audio_digits_assets()
    object_detection_assets()
    emotion_assets()
    style_assets()
    summarisation_assets()
    recommender_assets()
    translation_assets()
    image_generation_assets()
    atari_assets()

"""Lab: what a CNN sees. MobileNetV2 (ImageNet) on the visitor's photo: its top-5 classes, the feature maps of
each stage with the channels that fire most, Grad-CAM for a chosen class; then pictures made *for* the
network, by gradient ascent on the input: what raises a class's score, or a channel's activation.

``seeing`` runs the network on a photo, ``dreaming`` runs the ascent; the network itself is
``demos.networks.mobilenet_v2`` (torchvision's weights), shared with the convolution lab.
"""
from __future__ import annotations

from matplotlib.figure import Figure
from PIL import Image

from core.contract import (ChoiceField, DemoCard, Endpoint, FigureOutput, ImageField, ImageOutput, JsonOutput,
                           MarkdownOutput, NumberField, TableOutput)
from core.progress import ProgressCallback
from core.validation import InputError
from demos.cnn_lab.dreaming import Dream, maximise, scores_figure, snapshots_figure
from demos.cnn_lab.seeing import Seen, cam_picture, load_network, look, stage_rows, stages_figure, top_rows
from demos.networks.imagenet import imagenet_labels

CARD = DemoCard(
    slug="cnn_lab",
    title="What a CNN Sees",
    icon="🔬",
    pitch="A trained CNN's top-5 guesses for your photo, its feature maps, Grad-CAM, and the pictures it dreams "
          "of for a class.",
    tags=("CNN", "feature maps", "Grad-CAM", "class maximisation"),
    inputs=("image", "camera"),
)

# Classes whose dreams read well, shown first and kept once computed: (ImageNet index, what it is)
PRESET_CLASSES = ((130, "flamingo"), (980, "volcano"), (1, "goldfish"), (323, "monarch butterfly"),
                  (947, "mushroom"), (107, "jellyfish"), (951, "lemon"), (76, "tarantula"))
STAGES = tuple(f"{number}" for number in range(1, 7))
STAGE_CHANNELS = (16, 24, 32, 96, 320, 1280)  # at the end of each stage
STAGE_CHOICES = tuple((stage, f"stage {stage} ({channels} channels)")
                      for stage, channels in zip(STAGES, STAGE_CHANNELS))
DEFAULT_STEPS, DEFAULT_JITTER, DEFAULT_BLUR = 120, 12, 0.7
EXAMPLE_PHOTOS = ("Cat (Chelsea)", "Coffee", "Motorcycle", "Rocket", "Astronaut")  # an ImageNet class first
TOP_CLASS = "top"  # Grad-CAM's default: the class the network ranks first


load = load_network  # MobileNetV2, shared with the convolution lab


def class_choices() -> tuple[tuple[str, str], ...]:
    """Every ImageNet class as (its number, "number · name"): the presets first, then all in ImageNet's order."""
    names = imagenet_labels()
    first = [index for index, _ in PRESET_CLASSES]
    return tuple((str(index), f"{index} · {names[index]}") for index in first + [i for i in range(1000)
                                                                                 if i not in first])


CLASS_CHOICES = class_choices()


HOW_IT_WORKS = """
**Top-5.** The photo's centre square (224 px) goes through MobileNetV2: 17 inverted-residual blocks that halve
the resolution five times (112, 56, 28, 14, 7 px) while the channels grow (16 to 320, then 1,280), then an
average over the 7x7 positions and one linear layer: 1,000 scores, turned into probabilities by a softmax.

**Feature maps.** Each channel of a stage is one learned detector, applied everywhere: bright where it fires.
Early stages respond to edges and colours, the later ones to textures and parts (Zeiler and Fergus 2014).

**Grad-CAM** (Selvaraju et al. 2017). How much would the class's score grow if a channel of the last maps grew?
That is the gradient; averaged over the map it weighs the channel. The weighted sum of the 1,280 maps, negative
parts cut, shows where the evidence for the class lies. (Here the last maps feed the classifier through an
average, so Grad-CAM equals the class activation map of Zhou et al. 2016.)

**Class and channel maximisation** (Simonyan et al. 2014; Mordvintsev et al. 2015). Start from faint noise and
follow the gradient of a class's score (or a channel's mean activation) with respect to the *pixels*. On its
own this finds noise the network over-reacts to; a random shift before each step (*jitter*), a slight *blur*
after each, and growing the picture in *octaves* (112, 160, 208 px) leave shapes a person can recognise.
"""

# --- Gradio / HTTP endpoints -------------------------------------------------------------------


def grad_cam_class(choice: str) -> int | None:
    """A Grad-CAM choice as ``look`` takes it: a class number, or None for the top class."""
    return None if choice == TOP_CLASS else int(choice)


def _seen(photo: Image.Image, cam_class: str) -> tuple[Image.Image, list, dict, Figure, list, str]:
    seen: Seen = look(photo, grad_cam_class(cam_class))
    details = {"device": seen.device, "seconds": round(seen.seconds, 3),
               "grad_cam_class": f"{seen.cam_class} · {imagenet_labels()[seen.cam_class]}"}
    return cam_picture(seen), top_rows(seen), details, stages_figure(seen), stage_rows(seen), HOW_IT_WORKS


def _dream_outputs(dream: Dream) -> tuple[Image.Image, dict, Figure, Figure, str]:
    details = {"target": dream.title, "device": dream.device, "seconds": round(dream.seconds, 2),
               "final score": round(dream.scores[-1], 2)}
    if dream.probability is not None:
        details["probability the network gives it"] = round(dream.probability, 4)
    return dream.image, details, snapshots_figure(dream), scores_figure(dream), HOW_IT_WORKS


def _class_dream(class_index: str, steps: int, jitter: int, blur: float,
                 progress: ProgressCallback | None = None) -> tuple[Image.Image, dict, Figure, Figure, str]:
    return _dream_outputs(maximise(("class", int(class_index), 0), steps, jitter, blur, progress=progress))


def _channel_dream(stage: str, channel: int, steps: int, jitter: int, blur: float,
                   progress: ProgressCallback | None = None) -> tuple[Image.Image, dict, Figure, Figure, str]:
    stage_index = STAGES.index(stage)
    if channel >= STAGE_CHANNELS[stage_index]:
        raise InputError(f"Channel: stage {stage} has channels 0-{STAGE_CHANNELS[stage_index] - 1}.")
    return _dream_outputs(maximise(("channel", channel, stage_index), steps, jitter, blur, progress=progress))


def _ascent_fields() -> tuple[NumberField, ...]:
    return (NumberField("steps", "Steps of gradient ascent", 10, 300, DEFAULT_STEPS, step=10, integer=True),
            NumberField("jitter", "Jitter (px, random shift before each step)", 0, 32, DEFAULT_JITTER, integer=True),
            NumberField("blur", "Blur after each step (px)", 0.0, 3.0, DEFAULT_BLUR, step=0.1))


_DREAM_RESULTS = dict(outputs=(ImageOutput("Maximised picture"), JsonOutput("Details")),
                      insides=(FigureOutput("The picture along the ascent"), FigureOutput("The score, step by step"),
                               MarkdownOutput("How it works")))

ENDPOINTS = (
    Endpoint(
        fn=_seen,
        inputs=(ImageField("photo", "Your photo"),
                ChoiceField("cam_class", "Grad-CAM for class", ((TOP_CLASS, "the top class"), *CLASS_CHOICES),
                            TOP_CLASS)),
        outputs=(ImageOutput("Grad-CAM: where the evidence lies"), TableOutput("Top-5 ImageNet classes"),
                 JsonOutput("Details")),
        insides=(FigureOutput("The strongest channels of each stage"), TableOutput("Stages"),
                 MarkdownOutput("How it works")),
        title="What it sees"),
    Endpoint(fn=_class_dream, inputs=(ChoiceField("class_index", "Class", CLASS_CHOICES, "130"), *_ascent_fields()),
             title="Class maximisation", api_suffix="_class", **_DREAM_RESULTS),
    Endpoint(fn=_channel_dream,
             inputs=(ChoiceField("stage", "Stage", STAGE_CHOICES, "4"),
                     NumberField("channel", "Channel", 0, 1279, 12, integer=True), *_ascent_fields()),
             title="Channel maximisation", api_suffix="_channel", **_DREAM_RESULTS),
)

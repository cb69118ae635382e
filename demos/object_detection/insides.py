"""The bundled SSD's insides on one photo, computed from its raw outputs: the default boxes (anchors), the
per-box class scores, and the boxes before and after our own non-maximum suppression."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from core.drawing import Box, draw_boxes
from demos.object_detection.model import CLASS_NAMES, COCO_NAMES, FEATURE_MAPS, NMS_IOU
from demos.object_detection.pipeline import DetectionResult, RawOutputs, class_color


@dataclass(frozen=True)
class Candidate:
    """A default box that scored at least the threshold for one class, moved by its learned offsets."""

    anchor: int  # which of the 1,917 default boxes
    class_id: int
    score: float
    box: np.ndarray  # x1, y1, x2, y2 as fractions of the picture


@dataclass
class DetectionInsides:
    candidates: list[Candidate]  # before NMS
    kept: list[Candidate]  # after NMS at the visitor's threshold (the network's own gives the same boxes)
    before_nms: Image.Image
    after_nms: Image.Image
    default_boxes: Image.Image  # the anchors at the best detection's grid cell
    default_boxes_caption: str
    scores_figure: Figure  # class scores of the best boxes
    threshold: float

    @property
    def before_nms_caption(self) -> str:
        return f"Before NMS: {len(self.candidates)} boxes score ≥ {self.threshold:.2f}"

    @property
    def after_nms_caption(self) -> str:
        return f"After NMS: {len(self.kept)} kept"


def decode_boxes(raw: RawOutputs) -> np.ndarray:
    """Apply the learned offsets to the default boxes (SSD's centre-size coding), as the network does."""
    import torch

    from demos.networks.ssd_mobilenet_v2 import decode_boxes as decoded

    return decoded(*map(torch.from_numpy, (raw.box_deltas, raw.anchors, raw.variances))).numpy()


def candidates_before_nms(raw: RawOutputs, threshold: float, classes: frozenset[str] = frozenset()) -> list[Candidate]:
    """Every (default box, class) pair scoring at least ``threshold``: what NMS starts from."""
    boxes = decode_boxes(raw)
    anchor_ids, class_ids = np.nonzero(raw.class_scores[:, 1:] >= threshold)
    class_ids = class_ids + 1  # column 0 is the background
    found = [Candidate(int(a), int(c), float(raw.class_scores[a, c]), boxes[a]) for a, c in zip(anchor_ids, class_ids)
             if c in COCO_NAMES and (not classes or COCO_NAMES[c] in classes)]
    return sorted(found, key=lambda c: -c.score)


def non_max_suppression(candidates: list[Candidate], max_iou: float = NMS_IOU) -> list[Candidate]:
    """Greedy, per class: keep the best box, drop those overlapping it by more than ``max_iou``, repeat. The
    network's own NMS (``greedy_nms``), on every candidate of each class (one row per class, best first)."""
    import torch

    from demos.networks.ssd_mobilenet_v2 import greedy_nms

    by_class = [sorted((c for c in candidates if c.class_id == class_id), key=lambda c: -c.score)
                for class_id in sorted({c.class_id for c in candidates})]
    width = max(map(len, by_class), default=0)
    boxes, valid = torch.zeros(len(by_class), width, 4), torch.zeros(len(by_class), width, dtype=torch.bool)
    for row, group in enumerate(by_class):
        boxes[row, :len(group)] = torch.as_tensor(np.stack([c.box for c in group]))
        valid[row, :len(group)] = True
    kept = greedy_nms(boxes, valid, max_iou).tolist()
    return sorted((c for group, keep in zip(by_class, kept) for c, is_kept in zip(group, keep) if is_kept),
                  key=lambda c: -c.score)


def anchor_cell(anchor: int) -> tuple[int, range]:
    """The feature map (0 = finest, 19x19) of a default box, and the default boxes sharing its grid cell."""
    start = 0
    for level, (side, per_cell) in enumerate(FEATURE_MAPS):
        count = side * side * per_cell
        if anchor < start + count:
            first = start + (anchor - start) // per_cell * per_cell
            return level, range(first, first + per_cell)
        start += count
    raise ValueError(f"anchor {anchor} is out of range")


def explain(result: DetectionResult, max_boxes: int = 300) -> DetectionInsides:
    """The detector's insides on this photo: default boxes, class scores, boxes before and after NMS."""
    candidates = candidates_before_nms(result.raw, result.threshold, result.classes)
    kept = non_max_suppression(candidates)
    shown = candidates[:max_boxes]  # a huge pile of boxes would hide the photo
    faint = _pixel_boxes(result.photo, shown)
    before = draw_boxes(result.photo, faint, [""] * len(shown), [class_color(COCO_NAMES[c.class_id]) for c in shown])
    after = draw_boxes(result.photo, _pixel_boxes(result.photo, kept),
                       [f"{COCO_NAMES[c.class_id]} {c.score:.2f}" for c in kept],
                       [class_color(COCO_NAMES[c.class_id]) for c in kept])
    default_boxes, caption = _default_boxes_picture(result, kept)
    return DetectionInsides(candidates, kept, before, after, default_boxes, caption, _scores_figure(result.raw, kept),
                            result.threshold)


def _pixel_boxes(photo: Image.Image, candidates: list[Candidate]) -> list[Box]:
    scale = np.array(photo.size * 2, dtype=float)
    return [tuple(np.clip(c.box, 0.0, 1.0) * scale) for c in candidates]


def _default_boxes_picture(result: DetectionResult, kept: list[Candidate]) -> tuple[Image.Image, str]:
    """The default boxes of the best detection's grid cell (grey), its own anchor (white), the final box."""
    photo = result.photo
    if not kept:
        first_on_5x5 = sum(side * side * per_cell for side, per_cell in FEATURE_MAPS[:2])
        middle = anchor_cell(first_on_5x5 + 12 * 6)[1]  # cell 12 is the centre of the 5x5 grid
        boxes = [Candidate(a, 0, 0.0, result.raw.anchors[a]) for a in middle]
        return (draw_boxes(photo, _pixel_boxes(photo, boxes), [""] * len(boxes), ["white"] * len(boxes)),
                "No detection above the threshold: the six default boxes of the centre cell of the 5x5 feature map.")
    best = kept[0]
    level, cell = anchor_cell(best.anchor)
    defaults = [Candidate(a, 0, 0.0, result.raw.anchors[a]) for a in cell if a != best.anchor]
    own = Candidate(best.anchor, 0, 0.0, result.raw.anchors[best.anchor])
    label = COCO_NAMES[best.class_id]
    picture = draw_boxes(photo, _pixel_boxes(photo, defaults + [own, best]),
                         [""] * len(defaults) + ["default box", f"{label} {best.score:.2f}"],
                         [(160, 160, 160)] * len(defaults) + ["white", class_color(label)])
    side = FEATURE_MAPS[level][0]
    return picture, (f"The {label} came from default box #{best.anchor} on the {side}x{side} feature map (white); "
                     f"grey: the other default boxes of that grid cell; coloured: the box after the learned offsets.")


def _scores_figure(raw: RawOutputs, kept: list[Candidate], boxes: int = 3, top: int = 5) -> Figure:
    """For the best few boxes after NMS: the top class scores that one default box predicted."""
    shown = kept[:boxes]
    figure = Figure(figsize=(2.7 * max(2, len(shown)), 2.4), layout="constrained")
    if not shown:
        axes = figure.add_subplot()
        axes.text(0.5, 0.5, "No box above the threshold", ha="center", va="center")
        axes.set_axis_off()
        return figure
    for index, candidate in enumerate(shown):
        axes = figure.add_subplot(1, len(shown), index + 1)
        scores = raw.class_scores[candidate.anchor]
        best_ids = [i for i in np.argsort(scores)[::-1] if i in COCO_NAMES or i == 0][:top]
        names = [COCO_NAMES.get(i, "background") for i in best_ids]
        axes.barh(names[::-1], scores[best_ids][::-1],
                  color=[np.array(class_color(n)) / 255 if n in CLASS_NAMES else "grey" for n in names[::-1]])
        axes.set_xlim(0, 1)
        axes.set_title(f"{COCO_NAMES[candidate.class_id]} {candidate.score:.2f}: default box #{candidate.anchor}",
                       fontsize=9)
        axes.tick_params(labelsize=8)
    figure.suptitle("Class scores of one default box (independent sigmoids, so they need not sum to 1)", fontsize=9)
    return figure


HOW_IT_WORKS = """
**One pass, thousands of guesses.** SSD ("Single Shot MultiBox Detector", Liu et al. 2016)
puts a MobileNet-v2 backbone in front of six small convolutional *heads*. Each head reads one
feature map: 19x19 cells for small objects, then 10x10, 5x5, 3x3, 2x2 and 1x1 for larger
ones. At every cell sit a few fixed **default boxes** (anchors) of different sizes and
aspect ratios: 1,917 boxes in all, the same for every picture.

**Per box: where and what.** For each default box the head predicts four numbers that shift
and stretch it onto an object (centre offsets and log-scale width and height), and a score
for each of the 91 COCO ids (background included). Training matched each ground-truth
object to the default boxes that overlap it most, so a box only has to learn small
corrections. Scores here are independent sigmoids: a box can be 0.6 "cup" and 0.4 "bowl".

**Non-maximum suppression.** Neighbouring default boxes see the same object, so one cup
gives a cluster of confident boxes. NMS sorts one class's boxes by score, keeps the best,
deletes every box overlapping it by more than 60 % (intersection over union), and repeats.
The pictures below come from the network's raw outputs on *your* photo: the offsets
applied to the default boxes, kept when a class scores above your threshold, then NMS,
the same boxes the detector's own last step keeps.
"""

HUB_HOW_IT_WORKS = """
**The hub model works differently.** RT-DETR (like DETR and YOLOS) is a *transformer*
detector: no default boxes and no NMS. A fixed number of **object queries** (300 in
RT-DETR, 100 in DETR) each attend to the whole picture and predict one box and one class.
Training matched every real object to exactly one query (Hungarian matching), so the model
learned not to answer twice and its output needs no suppression. The pictures of default
boxes and NMS belong to the bundled SSD, so they are shown only for it.
"""


def how_it_works_text(insides: DetectionInsides | None) -> str:
    """The story of this photo's detection as Markdown: the SSD's, with what its pictures show (where the page
    writes captions), or the hub model's (``None``: no SSD insides)."""
    if insides is None:
        return HUB_HOW_IT_WORKS
    captions = (insides.default_boxes_caption, insides.before_nms_caption, insides.after_nms_caption)
    return HOW_IT_WORKS + "\n**On your photo.** " + " ".join(caption.rstrip(".") + "." for caption in captions)

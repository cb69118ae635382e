"""The PyTorch SSD-MobileNet-v2 finds what OpenCV's DNN module finds with the same frozen graph.

The reference is the graph itself, run by ``cv2.dnn`` as the demo ran it before the port (blob, forward, the
DetectionOutput rows); it shares nothing with the port but the two weight files. Tolerance, on every bundled
sample photo: the same detections (labels), boxes overlapping by IoU >= 0.98, scores within 0.01.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.device import choose_device
from core.media import example_photo, example_photo_names
from demos import object_detection as detection
from demos.networks.ssd_mobilenet_v2 import detection_output
from demos.object_detection.model import CLASS_COLUMNS
from demos.object_detection.pipeline import forward, preprocess

MIN_IOU, MAX_SCORE_DIFF = 0.98, 0.01
THRESHOLDS = (0.1, detection.DEFAULT_THRESHOLD)  # 0.1: 22 detections on the five photos, not only the 7 sure ones
Found = tuple[str, float, np.ndarray]  # label, score, box as fractions of the photo
OPENCV_OUTPUTS = ["detection_out", "BoxEncodingPredictor/concat", "ClassPredictor/concat/sigmoid", "PriorBox/concat"]


@pytest.fixture(scope="module")
def opencv_net() -> cv2.dnn.Net:
    weights, graph = detection.model_files()
    return cv2.dnn.readNetFromTensorflow(str(weights), str(graph))


def opencv_outputs(net: cv2.dnn.Net, name: str) -> list[np.ndarray]:
    pixels = np.asarray(example_photo(name).convert("RGB"))
    net.setInput(cv2.dnn.blobFromImage(pixels, size=(detection.INPUT_SIZE,) * 2, swapRB=False))
    return net.forward(OPENCV_OUTPUTS)


def opencv_detections(net: cv2.dnn.Net, name: str, threshold: float) -> list[Found]:
    """Each DetectionOutput row at or above ``threshold``."""
    rows = opencv_outputs(net, name)[0].reshape(-1, 7)
    return [(detection.COCO_NAMES[int(row[1])], float(row[2]), np.clip(row[3:], 0.0, 1.0)) for row in rows
            if row[2] >= threshold and int(row[1]) in detection.COCO_NAMES]


def iou(box: np.ndarray, other: np.ndarray) -> float:
    width = max(0.0, min(box[2], other[2]) - max(box[0], other[0]))
    height = max(0.0, min(box[3], other[3]) - max(box[1], other[1]))
    union = np.prod(box[2:] - box[:2]) + np.prod(other[2:] - other[:2]) - width * height
    return width * height / union


def best_match(found: Found, others: list[Found]) -> tuple[float, float]:
    """IoU and score difference with the most overlapping detection of the same label (0 IoU when there is none)."""
    label, score, box = found
    pairs = [(iou(box, other_box), abs(score - other_score)) for other_label, other_score, other_box in others
             if other_label == label]
    return max(pairs, default=(0.0, 1.0))


@pytest.mark.parametrize("threshold", THRESHOLDS)
@pytest.mark.parametrize("name", example_photo_names())
def test_the_port_finds_what_opencv_finds_on_every_sample_photo(opencv_net, name, threshold):
    """Each side's detections have their twin on the other side: same label, same box, same score. A score within
    the tolerance of the threshold may fall on either side of it, so only the twins of those may be missing."""
    photo = example_photo(name)
    scale = np.array(photo.size * 2, dtype=float)
    ours = [(d.label, d.score, np.array(d.box) / scale)
            for d in detection.detect(photo, threshold - MAX_SCORE_DIFF).detections]
    theirs = opencv_detections(opencv_net, name, threshold - MAX_SCORE_DIFF)
    for found, others in ((ours, theirs), (theirs, ours)):
        for one in (one for one in found if one[1] >= threshold + MAX_SCORE_DIFF):
            overlap, score_diff = best_match(one, others)
            assert overlap >= MIN_IOU and score_diff <= MAX_SCORE_DIFF, (name, one[0], overlap, score_diff)


def test_the_raw_anchor_outputs_and_default_boxes_match_opencvs(opencv_net):
    """What "How it works" draws: offsets and class scores per default box, and the default boxes themselves."""
    raw = forward(preprocess(example_photo("Motorcycle")))
    _, deltas, scores, priors = opencv_outputs(opencv_net, "Motorcycle")
    assert np.allclose(raw.box_deltas, deltas.reshape(-1, 4), atol=1e-3)
    assert np.allclose(raw.class_scores, scores.reshape(-1, CLASS_COLUMNS), atol=1e-4)
    assert np.array_equal(raw.anchors, priors[0, 0].reshape(-1, 4))
    assert np.array_equal(raw.variances, priors[0, 1].reshape(-1, 4))


def test_the_port_runs_on_the_chosen_device_and_says_so():
    detector = detection.load()
    assert detector.device == choose_device()
    assert {parameter.device.type for parameter in detector.network.parameters()} == {detector.device}
    assert detection.detect(example_photo("Coffee")).device == detector.device


def test_a_picture_with_nothing_above_the_networks_own_floor_gives_no_rows():
    """Not one (box, class) pair scores above the DetectionOutput's 0.01: no rows at all, not a crash."""
    network = detection.load().network
    deltas, scores = (network.anchors.new_zeros(len(network.anchors), columns) for columns in (4, CLASS_COLUMNS))
    assert detection_output(deltas, scores, network.anchors, network.variances).shape == (0, 7)

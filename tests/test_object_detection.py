"""Object Detection on photos, as a visitor uses it: sample photos, threshold, class filter, insides."""
import json

import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image

from conftest import image_captions
from core.engine import works_of
from core.media import example_photo
from core.validation import InputError
from demos import object_detection as detection
from test_audio_digits import served_apart  # noqa: F401 (a fixture)


@pytest.fixture(scope="module")
def coffee() -> detection.DetectionResult:
    return detection.detect(example_photo("Coffee"))


def detection_works(called: list[str]) -> list[str]:
    """The object-detection works among those run apart (``served_apart``): another demo's background work, such as
    the Atari replays an app started by an earlier test plays, may cross the same engine meanwhile."""
    ours = {work.function.__name__ for work in works_of("object_detection")}
    return [name for name in called if name in ours]


def best_score(result: detection.DetectionResult, label: str) -> float:
    return max((d.score for d in result.detections if d.label == label), default=0.0)


def test_the_motorcycle_sample_shows_a_motorcycle():
    result = detection.detect(example_photo("Motorcycle"))
    assert best_score(result, "motorcycle") > 0.5
    assert result.device in {"cpu", "cuda"}


def test_the_coffee_sample_shows_a_cup_with_a_box_in_pixels(coffee):
    assert best_score(coffee, "cup") > 0.5
    cup = next(d for d in coffee.detections if d.label == "cup")
    x1, y1, x2, y2 = cup.box
    width, height = coffee.photo.size
    assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
    assert (x2 - x1) * (y2 - y1) > 0.1 * width * height  # the cup fills a good part of the photo
    assert coffee.image.size == coffee.photo.size


def test_a_blank_image_gives_nothing():
    result = detection.detect(Image.new("RGB", (640, 480), "white"))
    assert result.detections == [] and detection.counts(result.detections) == {}
    assert detection.explain(result).candidates == []


def test_the_class_filter_keeps_only_the_chosen_classes():
    result = detection.detect(example_photo("Coffee"), classes=["Cup "])
    assert {d.label for d in result.detections} == {"cup"}


def test_an_unknown_class_is_refused_with_the_list_of_known_ones():
    with pytest.raises(InputError, match="Unknown class 'cupp'.*teddy bear"):
        detection.detect(example_photo("Coffee"), classes=["cupp"])


def test_a_lower_threshold_never_finds_fewer_objects():
    photo = example_photo("Coffee")
    assert len(detection.detect(photo, 0.2).detections) >= len(detection.detect(photo, 0.6).detections)


def test_counts_and_rows_are_ready_for_download(coffee):
    assert detection.counts(coffee.detections)["cup"] == 1
    rows = detection.detection_rows(coffee.detections)
    assert set(rows[0]) == {"label", "score", "x1", "y1", "x2", "y2"}
    json.dumps(rows)  # plain numbers, no numpy scalars


def test_our_nms_on_the_raw_anchor_outputs_gives_the_networks_own_detections(coffee):
    insides = detection.explain(coffee)
    assert len(insides.candidates) > len(insides.kept)  # NMS removed duplicates
    ours = [(detection.COCO_NAMES[c.class_id], c.score, *(c.box * (600, 400, 600, 400))) for c in insides.kept]
    network = [(d.label, d.score, *d.box) for d in coffee.detections]
    assert [row[0] for row in ours] == [row[0] for row in network]
    assert np.allclose([row[1:] for row in ours], [row[1:] for row in network], atol=1e-3)
    assert len(detection.decode_boxes(coffee.raw)) == sum(side * side * n for side, n in detection.FEATURE_MAPS)


def test_nms_drops_an_overlapping_box_of_the_same_class_only():
    box = np.array([0.1, 0.1, 0.5, 0.5])
    shifted = box + 0.02
    candidates = [detection.Candidate(0, 47, 0.9, box), detection.Candidate(1, 47, 0.8, shifted),
                  detection.Candidate(2, 51, 0.7, shifted)]
    kept = detection.non_max_suppression(candidates)
    assert [(c.anchor, c.class_id) for c in kept] == [(0, 47), (2, 51)]


def test_the_default_boxes_of_a_cell_sit_on_one_feature_map():
    level, cell = detection.anchor_cell(0)
    assert level == 0 and list(cell) == [0, 1, 2]  # 19x19 map, three boxes per cell
    level, cell = detection.anchor_cell(1916)
    assert level == 5 and list(cell) == list(range(1911, 1917))  # 1x1 map, six boxes


def test_page_detects_on_the_example_photo_and_filters_classes(gallery):
    app = gallery.switch_page("views/object_detection.py").run()
    assert not app.exception
    assert any("1 object found" in caption for caption in image_captions(app))
    assert "motorcycle" in app.dataframe[0].value["class"].tolist()
    assert any("Before NMS" in caption for caption in image_captions(app))
    app.selectbox(key="detect_photo_example").set_value("Coffee").run()
    app.multiselect[0].set_value(["cup"]).run()
    assert not app.exception
    assert app.dataframe[0].value["class"].tolist() == ["cup"]


def test_gradio_endpoint_returns_boxes_and_counts(gradio_client, tmp_path):
    photo = tmp_path / "coffee.jpg"
    example_photo("Coffee").save(photo)
    image_path, details, *_ = gradio_client.predict(handle_file(str(photo)), 0.5, "cup, bowl",
                                                    api_name="/object_detection")
    details = details if isinstance(details, dict) else json.loads(details)
    assert details["counts"] == {"cup": 1, "bowl": 1}
    with Image.open(image_path) as image:
        assert image.size == (600, 400)


def test_gradio_endpoint_explains_an_unknown_class(gradio_client, tmp_path):
    photo = tmp_path / "coffee.jpg"
    example_photo("Coffee").save(photo)
    with pytest.raises(Exception, match="Unknown class 'spaceship'"):
        gradio_client.predict(handle_file(str(photo)), 0.5, "spaceship", api_name="/object_detection")


def photo_endpoint_results(**values) -> tuple:
    """The photo endpoint's outputs and insides, called as the API is: the defaults and the 'Coffee' photo."""
    endpoint = detection.ENDPOINTS[0]
    defaults = {field.name: getattr(field, "default", None) for field in endpoint.inputs}
    return endpoint.run(**defaults | {"photo": example_photo("Coffee")} | values)


def test_the_photo_endpoint_shows_the_pages_insides_for_its_sample_call(coffee):
    image, details, how, default_boxes, scores, before, after = photo_endpoint_results()
    page_insides = detection.explain(coffee)
    assert details["counts"] == detection.counts(coffee.detections)
    for ours, pages in ((default_boxes, page_insides.default_boxes), (before, page_insides.before_nms),
                        (after, page_insides.after_nms)):
        assert np.array_equal(np.asarray(ours), np.asarray(pages))  # the pictures explain() draws for the page
    titles = [axes.get_title() for axes in scores.axes]
    assert titles == [axes.get_title() for axes in page_insides.scores_figure.axes] and titles
    assert how.startswith(detection.HOW_IT_WORKS)
    for caption in (page_insides.default_boxes_caption, page_insides.before_nms_caption,
                    page_insides.after_nms_caption):
        assert caption.rstrip(".") in how  # what the page writes under its pictures


def test_the_api_takes_the_models_value_not_its_label():
    label = detection.MODEL_CHOICES[detection.BUNDLED]
    with pytest.raises(InputError, match="not one of bundled, PekingU/rtdetr_r50vd"):
        photo_endpoint_results(model=label)


def test_the_photo_endpoint_gives_the_same_results_when_its_model_work_runs_apart(coffee, served_apart):
    """What Ray mode does to the demo: its forward pass sent away as plain data, no detector in the front end."""
    image, details, _, default_boxes, _, before, after = photo_endpoint_results()
    assert detection_works(served_apart) == ["detector_facts", "forward"]
    assert details["counts"] == detection.counts(coffee.detections) and details["device"] == coffee.device
    assert details["detections"] == detection.detection_rows(coffee.detections)  # computed before, embedded
    assert np.array_equal(np.asarray(image), np.asarray(coffee.image))
    embedded = detection.explain(coffee)
    for ours, theirs in zip((default_boxes, before, after),
                            (embedded.default_boxes, embedded.before_nms, embedded.after_nms)):
        assert np.array_equal(np.asarray(ours), np.asarray(theirs))
    with pytest.raises(InputError, match="Unknown class 'cupp'"):
        detection.detect(example_photo("Coffee"), classes=["cupp"])
    assert {work.function.__name__: work.batch for work in works_of("object_detection")} == {
        "detector_facts": 0, "forward": 0, "hub_forward": 0}  # one photo a pass: a batch gains nothing on a CPU

"""Emotion Recognition as a visitor uses it: faces found, aligned, read, explained, downloaded."""
import json
import math

import numpy as np
import pytest
from PIL import Image, ImageOps

from conftest import image_captions
from core.media import example_photo
from core.validation import InputError
from demos import emotion
from demos.emotion import recognition
from demos.emotion.insides import MAP_COLUMNS
from test_audio_digits import LEGIBLE_PX, served_apart, smallest_text_px  # noqa: F401 (a fixture)


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    return example_photo("Astronaut")


@pytest.fixture(scope="module")
def astronaut_result(astronaut) -> emotion.EmotionResult:
    return emotion.recognise(astronaut)


def group_photo_of_astronauts(count: int = 12, tile: int = 140) -> Image.Image:
    """A group photo: the astronaut's head and shoulders tiled in rows, every other one mirrored."""
    head = example_photo("Astronaut").crop((124, 17, 324, 217)).resize((tile, tile), Image.LANCZOS)
    columns = 4
    group = Image.new("RGB", (columns * tile, math.ceil(count / columns) * tile), (200, 200, 200))
    for index in range(count):
        picture = ImageOps.mirror(head) if index % 2 else head
        group.paste(picture, ((index % columns) * tile, (index // columns) * tile))
    return group


def test_finds_the_astronaut_and_reads_her_smile(astronaut_result):
    assert len(astronaut_result.faces) == 1
    face = astronaut_result.faces[0]
    x1, y1, x2, y2 = face.box
    assert 150 < x1 < 200 and 40 < y1 < 80 and 250 < x2 < 300 and 160 < y2 < 200  # her face, not the suit
    left_eye, right_eye = face.landmarks[:2]
    assert x1 < left_eye[0] < right_eye[0] < x2 and y1 < left_eye[1] < (y1 + y2) / 2
    assert face.emotion == "happy" and face.confidence > 0.9
    assert face.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert astronaut_result.message is None


def test_a_blank_image_has_no_face_and_says_so():
    result = emotion.recognise(Image.new("RGB", (640, 480), (235, 235, 235)))
    assert result.faces == [] and result.faces_found == 0
    assert "No face found" in result.message
    assert result.detector_map.max() < emotion.FACE_THRESHOLD
    assert emotion.detector_view(result).size == (640, 480)  # what the detector saw, for the visitor


def test_a_tilted_face_is_levelled_by_its_eyes_before_classification(astronaut):
    tilted = astronaut.rotate(25, resample=Image.BICUBIC, fillcolor=(128, 128, 128))
    face = emotion.recognise(tilted).faces[0]
    matrix = emotion.alignment_matrix(face.box, face.landmarks, emotion.INPUT_SIZE)
    eyes = np.c_[face.landmarks[:2], np.ones(2)] @ matrix.T
    assert abs(eyes[0, 1] - eyes[1, 1]) < 0.5  # level in the crop
    assert eyes[0, 0] < eyes[1, 0]  # and not upside down
    assert face.crop.shape == (64, 64) and face.emotion == "happy"


def test_a_group_photo_is_classified_in_one_batch():
    group = group_photo_of_astronauts(12)
    classifier = emotion.load().classifier
    batches = []
    hook = classifier.register_forward_hook(lambda module, inputs, output: batches.append(len(inputs[0])))
    try:
        result = emotion.recognise(group)
    finally:
        hook.remove()
    assert len(result.faces) == 12 and batches == [12]
    assert all(face.emotion == "happy" for face in result.faces)
    first_row = [face.box[0] for face in result.faces[:4]]
    assert first_row == sorted(first_row)  # numbered in reading order


def test_tiny_faces_are_marked_too_small_not_guessed(astronaut):
    result = emotion.recognise(astronaut.resize((110, 110)), detector_size=960)
    assert len(result.faces) == 1
    face = result.faces[0]
    assert face.too_small and face.emotion is None and face.crop is None
    assert "too small" in result.message and face.label(1) == "#1 too small"
    assert emotion.as_json(result)["faces"][0]["too_small"] is True


def test_too_many_faces_are_capped_with_a_message(monkeypatch):
    monkeypatch.setattr(recognition, "MAX_FACES", 5)
    result = emotion.recognise(group_photo_of_astronauts(8))
    assert len(result.faces) == 5 and result.faces_found == 8 and result.capped
    assert "Found 8 faces; showing the 5 most confident" in result.message


def test_json_download_holds_every_face_and_all_seven_probabilities(astronaut_result):
    data = json.loads(json.dumps(emotion.as_json(astronaut_result)))
    face = data["faces"][0]
    assert face["emotion"] == "happy" and set(face["probabilities"]) == set(emotion.EMOTIONS)
    assert data["faces_found"] == 1 and data["capped"] is False
    assert data["classifier_device"] in {"cpu", "cuda", "mps"}


def test_annotated_image_has_a_box_in_the_emotion_colour(astronaut, astronaut_result):
    x1, y1, _, y2 = (round(v) for v in astronaut_result.faces[0].box)
    edge = np.asarray(astronaut_result.annotated)[(y1 + y2) // 2, x1]
    assert tuple(edge) == emotion.EMOTION_COLORS["happy"]
    assert astronaut_result.annotated.size == astronaut.size


def test_inside_the_network_shows_input_feature_maps_and_gradcam(astronaut_result):
    insides = emotion.explain(astronaut_result.faces[0])
    assert insides.face_input.shape == (64, 64) and insides.emotion == "happy"
    assert insides.stages["first convolution"].shape == (8, 62, 62)
    assert insides.stages["block 2"].shape == (32, 15, 15)
    assert insides.stages["class maps"].shape == (7, 4, 4)
    assert insides.gradcam.shape == (64, 64) and insides.gradcam.max() == pytest.approx(1.0)
    peak_row, _ = np.unravel_index(insides.gradcam.argmax(), insides.gradcam.shape)
    assert peak_row > 32  # the evidence for "happy" is in the lower half: the smile
    assert len(emotion.feature_maps(insides, "block 3").axes) == 32
    assert emotion.gradcam_overlay(insides).size == (256, 256)


def test_bad_settings_and_tiny_faces_get_messages(astronaut):
    with pytest.raises(InputError, match="Detector resolution"):
        emotion.recognise(astronaut, detector_size=123)
    tiny = emotion.recognise(astronaut.resize((110, 110)), detector_size=960).faces[0]
    with pytest.raises(InputError, match="too small"):
        emotion.explain(tiny)


def test_page_shows_faces_emotions_and_the_network_insides(gallery):
    app = gallery.switch_page("views/emotion.py").run()
    assert not app.exception
    captions = image_captions(app)
    assert "1 face(s) found" in captions
    assert "#1 happy 100%" in captions
    assert any(caption.startswith("The network's input") for caption in captions)
    assert [s.value for s in app.subheader] == ["Every face, every emotion", "Inside the network"]
    assert any("classifier on" in caption.value for caption in app.caption)


def test_page_says_when_there_is_no_face(gallery):
    app = gallery.switch_page("views/emotion.py").run()
    app.selectbox(key="emotion_photo_example").set_value("Coffee (no face)").run()
    assert not app.exception
    assert any("No face found" in warning.value for warning in app.warning)
    assert any(caption.startswith("What the detector saw") for caption in image_captions(app))
    assert any("reads human faces only" in warning.value for warning in app.warning)
    assert not app.get("download_button"), "nothing was found, so there is nothing to download"


def test_the_page_draws_probabilities_on_axes_that_end_at_1(gallery):
    app = gallery.switch_page("views/emotion.py").run()
    app.selectbox(key="emotion_photo_example").set_value("Group photo (12 faces, LFW)").run()
    specs = [json.loads(chart.proto.spec) for chart in app.get("vega_lite_chart")]
    assert len(specs) == 2  # every face's seven probabilities, and the chosen face's
    for spec in specs:
        assert spec["encoding"]["x"]["field"] == "probability"
        assert spec["encoding"]["x"]["scale"] == {"domain": [0, 1], "nice": False}


def test_feature_maps_come_four_to_a_row_with_names_a_phone_can_read(astronaut_result):
    insides = emotion.explain(astronaut_result.faces[0])
    for stage in insides.stages:
        figure = emotion.feature_maps(insides, stage)
        assert figure.axes[0].get_subplotspec().get_gridspec().ncols == MAP_COLUMNS
        assert smallest_text_px(figure) >= LEGIBLE_PX, stage


def test_gradio_endpoint_returns_faces_and_emotions(gradio_client, tmp_path):
    from gradio_client import handle_file

    photo = tmp_path / "astronaut.png"
    example_photo("Astronaut").save(photo)
    image_path, results, *_ = gradio_client.predict(handle_file(str(photo)), "480", api_name="/emotion")
    results = results if isinstance(results, dict) else json.loads(results)
    assert [face["emotion"] for face in results["faces"]] == ["happy"]
    with Image.open(image_path) as annotated:
        assert annotated.size == (512, 512)


def endpoint_results(photo: Image.Image) -> tuple:
    """The endpoint's outputs and insides, called as the API is, at the default detector resolution."""
    return emotion.ENDPOINTS[0].run(photo=photo, detector_size="480")


def test_the_endpoint_shows_the_pages_insides_for_the_first_face(astronaut, astronaut_result):
    annotated, results, detector, probabilities, face_input, gradcam, first, deeper = endpoint_results(astronaut)
    assert [face["emotion"] for face in results["faces"]] == ["happy"]
    assert np.array_equal(np.asarray(detector), np.asarray(emotion.detector_view(astronaut_result)))
    assert probabilities == emotion.probability_rows(astronaut_result)
    assert list(probabilities[0]) == ["face", *emotion.EMOTIONS] and probabilities[0]["happy"] > 0.9
    page_insides = emotion.explain(astronaut_result.faces[0])  # the page's defaults: the first face, its top emotion
    assert np.array_equal(np.asarray(face_input), np.asarray(emotion.network_input(page_insides)))
    assert np.array_equal(np.asarray(gradcam), np.asarray(emotion.gradcam_overlay(page_insides)))
    assert first.get_suptitle() == emotion.feature_maps(page_insides, emotion.FIRST_STAGE).get_suptitle()
    assert deeper.get_suptitle().startswith("Block 2: 32 maps") and len(deeper.axes) == 32


def test_a_photo_without_a_face_shows_only_what_the_detector_saw():
    annotated, results, detector, *face_insides = endpoint_results(example_photo("Coffee"))
    assert results["faces"] == [] and "No face found" in results["message"]
    assert "reads human faces only" in results["message"]
    assert detector.size == annotated.size and face_insides == [None] * 5


def test_the_api_takes_a_resolutions_value_not_its_label(astronaut):
    with pytest.raises(InputError, match="not one of 320, 480, 640, 960"):
        emotion.ENDPOINTS[0].run(photo=astronaut, detector_size="480 px")


def test_faces_of_several_visitors_classified_together_get_the_probabilities_each_gets_alone(astronaut_result):
    """The classifier's model work takes a batch of photos' faces (Ray Serve gathers visitors' calls into one):
    one pass over them all gives each photo the numbers it gets on its own, across the 64-face passes too."""
    from core.engine import works_of

    group = np.stack([face.crop for face in emotion.recognise(group_photo_of_astronauts(12)).faces])
    rng = np.random.default_rng(0)
    noisy = np.clip(np.concatenate([group] * 5) + rng.integers(-8, 9, (60, 64, 64)), 0, 255).astype(np.uint8)
    photos = [astronaut_result.faces[0].crop[None], group, np.zeros((0, 64, 64), np.uint8), noisy, group[:3]]
    together = recognition.classify_photos(photos)  # 76 faces: two passes of the network
    assert [probabilities.shape for probabilities in together] == [(len(crops), 7) for crops in photos]
    for probabilities, crops in zip(together, photos):
        np.testing.assert_allclose(probabilities, emotion.classify(crops), atol=1e-5)
    assert {work.function.__name__: work.batch for work in works_of("emotion")} == {
        "devices": 0, "centerface": 0, "classify_photos": 16, "inside_the_network": 0}


def test_the_endpoint_and_the_page_calls_give_the_same_results_when_the_model_work_runs_apart(
        astronaut_result, served_apart):
    """What Ray mode does to the demo: its model work sent away as plain data, no model in the front end."""
    annotated, results, *_ = endpoint_results(example_photo("Astronaut"))
    embedded = emotion.as_json(astronaut_result)  # computed here, before the work was sent away
    assert {**results, "seconds": 0} == {**embedded, "seconds": 0}
    assert np.array_equal(np.asarray(annotated), np.asarray(astronaut_result.annotated))
    insides = emotion.explain(emotion.recognise(example_photo("Astronaut")).faces[0], "sad")
    assert insides.emotion == "sad" and insides.gradcam.shape == (64, 64)
    assert served_apart == ["devices", "centerface", "classify_photos", "inside_the_network"] * 2

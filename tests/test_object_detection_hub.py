"""Object Detection's hub upgrade: any transformers detector, same result format as the bundled SSD.

The hub cannot be reached from the tests, so the transformers path runs on a tiny RT-DETR
built and saved here (random weights: only the format is checked, never the quality).
"""
import json

import numpy as np
import pytest
import torch
from gradio_client import handle_file

from core.media import example_photo
from core.models import MODELS
from core.validation import InputError
from core.video import count_frames, encode_mp4
from demos import object_detection as detection
from test_audio_digits import served_apart  # noqa: F401 (a fixture)
from test_object_detection import detection_works

TINY_LABELS = ("person", "cup", "Teapot")  # a hub model brings its own class names


@pytest.fixture(scope="module")
def tiny_detector(tmp_path_factory) -> str:
    """A folder holding a tiny RT-DETR (ResNet backbone of its own, no download) and its image processor."""
    from transformers import RTDetrConfig, RTDetrForObjectDetection, RTDetrImageProcessor, RTDetrResNetConfig

    backbone = RTDetrResNetConfig(embedding_size=8, hidden_sizes=[8, 16, 16, 16], depths=[1, 1, 1, 1],
                                  out_features=["stage2", "stage3", "stage4"])
    config = RTDetrConfig(backbone_config=backbone, d_model=32, encoder_hidden_dim=32, encoder_in_channels=[16, 16, 16],
                          decoder_in_channels=[32, 32, 32], encoder_ffn_dim=64, decoder_ffn_dim=64, encoder_layers=1,
                          decoder_layers=1, num_queries=10, num_denoising=0,
                          id2label=dict(enumerate(TINY_LABELS)), label2id={n: i for i, n in enumerate(TINY_LABELS)})
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny_rtdetr")
    RTDetrForObjectDetection(config).save_pretrained(folder)
    RTDetrImageProcessor(size={"height": 64, "width": 64}).save_pretrained(folder)
    return str(folder)


def test_a_transformers_detector_gives_the_same_result_format_as_the_bundled_one(tiny_detector):
    photo = example_photo("Coffee")
    bundled = detection.detect(photo)
    hub = detection.detect(photo, 0.05, model=tiny_detector)
    assert hub.detections, "a threshold of 0.05 keeps some of the random model's boxes"
    assert hub.model == tiny_detector and bundled.model == "bundled"
    assert hub.device in {"cpu", "cuda"} and hub.image.size == photo.size and hub.raw is None
    for found in (bundled.detections, hub.detections):
        assert [d.score for d in found] == sorted((d.score for d in found), reverse=True)
        for item in found:
            assert isinstance(item, detection.Detection) and isinstance(item.label, str)
            assert isinstance(item.score, float) and item.score >= 0.05
            assert len(item.box) == 4 and all(isinstance(value, float) for value in item.box)
            x1, y1, x2, y2 = item.box
            assert 0 <= x1 <= x2 <= photo.width and 0 <= y1 <= y2 <= photo.height
    assert {d.label for d in hub.detections} <= set(TINY_LABELS)
    bundled_rows, hub_rows = detection.detection_rows(bundled.detections), detection.detection_rows(hub.detections)
    assert set(hub_rows[0]) == set(bundled_rows[0])
    json.dumps(hub_rows)  # plain numbers, no tensors
    assert MODELS.is_loaded(f"object_detection:{tiny_detector}")


def test_the_class_filter_uses_the_hub_models_own_class_names(tiny_detector):
    photo = example_photo("Coffee")
    teapots = detection.detect(photo, 0.05, ["teapot"], model=tiny_detector)
    assert {d.label for d in teapots.detections} <= {"Teapot"} and teapots.classes == {"Teapot"}
    with pytest.raises(InputError, match="Unknown class 'motorcycle'. The detector knows: person, cup, Teapot"):
        detection.detect(photo, classes=["motorcycle"], model=tiny_detector)


def test_a_clip_goes_through_the_hub_model_frame_by_frame(tiny_detector):
    clip = encode_mp4([np.full((64, 96, 3), (40 * index, 90, 160), np.uint8) for index in range(5)], fps=5)
    result = detection.detect_video(clip, 0.05, model=tiny_detector)
    assert result.frames_done == 5 and count_frames(result.video) == 5


@pytest.mark.parametrize("source", ["hub", "empty folder"])
def test_a_hub_model_that_cannot_be_loaded_gets_a_message_pointing_to_the_bundled_one(source, tmp_path):
    model = detection.HUB_MODEL if source == "hub" else str(tmp_path)
    with pytest.raises(InputError, match="could not be downloaded or loaded.*bundled detector works offline"):
        detection.detect(example_photo("Coffee"), model=model)


def test_page_offers_the_hub_model_and_explains_when_it_is_unavailable(gallery):
    app = gallery.switch_page("views/object_detection.py").run()
    assert app.radio[0].value == "bundled"
    app.radio[0].set_value(detection.HUB_MODEL).run()
    assert not app.exception
    assert any("could not be downloaded" in error.value for error in app.error)


def test_gradio_photo_endpoint_explains_an_unavailable_hub_model(gradio_client, tmp_path):
    photo = tmp_path / "coffee.jpg"
    example_photo("Coffee").save(photo)
    with pytest.raises(Exception, match="could not be downloaded"):
        gradio_client.predict(handle_file(str(photo)), 0.5, "", detection.HUB_MODEL, api_name="/object_detection")


def test_the_photo_endpoint_tells_a_hub_models_story_and_has_no_ssd_pictures_for_it(tiny_detector):
    # the function itself: the API offers only the bundled SSD and HUB_MODEL, not a folder made here
    image, details, how, *pictures = detection.ENDPOINTS[0].fn(example_photo("Coffee"), 0.05, "", tiny_detector)
    assert details["model"] == tiny_detector and details["detections"]
    assert how == detection.HUB_HOW_IT_WORKS and pictures == [None, None, None, None]


def test_a_hub_model_gives_the_same_results_when_its_model_work_runs_apart(tiny_detector, request):
    """What Ray mode does to the demo: the hub model's class names and its forward pass come as plain data."""
    photo = example_photo("Coffee")
    embedded = detection.detect(photo, 0.05, ["cup", "teapot"], model=tiny_detector)
    called = request.getfixturevalue("served_apart")  # from here on, the work runs apart
    apart = detection.detect(photo, 0.05, ["cup", "teapot"], model=tiny_detector)
    assert detection_works(called) == ["detector_facts", "hub_forward"]
    assert apart.detections == embedded.detections and apart.classes == {"cup", "Teapot"}
    assert apart.device == embedded.device and apart.model == tiny_detector and apart.raw is None
    with pytest.raises(InputError, match="could not be downloaded or loaded"):
        detection.detect(photo, model=detection.HUB_MODEL)

"""The CNN lab: MobileNetV2's top-5 for a photo, Grad-CAM that points at the right object (checked against the
class activation map computed from the classifier's own weights), feature maps per stage, and gradient ascent
that raises what it is asked to raise, computed once per setting."""
import json

import numpy as np
import pytest
from PIL import Image

from conftest import image_captions
from core.media import example_photo
from core.memo import RESULTS
from core.validation import InputError
import demos.cnn_lab as lab
from demos.networks.imagenet import imagenet_labels

QUICK_STEPS = 30  # a few seconds of ascent: enough to see the score climb


def test_top_five_of_the_coffee_photo_starts_with_espresso_and_sums_below_one():
    rows = lab.top_rows(lab.look(example_photo("Coffee")))
    assert rows[0]["class"] == "espresso" and [row["rank"] for row in rows] == [1, 2, 3, 4, 5]
    probabilities = [row["probability"] for row in rows]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0001


def test_grad_cam_equals_the_class_activation_map_of_the_classifiers_weights():
    seen = lab.look(example_photo("Cat (Chelsea)"), cam_class=285)
    weights = lab.load().network.classifier[1].weight[285].cpu().numpy()
    cam = np.maximum(np.tensordot(weights, seen.stages[-1], axes=1), 0)  # Zhou et al. 2016
    np.testing.assert_allclose(seen.cam, cam / cam.max(), atol=1e-4)


def _half_and_half() -> Image.Image:
    """The cat's face on the left, the coffee cup on the right, in one 224 px square."""
    picture = Image.new("RGB", (224, 224))
    for left, name in ((0, "Cat (Chelsea)"), (112, "Coffee")):
        photo = example_photo(name).resize((224, 224))
        picture.paste(photo.crop((56, 0, 168, 224)), (left, 0))
    return picture


@pytest.mark.parametrize("class_name, side", [("Egyptian cat", "left"), ("espresso", "right")])
def test_grad_cam_points_at_the_object_of_the_chosen_class(class_name, side):
    seen = lab.look(_half_and_half(), cam_class=imagenet_labels().index(class_name))
    left, right = seen.cam[:, :3].sum(), seen.cam[:, 4:].sum()
    assert (left > 2 * right) if side == "left" else (right > 2 * left)


def test_every_stage_halves_the_maps_and_the_strongest_channels_fire_most():
    seen = lab.look(example_photo("Rocket"))
    assert [maps.shape for maps in seen.stages] == [(16, 112, 112), (24, 56, 56), (32, 28, 28), (96, 14, 14),
                                                     (320, 7, 7), (1280, 7, 7)]
    means = seen.stages[2].mean(axis=(1, 2))
    strongest = lab.seeing.strongest_channels(seen.stages[2])
    assert means[strongest[0]] == means.max() and len(strongest) == lab.seeing.STRONGEST
    assert [row["channels"] for row in lab.stage_rows(seen)] == list(lab.STAGE_CHANNELS)


def test_class_maximisation_raises_the_class_and_is_computed_once_with_progress():
    heard = []
    target = ("class", 980, 0)  # volcano
    dream = lab.maximise(target, QUICK_STEPS, 12, 0.7, progress=heard.append)
    assert dream.scores[-1] > dream.scores[0] + 10 and dream.probability > 0.5
    assert dream.title == "class 980, volcano" and len(dream.snapshots) == lab.dreaming.SNAPSHOTS
    assert heard[-1].done == QUICK_STEPS and heard[-1].preview.size == dream.image.size
    again = lab.maximise(target, QUICK_STEPS, 12, 0.7, progress=heard.append)
    assert again is dream and RESULTS.compute_counts[f"cnn_lab:class:980:0:{QUICK_STEPS}:12:0.7"] == 1


def test_channel_maximisation_raises_the_channels_activation_and_refuses_a_channel_the_stage_lacks():
    dream = lab.maximise(("channel", 7, 2), QUICK_STEPS, 8, 0.5)
    assert dream.scores[-1] > 2 * max(dream.scores[0], 1e-3) and dream.probability is None
    with pytest.raises(InputError, match="stage 3 has channels 0-31"):
        lab.ENDPOINTS[2].run(stage="3", channel=40, steps=QUICK_STEPS, jitter=8, blur=0.5)
    with pytest.raises(InputError, match="Steps of gradient ascent: 5 is outside 10-300"):
        lab.ENDPOINTS[1].run(class_index="130", steps=5, jitter=8, blur=0.5)


def test_page_shows_top_five_grad_cam_and_a_dream_on_request(gallery):
    app = gallery.switch_page("views/cnn_lab.py").run()
    assert not app.exception and not app.error
    assert list(app.dataframe[0].value["class"])[:3] == ["Egyptian cat", "tiger cat", "tabby"]
    assert "Grad-CAM for 285 · Egyptian cat: where the evidence lies" in image_captions(app)
    next(box for box in app.selectbox if box.label == "Grad-CAM for class").set_value("281").run()
    assert "Grad-CAM for 281 · tabby: where the evidence lies" in image_captions(app)
    next(slider for slider in app.slider if slider.label.startswith("Steps")).set_value(20).run()
    next(button for button in app.button if button.label == "Run gradient ascent").click().run()
    assert not app.exception and not app.error
    assert any(caption.startswith("class 130, flamingo; the network gives it") for caption in image_captions(app))


def test_gradio_api_answers_with_top_five_and_a_class_dream(gradio_client, tmp_path):
    from gradio_client import handle_file

    example_photo("Coffee").save(tmp_path / "coffee.png")
    cam, top, details, *insides = gradio_client.predict(handle_file(str(tmp_path / "coffee.png")), "top",
                                                        api_name="/cnn_lab")
    assert top["data"][0][1] == "espresso" and len(insides) == 3
    details = details if isinstance(details, dict) else json.loads(details)
    assert details["grad_cam_class"] == "967 · espresso"
    image, details, *_ = gradio_client.predict("980", 20, 12, 0.7, api_name="/cnn_lab_class")
    details = details if isinstance(details, dict) else json.loads(details)
    assert details["target"] == "class 980, volcano"

"""The MobileNetV2 written in the project is torchvision's: its weights load key for key, and it recognises the
bundled example photos (checked against what each photo shows)."""
import pytest
import torch

from core.media import example_photo
from core.models import package_file
from demos.networks import mobilenet_v2 as mobilenet
from demos.networks.imagenet import imagenet_labels


def test_torchvisions_weights_load_strictly_key_for_key():
    state = torch.load(package_file(*mobilenet.WEIGHTS), map_location="cpu", weights_only=True)
    network = mobilenet.MobileNetV2()
    assert list(state) == list(network.state_dict())  # same names, same order: torchvision's module tree
    assert all(state[key].shape == value.shape for key, value in network.state_dict().items())
    mobilenet.mobilenet_v2_from_torchvision(package_file(*mobilenet.WEIGHTS))  # strict=True raises on any gap


def test_the_class_names_are_imagenets_in_order():
    labels = imagenet_labels()
    assert len(labels) == 1000
    assert (labels[0], labels[1], labels[281], labels[967], labels[999]) == (
        "tench", "goldfish", "tabby", "espresso", "toilet tissue")


@pytest.mark.parametrize("photo, plausible", [
    ("Coffee", {"espresso", "cup", "coffee mug"}),
    ("Cat (Chelsea)", {"Egyptian cat", "tabby", "tiger cat"}),
    ("Motorcycle", {"moped", "motor scooter"}),
    ("Rocket", {"space shuttle", "missile", "projectile"}),
])
def test_example_photos_get_a_plausible_top_class(photo, plausible):
    cnn = mobilenet.load_imagenet_cnn()
    with torch.inference_mode():
        logits = cnn.network(mobilenet.to_input(mobilenet.centre_crop(example_photo(photo)), cnn.device))
    assert imagenet_labels()[int(logits.argmax())] in plausible


def test_the_stages_end_at_halving_resolutions_and_feed_the_classifier():
    cnn = mobilenet.load_imagenet_cnn()
    batch = mobilenet.to_input(mobilenet.centre_crop(example_photo("Coffee")), cnn.device)
    with torch.inference_mode():
        stages = cnn.network.stages(batch)
        assert [maps.shape[-1] for maps in stages] == [112, 56, 28, 14, 7, 7]
        assert torch.allclose(cnn.network.classify(stages[-1]), cnn.network(batch), atol=1e-5)

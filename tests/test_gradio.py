"""The Gradio front end serves the same demos: one API endpoint per registered demo, more where it declares them."""
import json
from pathlib import Path

import pytest
from gradio_client import handle_file
from PIL import Image

from core import contract
from core.media import example_photo
from endpoint_samples import answer, endpoints


@pytest.mark.parametrize("api_name, endpoint", endpoints(), ids=[name for name, _ in endpoints()])
def test_every_demo_answers_through_its_endpoint_and_tells_no_server_path(gradio_client, tmp_path, api_name,
                                                                          endpoint):
    results = answer(gradio_client, api_name, endpoint, tmp_path)
    told = [value for kind, value in zip(endpoint.results, results)
            if isinstance(kind, (contract.JsonOutput, contract.TextOutput, contract.MarkdownOutput))]
    assert str(Path(__file__).resolve().parent.parent) not in json.dumps(told, ensure_ascii=False)


def test_style_endpoint_returns_an_image_of_the_requested_size(gradio_client, tmp_path):
    photo = tmp_path / "photo.jpg"
    example_photo("Coffee").save(photo)
    image_path, details, *_insides = gradio_client.predict(
        handle_file(str(photo)), "red-and-gold-pastel", 256, 1.0, None, api_name="/style_transfer")
    with Image.open(image_path) as image:
        assert max(image.size) == 256
    details = details if isinstance(details, dict) else json.loads(details)
    assert details["style"] == "red-and-gold-pastel" and details["device"] in {"cpu", "cuda"}


def test_a_bad_upload_gets_a_message_not_a_traceback(gradio_client, tmp_path):
    fake = tmp_path / "holiday.png"
    fake.write_text("not really a picture")
    with pytest.raises(Exception, match="not an image we can read"):
        gradio_client.predict(handle_file(str(fake)), "red-and-gold-pastel", 256, 1.0, None, api_name="/style_transfer")


@pytest.mark.parametrize("api_name, endpoint", [(name, endpoint) for name, endpoint in endpoints()
                                                if any(isinstance(field, contract.ImageField) and not field.optional
                                                       for field in endpoint.inputs)])
def test_a_photo_demo_called_without_its_photo_asks_for_one(gradio_client, tmp_path, api_name, endpoint):
    values = [None if isinstance(field, contract.ImageField) else getattr(field, "default", None)
              for field in endpoint.inputs]
    with pytest.raises(Exception, match="add a picture first"):
        gradio_client.predict(*values, api_name=f"/{api_name}")

"""The folder scripts/make_gradio_space.py lays out runs as a Space would run it, and every demo answers."""
import pytest
from gradio_client import Client

from endpoint_samples import answer, endpoints


@pytest.fixture(scope="module")
def space_client(gradio_space_url):
    return Client(gradio_space_url, verbose=False)


@pytest.mark.parametrize("api_name, endpoint", endpoints(), ids=[name for name, _ in endpoints()])
def test_the_space_answers_one_call_per_demo(space_client, tmp_path, api_name, endpoint):
    answer(space_client, api_name, endpoint, tmp_path)

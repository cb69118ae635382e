"""Every demo answers every bad upload in the shared corpus with a clear message, through the
demo functions the pages call and through the Gradio API, and keeps serving afterwards."""
from __future__ import annotations

import pytest
from gradio_client import handle_file

from bad_input_corpus import GENERIC_FAILURE, bad_audio, bad_images, bad_texts, bad_videos, write
from core import contract
from core.audio import read_audio
from core.validation import InputError, read_image, read_text
from endpoint_samples import answer, endpoints

FILE_CORPUS = {contract.ImageField: bad_images(), contract.AudioField: bad_audio(), contract.VideoField: bad_videos()}


def _default(field: contract.Field):
    return getattr(field, "default", None)


def _cases():
    for api_name, endpoint in endpoints():
        field = endpoint.inputs[0]
        corpus = FILE_CORPUS.get(type(field)) or (bad_texts() if isinstance(field, contract.TextField) else {})
        for name in corpus:
            yield pytest.param(api_name, endpoint, name, id=f"{api_name}-{name}")


CASES = list(_cases())


@pytest.mark.parametrize("name, upload", bad_images().items())
def test_core_refuses_every_bad_image(name, upload):
    with pytest.raises(InputError):
        read_image(upload[1])


@pytest.mark.parametrize("name, upload", bad_audio().items())
def test_core_refuses_every_bad_recording(name, upload):
    with pytest.raises(InputError):
        read_audio(upload[1])


@pytest.mark.parametrize("name, text", bad_texts().items())
def test_core_refuses_every_bad_text(name, text):
    with pytest.raises(InputError):
        read_text(text)


@pytest.mark.parametrize("api_name, endpoint, name", CASES)
def test_gradio_answers_bad_input_with_a_clear_message(gradio_client, tmp_path, api_name, endpoint, name):
    field = endpoint.inputs[0]
    if isinstance(field, contract.TextField):
        first = bad_texts()[name]
    else:
        file_name, data = FILE_CORPUS[type(field)][name]
        first = handle_file(str(write(tmp_path, file_name, data)))
    rest = [_default(other) for other in endpoint.inputs[1:]]
    try:
        answer = gradio_client.predict(first, *rest, api_name=f"/{api_name}")
    except Exception as error:  # refused: the visitor must read why
        assert str(error) and not any(generic in str(error) for generic in GENERIC_FAILURE), str(error)
    else:  # answered: only an explained answer will do (the recommender's "no picks" gives popular films)
        assert isinstance(field, contract.TextField) and any(answer), answer


def test_the_server_keeps_serving_after_the_bad_inputs(gradio_client, tmp_path):
    """Runs after the bad inputs above (same server): every demo still answers a good call."""
    for api_name, endpoint in endpoints():
        answer(gradio_client, api_name, endpoint, tmp_path)

"""One quick, valid call per endpoint, built from its contract: what a visitor would send first."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from core import contract
from core.media import example_photo, example_photo_names
from demos import DEMOS

QUICK = {"max_steps": 60}  # fields whose default is a long run (a whole Pong game)


def endpoints() -> list[tuple[str, contract.Endpoint]]:
    """(API name, endpoint) for every endpoint the Gradio app serves."""
    return [(demo.CARD.slug + endpoint.api_suffix, endpoint)
            for demo in DEMOS for endpoint in demo.ENDPOINTS]


def sample_file(field: contract.Field, folder: Path) -> Path | None:
    """A file a visitor might upload for ``field``; None for optional extras (say, a policy file)."""
    if isinstance(field, contract.ImageField):
        if field.optional:
            return None
        path = folder / "photo.jpg"
        example_photo(example_photo_names()[0]).save(path)  # the first example, as a visitor clicks it: a face
        return path
    if isinstance(field, contract.AudioField):
        from demos.audio_digits import example_recordings

        return next(iter(example_recordings().values()))
    if isinstance(field, contract.VideoField):
        from demos.object_detection import example_clip

        path = folder / "clip.mp4"
        path.write_bytes(example_clip())
        return path
    return None


def answer(client, api_name: str, endpoint: contract.Endpoint, folder: Path) -> tuple[Any, ...]:
    """The endpoint's outputs and insides for its sample call, checked to be one non-empty value per declared one."""
    results = client.predict(*sample_values(endpoint, folder), api_name=f"/{api_name}")
    results = results if isinstance(results, tuple) else (results,)
    assert len(results) == len(endpoint.results)
    assert all(result not in (None, "", {}) for result in results), results
    return results


def sample_values(endpoint: contract.Endpoint, folder: Path) -> list[Any]:
    """Values for ``gradio_client.predict``, in the endpoint's input order."""
    from gradio_client import handle_file

    values = []
    for field in endpoint.inputs:
        if isinstance(field, (contract.ChoiceField, contract.NumberField, contract.TextField)):
            values.append(QUICK.get(field.name, field.default))
        else:
            path = sample_file(field, folder)
            values.append(None if path is None else handle_file(str(path)))
    return values

"""The Gradio app as a public site: a flood on one demo spares the others, maximal requests are refused
with a message, and nothing a visitor uploads outlives its use."""
from __future__ import annotations

import tempfile
import time
import uuid
from concurrent.futures import Future
from pathlib import Path

import pytest
from gradio.utils import get_upload_folder
from gradio_client import Client, handle_file

import gradio_app
from core.media import example_photo, example_photo_names
from core.serving import PER_CLIENT

DIFFUSION = ["Diffusion", "Sneaker", 0, 16, 100, "DDIM", 2.0]  # 3,200 network evaluations: seconds, not ms
MAXIMAL_DIFFUSION = ["Diffusion", "Sneaker", 0, 16, 1000, "DDPM", 8.0]


def photo_file(folder: Path, name: str = "photo.png") -> str:
    path = folder / name
    example_photo("Coffee").resize((160, 107)).save(path)
    return str(path)


def outcome(job: Future) -> str:
    try:
        job.result()
        return "ran"
    except Exception as error:  # gradio_client raises the server's message
        return str(error)


def test_a_flood_on_one_demo_leaves_every_other_demo_serving(gradio_url, tmp_path):
    flooder, visitor = Client(gradio_url, verbose=False), Client(gradio_url, verbose=False)
    start = time.monotonic()
    jobs = [flooder.submit(*DIFFUSION, api_name="/image_generation") for _ in range(PER_CLIENT + 4)]
    time.sleep(0.5)  # the flood is queued
    visitor.predict(handle_file(photo_file(tmp_path)), "red-and-gold-pastel", 256, 1.0, None, api_name="/style_transfer")
    visitor_seconds = time.monotonic() - start
    outcomes = [outcome(job) for job in jobs]
    flood_seconds = time.monotonic() - start
    assert outcomes.count("ran") == PER_CLIENT
    refused = [text for text in outcomes if text != "ran"]
    assert len(refused) == 4 and all("already have" in text for text in refused)
    assert visitor_seconds < flood_seconds  # answered while the flood's own requests still ran


def test_one_visitors_flood_does_not_use_up_another_visitors_share_of_the_same_demo(gradio_url):
    flooder, visitor = Client(gradio_url, verbose=False), Client(gradio_url, verbose=False)
    jobs = [flooder.submit(*DIFFUSION, api_name="/image_generation") for _ in range(PER_CLIENT + 2)]
    time.sleep(0.5)
    quick = ["Diffusion", "Sneaker", 0, 1, 5, "DDIM", 1.0]
    visitor.predict(*quick, api_name="/image_generation")  # queued behind the flood's share, not refused
    for job in jobs:
        outcome(job)


def test_a_maximal_request_is_refused_before_it_runs(gradio_client):
    start = time.monotonic()
    with pytest.raises(Exception, match="more than one request may ask"):
        gradio_client.predict(*MAXIMAL_DIFFUSION, api_name="/image_generation")
    assert time.monotonic() - start < 10


def test_values_no_widget_offers_are_refused_with_a_message(gradio_client):
    with pytest.raises(Exception, match="Diffusion steps: 100000 is outside 1-1000"):
        gradio_client.predict("Diffusion", "Sneaker", 0, 1, 100_000, "DDIM", 1.0, api_name="/image_generation")
    with pytest.raises(Exception, match="is not one of"):
        gradio_client.predict("Diffusion", "<img src=x>", 0, 1, 5, "DDIM", 1.0, api_name="/image_generation")


def test_uploads_and_results_are_deleted_from_the_cache_on_schedule(tmp_path, monkeypatch):
    monkeypatch.setattr(gradio_app, "DELETE_CACHE", (1, 2))
    app = gradio_app.build()
    _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        name = f"visitor-{uuid.uuid4().hex}.png"
        client = Client(url, verbose=False, download_files=False)
        result, *_ = client.predict(handle_file(photo_file(tmp_path, name)), "red-and-gold-pastel", 200, 1.0, None,
                                   api_name="/style_transfer")
        kept = [*Path(get_upload_folder()).rglob(name), Path(result["path"])]
        assert len(kept) == 2 and all(path.exists() for path in kept)
        deadline = time.monotonic() + 20
        while any(path.exists() for path in kept) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not [path for path in kept if path.exists()]
    finally:
        app.close()


def test_example_files_are_made_once_per_process_in_one_known_folder(monkeypatch):
    # the Atari replays played as the app starts encode their video in a folder of their own, removed when done
    monkeypatch.setattr(gradio_app, "start_shared_work", lambda demo: None)
    before = set(Path(tempfile.gettempdir()).iterdir())
    gradio_app.build()
    gradio_app.build()
    made = set(Path(tempfile.gettempdir()).iterdir()) - before
    assert made <= {gradio_app.EXAMPLES_FOLDER}
    assert len(list(gradio_app.EXAMPLES_FOLDER.glob("*.png"))) == len(example_photo_names())


def test_a_result_served_again_counts_as_new_for_the_cache_sweep(tmp_path):
    """The same picture for a second visitor (same content, same file) must not be swept as minutes old before
    it is fetched: Gradio's sweep (DELETE_CACHE) goes by the file's ctime."""
    path = tmp_path / "result.png"
    gradio_app._written_once(path, b"picture")
    first = path.lstat().st_ctime
    time.sleep(0.05)
    assert gradio_app._written_once(path, b"picture") == str(path.resolve())
    assert path.lstat().st_ctime > first and path.read_bytes() == b"picture"

"""The model layer on a real Ray Serve cluster, started here within this machine's means
(2 logical CPUs, no dashboard, a 200 MB object store, loopback only) and stopped at the end.

What a visitor relies on in Ray mode: every demo answers as it does embedded, the front-end process
loads no model, a bad input gets the same clear message, progress still arrives, a replica that dies
mid-burst loses no request, a burst scales a deployment out and back, and a cluster that is down
says so at once."""
from __future__ import annotations

import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import psutil
import pytest

ray = pytest.importorskip("ray")
from ray import serve  # noqa: E402

from core import contract, engine, engine_ray  # noqa: E402
from core.engine import SERVE_ENV, ModelServerUnavailable  # noqa: E402
from core.media import example_photo, example_photo_names  # noqa: E402
from core.models import MODELS  # noqa: E402
from core.plotting import figure_png  # noqa: E402
from core.validation import InputError  # noqa: E402
from endpoint_samples import QUICK, sample_file  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
SMALL = engine_ray.Scaling(cpus=0.1, max_replicas=2)  # every demo's replica fits in 2 logical CPUs


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict[str, str]]:
    """A local Ray cluster with Serve; ``deployed(demo)`` deploys a demo once."""
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 2**20, namespace=engine_ray.NAMESPACE,
             log_to_driver=False, logging_level="ERROR",
             runtime_env={"env_vars": {"PYTHONPATH": f"{ROOT}:{TESTS}", "OMP_NUM_THREADS": "1"}})
    serve.start(http_options={"host": "127.0.0.1", "port": 0})
    address = os.environ.get(engine_ray.ADDRESS_ENV)
    os.environ[engine_ray.ADDRESS_ENV] = ray.get_runtime_context().gcs_address  # where the front end's driver goes
    yield {}
    _restore(engine_ray.ADDRESS_ENV, address)
    if ray.is_initialized():  # the last test takes the cluster down itself
        serve.shutdown()
        ray.shutdown()


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def deployed(cluster: dict[str, str], demo: str, module: str, scaling: engine_ray.Scaling = SMALL) -> None:
    key = f"{demo}:{scaling}"
    if cluster.get(demo) != key:
        engine_ray.deploy({demo: module}, {demo: scaling})
        cluster[demo] = key


@pytest.fixture
def ray_mode(monkeypatch):
    monkeypatch.setenv(SERVE_ENV, "ray")


# --- the engine itself (tests/engine_works.py) ------------------------------------------

@pytest.fixture
def works(cluster, ray_mode):
    import engine_works

    deployed(cluster, engine_works.DEMO, "engine_works")
    return engine_works


def test_items_of_concurrent_visitors_travel_in_one_batch_and_each_gets_its_own_answer(works):
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda number: works.doubled([number])[0], range(8)))
    assert [doubled for doubled, _, _ in answers] == [2 * number for number in range(8)]
    assert max(batch for _, batch, _ in answers) > 1  # embedded, every call is a batch of 1
    assert {pid for _, _, pid in answers} != {os.getpid()}  # run by a replica, not here


def test_a_visitors_bad_item_gets_the_demos_message_and_spares_the_others_in_its_batch(works):
    def send(number: int) -> Any:
        try:
            return works.doubled([number])[0][0]
        except InputError as error:
            return str(error)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(send, [1, -1, 2, 3]))
    assert answers == [2, "Negative numbers are refused.", 4, 6]


def test_progress_reported_in_a_replica_reaches_the_caller_as_it_happens(works):
    reports = []
    assert works.counted(5, 0.1, progress=reports.append) == 5
    assert [(report.done, report.total, report.note) for report in reports] == [
        (step, 5, f"step {step}") for step in range(1, 6)]


def test_progress_faster_than_the_caller_reads_it_is_thinned_to_the_latest_and_still_ends_at_the_end(works):
    reports = []
    assert works.counted(2000, 0.0, progress=reports.append) == 2000
    done = [report.done for report in reports]
    assert done == sorted(set(done)) and done[-1] == 2000 and len(done) < 2000


def test_a_cluster_that_is_down_gives_a_clear_message_at_once(monkeypatch):
    monkeypatch.setenv(SERVE_ENV, "ray")
    monkeypatch.setenv(engine_ray.ADDRESS_ENV, "127.0.0.1:9")  # nothing listens on the discard port
    client = engine_ray.RayServe()
    start = time.monotonic()
    with pytest.raises(ModelServerUnavailable, match="unreachable"):
        client.call(engine.Work("emotion", len), ([],), {})
    assert time.monotonic() - start < 5


def test_an_unknown_serve_mode_is_refused_by_name(monkeypatch):
    monkeypatch.setenv(SERVE_ENV, "rayy")
    with pytest.raises(RuntimeError, match="rayy"):
        engine.engine()


# --- replicas that die, replicas that come and go ---------------------------------------

def _replicas(demo: str) -> dict[str, int]:
    states = serve.status().applications[demo].deployments[engine_ray.DEPLOYMENT].replica_states
    return {str(state): count for state, count in states.items()}


def _running(demo: str) -> int:
    return sum(count for state, count in _replicas(demo).items() if state.endswith("RUNNING"))


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


def test_killing_a_replica_in_the_middle_of_a_burst_loses_no_request(works, cluster):
    deployed(cluster, works.DEMO, "engine_works", engine_ray.Scaling(cpus=0.1, min_replicas=2, max_replicas=2))
    assert _wait_for(lambda: _running(works.DEMO) == 2, 60)
    answered: list[int] = []
    killed = threading.Event()

    def visitor(index: int) -> int:
        pid = works.slow_pid(0.2)
        answered.append(index)
        if len(answered) == 8 and not killed.is_set():  # mid-burst: kill the replica that just answered
            killed.set()
            os.kill(pid, 9)
        return pid

    with ThreadPoolExecutor(8) as pool:
        pids = list(pool.map(visitor, range(40)))  # a bounded burst: 40 requests, 8 at a time
    assert killed.is_set() and len(pids) == 40 and sorted(answered) == list(range(40))
    assert _wait_for(lambda: _running(works.DEMO) == 2, 60)  # Serve replaced the dead replica


def test_a_burst_scales_a_deployment_from_one_replica_to_two_and_back(works, cluster):
    fast = engine_ray.Scaling(cpus=0.1, min_replicas=1, max_replicas=2, target_ongoing_requests=1,
                              upscale_delay_s=0.5, downscale_delay_s=2, look_back_period_s=1,
                              max_ongoing_requests=2)
    deployed(cluster, works.DEMO, "engine_works", fast)
    assert _wait_for(lambda: _running(works.DEMO) == 1, 60)
    stop = threading.Event()

    def visitor() -> None:
        while not stop.is_set():
            works.slow_pid(0.3)

    with ThreadPoolExecutor(6) as pool:
        visitors = [pool.submit(visitor) for _ in range(6)]
        scaled_out = _wait_for(lambda: _running(works.DEMO) == 2, 60)  # bounded: the burst ends either way
        stop.set()
    assert all(done.exception() is None for done in visitors)
    assert scaled_out, _replicas(works.DEMO)
    assert _wait_for(lambda: _running(works.DEMO) == 1, 60), _replicas(works.DEMO)


def _drivers() -> list[psutil.Process]:
    """This front end's Ray driver processes (``core.engine_ray.DriverLink``), the living ones."""
    children = psutil.Process().children()
    return [child for child in children if child.status() != psutil.STATUS_ZOMBIE
            and "spawn_main" in " ".join(child.cmdline())]


def test_a_driver_that_dies_costs_only_the_requests_in_flight_and_the_next_visitor_is_served(works):
    assert works.doubled([1])[0][0] == 2
    (driver,) = _drivers()
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(works.slow_pid, 5)
        time.sleep(1)
        driver.kill()  # what a Ray node's death does to the drivers on it
        with pytest.raises(ModelServerUnavailable, match="lost this request"):
            in_flight.result(timeout=10)
    assert works.doubled([2])[0][0] == 4  # through a new driver
    assert [process.pid for process in _drivers()] != [driver.pid]


# --- every demo, embedded and on Ray Serve ----------------------------------------------

def _endpoints() -> list[tuple[str, str, int]]:
    """Every endpoint of the demos and labs with model work (the numpy labs run in the front end in both modes)."""
    from demos import DEMOS

    return [(demo.CARD.slug, demo.__name__, index) for demo in DEMOS if engine.works_of(demo.CARD.slug)
            for index in range(len(demo.ENDPOINTS))]


def _sample(field: contract.Field, tmp_path: Path) -> Any:
    """What a visitor sends first, as the front ends hand it to the demo (a photo as a PIL image)."""
    if isinstance(field, contract.ImageField):
        return None if field.optional else example_photo(example_photo_names()[0])
    if isinstance(field, (contract.ChoiceField, contract.NumberField, contract.TextField)):
        return QUICK.get(field.name, field.default)
    path = sample_file(field, tmp_path)
    return None if path is None else str(path)


_SECONDS = re.compile(r"\d+(\.\d+)?\s*(s|ms|seconds?)\b")


def _comparable(value: Any) -> Any:
    """A result with what may differ between two runs (timings) taken out; pictures as arrays."""
    if hasattr(value, "savefig"):
        value = _picture(figure_png(value))
    if hasattr(value, "getpixel"):
        return np.asarray(value.convert("RGB"), dtype=np.int16)
    if isinstance(value, str):
        return _SECONDS.sub("<time>", value)
    if isinstance(value, dict):
        return {key: _comparable(item) for key, item in value.items() if not _is_timing(key)}
    if isinstance(value, (list, tuple)):
        return [_comparable(item) for item in value]
    if isinstance(value, float):
        return round(value, 3)
    return value


def _is_timing(key: Any) -> bool:
    return isinstance(key, str) and any(word in key.lower() for word in ("second", "ms", "time", "fps"))


def _picture(png: bytes) -> Any:
    import io

    from PIL import Image

    return Image.open(io.BytesIO(png))


def _assert_same(embedded: Any, served: Any, where: str) -> None:
    if isinstance(embedded, np.ndarray):
        assert embedded.shape == served.shape, where
        assert np.abs(embedded - served).mean() < 1.0, where  # a float rounding may move a pixel by one level
    elif isinstance(embedded, dict):
        assert embedded.keys() == served.keys(), where
        for key in embedded:
            _assert_same(embedded[key], served[key], f"{where}.{key}")
    elif isinstance(embedded, list):
        assert len(embedded) == len(served), where
        for index, (one, other) in enumerate(zip(embedded, served)):
            _assert_same(one, other, f"{where}[{index}]")
    elif isinstance(embedded, bytes):
        assert len(served) > 0, where  # an encoded clip: its frames are compared by the demo's tests
    else:
        assert embedded == served, where


@pytest.mark.parametrize("demo, module, index", _endpoints(), ids=lambda value: str(value))
def test_every_demo_answers_on_ray_serve_as_embedded_and_the_front_end_loads_no_model(
        cluster, monkeypatch, tmp_path, demo, module, index):
    import importlib

    endpoint = importlib.import_module(module).ENDPOINTS[index]
    values = {field.name: _sample(field, tmp_path) for field in endpoint.inputs}
    embedded = endpoint.run(**values)
    deployed(cluster, demo, module)
    MODELS.clear()
    monkeypatch.setenv(SERVE_ENV, "ray")
    served = endpoint.run(**values)
    assert MODELS.stats() == [], "in Ray mode the front-end process loaded a model"
    for output, one, other in zip(endpoint.results, embedded, served):
        _assert_same(_comparable(one), _comparable(other), f"{demo} {output.label}")


@pytest.mark.parametrize("demo, module", sorted({(demo, module) for demo, module, _ in _endpoints()}))
def test_every_page_runs_its_example_on_ray_serve_with_no_model_in_the_front_end(cluster, gallery, monkeypatch,
                                                                                 demo, module):
    deployed(cluster, demo, module)
    MODELS.clear()
    monkeypatch.setenv(SERVE_ENV, "ray")
    app = gallery.switch_page(f"views/{demo}.py").run()
    assert not app.exception, app.exception
    assert not app.error, [error.value for error in app.error]
    assert MODELS.stats() == [], "in Ray mode the page loaded a model in the front end"



def test_the_gradio_app_sends_a_demos_visitors_to_the_cluster_together_not_one_by_one(cluster, ray_mode):
    """Gradio runs an embedded demo's requests one at a time; in Ray mode it must let them through together,
    or Serve could neither batch visitors' items nor see the load that scales a deployment."""
    from gradio_client import Client
    from gradio_client.utils import Status

    import demos.translation as translation
    import gradio_app
    from demos import Registry

    deployed(cluster, "translation", "demos.translation")
    app = gradio_app.build(Registry((translation,), ()))
    _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        long_text = " ".join(["The old man walked slowly to the station and waited for the last train."] * 40)
        jobs = [Client(url, verbose=False).submit(long_text, "auto", 4, 2, "bundled", api_name="/translation")
                for _ in range(2)]  # two visitors, each with a session of their own
        together = _wait_for(lambda: all(job.status().code == Status.PROCESSING for job in jobs), 120)
        assert together, [job.status().code for job in jobs]
        assert all(job.result(timeout=300)[0] for job in jobs)
    finally:
        app.close()


# --- last: the cluster goes down ------------------------------------------------------

def test_when_the_cluster_goes_down_visitors_are_told_at_once_and_the_front_end_lives_on(works):
    assert works.doubled([1])[0][0] == 2
    serve.shutdown()
    ray.shutdown()  # this process started the cluster: its head and its only node stop
    for visitor in range(2):  # each is told, none waits for the driver to notice
        start = time.monotonic()
        with pytest.raises(ModelServerUnavailable, match="unreachable"):
            works.doubled([visitor])
        assert time.monotonic() - start < 5

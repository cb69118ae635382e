"""Device choice and the model cache: the guarantees every demo builds on."""
import threading
import time

import pytest

from core import device
from core.models import ModelCache


@pytest.fixture(autouse=True)
def fresh_device_choice():
    device.choose_device.cache_clear()
    yield
    device.choose_device.cache_clear()


def test_environment_override_wins(monkeypatch):
    monkeypatch.setenv(device.DEVICE_ENV, "cpu")
    assert device.choose_device() == "cpu"
    assert device.onnx_providers() == ["CPUExecutionProvider"]


def test_unknown_override_is_an_error(monkeypatch):
    monkeypatch.setenv(device.DEVICE_ENV, "tpu")
    with pytest.raises(ValueError, match="use one of cuda, mps, cpu"):
        device.choose_device()


def test_preference_order_is_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.delenv(device.DEVICE_ENV, raising=False)
    available = {"cuda": False, "mps": True}
    monkeypatch.setattr(device, "_torch_has", lambda name: available.get(name, name == "cpu"))
    monkeypatch.setattr(device, "_onnx_has_cuda", lambda: False)
    assert device.choose_device() == "mps"
    device.choose_device.cache_clear()
    available["cuda"] = True
    assert device.choose_device() == "cuda"


def test_a_model_loads_once_even_under_concurrent_requests():
    cache = ModelCache()
    calls = []

    def slow_loader():
        calls.append(1)
        time.sleep(0.2)
        return object()

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("m", slow_loader))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and cache.load_counts["m"] == 1
    assert len({id(r) for r in results}) == 1


def test_loads_never_overlap_and_a_loaded_model_is_served_meanwhile():
    """Libraries patch process-wide state while loading (transformers' weight tying): two loads
    at once corrupted the translator. A model already loaded must not wait for another's load."""
    cache = ModelCache()
    cache.get("loaded", object)
    active, most = [], []

    def loader() -> object:
        active.append(1)
        most.append(len(active))
        time.sleep(0.2)
        active.pop()
        return object()

    threads = [threading.Thread(target=cache.get, args=(key, loader)) for key in "abc"]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    cache.get("loaded", object)
    assert time.perf_counter() - start < 0.1
    for thread in threads:
        thread.join()
    assert max(most) == 1 and sorted(cache.load_counts) == ["a", "b", "c", "loaded"]


def test_a_loader_may_load_another_model_while_others_wait():
    cache = ModelCache()
    outer = threading.Thread(target=cache.get, args=("ratings+model", lambda: cache.get("ratings", object)))
    other = threading.Thread(target=cache.get, args=("other", lambda: cache.get("ratings", object)))
    for thread in (outer, other):
        thread.start()
    for thread in (outer, other):
        thread.join(timeout=5)
        assert not thread.is_alive(), "nested loads deadlocked"
    assert cache.load_counts["ratings"] == 1


def test_eviction_and_memory_accounting():
    cache = ModelCache()
    cache.get("big", lambda: bytearray(64 * 2**20))
    row = cache.stats()[0]
    assert row["model"] == "big" and row["resident_mb"] > 32
    assert cache.evict("big") and not cache.is_loaded("big")
    assert not cache.evict("big")


def test_least_recently_used_models_are_evicted_over_budget():
    cache = ModelCache(budget_bytes=100 * 2**20)
    cache.get("old", lambda: bytearray(60 * 2**20))
    cache.get("new", lambda: bytearray(60 * 2**20))
    assert cache.is_loaded("new") and not cache.is_loaded("old")


def test_hub_loading_goes_local_at_once_when_the_hub_is_out_of_reach(monkeypatch, tmp_path):
    from core import hub

    def refuse(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(hub.socket, "create_connection", refuse)
    assert not hub.hub_reachable()
    assert hub.local_files_only("some-org/some-model")
    assert hub.local_files_only(tmp_path)  # a saved folder never needs the hub

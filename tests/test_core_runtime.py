"""Device choice and the model cache: the guarantees every demo builds on."""
import mmap
import socket
import sys
import threading
import time
import weakref
from functools import partial
from types import ModuleType

import pytest

from core import device, models
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
    monkeypatch.setattr(hub, "_answers", {})
    assert not hub.hub_reachable()
    assert hub.local_files_only("some-org/some-model")
    assert hub.local_files_only(tmp_path)  # a saved folder never needs the hub


def test_the_hubs_answer_is_kept_for_a_minute_so_a_page_rerun_waits_for_no_probe(monkeypatch):
    from core import hub

    probes = []

    def connect(address, timeout):
        probes.append(address)
        return socket.socket()  # closed at once by the probe

    monkeypatch.setattr(hub.socket, "create_connection", connect)
    monkeypatch.setattr(hub, "_answers", {})  # this test's answers go when it ends
    assert hub.hub_reachable() and len(probes) == 1
    assert all(hub.hub_reachable() for _ in range(5)) and len(probes) == 1
    assert hub.hub_reachable(kept_s=0) and len(probes) == 2  # an answer older than kept_s is probed again


MB = 2**20


def _array(megabytes: int):
    import numpy as np

    return np.ones(megabytes * MB // 8)


def _still_resident(monkeypatch) -> None:
    """Make every load read 0 bytes of resident growth, as glibc shows it when a load reuses the
    pages of an evicted model: charges must not depend on it."""
    monkeypatch.setattr(models, "resident_bytes", lambda: 500 * MB)


def test_a_reload_after_eviction_is_charged_what_the_first_load_was(monkeypatch):
    """The budget once stopped bounding memory: a reload grew RSS by ~0 and was charged ~0."""
    torch = pytest.importorskip("torch")
    _still_resident(monkeypatch)
    cache = ModelCache()
    for key, loader in (("array", lambda: _array(20)), ("tensor", lambda: torch.zeros(5 * MB))):  # 20 MB each
        charges = []
        for _ in range(3):
            cache.get(key, loader)
            charges.append(cache.total_bytes())
            cache.evict(key)
        assert charges == [20 * MB] * 3, key


def test_the_budget_bounds_the_total_through_loads_evictions_and_reloads(monkeypatch):
    _still_resident(monkeypatch)
    cache = ModelCache(budget_bytes=50 * MB)
    for key in "abcdabcdab":
        cache.get(key, lambda: _array(20))
        assert cache.total_bytes() <= 50 * MB
        assert [row["resident_mb"] for row in cache.stats()] == [20.0] * len(cache.stats())
    assert [row["model"] for row in cache.stats()] == ["a", "b"]
    assert cache.load_counts == {"a": 3, "b": 3, "c": 2, "d": 2}


def test_a_reload_makes_room_before_it_loads(monkeypatch):
    """Its size is known from its first load: the models it displaces go before it loads, not after,
    so memory never holds them and it at once."""
    _still_resident(monkeypatch)
    cache = ModelCache(budget_bytes=50 * MB)
    held_while_loading = []

    def loader():
        held_while_loading.append([row["model"] for row in cache.stats()])
        return _array(20)

    for key in "abca":
        cache.get(key, loader)
    assert held_while_loading == [[], ["a"], ["a", "b"], ["c"]]  # c's size was unknown until it loaded


def test_a_model_over_the_budget_still_loads_and_holds_the_cache_alone(monkeypatch):
    _still_resident(monkeypatch)
    cache = ModelCache(budget_bytes=30 * MB)
    cache.get("small", lambda: _array(10))
    cache.get("big", lambda: _array(40))
    assert [row["model"] for row in cache.stats()] == ["big"]
    cache.get("small", lambda: _array(10))
    assert [row["model"] for row in cache.stats()] == ["small"]


def test_held_bytes_counts_shared_memory_once_and_follows_what_a_value_captures():
    np = pytest.importorskip("numpy")
    torch = pytest.importorskip("torch")
    tied = torch.nn.Sequential(torch.nn.Embedding(1000, 256), torch.nn.Linear(256, 1000, bias=False))
    tied[1].weight = tied[0].weight  # tied embeddings, as in Marian: one storage
    assert models.held_bytes(tied).bytes == pytest.approx(1000 * 256 * 4, rel=0.05)
    base = np.zeros(MB // 8)
    cycle: dict = {"views": [base[:10], base[10:]], "base": base}
    cycle["self"] = cycle
    assert models.held_bytes(cycle).bytes == pytest.approx(MB, rel=0.05)

    class Encoder:
        def __init__(self) -> None:
            self.weights = np.zeros(MB // 8)

        def embed(self) -> None: ...

    weights, encoder = np.zeros(MB // 8), Encoder()
    captured = (encoder.embed, partial(print, weights), lambda: weights.sum(), weakref.proxy(Encoder()))
    assert models.held_bytes(captured).bytes == pytest.approx(2 * MB, rel=0.05)  # a weak proxy holds nothing
    assert not models.held_bytes(captured).hidden


def _native_charges(monkeypatch, growths_mb: list[int], imports_on_first_load: bool) -> list[float]:
    """What the cache charges a native object (which shows Python nothing) on each of successive
    loads, each evicted after, whose loads grow RSS by ``growths_mb``."""
    readings = iter([reading for grown in growths_mb for reading in (100 * MB, (100 + grown) * MB)])
    monkeypatch.setattr(models, "resident_bytes", lambda: next(readings))
    cache, native, charges = ModelCache(), mmap.mmap(-1, 4096), []

    def loader() -> dict:
        if imports_on_first_load and not charges:
            monkeypatch.setitem(sys.modules, "a_library_imported_by_the_load", ModuleType("library"))
        return {"session": native}

    for _ in growths_mb:
        cache.get("session", loader)
        assert cache.stats()[0]["measured_by"] == "resident growth"
        charges.append(cache.stats()[0]["resident_mb"])
        cache.evict("session")
    return charges


def test_native_objects_that_hide_their_memory_are_charged_their_resident_growth(monkeypatch):
    """An onnxruntime session or an OpenCV net shows Python nothing: what its first load grew RSS
    by is charged, that load's and every reload's (which reads less once pages are reused)."""
    assert models.held_bytes({"session": mmap.mmap(-1, 4096)}).hidden == {"mmap.mmap"}
    assert _native_charges(monkeypatch, [30, 0, 5], imports_on_first_load=False) == [30.0, 30.0, 30.0]


def test_a_growth_inflated_by_first_imports_gives_way_to_the_first_without(monkeypatch):
    """onnxruntime's import grew the first style-transfer load by 200 MB that no eviction returns."""
    assert _native_charges(monkeypatch, [230, 30, 25, 35], imports_on_first_load=True) == [230.0, 30.0, 30.0, 35.0]


@pytest.mark.skipif(models._MALLOC_TRIM is None, reason="glibc's malloc_trim only")
def test_an_eviction_hands_the_memory_back_to_the_os():
    """glibc keeps freed heap pages, so RSS stayed put after an eviction until malloc_trim."""
    cache, pins = ModelCache(), []

    def loader() -> list[bytes]:
        chunks = [bytes(2000) + bytes([i % 256]) for i in range(20_000)]  # 40 MB of heap
        pins.extend(chunks[::100])  # outlive the model amid its pages: glibc's own trim (of the top) frees none
        return chunks

    models.trim_heap()
    before = models.resident_bytes()
    cache.get("chunks", loader)
    loaded = models.resident_bytes()
    cache.evict("chunks")
    assert cache.stats() == [] and models.resident_bytes() - before < (loaded - before) / 2

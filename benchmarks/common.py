"""Helpers for benchmark scripts: repeat-and-median timing and JSON results with the machine named."""
from __future__ import annotations

import collections
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))


def median_seconds(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def machine() -> dict[str, Any]:
    from core.device import choose_device

    return {"device": choose_device(), "cpu_count": os.cpu_count(), "processor": platform.processor()
            or platform.machine(), "python": platform.python_version()}


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "machine": machine(), **payload}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(json.dumps(payload, indent=2))
    return path


# --- shared by the concurrency benchmarks (bench_class.py first) ----------------------------------

def p50_p95(times: list[float], digits: int = 3) -> dict[str, float | None]:
    """Median and 95th percentile (inclusive method, so a handful of samples gives a value), and the count."""
    if not times:
        return {"n": 0, "p50_s": None, "p95_s": None}
    p95 = statistics.quantiles(times, n=20, method="inclusive")[-1] if len(times) > 1 else times[0]
    return {"n": len(times), "p50_s": round(statistics.median(times), digits), "p95_s": round(p95, digits)}


def wait_for_http(url: str, timeout_s: float, alive: Callable[[], bool] = lambda: True) -> None:
    """Until ``url`` answers 200, ``alive()`` turns false (RuntimeError) or ``timeout_s`` pass (TimeoutError)."""
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"the server for {url} exited before it answered")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f} s")


class ProcessMeter:
    """CPU seconds and peak resident memory of a changing set of processes, sampled in a thread.

    ``find()`` returns the processes to count at each sample (say, a server and its children).
    CPU is the growth of each process's user+system time since ``start()`` (a process first seen
    later counts from zero, one that exits keeps its last sample); memory is the largest sum of
    their RSS seen at any sample (shared pages count once per process, so an upper bound).
    ``kind(process)``, if given, names what a process is (or None): the most processes of each kind seen
    at one sample are reported (say, the Serve replicas of each demo).
    """

    def __init__(self, find: Callable[[], list[Any]], every_s: float = 0.5,
                 kind: Callable[[Any], str | None] | None = None) -> None:
        self.find, self.every_s, self.kind = find, every_s, kind
        self._base: dict[tuple[int, float], float] = {}
        self._last: dict[tuple[int, float], float] = {}
        self.peak_rss = 0
        self.most_of_kind: dict[str, int] = {}
        self._stop = None
        self._thread = None

    def _sample(self, baseline: bool = False) -> None:
        import psutil

        rss, kinds = 0, collections.Counter()
        for process in self.find():
            try:
                with process.oneshot():
                    key = (process.pid, process.create_time())
                    times = process.cpu_times()
                    used = times.user + times.system
                    rss += process.memory_info().rss
                    kinds[self.kind(process) if self.kind else None] += 1
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            if baseline:
                self._base[key] = used
            self._base.setdefault(key, 0.0)
            self._last[key] = used
        self.peak_rss = max(self.peak_rss, rss)
        for kind, count in kinds.items():
            if kind is not None:
                self.most_of_kind[kind] = max(self.most_of_kind.get(kind, 0), count)

    def start(self) -> "ProcessMeter":
        import threading

        self._base, self._last, self.peak_rss, self.most_of_kind = {}, {}, 0, {}
        self._sample(baseline=True)
        self._stop = threading.Event()

        def loop() -> None:
            while not self._stop.wait(self.every_s):
                self._sample()

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join(timeout=30)
        self._sample()
        cpu = sum(self._last[key] - self._base.get(key, 0.0) for key in self._last)
        return {"cpu_s": round(cpu, 2), "peak_rss_mb": round(self.peak_rss / 2**20), "processes": len(self._last),
                "most_of_kind": dict(sorted(self.most_of_kind.items()))}

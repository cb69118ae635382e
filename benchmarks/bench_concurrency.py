"""Several visitors at once: N gradio_client threads, each running every demo's endpoint.

Checks that nothing fails, that every model was loaded exactly once, and reports p50/p95
latency per demo (requests queue in Gradio rather than fail). Issue 11.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT, write_result

from core import contract
from core.media import example_photo
from core.models import MODELS, resident_bytes
from demos import DEMOS

CLIENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 8


def example_arguments(demo, folder: Path) -> list:
    """One realistic request per demo: a bundled photo, recording or article, other fields at defaults."""
    from gradio_client import handle_file

    values = []
    for field in demo.ENDPOINTS[0].inputs:
        if isinstance(field, contract.ImageField):
            if field.optional:
                values.append(None)
                continue
            path = folder / "photo.png"
            example_photo("Astronaut").save(path)
            values.append(handle_file(str(path)))
        elif isinstance(field, contract.AudioField):
            values.append(handle_file(str(sorted((ROOT / "assets" / "audio_digits").glob("*.wav"))[0])))
        elif isinstance(field, contract.TextField) and not field.default and field is demo.ENDPOINTS[0].inputs[0]:
            values.append(sorted((ROOT / "assets" / "summarisation").glob("*.txt"))[0].read_text())
        else:
            values.append(getattr(field, "default", None))
    return values


def main() -> None:
    from gradio_client import Client

    import gradio_app

    app = gradio_app.build()
    _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    folder = Path(tempfile.mkdtemp())
    requests = {demo.CARD.slug: example_arguments(demo, folder) for demo in DEMOS}
    latencies: dict[str, list[float]] = {slug: [] for slug in requests}
    failures: list[str] = []

    def visitor(number: int) -> None:
        client = Client(url, verbose=False)
        order = list(requests)[number % len(requests):] + list(requests)[:number % len(requests)]
        for slug in order:
            start = time.perf_counter()
            try:
                client.predict(*requests[slug], api_name=f"/{slug}")
                latencies[slug].append(time.perf_counter() - start)
            except Exception as error:  # recorded, not raised: the point is to count them
                failures.append(f"{slug}: {error}")

    start = time.perf_counter()
    threads = [threading.Thread(target=visitor, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    app.close()
    rows = [{"demo": slug, "requests": len(times),
             "p50_s": round(statistics.median(times), 3) if times else None,
             "p95_s": round(statistics.quantiles(times, n=20)[-1], 3) if len(times) > 1 else None}
            for slug, times in latencies.items()]
    write_result("concurrency", {
        "what": f"{CLIENTS} gradio_client threads, each calling every demo once with a bundled example",
        "clients": CLIENTS, "wall_s": round(wall, 1), "failures": failures, "rows": rows,
        "model_loads": dict(MODELS.load_counts), "every_model_loaded_once": set(MODELS.load_counts.values()) == {1},
        "resident_mb_after": round(resident_bytes() / 2**20),
    })


if __name__ == "__main__":
    main()

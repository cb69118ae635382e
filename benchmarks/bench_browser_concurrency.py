"""Several visitors at once in real browsers: N Chromium contexts on one Streamlit server, each
opening every demo page (in a different order) and waiting for the result of its default example.

Latency per page = navigation start to the example's result shown and the script run over, as
the visitor waits for it (page load, session start, queueing, model load on first use, compute,
rendering). Checks that nothing fails, that each page shows the expected result (the markers of
tests/test_browser_demos.py), and that every model was loaded exactly once: the server runs in
this script's own ``--serve`` mode, which writes core.models' load counts when it stops. Issue 11.
"""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, write_result

sys.path.append(str(ROOT / "scripts"))
from screenshot import BUSY, CHROMIUM, CHROMIUM_ARGS, serve_gallery  # noqa: E402

VISITORS = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "--serve" else 8
PAGE_TIMEOUT_MS = 600_000  # long enough to see queueing rather than failures


def serve(counts_file: str, streamlit_args: list[str]) -> None:
    """Run the Streamlit server in this process; on exit, write which models it loaded how often."""
    import atexit

    import psutil

    from core.models import MODELS

    def write_counts() -> None:
        Path(counts_file).write_text(json.dumps({
            "load_counts": dict(MODELS.load_counts), "models": MODELS.stats(),
            "resident_mb": round(psutil.Process().memory_info().rss / 2**20)}))

    atexit.register(write_counts)
    sys.argv = ["streamlit", *streamlit_args]
    from streamlit.web.cli import main as streamlit_main

    streamlit_main()


async def visitor(browser, url: str, number: int, slugs: list[str], visits: dict,
                  latencies: dict[str, list[float]], failures: list[str]) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    order = slugs[number % len(slugs):] + slugs[:number % len(slugs)]
    for slug in order:
        start = time.perf_counter()
        try:
            await page.goto(f"{url}/{slug}", timeout=PAGE_TIMEOUT_MS)
            failed = page.get_by_test_id("stException").or_(page.get_by_test_id("stAlertContentError"))
            await visits[slug].ready(page).or_(failed).first.wait_for(timeout=PAGE_TIMEOUT_MS)
            await page.wait_for_function(f"() => !{BUSY}", timeout=PAGE_TIMEOUT_MS)
            if await failed.count():
                failures.append(f"visitor {number}, {slug}: {await failed.first.inner_text()}")
            else:
                latencies[slug].append(time.perf_counter() - start)
        except Exception as error:  # recorded, not raised: the point is to count them
            failures.append(f"visitor {number}, {slug}: {type(error).__name__}: {str(error).splitlines()[0]}")
    await context.close()


async def crowd(url: str, slugs: list[str], visits: dict) -> tuple[dict[str, list[float]], list[str], float]:
    from playwright.async_api import async_playwright

    latencies: dict[str, list[float]] = {slug: [] for slug in slugs}
    failures: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        start = time.perf_counter()
        await asyncio.gather(*(visitor(browser, url, n, slugs, visits, latencies, failures)
                               for n in range(VISITORS)))
        wall = time.perf_counter() - start
        await browser.close()
    return latencies, failures, wall


def main() -> None:
    sys.path.append(str(ROOT / "tests"))
    from demos import CARDS
    from test_browser_demos import VISITS

    slugs = [card.slug for card in CARDS if card.slug in VISITS]
    counts_file = Path(tempfile.mkdtemp()) / "load_counts.json"
    load_before = os.getloadavg()[0]
    with serve_gallery([sys.executable, __file__, "--serve", str(counts_file), "run", "app.py"]) as server:
        latencies, failures, wall = asyncio.run(crowd(server.url, slugs, VISITS))
    server_side = json.loads(counts_file.read_text())
    rows = [{"demo": slug, "requests": len(times),
             "p50_s": round(statistics.median(times), 2) if times else None,
             "p95_s": round(statistics.quantiles(times, n=20, method="inclusive")[-1], 2)
             if len(times) > 1 else None,
             "max_s": round(max(times), 2) if times else None}
            for slug, times in latencies.items()]
    write_result("browser_concurrency", {
        "what": f"{VISITORS} Chromium contexts at once on one Streamlit server, each opening every demo page "
                "(rotated order) and waiting for its default example's result",
        "visitors": VISITORS, "wall_s": round(wall, 1),
        "machine_load_average_1min": {"before": round(load_before, 1), "after": round(os.getloadavg()[0], 1)},
        "failures": failures, "rows": rows,
        "demos_without_a_browser_visit": [card.slug for card in CARDS if card.slug not in VISITS],
        "model_loads": server_side["load_counts"],
        "every_model_loaded_once": set(server_side["load_counts"].values()) == {1},
        "server_resident_mb_at_end": server_side["resident_mb"],
    })


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3:])
    else:
        main()

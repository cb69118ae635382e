"""Gallery cold start: process start to the home page shown in a browser, vs a bare one-line app.

Both are started the same way (``streamlit run``) and timed until Chromium shows their text.
Target (issue 2): ratio <= 1.5.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, write_result
from core.ray_head import free_port

sys.path.insert(0, str(ROOT / "scripts"))
from screenshot import CHROMIUM_ARGS  # noqa: E402

RUNS = 3


def time_to_text(page, script: Path, text: str) -> float:
    port = free_port()
    start = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:  # the server socket opens before Streamlit answers; retry the page until it does
            try:
                page.goto(f"http://127.0.0.1:{port}/", timeout=2000)
                break
            except Exception:
                time.sleep(0.05)
        page.get_by_text(text).first.wait_for(timeout=60_000)
        return time.perf_counter() - start
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    from playwright.sync_api import sync_playwright

    bare = Path(tempfile.mkdtemp()) / "bare.py"
    bare.write_text('import streamlit as st\nst.write("hello bare app")\n')
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        gallery = [time_to_text(page, ROOT / "app.py", "Open demo") for _ in range(RUNS)]
        baseline = [time_to_text(page, bare, "hello bare app") for _ in range(RUNS)]
        browser.close()
    ratio = statistics.median(gallery) / statistics.median(baseline)
    write_result("cold_start", {
        "what": f"streamlit run -> text visible in headless Chromium, median of {RUNS}",
        "gallery_s": [round(s, 3) for s in gallery], "bare_app_s": [round(s, 3) for s in baseline],
        "ratio": round(ratio, 3), "target_ratio_max": 1.5, "meets_target": ratio <= 1.5,
    })


if __name__ == "__main__":
    main()

"""The first visitor of the Atari page on Streamlit (issue 24, point 3): how long they wait for the recorded
replay, with ``make run``'s server (``ui/streamlit_server.py``: the shared work begun at start-up) and
with a bare ``streamlit run app.py`` (a page's code runs only when it is opened).

Each server starts on a free loopback port, idles ``--idle-s`` seconds after it answers (a lecturer opens
the gallery a little before the class does), then one Chromium visitor opens /atari and is timed until
the replay's "Played at N decisions/s" shows.

    .venv/bin/python benchmarks/bench_first_visitor.py --idle-s 60
"""
from __future__ import annotations

import argparse
import re
import sys
import time

from common import ROOT, write_result

sys.path.insert(0, str(ROOT / "scripts"))
from screenshot import CHROMIUM, CHROMIUM_ARGS, GALLERY_SERVER, STREAMLIT, serve_gallery  # noqa: E402

SERVERS = {"make run (ui.streamlit_server)": GALLERY_SERVER,
           "bare streamlit run app.py": STREAMLIT}
READY = re.compile(r"Played at \d+ decisions/s")


def first_visit(browser, url: str, timeout_s: float) -> float:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    start = time.perf_counter()
    page.goto(f"{url}/atari")
    page.get_by_text(READY).first.wait_for(timeout=timeout_s * 1000)
    waited = time.perf_counter() - start
    page.close()
    return round(waited, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle-s", type=float, default=60.0)
    parser.add_argument("--timeout-s", type=float, default=240.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    waits = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, command in SERVERS.items():
            with serve_gallery(command, start_timeout=120) as server:
                time.sleep(args.idle_s)
                waits[name] = first_visit(browser, server.url, args.timeout_s)
                print(f"{name}: the first Atari visitor waited {waits[name]} s", flush=True)
        browser.close()
    write_result("first_visitor", {
        "what": "Streamlit: seconds from opening /atari to the recorded replay shown, for the first visitor, "
                f"{args.idle_s:g} s after the server answered", "idle_s": args.idle_s, "first_visitor_s": waits})


if __name__ == "__main__":
    main()

"""The Streamlit gallery's server (``make run``, the Docker image): Streamlit's own ``streamlit run app.py``,
with the work every visitor shares begun first.

Streamlit has no start-up hook: a page's code runs only when a visitor opens it, so the first visitor of
the Atari page would wait for its recorded replays (28 s on the 2-core CPU). This launcher begins each
demo's shared work (``core.engine.start_shared_work``) in the server's own process, in the background, and
hands over to Streamlit's command line, which starts listening at once. Only in embedded mode: in Ray
mode each replica does it for its demo. The home page still imports no demo; the server process does.

    python -m ui.streamlit_server --server.port 8501 --server.headless true
"""
from __future__ import annotations

import sys
import threading
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"
BEGUN = "shared work begun:"  # the line the server prints, naming the demos


def begin_shared_work() -> threading.Thread:
    """Import the demos and begin their shared work, in a thread: Streamlit need not wait for torch."""
    def begin() -> None:
        from core.engine import engine, start_shared_work
        from demos import registry

        if engine().name != "embedded":
            return
        demos = registry().demos
        for demo in demos:
            start_shared_work(demo)
        begun = [demo.CARD.slug for demo in demos if callable(getattr(demo, "on_start", None))]
        print(BEGUN, ", ".join(begun) or "none", file=sys.stderr, flush=True)

    thread = threading.Thread(target=begin, name="shared-work", daemon=True)
    thread.start()
    return thread


def main(streamlit_flags: list[str]) -> None:
    from streamlit.web.cli import main as streamlit_main

    begin_shared_work()
    sys.argv = ["streamlit", "run", str(APP), *streamlit_flags]
    streamlit_main()


if __name__ == "__main__":
    main(sys.argv[1:])

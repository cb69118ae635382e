"""`make run`'s server: Streamlit itself, with the work every visitor shares (Atari's recorded replays)
begun as the server starts, so that the first visitor of a page does not wait for it."""
from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

from core import engine
from core.ray_head import free_port
from ui import streamlit_server

ROOT = Path(__file__).resolve().parent.parent


def test_embedded_the_server_begins_each_demos_shared_work_and_in_ray_mode_leaves_it_to_the_replicas(monkeypatch):
    begun: list[str] = []
    monkeypatch.setattr(engine, "start_shared_work", lambda module: begun.append(module.__name__))
    monkeypatch.setenv(engine.SERVE_ENV, "embedded")
    streamlit_server.begin_shared_work().join(120)
    assert "demos.atari" in begun and len(begun) == len(set(begun)) > 1

    begun.clear()
    monkeypatch.setattr(engine, "engine", lambda: SimpleNamespace(name="ray"))  # what mode() == "ray" picks
    streamlit_server.begin_shared_work().join(120)
    assert begun == []


def test_the_server_serves_the_gallery_and_says_the_shared_work_has_begun(tmp_path):
    port = free_port()
    err = tmp_path / "server.err"
    with open(err, "w") as stderr:
        server = subprocess.Popen([sys.executable, "-m", "ui.streamlit_server", "--server.address", "127.0.0.1",
                                   "--server.port", str(port), "--server.headless", "true",
                                   "--browser.gatherUsageStats", "false"], cwd=ROOT, stdout=subprocess.DEVNULL,
                                  stderr=stderr)
    try:
        deadline = time.monotonic() + 120
        while streamlit_server.BEGUN not in err.read_text() and time.monotonic() < deadline:
            assert server.poll() is None, err.read_text()[-2000:]
            time.sleep(0.5)
        assert f"{streamlit_server.BEGUN} atari" in err.read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=10) as health:
            assert health.read() == b"ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as home:
            assert b"<title>Streamlit</title>" in home.read()
    finally:
        server.terminate()
        server.wait(timeout=30)


"""Optional hub upgrades: load a checkpoint by hub id or local folder without stalling offline.

Where the Hugging Face hub is out of reach, its client retries each file for up to a minute
before failing; one quick TCP check first lets a demo say "offline" at once.
"""
from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlparse

ANSWER_KEPT_S = 60.0  # a page asks on each rerun: one probe a minute is enough, and offline costs no wait
_answers: dict[str, tuple[float, bool]] = {}  # hub host -> (when probed, reachable)


def hub_reachable(timeout: float = 3.0, kept_s: float = ANSWER_KEPT_S) -> bool:
    """Whether the Hugging Face hub answers at all (a quick TCP connection), as probed in the last ``kept_s``."""
    from huggingface_hub import constants

    host = urlparse(constants.ENDPOINT).hostname
    known = _answers.get(host)
    if known is not None and time.monotonic() - known[0] < kept_s:
        return known[1]
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        reachable = True
    except OSError:
        reachable = False
    _answers[host] = (time.monotonic(), reachable)
    return reachable


def local_files_only(path_or_id: str | Path) -> bool:
    """The ``local_files_only`` to pass to ``from_pretrained``: a folder, or the hub out of reach."""
    return Path(path_or_id).is_dir() or not hub_reachable()

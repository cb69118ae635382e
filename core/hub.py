"""Optional hub upgrades: load a checkpoint by hub id or local folder without stalling offline.

Where the Hugging Face hub is out of reach, its client retries each file for up to a minute
before failing; one quick TCP check first lets a demo say "offline" at once.
"""
from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlparse


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face hub answers at all (a quick TCP connection)."""
    from huggingface_hub import constants

    try:
        socket.create_connection((urlparse(constants.ENDPOINT).hostname, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def local_files_only(path_or_id: str | Path) -> bool:
    """The ``local_files_only`` to pass to ``from_pretrained``: a folder, or the hub out of reach."""
    return Path(path_or_id).is_dir() or not hub_reachable()

"""Sharing one server fairly among many visitors: who may queue how much, and for how long.

Front-end neutral: a front end asks ``SHARES.admit(client, queue)`` when a request arrives
(before it waits in any queue) and calls ``release`` once it has run. A request that never
runs (its visitor left while it waited) stops counting after ``stale_after`` seconds.
"""
from __future__ import annotations

import os
import threading
import time
from collections import defaultdict, deque

from core.validation import InputError

PER_CLIENT = int(os.environ.get("NEURAL_GALLERY_PER_CLIENT_REQUESTS", "2"))  # waiting or running, per demo
PER_QUEUE = int(os.environ.get("NEURAL_GALLERY_PER_DEMO_REQUESTS", "12"))  # waiting or running, all visitors


class QueueShares:
    """Counts each client's admitted requests per queue, refusing past a fair share."""

    def __init__(self, per_client: int = PER_CLIENT, per_queue: int = PER_QUEUE, stale_after: float = 600.0) -> None:
        self.per_client, self.per_queue, self.stale_after = per_client, per_queue, stale_after
        self._admitted: dict[tuple[str, str], deque[float]] = defaultdict(deque)  # (queue, client) -> times
        self._lock = threading.Lock()

    def admit(self, client: str, queue: str) -> None:
        """Count one more request of ``client`` on ``queue``, or ``InputError`` if it is over its share."""
        with self._lock:
            self._forget_stale()
            mine = self._admitted[(queue, client)]
            if len(mine) >= self.per_client:
                raise InputError(f"You already have {len(mine)} requests waiting or running on this demo; "
                                 "wait for them to finish, then try again.")
            if sum(len(times) for (name, _), times in self._admitted.items() if name == queue) >= self.per_queue:
                raise InputError("This demo is busy with other visitors right now; try again in a minute.")
            mine.append(time.monotonic())

    def release(self, client: str, queue: str) -> None:
        """One request of ``client`` on ``queue`` has run (or failed)."""
        with self._lock:
            mine = self._admitted.get((queue, client))
            if mine:
                mine.popleft()
            if not mine:
                self._admitted.pop((queue, client), None)

    def _forget_stale(self) -> None:
        oldest_kept = time.monotonic() - self.stale_after
        for key in list(self._admitted):
            times = self._admitted[key]
            while times and times[0] < oldest_kept:
                times.popleft()
            if not times:
                del self._admitted[key]


SHARES = QueueShares()

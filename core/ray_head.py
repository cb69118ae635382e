"""A local Ray head of the gallery's own, and how to stop it without touching anyone else's cluster.

``ray stop`` stops every Ray process on the machine: another session's cluster, a test's, a benchmark's.
So the head started by ``scripts/serve_ray.py up`` (and by the class benchmark) lives in a temp folder
of its own on free ports, and is stopped by the ids of the processes that name that folder, and their
children. ``up`` saves where it is (``HEAD_FILE_ENV``, default under the system temp folder); the
front ends in Ray mode read the address from there when ``RAY_ADDRESS`` is not set, and ``down`` stops
the head only when that file says ``up`` started it. The head asks every client for Ray's auth token
(``RAY_AUTH_MODE=token``, the token in ``~/.ray/auth_token``, made if missing): Ray's daemons listen on
every interface, and a head without it would run anyone's code.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

HEAD_FILE_ENV = "NEURAL_GALLERY_RAY_HEAD"
# Ray reads the mode from the environment once, as it starts up in a process: a client sets it before that
CLIENT_ENV = {"RAY_AUTH_MODE": "token"}
STOP_GRACE_S = 20.0  # SIGTERM first; SIGKILL for whatever is left after this


def head_file() -> Path:
    return Path(os.environ.get(HEAD_FILE_ENV) or Path(tempfile.gettempdir()) / "neural_gallery_ray_head.json")


def free_port() -> int:
    """A TCP port nothing listens on right now, on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ray_command() -> str:
    """The ``ray`` CLI of the interpreter running us (the project's virtual environment)."""
    return str(Path(sys.executable).with_name("ray"))


@dataclass(frozen=True)
class LocalHead:
    """A Ray head on loopback: its GCS address and the temp folder that names all of its processes."""

    address: str
    folder: str

    @classmethod
    def start(cls, cpus: int, object_store_bytes: int = 300_000_000, env: dict[str, str] | None = None,
              timeout_s: float = 180.0) -> LocalHead:
        # short folder: Ray's unix socket paths inside it have a length limit
        folder = tempfile.mkdtemp(prefix="ngray", dir="/tmp" if Path("/tmp").is_dir() else None)
        address = f"127.0.0.1:{free_port()}"
        command = [ray_command(), "start", "--head", f"--port={address.rpartition(':')[2]}", f"--num-cpus={cpus}",
                   "--include-dashboard=false", "--disable-usage-stats", "--node-ip-address=127.0.0.1",
                   f"--object-store-memory={object_store_bytes}", f"--temp-dir={folder}",
                   f"--ray-client-server-port={free_port()}", f"--dashboard-agent-listen-port={free_port()}"]
        head = cls(address, folder)
        env = {**(env or os.environ), **CLIENT_ENV}
        subprocess.run([ray_command(), "get-auth-token", "--generate"], env=env, capture_output=True,
                       timeout=timeout_s, check=True)  # keeps a token that exists
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout_s)
        if result.returncode:
            head.stop()
            raise RuntimeError(f"ray start failed: {result.stdout[-1500:]} {result.stderr[-1500:]}")
        return head

    def processes(self) -> list[psutil.Process]:
        """Every process whose command line names our folder (gcs_server, raylet, agents), and their children."""
        found: dict[int, psutil.Process] = {}
        for process in psutil.process_iter(["cmdline"]):
            try:
                if any(self.folder in part for part in process.info["cmdline"] or []):
                    for member in [process, *process.children(recursive=True)]:
                        found[member.pid] = member
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        found.pop(os.getpid(), None)
        return list(found.values())

    def stop(self) -> None:
        """SIGTERM to each of our processes, SIGKILL to those left after ``STOP_GRACE_S``, then the folder."""
        processes = self.processes()
        for process in processes:
            try:
                process.terminate()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(processes, timeout=STOP_GRACE_S)
        for process in alive:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(alive, timeout=5)
        shutil.rmtree(self.folder, ignore_errors=True)

    def save(self) -> None:
        head_file().write_text(json.dumps(asdict(self)))

    @classmethod
    def saved(cls) -> LocalHead | None:
        """The head ``up`` started, while its processes still run."""
        try:
            head = cls(**json.loads(head_file().read_text()))
        except (OSError, ValueError, TypeError):
            return None
        return head if head.processes() else None

    @staticmethod
    def forget() -> None:
        head_file().unlink(missing_ok=True)



def own_head() -> LocalHead | None:
    """The head ``scripts/serve_ray.py up`` started, unless ``RAY_ADDRESS`` names another cluster."""
    return None if os.environ.get("RAY_ADDRESS") else LocalHead.saved()

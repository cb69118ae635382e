"""The gallery's model layer on Ray Serve (issue 24): start a local cluster, deploy, stop.

    python scripts/serve_ray.py up     # a local Ray head (if none runs) + one Serve application per demo
    python scripts/serve_ray.py status # each demo's application and its replicas
    python scripts/serve_ray.py down   # Serve and the local Ray head stop

``make serve`` runs ``up`` and then both front ends with ``NEURAL_GALLERY_SERVE=ray``. To use a
cluster elsewhere, set ``RAY_ADDRESS`` (``ray://host:10001`` or ``host:6379``) before ``up`` and for
the front ends; on Kubernetes, KubeRay deploys from deploy/kuberay/rayservice.yaml instead.
Scaling bounds per demo: ``SCALING`` below (the KubeRay manifest repeats them).
"""
from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.engine import works_of  # noqa: E402
from core.engine_ray import ADDRESS_ENV, NAMESPACE, Scaling, deploy  # noqa: E402

# Heavier or slower demos get fewer, larger replicas; batched light models scale out.
SCALING = {
    "style_transfer": Scaling(max_replicas=2, cpus=1.0),
    "object_detection": Scaling(max_replicas=2, cpus=0.5),
    "emotion": Scaling(max_replicas=2, cpus=0.5),
    "image_generation": Scaling(max_replicas=2, cpus=1.0),
    "atari": Scaling(max_replicas=1, cpus=0.5),
}


def served_names() -> tuple[str, ...]:
    """The demos and labs that have model work, each a Serve application; the others (the numpy labs) run in
    the front end."""
    from demos import DEMOS

    return tuple(demo.CARD.slug for demo in DEMOS if works_of(demo.CARD.slug))


def logical_cpus() -> int:
    """Ray schedules replicas by logical CPUs: enough for every deployment at its largest, however many cores."""
    chosen = [SCALING.get(demo, Scaling()) for demo in served_names()]
    needed = sum(scaling.max_replicas * scaling.cpus for scaling in chosen)
    return max(os.cpu_count() or 2, math.ceil(needed))


def _ray(*args: str) -> int:
    return subprocess.call([str(Path(sys.executable).with_name("ray")), *args])


def up(cpus: int) -> None:
    import ray

    address = os.environ.get(ADDRESS_ENV, "auto")
    if address == "auto" and _ray("status") != 0:  # no local cluster yet: start a head on loopback
        if _ray("start", "--head", f"--num-cpus={cpus}", "--include-dashboard=false", "--disable-usage-stats",
                "--node-ip-address=127.0.0.1", "--object-store-memory=300000000") != 0:
            sys.exit("ray start failed")
    ray.init(address=address, namespace=NAMESPACE, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}})
    deploy({demo: f"demos.{demo}" for demo in served_names()}, SCALING)
    print("deployed:", ", ".join(served_names()))


def status() -> None:
    from ray import serve
    import ray

    ray.init(address=os.environ.get(ADDRESS_ENV, "auto"), namespace=NAMESPACE, log_to_driver=False)
    for name, application in serve.status().applications.items():
        replicas = {deployment: info.replica_states for deployment, info in application.deployments.items()}
        print(f"{name}: {application.status} {replicas}")


def down() -> None:
    _ray("stop")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("up", "status", "down"))
    parser.add_argument("--cpus", type=int, default=logical_cpus(),
                        help="logical CPUs of a local head (default: room for every demo's largest replica count)")
    args = parser.parse_args()
    {"up": lambda: up(args.cpus), "status": status, "down": down}[args.command]()


if __name__ == "__main__":
    main()

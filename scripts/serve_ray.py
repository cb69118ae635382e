"""The gallery's model layer on Ray Serve (issue 24): start a local cluster, deploy, stop.

    python scripts/serve_ray.py up [demo ...]    # a Ray head of our own (unless RAY_ADDRESS names a cluster)
                                                 # + one Serve application per demo (default: every demo)
    python scripts/serve_ray.py status           # each demo's application and its replicas
    python scripts/serve_ray.py down [demo ...]  # our applications go; the head stops if ``up`` started it

``make serve`` runs ``up`` and then both front ends with ``NEURAL_GALLERY_SERVE=ray``; they find the
head through the file ``up`` leaves (``core.ray_head``). ``down`` never runs ``ray stop``, which would
stop every Ray cluster on the machine: it stops our head by its processes' ids, and on a cluster it did
not start it only deletes the gallery's applications. To use a cluster elsewhere, set ``RAY_ADDRESS``
(``ray://host:10001`` or ``host:6379``) for ``up`` and for the front ends; on Kubernetes, KubeRay deploys
from deploy/kuberay/rayservice.yaml instead. Scaling bounds per demo: ``SCALING`` below (the KubeRay
manifest repeats them).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.engine import works_of  # noqa: E402
from core.ray_head import CLIENT_ENV, LocalHead, own_head  # noqa: E402

if not os.environ.get("RAY_ADDRESS"):  # our own head's clients; Ray reads this once, when it is imported
    os.environ.update(CLIENT_ENV)
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


def _connect(address: str) -> None:
    import ray

    ray.init(address=address, namespace=NAMESPACE, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}})


def up(cpus: int, demos: tuple[str, ...]) -> None:
    address = os.environ.get(ADDRESS_ENV)
    if not address:
        head = LocalHead.saved()
        if head is None:  # no head of ours runs yet: one on loopback
            head = LocalHead.start(cpus)
            head.save()
            print(f"started a Ray head at {head.address} ({head.folder})")
        address = head.address
    _connect(address)
    deploy({demo: f"demos.{demo}" for demo in demos}, SCALING)
    print("deployed:", ", ".join(demos))


def status() -> None:
    from ray import serve

    head = own_head()
    _connect(head.address if head else os.environ.get(ADDRESS_ENV, "auto"))
    for name, application in serve.status().applications.items():
        replicas = {deployment: info.replica_states for deployment, info in application.deployments.items()}
        print(f"{name}: {application.status.value} {replicas}")


def down(demos: tuple[str, ...]) -> None:
    """Our head, if ``up`` started one, stops whole; on anyone else's cluster only our applications go."""
    head = own_head()
    if head is not None:
        head.stop()
        LocalHead.forget()
        print(f"stopped the Ray head started by up ({head.address})")
        return
    address = os.environ.get(ADDRESS_ENV)
    if not address:
        LocalHead.forget()  # a head file of ours whose processes are gone
        print("no Ray head of ours is running; nothing to stop")
        return
    from ray import serve

    _connect(address)
    ours = [name for name in serve.status().applications if name in demos]
    for name in ours:
        serve.delete(name)
    print(f"deleted {', '.join(ours) or 'no application'} on {address}; the cluster itself was not started here")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("up", "status", "down"))
    parser.add_argument("demos", nargs="*", metavar="demo",
                        help="the demos to deploy or delete (default: every demo with model work)")
    parser.add_argument("--cpus", type=int, default=logical_cpus(),
                        help="logical CPUs of a local head (default: room for every demo's largest replica count)")
    args = parser.parse_args()
    unknown = sorted(set(args.demos) - set(served_names()))
    if unknown:
        parser.error(f"no model work to serve in {', '.join(unknown)}; choose from {', '.join(served_names())}")
    demos = tuple(args.demos) or served_names()
    {"up": lambda: up(args.cpus, demos), "status": status, "down": lambda: down(demos)}[args.command]()


if __name__ == "__main__":
    main()

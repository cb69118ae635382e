"""Beyond one machine: the KubeRay manifests are what Ray Serve and Kubernetes would accept, and they
deploy what `make serve` deploys (every demo, through the same builder, within its bounds)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml


serve_schema = pytest.importorskip("ray.serve.schema")
KUBERAY = Path(__file__).resolve().parent.parent / "deploy" / "kuberay"


def _documents(name: str) -> list[dict]:
    return list(yaml.safe_load_all((KUBERAY / name).read_text()))


@pytest.fixture(scope="module")
def serve_config() -> dict:
    (service,) = _documents("rayservice.yaml")
    assert service["kind"] == "RayService"
    return yaml.safe_load(service["spec"]["serveConfigV2"])


def test_the_serve_config_is_one_ray_serve_accepts(serve_config):
    serve_schema.ServeDeploySchema.model_validate(serve_config)  # raises on a field Serve does not know


def test_every_demo_with_model_work_is_one_application_built_by_the_engines_builder(serve_config):
    from core.engine import works_of
    from demos import DEMOS

    applications = {app["name"]: app for app in serve_config["applications"]}
    assert sorted(applications) == sorted(demo.CARD.slug for demo in DEMOS if works_of(demo.CARD.slug))
    for name, app in applications.items():
        assert app["import_path"] == "core.engine_ray:build"
        assert app["args"]["demo"] == name and app["args"]["module"] == f"demos.{name}"
        assert 1 <= app["args"]["min_replicas"] <= app["args"]["max_replicas"]
        assert 0 <= app["args"].get("gpus", 0) <= 0.5  # small models share a GPU


@pytest.mark.parametrize("name", ["style_transfer", "emotion"])
def test_the_builder_takes_the_manifests_arguments(serve_config, name):
    from core.engine_ray import build

    (app,) = [app for app in serve_config["applications"] if app["name"] == name]
    assert build(app["args"]) is not None  # unknown keys or a bad module fail here, not on the cluster


def test_front_ends_run_in_ray_mode_with_sticky_sessions():
    deployment, service, ingress = _documents("frontends.yaml")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert {"name": "NEURAL_GALLERY_SERVE", "value": "ray"} in container["env"]
    assert "--num-cpus=0" in container["args"][0]  # a front-end node takes no replica
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/affinity"] == "cookie"


def test_a_front_end_pod_is_restarted_when_its_ray_node_is_gone(tmp_path):
    """The liveness probe's first half, run here: it passes while a process named raylet runs, and fails once
    it is gone (a dead raylet would leave the front ends unable to reach any cluster again)."""
    import shutil
    import subprocess
    import time

    deployment, _, _ = _documents("frontends.yaml")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    probe = container["livenessProbe"]["exec"]["command"]
    raylet_check = probe[2].split(" && ")[0]
    assert raylet_check == "grep -qx raylet /proc/[0-9]*/comm"
    if subprocess.run(["sh", "-c", raylet_check]).returncode == 0:
        pytest.skip("a Ray node runs on this machine")
    fake_raylet = tmp_path / "raylet"
    shutil.copy(shutil.which("sleep"), fake_raylet)
    process = subprocess.Popen([str(fake_raylet), "30"])
    try:
        time.sleep(0.2)
        assert subprocess.run(["sh", "-c", raylet_check]).returncode == 0
    finally:
        process.kill()
        process.wait()
    assert subprocess.run(["sh", "-c", raylet_check]).returncode != 0

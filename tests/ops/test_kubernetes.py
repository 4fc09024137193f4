"""Every Kustomize overlay renders, and every resource is valid against the Kubernetes schemas.

Rendering uses `kubectl kustomize` (installed into .tools by `make tools`); the built-in kinds are
validated strictly (unknown fields are errors) with the schemas kubernetes-validate ships. The
operators' custom resources (Strimzi, MongoDB Community) have no schema on PyPI or npm: their kinds
and API versions are checked against the operators' documented ones, and the fields the services
depend on are checked below.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.ops import ROOT
from treatywatch.common.asyncapi import DEAD_LETTER_TOPIC_CONFIG, EVENTS_TOPIC_CONFIG

KUBERNETES = ROOT / "deploy" / "kubernetes"
KUBECTL = ROOT / ".tools" / "bin" / "kubectl"
# The oldest Kubernetes Strimzi 0.48 supports is 1.27; validate against a current release.
KUBERNETES_VERSION = "1.33"
OVERLAYS = sorted(p.name for p in (KUBERNETES / "overlays").iterdir())
CUSTOM_KINDS = {
    ("kafka.strimzi.io/v1beta2", "Kafka"),
    ("kafka.strimzi.io/v1beta2", "KafkaNodePool"),
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"),
    ("mongodbcommunity.mongodb.com/v1", "MongoDBCommunity"),
}
CONSUMERS = ("registry", "notify")
SERVICES = ("ingest", *CONSUMERS)

Resource = dict[str, Any]


def render(directory: Path) -> list[Resource]:
    if not KUBECTL.exists():
        pytest.fail(f"{KUBECTL} is missing: run `make tools`")
    out = subprocess.run([str(KUBECTL), "kustomize", str(directory)], check=True, capture_output=True, text=True)
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> list[Resource]:
    resources: list[Resource] = render(KUBERNETES / "overlays" / request.param)
    return resources


def by_kind(resources: list[Resource], kind: str) -> dict[str, Resource]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def schema_errors(resource: Resource) -> list[str]:
    """Strict validation of a built-in kind; custom resources must be of a known operator kind."""
    if (resource["apiVersion"], resource["kind"]) in CUSTOM_KINDS:
        return [] if resource["metadata"].get("name") else ["a custom resource without a name"]
    try:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{resource['kind']}/{resource['metadata']['name']}: {'.'.join(map(str, exc.path))}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError as exc:
        return [exc.message]
    return []


def test_every_resource_is_valid(overlay: list[Resource]) -> None:
    assert [e for r in overlay for e in schema_errors(r)] == []


def test_the_rebuild_job_is_valid() -> None:
    jobs = [doc for doc in yaml.safe_load_all((KUBERNETES / "jobs" / "registry-rebuild.yaml").read_text()) if doc]
    assert [e for r in jobs for e in schema_errors(r)] == []


def test_the_schema_check_catches_a_broken_manifest(overlay: list[Resource]) -> None:
    deployment = by_kind(overlay, "Deployment")["ingest"]
    typo = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    wrong_type = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    assert schema_errors(typo) and schema_errors(wrong_type)
    assert schema_errors({**deployment, "apiVersion": "apps/v1beta9"})


def test_every_service_is_deployed_safely(overlay: list[Resource]) -> None:
    deployments = by_kind(overlay, "Deployment")
    assert set(deployments) == set(SERVICES)
    assert set(by_kind(overlay, "Service")) == set(SERVICES)
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
        assert "memory" in container["resources"]["limits"], name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        assert pod["topologySpreadConstraints"], name
        assert container["image"].startswith(f"treatywatch/{name}:"), f"{name}: the overlay sets no tag"


def test_every_overlay_seeds_the_platform_once_from_the_cli_image(overlay: list[Resource]) -> None:
    seed = by_kind(overlay, "Job")["seed"]
    pod = seed["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    tags = {
        d["spec"]["template"]["spec"]["containers"][0]["image"].split(":")[1]
        for d in by_kind(overlay, "Deployment").values()
    }
    assert container["image"] in {f"treatywatch/cli:{tag}" for tag in tags}, "the overlay sets no tag"
    assert container["args"][0] == "seed" and "--registry-url" in container["args"]
    services = by_kind(overlay, "Service")
    for flag, name in (("--ingest-url", "ingest"), ("--registry-url", "registry")):
        port = services[name]["spec"]["ports"][0]["port"]
        assert container["args"][container["args"].index(flag) + 1] == f"http://{name}:{port}"
    (key,) = container["env"]
    assert key["name"] == "TREATYWATCH_API_KEY" and "secretKeyRef" in key["valueFrom"]
    assert pod["restartPolicy"] == "Never" and pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_production_refuses_a_development_key() -> None:
    config = by_kind(render(KUBERNETES / "overlays" / "prod"), "ConfigMap")["treatywatch-config"]["data"]
    assert config["TREATYWATCH_PROFILE"] == "production"


def test_no_secret_is_kept_in_the_manifests(overlay: list[Resource]) -> None:
    assert by_kind(overlay, "Secret") == {}


def test_consumers_scale_within_the_topic_partitions(overlay: list[Resource]) -> None:
    topics = by_kind(overlay, "KafkaTopic")
    config = by_kind(overlay, "ConfigMap")["treatywatch-config"]["data"]
    partitions = topics[config["TREATYWATCH_TOPIC"]]["spec"]["partitions"]
    assert int(config["TREATYWATCH_TOPIC_PARTITIONS"]) == partitions
    autoscalers = by_kind(overlay, "HorizontalPodAutoscaler")
    budgets = by_kind(overlay, "PodDisruptionBudget")
    for name in CONSUMERS:
        hpa = autoscalers[name]
        assert hpa["spec"]["scaleTargetRef"]["name"] == name
        assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"] <= partitions, name
        assert budgets[name]["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}


def test_topics_are_configured_as_the_catalogue_documents(overlay: list[Resource]) -> None:
    topics = by_kind(overlay, "KafkaTopic")
    for name, documented in (
        ("treatywatch.events", EVENTS_TOPIC_CONFIG),
        ("treatywatch.events.dlq", DEAD_LETTER_TOPIC_CONFIG),
    ):
        config = topics[name]["spec"]["config"]
        assert {k: [v] if k == "cleanup.policy" else v for k, v in config.items() if k in documented} == documented
    kafka = next(iter(by_kind(overlay, "Kafka").values()))
    for topic in topics.values():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert topic["spec"]["config"]["min.insync.replicas"] <= topic["spec"]["replicas"]
    bootstrap = by_kind(overlay, "ConfigMap")["treatywatch-config"]["data"]["TREATYWATCH_KAFKA_BOOTSTRAP"]
    assert bootstrap == f"{kafka['metadata']['name']}-kafka-bootstrap:9092"


def test_mongodb_writes_the_connection_string_the_services_read(overlay: list[Resource]) -> None:
    (mongodb,) = by_kind(overlay, "MongoDBCommunity").values()
    secrets = {user["connectionStringSecretName"] for user in mongodb["spec"]["users"]}
    for deployment in by_kind(overlay, "Deployment").values():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["TREATYWATCH_MONGO_URL"]["valueFrom"]["secretKeyRef"]["name"] in secrets

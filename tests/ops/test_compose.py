"""docker-compose.yml against the Compose Specification's JSON schema, and the project's own rules."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import jsonschema
import pytest
import yaml

from tests.ops import ROOT

COMPOSE = ROOT / "docker-compose.yml"
# Required variables: ${NAME:?message}; every one must be documented in .env.example.
REQUIRED_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+):\?")
VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def compose_validator() -> jsonschema.protocols.Validator:
    # check-jsonschema vendors the Compose Specification's schema (its `vendor.compose-spec`).
    text = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text()
    schema = json.loads(text)
    return jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())


def test_compose_file_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in compose_validator().iter_errors(compose)]
    assert errors == []


def test_the_schema_check_catches_a_broken_compose_file(compose: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["kafka"]["healthcheck"]["intervall"] = "10s"
    assert not compose_validator().is_valid(broken)


def test_every_long_running_service_is_health_checked_and_waits_for_healthy_dependencies(
    compose: dict[str, Any],
) -> None:
    for name, service in compose["services"].items():
        one_shot = service.get("restart") is None
        if not one_shot:
            assert "healthcheck" in service, f"{name} has no healthcheck"
        for dependency, condition in service.get("depends_on", {}).items():
            expected = "service_healthy" if "healthcheck" in compose["services"][dependency] else None
            expected = expected or "service_completed_successfully"
            assert condition["condition"] == expected, f"{name} -> {dependency}"


def test_images_are_pinned_and_the_services_are_built_from_the_dockerfile(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if "build" in service:
            assert service["build"]["dockerfile"] == "deploy/docker/Dockerfile"
            assert (ROOT / service["build"]["dockerfile"]).exists()
            # Each service is built from its own target; one-shot jobs (no restart) run the cli image.
            assert service["build"]["target"] == (name if "restart" in service else "cli"), name
        else:
            image = service["image"]
            assert re.fullmatch(r"[a-z0-9/._-]+:\d+(\.\d+)+", image), f"{name}: {image} is not pinned to a version"


def test_data_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    for name in ("kafka", "mongo"):
        sources = {v.split(":")[0] for v in compose["services"][name]["volumes"]}
        assert sources <= declared, f"{name} mounts {sources - declared}, not named volumes"


def test_no_secret_is_written_in_the_file_and_every_required_variable_is_documented() -> None:
    text = COMPOSE.read_text()
    for line in text.splitlines():
        if re.search(r"(PASSWORD|SECRET|API_KEY)\w*:", line):
            assert "${" in line, f"a literal secret: {line.strip()}"
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert set(REQUIRED_VARIABLE.findall(text)) <= documented
    assert set(VARIABLE.findall(text)) <= documented, "document every variable in .env.example"


def test_up_seeds_the_platform_once_it_is_ready(compose: dict[str, Any]) -> None:
    seed = compose["services"]["seed"]
    assert "restart" not in seed and "profiles" not in seed, "a one-shot service that `up` starts"
    assert seed["command"][0] == "seed" and "--registry-url" in seed["command"]
    assert {name: c["condition"] for name, c in seed["depends_on"].items()} == {
        "ingest": "service_healthy",
        "registry": "service_healthy",
    }
    assert "TREATYWATCH_API_KEY" in seed["environment"]


def test_the_services_scale_together_with_the_partition_check(compose: dict[str, Any]) -> None:
    for name in ("ingest", "registry", "notify"):
        service = compose["services"][name]
        replicas = service["deploy"]["replicas"]
        assert VARIABLE.match(replicas), f"{name}: replicas are not configurable"
        # The start-up check compares the topic's partitions with the same number.
        assert service["environment"]["TREATYWATCH_MAX_REPLICAS"] == replicas, name
        # Replicas share their environment: a static group member id or a container name would be shared too.
        assert "TREATYWATCH_KAFKA_INSTANCE_ID" not in service["environment"], name
        assert "container_name" not in service, name
        # One host port cannot be published by several replicas: the host side must take a range.
        (published,) = service["ports"]
        assert re.fullmatch(r"\$\{TREATYWATCH_BIND:-[^}]+\}:\$\{[A-Z0-9_]+:-\d+\}:\d+", published), published

"""Schemathesis against every service's OpenAPI: generated requests, valid and invalid, never get a 5xx, and each
response matches the schema where the schema declares it. The services run as processes."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from pymongo import MongoClient
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import services_on
from treatywatch.cli.stack import SERVICES, Stack
from treatywatch.common.mongo import Document

KEY = "schemathesis-" + uuid.uuid4().hex
# Generated cases per service, spread over the operations that take input, half valid and half not.
CASES = 1000 if os.environ.get("FAULTS_FULL") else 400
CHECKS = [not_a_server_error, response_schema_conformance]


def service_env(topic: str, service: str) -> dict[str, str]:
    """One service's topic, with a consumer group of its own (`services_on` gives it a database of its own)."""
    return {
        "TREATYWATCH_TOPIC": topic,
        "TREATYWATCH_DEAD_LETTER_TOPIC": f"{topic}.dlq",
        "TREATYWATCH_GROUP_ID": f"st-{service}-{uuid.uuid4().hex[:8]}",
    }


@pytest.fixture(scope="module")
def stacks(servers: Stack) -> Iterator[dict[str, Stack]]:
    """Ingest and the registry share a topic, so the registry is queried after applying generated events.

    Notify reads a topic nobody writes to: the subscriptions generated for public URLs must never get a
    delivery, which would leave the machine.
    """
    topic = f"schemathesis-{uuid.uuid4().hex[:8]}"
    topics = {"ingest": topic, "registry": topic, "notify": f"{topic}-silent"}
    with contextlib.ExitStack() as running:
        yield {
            service: running.enter_context(
                services_on(servers, f"schemathesis-{service}", (service,), KEY, service_env(reads, service))
            )
            for service, reads in topics.items()
        }


def exercise(stack: Stack, service: str) -> tuple[Counter[str], list[str]]:
    """Run about CASES generated cases over the service's operations; the cases per operation and every failure."""
    schema = schemathesis.openapi.from_url(f"{stack.url(service)}/openapi.json")
    operations: list[APIOperation[Any, Any, Any, Any]] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"{service}'s OpenAPI has an operation Schemathesis cannot read: {result}"
        operations.append(result.ok())
    with_input = [op for op in operations if any(op.iter_parameters()) or len(op.body)]
    per_mode = -(-CASES // len(with_input) // len(GenerationMode))
    cases: Counter[str] = Counter()
    failures: list[str] = []

    with requests.Session() as session:

        def check(case: Case[Any]) -> None:
            cases[case.operation.label] += 1
            try:
                case.call_and_validate(
                    base_url=stack.url(service),
                    session=session,
                    headers={"Authorization": f"Bearer {KEY}"},
                    checks=CHECKS,
                    timeout=30,
                )
            except FailureGroup as group:
                # Collected rather than raised, so one run reports every operation at fault.
                failures.append(f"{case.operation.label}: {group}")

        for operation in operations:
            for mode in GenerationMode:
                run = settings(
                    max_examples=per_mode if operation in with_input else 1,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )(given(operation.as_strategy(generation_mode=mode))(check))
                # An operation without inputs (GET /healthz) has no invalid request to generate.
                with contextlib.suppress(Unsatisfiable):
                    run()
    return cases, failures


@pytest.mark.parametrize("service", SERVICES)
def test_generated_requests_get_no_5xx_and_documented_responses(
    stacks: dict[str, Stack], servers: Stack, service: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cases, failures = exercise(stacks[service], service)
    with capsys.disabled():
        print(f"\nschemathesis {service}: {cases.total()} cases over {len(cases)} operations, {len(failures)} failures")
    assert not failures, "\n".join(failures)
    assert cases.total() >= CASES // 2
    if service == "notify":
        database = stacks[service].env["TREATYWATCH_MONGO_DB"]
        client: MongoClient[Document] = MongoClient(servers.mongo_url)
        try:
            assert client[database].deliveries.count_documents({}) == 0, "a generated subscription got a delivery"
        finally:
            client.close()

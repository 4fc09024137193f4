"""The test session starts its own Kafka-protocol brokers and MongoDB-protocol server on free ports."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings

from treatywatch.cli.seed import Data
from treatywatch.cli.stack import BROKERS, Ports, Stack

# CI draws the same examples on every run, so a red run can be replayed; developers' runs keep exploring new ones.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
DATA = Data(ROOT / "data")
OUTPUT = ROOT / "test-output"


@pytest.fixture(scope="session")
def servers() -> Iterator[Stack]:
    """A fresh embedded broker and database for the whole session, stopped at the end."""
    # noida-db wants a fresh data folder per run, and sessions may run side by side.
    OUTPUT.mkdir(exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(dir=OUTPUT, prefix="servers-"))
    stack = Stack(data_dir=data_dir, ports=Ports.free())
    try:
        stack.start_servers()
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def tansu_servers(servers: Stack) -> Iterator[Stack]:
    """Tansu, the second embedded broker, started on first use; the database is the one of `servers`."""
    data_dir = Path(tempfile.mkdtemp(dir=OUTPUT, prefix="tansu-"))
    stack = Stack(data_dir=data_dir, ports=Ports.free(), broker="tansu", mongo_url=servers.mongo_url)
    try:
        stack.start_servers()
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session", params=BROKERS)
def broker_servers(request: pytest.FixtureRequest) -> Stack:
    """The session's servers with each embedded broker in turn, for what must hold on any Kafka-protocol broker."""
    stack: Stack = request.getfixturevalue("servers" if request.param == "noida-db" else "tansu_servers")
    return stack


@contextmanager
def services_on(
    servers: Stack, name: str, services: Sequence[str], api_key: str, env: Mapping[str, str] | None = None
) -> Iterator[Stack]:
    """`services` on the session's servers with a topic and database of their own (`env` wins), stopped at the end."""
    # No consumer group: each service's default differs. One database for all `services`, though: the registry
    # and notify both keep an `events` collection, so a module running both must set TREATYWATCH_MONGO_DB in `env`
    # ("" leaves each service its default database).
    suffix = uuid.uuid4().hex[:8]
    stack = Stack(
        data_dir=OUTPUT / name,
        ports=Ports.free(),
        api_key=api_key,
        kafka_bootstrap=servers.kafka_bootstrap,
        mongo_url=servers.mongo_url,
        embedded_kafka=servers.embedded_kafka,
        broker=servers.broker,
        env={
            "TREATYWATCH_TOPIC": f"{name}-{suffix}",
            "TREATYWATCH_MONGO_DB": f"{re.sub(r'[^0-9A-Za-z_]', '_', name)}_{suffix}",
            **(env or {}),
        },
    )
    try:
        for service in services:
            stack.start_service(service)
        stack.wait_ready(tuple(services))
        yield stack
    finally:
        stack.stop()

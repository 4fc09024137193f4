"""The registry's Kafka handler: decode, dead-letter what fails the contract or cannot be stored, apply the rest
atomically."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from aiokafka import ConsumerRecord
from prometheus_client import Counter, Histogram
from pydantic import ValidationError
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from treatywatch.common import tracing
from treatywatch.common.events import Event, parse_event
from treatywatch.common.kafka import Message, Publisher
from treatywatch.common.logging import log
from treatywatch.common.mongo import Document, is_duplicate_key
from treatywatch.registry.store import Prepared, Unstorable, apply_events, prepare, record_dead_letter, record_session

EVENTS_APPLIED = Counter("treatywatch_registry_events_applied_total", "Events applied by type", ["type"])
EVENTS_DUPLICATE = Counter("treatywatch_registry_events_duplicate_total", "Redelivered events ignored")
DEAD_LETTERS = Counter("treatywatch_registry_dead_letters_total", "Messages sent to the dead-letter topic")
APPLY_SECONDS = Histogram("treatywatch_registry_apply_seconds", "Time to apply one fetched batch")


class Applier:
    """Applies fetched batches: each batch in one MongoDB transaction, so a crash applies all or nothing.

    Without a publisher (a rebuild reading the topic again) dead letters are recorded but not re-published.
    """

    def __init__(
        self,
        client: AsyncMongoClient[Document],
        db: AsyncDatabase[Document],
        publisher: Publisher | None,
        dead_letter_topic: str,
    ) -> None:
        self._client, self._db = client, db
        self._publisher, self._dlq = publisher, dead_letter_topic
        self._session: AsyncClientSession | None = None

    async def __call__(self, records: list[ConsumerRecord]) -> None:
        started = time.perf_counter()
        prepared: list[Prepared] = []
        for record in records:
            try:
                prepared.append(prepare(parse_event(record.value or b"")))
            except (ValidationError, ValueError, Unstorable) as exc:
                # Retrying cannot help either: the message goes where a person can look at it, and the rest on.
                await self._dead_letter(record, exc)
        if prepared:
            await self._apply(prepared)
        APPLY_SECONDS.observe(time.perf_counter() - started)

    async def _apply(self, prepared: list[Prepared]) -> None:
        async def as_new(session: AsyncClientSession) -> list[Event]:
            return await apply_events(self._db, session, prepared, look_first=False)

        async def skipping_applied(session: AsyncClientSession) -> list[Event]:
            return await apply_events(self._db, session, prepared)

        if self._session is None:
            # One recorded session for the process's life, so a successor can abort what a crash left open.
            self._session = self._client.start_session()
            await record_session(self._db, self._session)
        events = [p.event for p in prepared]
        with tracing.span_for_events("apply", events, kind=tracing.SpanKind.CONSUMER):
            try:
                applied = await self._session.with_transaction(as_new)
            except (DuplicateKeyError, BulkWriteError) as exc:
                # Some events were applied before (a redelivery after a crash): the aborted transaction
                # changed nothing; apply the batch again, skipping them.
                if not is_duplicate_key(exc):
                    raise
                applied = await self._session.with_transaction(skipping_applied)
        EVENTS_DUPLICATE.inc(len(events) - len(applied))
        for event in applied:
            EVENTS_APPLIED.labels(event.type).inc()
            log.info("event_applied", event_id=event.id, type=event.type, trace_id=event.trace_id)

    async def _dead_letter(self, record: ConsumerRecord, exc: Exception) -> None:
        reason = (
            str(exc)
            if not isinstance(exc, ValidationError)
            else "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        )
        key = f"{record.topic}/{record.partition}/{record.offset}"
        raw: bytes = record.value or b""
        headers = [("reason", reason.encode()[:4000]), ("origin", key.encode())]
        # The dead-letter copy is durable before the offset is committed, so nothing is lost.
        if self._publisher is not None:
            await self._publisher.publish([Message(self._dlq, record.key, raw, headers)])
        await record_dead_letter(
            self._db,
            {
                "_id": key,
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "reason": reason,
                "value": raw.decode("utf-8", errors="replace"),
                "received_at": datetime.now(UTC),
            },
        )
        DEAD_LETTERS.inc()
        log.warning("dead_letter", origin=key, reason=reason)

"""Notify's Kafka handler: each consumed event is kept and each match becomes a durable delivery before the commit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiokafka import ConsumerRecord
from prometheus_client import Counter
from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase

from treatywatch.common import tracing
from treatywatch.common.events import Event, parse_event
from treatywatch.common.logging import log
from treatywatch.common.mongo import Document
from treatywatch.notify import store
from treatywatch.notify.delivery import Deliverer
from treatywatch.notify.domain import matches

EVENTS_SEEN = Counter("treatywatch_notify_events_consumed_total", "Events consumed by type", ["type"])
DELIVERIES_CREATED = Counter("treatywatch_notify_deliveries_created_total", "Deliveries recorded")


class Matcher:
    """Turns fetched events into pending deliveries and hands them to the delivery engine."""

    def __init__(self, db: AsyncDatabase[Document], deliverer: Deliverer) -> None:
        self._db, self._deliverer = db, deliverer

    async def __call__(self, records: list[ConsumerRecord]) -> None:
        events: list[Event] = []
        for record in records:
            try:
                events.append(parse_event(record.value or b""))
            except (ValidationError, ValueError):
                # The registry dead-letters what fails the contract; there is nothing to deliver.
                log.warning("undecodable_event_skipped", origin=f"{record.topic}/{record.partition}/{record.offset}")
        now = datetime.now(UTC)
        with tracing.span_for_events("match", events, kind=tracing.SpanKind.CONSUMER):
            new_ids, subscriptions = await asyncio.gather(
                store.record_events(self._db, events, now), store.enabled_subscriptions(self._db)
            )
            matched = [store.event_delivery(s, e, now) for e in events for s in subscriptions if matches(s, e)]
            for event in events:
                EVENTS_SEEN.labels(event.type).inc()
                log.info("event_consumed", event_id=event.id, type=event.type, trace_id=event.trace_id)
            created = await self._deliverer.admit(matched, new_ids)
        DELIVERIES_CREATED.inc(len(created))

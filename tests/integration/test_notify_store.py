"""Notify's store against the real MongoDB the session starts: one delivery per pair, one winner per claim."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from treatywatch.cli.stack import Stack
from treatywatch.common.events import Event, event_from_dict, to_json
from treatywatch.common.mongo import Document
from treatywatch.notify import store
from treatywatch.notify.domain import delivery_id

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(servers: Stack) -> AsyncIterator[AsyncDatabase[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        servers.mongo_url, serverSelectionTimeoutMS=5_000, tz_aware=True
    )
    name = f"t_{uuid.uuid4().hex[:12]}"
    database = client[name]
    await store.create_indexes(database)
    try:
        yield database
    finally:
        await client.drop_database(name)
        await client.close()


def subscription(sub_id: str = "sub_1") -> dict[str, Any]:
    return {"_id": sub_id, "url": "https://example.org/hook", "event_types": ["*"], "enabled": True}


def action(participant: str = "NOR") -> Event:
    return event_from_dict(
        {
            "id": f"evt-{uuid.uuid4().hex}",
            "type": "treaty.action.recorded",
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "data": {"treaty_id": "XXVI-5", "participant": participant, "action": "signature", "date": "1997-12-03"},
        }
    )


async def test_create_indexes_twice_is_fine(db: AsyncDatabase[Document]) -> None:
    await store.create_indexes(db)
    keys = [info["key"] for info in (await db.deliveries.index_information()).values()]
    assert [("status", 1), ("next_attempt_at", 1)] in keys


async def test_add_deliveries_twice_for_the_same_pair_creates_one_delivery(db: AsyncDatabase[Document]) -> None:
    sub, event = subscription(), action()
    assert await store.add_deliveries(db, [(sub, event)], NOW) == 1
    assert await store.add_deliveries(db, [(sub, event)], NOW + timedelta(minutes=1)) == 0

    stored = [d async for d in db.deliveries.find({})]
    assert len(stored) == 1
    delivery = stored[0]
    assert delivery["_id"] == delivery_id("sub_1", event.id)
    assert delivery["subscription_id"] == "sub_1"
    assert delivery["event_id"] == event.id
    assert delivery["event_type"] == "treaty.action.recorded"
    assert delivery["traceparent"] == event.traceparent
    assert delivery["body"] == to_json(event).decode()
    assert delivery["status"] == "pending"
    assert delivery["attempts"] == []
    # The second call did not overwrite the first.
    assert delivery["created_at"] == NOW
    assert delivery["next_attempt_at"] == NOW


async def test_add_deliveries_keeps_distinct_pairs_apart(db: AsyncDatabase[Document]) -> None:
    one, two = action("NOR"), action("SWE")
    pairs = [(subscription("sub_1"), one), (subscription("sub_2"), one), (subscription("sub_1"), two)]
    assert await store.add_deliveries(db, pairs, NOW) == 3
    assert await store.add_deliveries(db, [], NOW) == 0
    assert await db.deliveries.count_documents({}) == 3


async def test_due_deliveries_are_the_pending_ones_whose_time_has_come(db: AsyncDatabase[Document]) -> None:
    early, late = action("NOR"), action("SWE")
    await store.add_deliveries(db, [(subscription(), early)], NOW)
    await store.add_deliveries(db, [(subscription(), late)], NOW + timedelta(minutes=5))
    assert [d["event_id"] for d in await store.due_deliveries(db, NOW, limit=10)] == [early.id]
    due = await store.due_deliveries(db, NOW + timedelta(minutes=5), limit=10)
    assert [d["event_id"] for d in due] == [early.id, late.id]
    assert len(await store.due_deliveries(db, NOW + timedelta(minutes=5), limit=1)) == 1


async def test_only_one_of_two_concurrent_claims_wins(db: AsyncDatabase[Document]) -> None:
    await store.add_deliveries(db, [(subscription(), action())], NOW)
    # Two workers read the same due delivery, then both try to take it.
    first_read = await store.due_deliveries(db, NOW, limit=10)
    second_read = await store.due_deliveries(db, NOW, limit=10)
    assert len(first_read) == len(second_read) == 1
    lease = NOW + timedelta(seconds=45)

    results = await asyncio.gather(
        store.claim(db, first_read[0], lease),
        store.claim(db, second_read[0], lease),
    )
    assert sorted(results) == [False, True]
    # The claimed delivery is leased: not due again until the lease ends.
    assert await store.due_deliveries(db, NOW + timedelta(seconds=44), limit=10) == []
    assert len(await store.due_deliveries(db, lease, limit=10)) == 1


async def test_many_concurrent_claims_have_exactly_one_winner(db: AsyncDatabase[Document]) -> None:
    await store.add_deliveries(db, [(subscription(), action())], NOW)
    reads = [(await store.due_deliveries(db, NOW, limit=1))[0] for _ in range(8)]
    results = await asyncio.gather(*(store.claim(db, d, NOW + timedelta(seconds=45)) for d in reads))
    assert results.count(True) == 1


async def test_record_attempt_adds_the_attempt_and_sets_the_status(db: AsyncDatabase[Document]) -> None:
    event = action()
    await store.add_deliveries(db, [(subscription(), event)], NOW)
    msg_id = delivery_id("sub_1", event.id)
    retry_at = NOW + timedelta(seconds=5)

    failed = {"at": NOW, "status_code": 503, "latency_ms": 12.5}
    await store.record_attempt(db, msg_id, failed, "pending", retry_at)
    delivery = await db.deliveries.find_one({"_id": msg_id})
    assert delivery is not None
    assert delivery["attempts"] == [failed]
    assert delivery["attempt_count"] == 1
    assert delivery["status"] == "pending"
    assert delivery["next_attempt_at"] == retry_at
    assert await store.due_deliveries(db, NOW, limit=10) == []

    succeeded = {"at": retry_at, "status_code": 204, "latency_ms": 3.0}
    await store.record_attempt(db, msg_id, succeeded, "succeeded", None)
    delivery = await db.deliveries.find_one({"_id": msg_id})
    assert delivery is not None
    assert delivery["attempts"] == [failed, succeeded]
    assert delivery["attempt_count"] == 2
    assert delivery["status"] == "succeeded"
    assert delivery["next_attempt_at"] is None
    assert await store.due_deliveries(db, NOW + timedelta(days=1), limit=10) == []

    public = store.public_delivery(delivery)
    assert public["id"] == msg_id
    assert "body" not in public
    assert "_id" not in public

"""Notify's MongoDB store: subscriptions and deliveries with every attempt."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from treatywatch.common.events import Event, to_json
from treatywatch.common.mongo import Document
from treatywatch.notify.domain import delivery_id

INDEXES: dict[str, list[IndexModel]] = {
    "subscriptions": [IndexModel([("enabled", ASCENDING)])],
    "deliveries": [
        IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)]),
        IndexModel([("subscription_id", ASCENDING), ("created_at", DESCENDING)]),
    ],
}


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Indexes for every query path; created at start-up (idempotent)."""
    for name, models in INDEXES.items():
        await db[name].create_indexes(models)


async def enabled_subscriptions(db: AsyncDatabase[Document]) -> list[Document]:
    return [d async for d in db.subscriptions.find({"enabled": True})]


async def add_deliveries(db: AsyncDatabase[Document], matches: Sequence[tuple[Document, Event]], now: datetime) -> int:
    """Record one pending delivery per (subscription, event); a redelivered event adds nothing."""
    ops = []
    for subscription, event in matches:
        msg_id = delivery_id(subscription["_id"], event.id)
        doc: dict[str, Any] = {
            "_id": msg_id,
            "subscription_id": subscription["_id"],
            "event_id": event.id,
            "event_type": event.type,
            "traceparent": event.traceparent,
            # The body is fixed once, so every retry sends the same bytes under the same webhook-id.
            "body": to_json(event).decode(),
            "status": "pending",
            "attempts": [],
            "attempt_count": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        ops.append(UpdateOne({"_id": msg_id}, {"$setOnInsert": doc}, upsert=True))
    if not ops:
        return 0
    result = await db.deliveries.bulk_write(ops, ordered=False)
    return result.upserted_count


async def due_deliveries(db: AsyncDatabase[Document], now: datetime, limit: int) -> list[Document]:
    cursor = db.deliveries.find({"status": "pending", "next_attempt_at": {"$lte": now}})
    return [d async for d in cursor.sort("next_attempt_at", 1).limit(limit)]


async def claim(db: AsyncDatabase[Document], delivery: Document, lease_until: datetime) -> bool:
    """Take a due delivery for one attempt; another worker that read it too will not get it."""
    result = await db.deliveries.update_one(
        {"_id": delivery["_id"], "status": "pending", "next_attempt_at": delivery["next_attempt_at"]},
        {"$set": {"next_attempt_at": lease_until}},
    )
    return result.modified_count == 1


async def record_attempt(
    db: AsyncDatabase[Document],
    delivery_id: str,
    attempt: Document,
    status: str,
    next_attempt_at: datetime | None,
) -> None:
    await db.deliveries.update_one(
        {"_id": delivery_id},
        {
            "$push": {"attempts": attempt},
            "$inc": {"attempt_count": 1},
            "$set": {"status": status, "next_attempt_at": next_attempt_at},
        },
    )


def public_subscription(doc: Document) -> dict[str, Any]:
    """A subscription as clients see it: never its secret."""
    return {"id": doc["_id"], **{k: v for k, v in doc.items() if k not in ("_id", "secret")}}


def public_delivery(doc: Document) -> dict[str, Any]:
    out = {"id": doc["_id"], **{k: v for k, v in doc.items() if k not in ("_id", "body")}}
    return out

"""Notify's MongoDB store: subscriptions, the events it consumed, deliveries with every attempt, and workers.

A pending delivery is either due at `next_attempt_at` or leased (`lease` names the notify process that
holds it, `next_attempt_at` is null). A lease lasts as long as its worker's heartbeat: a worker whose
heartbeat stopped is swept by any other (or by its own successor), and its leases are released.

Every query names an indexed prefix; writes address documents by `_id` (SecantusDB's `find_one_and_*`
scans the collection, so claims are conditional `update_one`s in one `bulk_write`). Lists are read a page at a
time, in `(created_at, _id)` order, from the last item of the previous page.

Subscriptions hold their secrets as the vault stored them (sealed once the operator set keys).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from treatywatch.common.events import Event, to_json
from treatywatch.common.mongo import Document, is_duplicate_key
from treatywatch.notify.domain import delivery_id

INDEXES: dict[str, list[IndexModel]] = {
    "subscriptions": [
        IndexModel([("enabled", ASCENDING)]),
        IndexModel([("created_at", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("created_by", ASCENDING)]),
    ],
    "deliveries": [
        IndexModel([("subscription_id", ASCENDING), ("status", ASCENDING), ("next_attempt_at", ASCENDING)]),
        IndexModel([("subscription_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
        IndexModel([("status", ASCENDING), ("created_at", ASCENDING)]),
        IndexModel([("lease", ASCENDING), ("status", ASCENDING)]),
    ],
    "events": [IndexModel([("received_at", ASCENDING)])],
}


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Indexes for every query path; created at start-up (idempotent)."""
    for name, models in INDEXES.items():
        await db[name].create_indexes(models)


# Where a page starts: the `created_at` and `_id` of the last item of the previous page.
Cursor = tuple[datetime, str]


def new_subscription(fields: Document, secret: str, created_by: str, now: datetime) -> Document:
    """A subscription with a fresh id, its first secret, no previous ones, and the key that made it."""
    return {
        "_id": "sub_" + secrets.token_hex(12),
        **fields,
        "secret": secret,
        "previous_secrets": [],
        "created_by": created_by,
        "created_at": now,
    }


async def add_subscription(db: AsyncDatabase[Document], subscription: Document) -> None:
    """Record a new subscription."""
    await db.subscriptions.insert_one(subscription)


async def find_subscription(db: AsyncDatabase[Document], subscription_id: str) -> Document | None:
    """The subscription, if there is one."""
    return await db.subscriptions.find_one({"_id": subscription_id})


async def count_created_by(db: AsyncDatabase[Document], created_by: str) -> int:
    """How many subscriptions the key made."""
    return await db.subscriptions.count_documents({"created_by": created_by})


async def subscriptions_page(db: AsyncDatabase[Document], after: Cursor | None, limit: int) -> list[Document]:
    """Up to `limit` subscriptions, oldest first, from the cursor on."""
    return await page(db.subscriptions, {}, after, limit, ASCENDING)


async def page(
    collection: AsyncCollection[Document],
    query: Document,
    after: Cursor | None,
    limit: int,
    direction: int,
) -> list[Document]:
    """Up to `limit` documents matching `query` in `(created_at, _id)` order (`direction`), from the cursor on.

    Two plain range reads rather than one `$or`: first the cursor's ties on `created_at` (a batch of deliveries
    shares one), then what comes after them.
    """
    order = [("created_at", direction), ("_id", direction)]
    if after is None:
        return [d async for d in collection.find(query).sort(order).limit(limit)]
    at, last_id = after
    beyond = "$gt" if direction == ASCENDING else "$lt"
    ties = collection.find({**query, "created_at": at, "_id": {beyond: last_id}}).sort(order).limit(limit)
    found = [d async for d in ties]
    if len(found) < limit:
        rest = collection.find({**query, "created_at": {beyond: at}}).sort(order).limit(limit - len(found))
        found += [d async for d in rest]
    return found


async def enabled_subscriptions(db: AsyncDatabase[Document]) -> list[Document]:
    """The subscriptions that receive deliveries."""
    return [d async for d in db.subscriptions.find({"enabled": True})]


async def change_subscription(db: AsyncDatabase[Document], subscription_id: str, changes: Document) -> None:
    """Set the given fields of a subscription."""
    await db.subscriptions.update_one({"_id": subscription_id}, {"$set": changes})


async def replace_secret(
    db: AsyncDatabase[Document],
    subscription_id: str,
    secret: str,
    previous: Sequence[Document],
    replacing: str | None = None,
) -> bool:
    """The subscription's new secret and the previous ones that still sign until they expire; with `replacing`,
    only if that is still the stored secret. False if nothing was changed."""
    query: Document = {"_id": subscription_id} if replacing is None else {"_id": subscription_id, "secret": replacing}
    result = await db.subscriptions.update_one(query, {"$set": {"secret": secret, "previous_secrets": list(previous)}})
    return result.matched_count == 1


async def all_secrets(db: AsyncDatabase[Document]) -> AsyncIterator[Document]:
    """Every subscription's id and stored secrets."""
    async for doc in db.subscriptions.find({}, {"secret": 1, "previous_secrets": 1}):
        yield doc


async def record_events(db: AsyncDatabase[Document], events: Sequence[Event], now: datetime) -> set[str]:
    """Keep every consumed event once (the first receipt wins), so a period can be replayed; return the new ids.

    No delivery exists yet for an event that is new here: deliveries are made only from recorded events.
    """
    docs = [{"_id": e.id, "type": e.type, "received_at": now, "body": to_json(e).decode()} for e in events]
    return {d["_id"] for d in await insert_new(db.events, docs)}


async def events_between(db: AsyncDatabase[Document], since: datetime, until: datetime) -> AsyncIterator[Document]:
    """The stored events notify received in [since, until), oldest first."""
    cursor = db.events.find({"received_at": {"$gte": since, "$lt": until}}).sort("received_at", 1)
    async for doc in cursor:
        yield doc


def new_delivery(
    subscription_id: str, event_id: str, event_type: str, body: str, traceparent: str | None, now: datetime
) -> Document:
    """A pending delivery, due now; its body is fixed once so every retry sends the same bytes."""
    return {
        "_id": delivery_id(subscription_id, event_id),
        "subscription_id": subscription_id,
        "event_id": event_id,
        "event_type": event_type,
        "traceparent": traceparent,
        "body": body,
        "status": "pending",
        "attempts": [],
        "attempt_count": 0,
        "cycle_attempts": 0,
        "next_attempt_at": now,
        "lease": None,
        "created_at": now,
    }


def event_delivery(subscription: Document, event: Event, now: datetime) -> Document:
    """A pending delivery of a consumed event to a subscription."""
    return new_delivery(subscription["_id"], event.id, event.type, to_json(event).decode(), event.traceparent, now)


def leased(delivery: Document, worker_id: str) -> Document:
    """The delivery held by `worker_id` from the start: it goes to the worker's memory, not back to the database."""
    return {**delivery, "lease": worker_id, "next_attempt_at": None}


async def find_delivery(db: AsyncDatabase[Document], webhook_id: str) -> Document | None:
    """The delivery, if there is one."""
    return await db.deliveries.find_one({"_id": webhook_id})


async def subscription_deliveries(
    db: AsyncDatabase[Document], subscription_id: str, status: str | None, after: Cursor | None, limit: int
) -> list[Document]:
    """Up to `limit` of a subscription's deliveries (of one status, if given), newest first, from the cursor on."""
    query: Document = {"subscription_id": subscription_id}
    if status is not None:
        query["status"] = status
    return await page(db.deliveries, query, after, limit, DESCENDING)


async def add_deliveries(db: AsyncDatabase[Document], deliveries: Sequence[Document]) -> list[Document]:
    """Record each delivery unless it exists (a redelivered event adds nothing); return the new ones."""
    return await insert_new(db.deliveries, deliveries)


async def insert_new(collection: AsyncCollection[Document], docs: Sequence[Document]) -> list[Document]:
    """Insert the documents whose `_id` is not there yet; return those that were new.

    An unordered insert that tolerates duplicate keys: about five times faster on SecantusDB than
    upserts with `$setOnInsert`, and the same outcome.
    """
    if not docs:
        return []
    try:
        await collection.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        if not is_duplicate_key(exc):
            raise
        existing = {e["index"] for e in exc.details["writeErrors"]}
        return [d for i, d in enumerate(docs) if i not in existing]
    return list(docs)


async def requeue_failed(db: AsyncDatabase[Document], ids: Sequence[str], now: datetime) -> int:
    """Start a fresh retry cycle, due now, for those of `ids` that failed; return how many."""
    ops = [
        UpdateOne(
            {"_id": i, "status": "failed"},
            {"$set": {"status": "pending", "next_attempt_at": now, "cycle_attempts": 0, "lease": None}},
        )
        for i in ids
    ]
    if not ops:
        return 0
    return (await db.deliveries.bulk_write(ops, ordered=False)).modified_count


async def due_deliveries(
    db: AsyncDatabase[Document], subscription_id: str, now: datetime, limit: int
) -> list[Document]:
    """A subscription's pending deliveries whose time has come (none is leased), earliest first."""
    cursor = db.deliveries.find(
        {"subscription_id": subscription_id, "status": "pending", "next_attempt_at": {"$lte": now}}
    )
    return [d async for d in cursor.sort("next_attempt_at", 1).limit(limit)]


async def next_due_at(db: AsyncDatabase[Document], subscription_id: str, now: datetime) -> datetime | None:
    """When the subscription's next pending delivery falls due, if it has one."""
    cursor = db.deliveries.find(
        {"subscription_id": subscription_id, "status": "pending", "next_attempt_at": {"$gt": now}},
        {"next_attempt_at": 1},
    )
    async for doc in cursor.sort("next_attempt_at", 1).limit(1):
        at: datetime = doc["next_attempt_at"]
        return at
    return None


async def claim(db: AsyncDatabase[Document], deliveries: Sequence[Document], worker_id: str) -> list[Document]:
    """Lease due deliveries to `worker_id`; a delivery another worker took meanwhile is left out."""
    if not deliveries:
        return []
    ops = [
        UpdateOne(
            {"_id": d["_id"], "status": "pending", "next_attempt_at": d["next_attempt_at"]},
            {"$set": {"next_attempt_at": None, "lease": worker_id}},
        )
        for d in deliveries
    ]
    result = await db.deliveries.bulk_write(ops, ordered=False)
    if result.modified_count == len(ops):
        return [leased(d, worker_id) for d in deliveries]
    ours = {
        d["_id"]
        async for d in db.deliveries.find({"_id": {"$in": [d["_id"] for d in deliveries]}}, {"lease": 1})
        if d.get("lease") == worker_id
    }
    return [leased(d, worker_id) for d in deliveries if d["_id"] in ours]


# Leases released in one write at most.
RELEASE_BATCH = 200


async def release(
    db: AsyncDatabase[Document], worker_id: str, now: datetime, ids: Collection[str] | None = None
) -> int:
    """Make the worker's leased deliveries (or those of `ids`) due now for anyone; return how many."""
    query: Document = {"lease": worker_id, "status": "pending"}
    if ids is not None:
        query["_id"] = {"$in": list(ids)}
    released = 0
    # In bounded batches: one write over thousands of leases held the collection for seconds and collided with
    # every write to those deliveries meanwhile.
    while batch := [d["_id"] async for d in db.deliveries.find(query, {"_id": 1}).limit(RELEASE_BATCH)]:
        result = await db.deliveries.update_many(
            {**query, "_id": {"$in": batch}}, {"$set": {"lease": None, "next_attempt_at": now}}
        )
        released += result.modified_count
        if len(batch) < RELEASE_BATCH or not result.modified_count:
            break
    return released


async def heartbeat(db: AsyncDatabase[Document], worker_id: str, now: datetime, ttl_s: float) -> None:
    """Register the worker, or keep it alive, for `ttl_s` more seconds."""
    alive_until = now + timedelta(seconds=ttl_s)
    change = {"$set": {"alive_until": alive_until}, "$unset": {"gone": ""}}
    await db.workers.update_one({"_id": worker_id}, change, upsert=True)


# A worker found dead or retired is kept, marked gone, and swept again every `linger_s` this many times before it is
# forgotten: a write of it still on its way (a claim, its consumer's insert) may land seconds after its leases were
# handed back on a busy database. A heartbeat meanwhile revives it.
GONE_SWEEPS = 12


def _gone(now: datetime, linger_s: float, sweeps: int) -> Document:
    return {"$set": {"alive_until": now + timedelta(seconds=linger_s), "gone": sweeps}}


async def sweep_dead_workers(db: AsyncDatabase[Document], now: datetime, linger_s: float) -> int:
    """Release the leases of every worker whose heartbeat stopped (or that retired) and mark it gone; forget it after
    GONE_SWEEPS more sweeps; return how many were released."""
    released = 0
    async for worker in db.workers.find({"alive_until": {"$lt": now}}):
        unchanged = {"_id": worker["_id"], "alive_until": worker["alive_until"]}
        sweeps = int(worker.get("gone", 0))
        if sweeps >= GONE_SWEEPS:
            released += await release(db, worker["_id"], now)
            await db.workers.delete_one(unchanged)
        elif (await db.workers.update_one(unchanged, _gone(now, linger_s, sweeps + 1))).modified_count:
            # Only the sweeper that marked the worker releases its leases: every notify releasing the same
            # thousands of leases at once made their writes conflict with each other, and SecantusDB retried them
            # for minutes (three notifies on the full snapshot). One that stops in between leaves them to the next
            # sweep, a TTL later.
            released += await release(db, worker["_id"], now)
    return released


async def release_orphaned(db: AsyncDatabase[Document], now: datetime) -> int:
    """Release the leases held by workers no longer registered; return how many.

    A write of a worker (its claim, its consumer's insert) can land after the worker was swept for the last time
    and forgotten: seen with 401 deliveries on a SecantusDB that ran writes minutes late. Those leases belong to
    nobody. Scans the pending deliveries, so run it rarely.
    """
    holders = await db.deliveries.distinct("lease", {"status": "pending", "lease": {"$ne": None}})
    # Read after the holders: a worker that registers in between is known, or holds nothing yet.
    known = {w["_id"] async for w in db.workers.find({}, {"_id": 1})}
    released = 0
    for holder in set(holders) - known:
        released += await release(db, holder, now)
    return released


async def retire(db: AsyncDatabase[Document], worker_id: str, now: datetime, linger_s: float) -> int:
    """A worker that stops hands its leases back and is marked gone; return how many it released."""
    released = await release(db, worker_id, now)
    await db.workers.update_one({"_id": worker_id}, _gone(now, linger_s, 1))
    return released


@dataclass(frozen=True)
class Outcome:
    """One finished attempt, to be recorded on its delivery if the lease is still the worker's."""

    delivery_id: str
    subscription_id: str
    worker_id: str
    attempt: Document
    status: str
    next_attempt_at: datetime | None


def attempted(delivery: Document, outcome: Outcome) -> Document:
    """A delivery not yet written, as `record_attempts` would leave it after its first attempt."""
    return {
        **delivery,
        "attempts": [*delivery["attempts"], outcome.attempt],
        "attempt_count": delivery["attempt_count"] + 1,
        "cycle_attempts": delivery["cycle_attempts"] + 1,
        "status": outcome.status,
        "next_attempt_at": outcome.next_attempt_at,
        "lease": None,
    }


async def record_attempts(db: AsyncDatabase[Document], outcomes: Sequence[Outcome]) -> None:
    """Append each attempt and set the delivery's status; an attempt whose lease was lost changes nothing."""
    ops = [
        UpdateOne(
            {"_id": o.delivery_id, "lease": o.worker_id},
            {
                "$push": {"attempts": o.attempt},
                "$inc": {"attempt_count": 1, "cycle_attempts": 1},
                "$set": {"status": o.status, "next_attempt_at": o.next_attempt_at, "lease": None},
            },
        )
        for o in outcomes
    ]
    if ops:
        await db.deliveries.bulk_write(ops, ordered=False)


async def mark_failing(db: AsyncDatabase[Document], subscription_id: str, since: datetime | None) -> None:
    """Note when the subscription's run of failures began, or clear it after a success."""
    change = {"$set": {"failing_since": since}} if since else {"$unset": {"failing_since": ""}}
    await db.subscriptions.update_one({"_id": subscription_id}, change)


async def disable(db: AsyncDatabase[Document], subscription_id: str, reason: str, now: datetime) -> None:
    """Disable a subscription with the reason; its pending deliveries fail (a replay can bring them back)."""
    await db.subscriptions.update_one(
        {"_id": subscription_id}, {"$set": {"enabled": False, "disabled_reason": reason, "disabled_at": now}}
    )
    await db.deliveries.update_many(
        {"subscription_id": subscription_id, "status": "pending"},
        {"$set": {"status": "failed", "next_attempt_at": None}},
    )


async def enable(db: AsyncDatabase[Document], subscription_id: str) -> None:
    """Enable a subscription again, forgetting why it was disabled and since when it failed."""
    await db.subscriptions.update_one(
        {"_id": subscription_id},
        {"$set": {"enabled": True}, "$unset": {"disabled_reason": "", "disabled_at": "", "failing_since": ""}},
    )


async def delete_subscription(db: AsyncDatabase[Document], subscription_id: str) -> bool:
    """Delete a subscription and its deliveries; False if there was none."""
    if (await db.subscriptions.delete_one({"_id": subscription_id})).deleted_count == 0:
        return False
    await db.deliveries.delete_many({"subscription_id": subscription_id})
    return True


async def retry_now(db: AsyncDatabase[Document], delivery: Document, now: datetime) -> bool:
    """Make a delivery due now, with a fresh retry cycle if it had finished; False if it changed meanwhile."""
    change: Document = {"next_attempt_at": now, "status": "pending", "lease": None}
    if delivery["status"] != "pending":
        change["cycle_attempts"] = 0
    result = await db.deliveries.update_one(
        {"_id": delivery["_id"], "status": delivery["status"], "next_attempt_at": delivery["next_attempt_at"]},
        {"$set": change},
    )
    return result.modified_count == 1


async def pending_stats(db: AsyncDatabase[Document]) -> tuple[int, datetime | None]:
    """How many deliveries are pending and when the oldest of them was created."""
    count = await db.deliveries.count_documents({"status": "pending"})
    oldest = None
    if count:
        async for doc in db.deliveries.find({"status": "pending"}, {"created_at": 1}).sort("created_at", 1).limit(1):
            oldest = doc["created_at"]
    return count, oldest

"""The registry's MongoDB store: applied events (the audit trail) and the projections built from them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from treatywatch.common.events import (
    ActionRecorded,
    Event,
    MeetingRecorded,
    ReportSubmitted,
    ResolutionAdopted,
    TreatyRegistered,
)
from treatywatch.common.mongo import Document
from treatywatch.common.participants import participant_name, resolve_participant
from treatywatch.registry.domain import ActionRecord

INDEXES: dict[str, list[IndexModel]] = {
    "events": [IndexModel([("seq", ASCENDING)], unique=True)],
    "participations": [
        IndexModel([("treaty_id", ASCENDING), ("participant", ASCENDING)]),
        IndexModel([("participant", ASCENDING)]),
    ],
    "resolutions": [
        IndexModel([("session", ASCENDING)]),
        IndexModel([("treaty.treaty_id", ASCENDING)]),
        IndexModel([("recalls.symbol", ASCENDING)]),
    ],
    "meetings": [IndexModel([("treaty_id", ASCENDING), ("kind", ASCENDING), ("ordinal", ASCENDING)])],
    "reports": [IndexModel([("treaty_id", ASCENDING), ("participant", ASCENDING)])],
    "dead_letters": [IndexModel([("received_at", ASCENDING)])],
}


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Every query path has an index; created at start-up (idempotent)."""
    for name, models in INDEXES.items():
        await db[name].create_indexes(models)


def _day(d: date | None) -> str | None:
    return d.isoformat() if d else None


def participant_key(treaty_id: str, participant: str) -> str:
    return f"{treaty_id}|{participant}"


def action_doc(event: Event, data: ActionRecorded) -> Document:
    """How an action is kept inside its participation: enough to re-derive status, and the source event."""
    return {
        "event_id": event.id,
        "action": data.action,
        "date": data.date.isoformat(),
        "effective_date": _day(data.effective_date),
        "notification": data.notification,
        "corrects": data.corrects,
        "text": data.text,
        "recorded_at": event.time,
    }


def action_record(doc: Document) -> ActionRecord:
    """The domain's view of a stored action."""
    return ActionRecord(
        event_id=doc["event_id"],
        action=doc["action"],
        date=date.fromisoformat(doc["date"]),
        effective_date=date.fromisoformat(doc["effective_date"]) if doc.get("effective_date") else None,
        notification=doc.get("notification"),
        corrects=doc.get("corrects"),
        text=doc.get("text"),
    )


def projection_ops(event: Event) -> list[tuple[str, UpdateOne]]:
    """The idempotent upserts that apply one event to the projections, as (collection, operation)."""
    data = event.data
    if isinstance(data, TreatyRegistered):
        doc = data.model_dump(mode="json", exclude_none=True)
        doc["registered_by"] = event.id
        return [("treaties", UpdateOne({"_id": data.treaty_id}, {"$set": doc}, upsert=True))]
    if isinstance(data, ActionRecorded):
        resolved = resolve_participant(data.participant)
        code = resolved.code or resolved.name
        name = data.participant_name or (participant_name(code) if resolved.code else None) or resolved.name
        return [
            (
                "participations",
                UpdateOne(
                    {"_id": participant_key(data.treaty_id, code)},
                    {
                        "$set": {"treaty_id": data.treaty_id, "participant": code, "name": name},
                        "$push": {"actions": action_doc(event, data)},
                    },
                    upsert=True,
                ),
            )
        ]
    if isinstance(data, ResolutionAdopted):
        doc = data.model_dump(mode="json", exclude_none=True)
        doc["event_id"] = event.id
        return [("resolutions", UpdateOne({"_id": data.symbol}, {"$set": doc}, upsert=True))]
    if isinstance(data, MeetingRecorded):
        key = f"{data.treaty_id}|{data.kind}|{data.ordinal}"
        doc = data.model_dump(mode="json", exclude_none=True)
        return [("meetings", UpdateOne({"_id": key}, {"$set": doc}, upsert=True))]
    if isinstance(data, ReportSubmitted):
        resolved = resolve_participant(data.participant)
        code = resolved.code or resolved.name
        key = f"{data.treaty_id}|{code}|{data.kind}|{data.period}"
        doc = {**data.model_dump(mode="json"), "participant": code}
        return [("reports", UpdateOne({"_id": key}, {"$set": doc}, upsert=True))]
    raise TypeError(f"no projection for {type(data).__name__}")


async def apply_events(
    db: AsyncDatabase[Document], session: AsyncClientSession, events: Sequence[Event]
) -> list[Event]:
    """Apply the events not applied before, atomically inside the caller's transaction; return those applied."""
    ids = list(dict.fromkeys(e.id for e in events))
    seen = {d["_id"] async for d in db.events.find({"_id": {"$in": ids}}, {"_id": 1}, session=session)}
    fresh: list[Event] = []
    for event in events:
        if event.id not in seen:
            seen.add(event.id)
            fresh.append(event)
    if not fresh:
        return []
    await db.counters.update_one({"_id": "events"}, {"$inc": {"seq": len(fresh)}}, upsert=True, session=session)
    counter = await db.counters.find_one({"_id": "events"}, session=session)
    assert counter is not None
    first = counter["seq"] - len(fresh) + 1
    now = datetime.now(UTC)
    await db.events.insert_many(
        [
            {
                "_id": e.id,
                "seq": first + i,
                "type": e.type,
                "applied_at": now,
                "event": e.model_dump(mode="json", exclude_none=True),
            }
            for i, e in enumerate(fresh)
        ],
        ordered=True,
        session=session,
    )
    by_collection: dict[str, list[UpdateOne]] = {}
    for event in fresh:
        for collection, op in projection_ops(event):
            by_collection.setdefault(collection, []).append(op)
    for collection, ops in by_collection.items():
        await db[collection].bulk_write(ops, ordered=True, session=session)
    return fresh


async def record_dead_letter(db: AsyncDatabase[Document], doc: Document) -> None:
    """Keep an undecodable message with its reason and original bytes (idempotent on its offset)."""
    await db.dead_letters.update_one({"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True)


async def participations(db: AsyncDatabase[Document], treaty_id: str) -> list[Document]:
    return [d async for d in db.participations.find({"treaty_id": treaty_id})]


async def treaty(db: AsyncDatabase[Document], treaty_id: str) -> Document | None:
    return await db.treaties.find_one({"_id": treaty_id})


def to_records(docs: Sequence[Document]) -> dict[str, list[ActionRecord]]:
    """Participations as the domain wants them: participant -> its action records."""
    return {d["participant"]: [action_record(a) for a in d.get("actions", [])] for d in docs}


def public(doc: Document) -> dict[str, Any]:
    """A stored document without MongoDB's internals."""
    return {k: v for k, v in doc.items() if k != "_id"}

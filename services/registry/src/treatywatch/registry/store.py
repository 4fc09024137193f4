"""The registry's MongoDB store: applied events (the audit trail) and the projections built from them.

A treaty action is kept in its event's own record, with the treaty and the participant's key beside it, and a
treaty's actions are read from there: applying one is an insert and nothing else. A treaty's document holds its
registration and the entry into force a depositary notification states (`stated_entry_into_force`): one that holds
only the latter is not registered.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from typing import assert_never

import bson
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.asynchronous.database import AsyncDatabase

from treatywatch.common.events import (
    ActionRecorded,
    ActionRecordedEvent,
    Event,
    MeetingRecordedEvent,
    ReportSubmittedEvent,
    ResolutionAdoptedEvent,
    TreatyEnteredIntoForce,
    TreatyEnteredIntoForceEvent,
    TreatyRegistered,
    TreatyRegisteredEvent,
)
from treatywatch.common.mongo import Document
from treatywatch.common.participants import clean_name, participant_code, participant_name, resolve_participant
from treatywatch.common.rules import TreatyRules
from treatywatch.common.symbols import normalize_resolution_symbol
from treatywatch.registry.domain import ActionRecord, RuleInWords, StatedEntry, Submitted, TreatyRecord, rules_in_words

_CODE = re.compile(r"[A-Z]{2,3}")
# BSON's integers are 64-bit: a larger one in a query fails in the driver, before the server is asked.
INT64_MAX = 2**63 - 1
# MongoDB's limit on one document, less room for what is added on applying (`seq`, `applied_at`).
MAX_RECORD_BYTES = 16 * 1024 * 1024 - 1024

INDEXES: dict[str, list[IndexModel]] = {
    "events": [
        IndexModel([("seq", ASCENDING)], unique=True),
        IndexModel([("treaty_id", ASCENDING), ("participant", ASCENDING)]),
        IndexModel([("participant", ASCENDING), ("treaty_id", ASCENDING)]),
    ],
    "resolutions": [
        IndexModel([("session", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("treaty.treaty_id", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("cites", ASCENDING), ("_id", ASCENDING)]),
    ],
    "meetings": [IndexModel([("treaty_id", ASCENDING), ("start", ASCENDING)])],
    "reports": [IndexModel([("treaty_id", ASCENDING), ("participant", ASCENDING)])],
    "dead_letters": [IndexModel([("received_at", ASCENDING)])],
}


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    """Every query path has an index; created at start-up (idempotent)."""
    for name, models in INDEXES.items():
        await db[name].create_indexes(models)


def _day(d: date | None) -> str | None:
    return d.isoformat() if d else None


def resolution_symbol(symbol: str) -> str:
    """The canonical symbol a resolution is stored and cited under; other bodies' symbols stay as given."""
    try:
        return normalize_resolution_symbol(symbol)
    except ValueError:
        return symbol.strip()


def action_doc(event: Event, data: ActionRecorded) -> Document:
    """How an action is kept in its event's record: enough to re-derive status, and the source event."""
    resolved = resolve_participant(data.participant)
    given_as_code = resolved.code is not None and _CODE.fullmatch(clean_name(data.participant)) is not None
    return {
        "event_id": event.id,
        "action": data.action,
        "date": data.date.isoformat(),
        "effective_date": _day(data.effective_date),
        "notification": data.notification,
        "corrects": data.corrects,
        "text": data.text,
        # The name as this event spells it; a bare code gives none.
        "participant_name": data.participant_name or (None if given_as_code else resolved.name),
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
        participant_name=doc.get("participant_name"),
    )


def event_record(event: Event) -> Document:
    """The audit trail's record of an event, less its `seq` and `applied_at`; an action's record also holds the
    treaty, the participant's key and the action as the registry reads it."""
    record: Document = {"_id": event.id, "type": event.type, "event": event.model_dump(mode="json", exclude_none=True)}
    if isinstance(event, ActionRecordedEvent):
        record["treaty_id"] = event.data.treaty_id
        record["participant"] = participant_code(event.data.participant)
        record["action"] = action_doc(event, event.data)
    return record


def _upsert(collection: str, key: str, doc: Document) -> list[tuple[str, UpdateOne]]:
    return [(collection, UpdateOne({"_id": key}, {"$set": doc}, upsert=True))]


def _resolution_doc(event: ResolutionAdoptedEvent) -> Document:
    """A resolution as stored: its symbol and those it recalls canonical, and `cites` listing them once each."""
    doc = event.data.model_dump(mode="json", exclude_none=True)
    doc["symbol"] = resolution_symbol(event.data.symbol)
    for recall in doc.get("recalls", []):
        recall["symbol"] = resolution_symbol(recall["symbol"])
    doc["cites"] = list(dict.fromkeys(r["symbol"] for r in doc.get("recalls", [])))
    doc["event_id"] = event.id
    return doc


def projection_ops(event: Event) -> list[tuple[str, UpdateOne]]:
    """The idempotent upserts that apply one event to the projections, as (collection, operation).

    An action has none: its event's record is where it is kept.
    """
    match event:
        case TreatyRegisteredEvent(data=data):
            doc = data.model_dump(mode="json", exclude_none=True) | {"registered_by": event.id}
            return _upsert("treaties", data.treaty_id, doc)
        case ActionRecordedEvent():
            return []
        case ResolutionAdoptedEvent():
            doc = _resolution_doc(event)
            return _upsert("resolutions", doc["symbol"], doc)
        case MeetingRecordedEvent(data=data):
            doc = data.model_dump(mode="json", exclude_none=True) | {"event_id": event.id}
            return _upsert("meetings", f"{data.treaty_id}|{data.kind}|{data.ordinal}", doc)
        case ReportSubmittedEvent(data=data):
            code = participant_code(data.participant)
            doc = data.model_dump(mode="json") | {"participant": code, "event_id": event.id}
            return _upsert("reports", f"{data.treaty_id}|{code}|{data.kind}|{data.period}", doc)
        case TreatyEnteredIntoForceEvent(data=data):
            stated = data.model_dump(mode="json", exclude_none=True, exclude={"treaty_id"}) | {"event_id": event.id}
            return _upsert("treaties", data.treaty_id, {"stated_entry_into_force": stated})
        case _:
            assert_never(event)


class Unstorable(ValueError):
    """An event that decodes but that the registry cannot store: applying it again cannot succeed either."""


@dataclass(frozen=True)
class Prepared:
    """An event with the documents that apply it, built and checked before anything is written."""

    event: Event
    record: Document
    projections: list[tuple[str, UpdateOne]]


def prepare(event: Event) -> Prepared:
    """The event's record and projections; raises Unstorable when no projection takes it or BSON cannot hold it."""
    try:
        record = event_record(event)
        projections = projection_ops(event)
        size = len(bson.encode(record))
    except Exception as exc:
        # Nothing above does I/O: what fails here for this event fails on every retry (e.g. an integer over 64 bits).
        raise Unstorable(f"the registry cannot store the event: {type(exc).__name__}: {exc}") from exc
    if size > MAX_RECORD_BYTES:
        raise Unstorable(f"the event takes {size} bytes as BSON, over MongoDB's limit of one document")
    return Prepared(event, record, projections)


def revision_ops(events: Sequence[Event]) -> list[UpdateOne]:
    """Move the revision of every treaty whose record the events change, so cached views reload."""
    changed = Counter(
        e.data.treaty_id
        for e in events
        if isinstance(e.data, ActionRecorded | TreatyRegistered | TreatyEnteredIntoForce)
    )
    return [UpdateOne({"_id": t}, {"$inc": {"revision": n}}, upsert=True) for t, n in sorted(changed.items())]


async def apply_events(
    db: AsyncDatabase[Document], session: AsyncClientSession, events: Sequence[Prepared], *, look_first: bool = True
) -> list[Event]:
    """Apply the events not applied before, atomically inside the caller's transaction; return those applied.

    With `look_first=False` the batch is taken to be new and an event applied before fails the insert
    (DuplicateKeyError): one round trip fewer for the usual batch; the caller then retries with a look.
    """
    seen: set[str] = set()
    if look_first:
        ids = list(dict.fromkeys(p.event.id for p in events))
        seen = {d["_id"] async for d in db.events.find({"_id": {"$in": ids}}, {"_id": 1}, session=session)}
    fresh: list[Prepared] = []
    for prepared in events:
        if prepared.event.id not in seen:
            seen.add(prepared.event.id)
            fresh.append(prepared)
    if not fresh:
        return []
    # One document: the collection scan SecantusDB does for find_one_and_* costs nothing here.
    counter = await db.counters.find_one_and_update(
        {"_id": "events"},
        {"$inc": {"seq": len(fresh)}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    assert counter is not None
    first = counter["seq"] - len(fresh) + 1
    now = datetime.now(UTC)
    records = [p.record | {"seq": first + i, "applied_at": now} for i, p in enumerate(fresh)]
    await db.events.insert_many(records, ordered=True, session=session)
    by_collection: dict[str, list[UpdateOne]] = {}
    for prepared in fresh:
        for collection, op in prepared.projections:
            by_collection.setdefault(collection, []).append(op)
    by_collection["revisions"] = revision_ops([p.event for p in fresh])
    for collection, ops in by_collection.items():
        if ops:
            await db[collection].bulk_write(ops, ordered=True, session=session)
    return [p.event for p in fresh]


async def kill_abandoned_sessions(client: AsyncMongoClient[Document], db: AsyncDatabase[Document]) -> None:
    """Abort the transactions that earlier registry processes left open, by killing the sessions they recorded.

    A process killed mid-transaction leaves its writes held until the server reaps the transaction (60 s on
    MongoDB), and the restarted consumer, re-applying the same batch, would wait on them that long. A
    replica still running has its transaction aborted too, and retries it.
    """
    docs = [d async for d in db.sessions.find({})]
    if docs:
        await client.admin.command("killSessions", [d["lsid"] for d in docs])
        await db.sessions.delete_many({"_id": {"$in": [d["_id"] for d in docs]}})


async def record_session(db: AsyncDatabase[Document], session: AsyncClientSession) -> None:
    """Note the session this process applies events in, so that its successor can kill it."""
    await db.sessions.insert_one({"_id": str(uuid.uuid4()), "lsid": session.session_id, "at": datetime.now(UTC)})


async def record_dead_letter(db: AsyncDatabase[Document], doc: Document) -> None:
    """Keep a message that was dead-lettered with its reason and original bytes (idempotent on its offset)."""
    await db.dead_letters.update_one({"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True)


# Reads. Each query is built by one `*_query` function, so the tests can `explain()` exactly what the API runs;
# the functions beside them run it.


# SecantusDB plans a sort or range on `_id` alone as a collection scan unless told to use its index.
_BY_ID = [("_id", ASCENDING)]


# A registration always has a title; a treaty's document without one holds only a stated entry into force.
_REGISTERED: Document = {"title": {"$exists": True}}


def registered(doc: Document | None) -> Document | None:
    """The treaty's registration: its document if a `treaty.registered` made it, else None."""
    return doc if doc is not None and "title" in doc else None


def treaties_query(db: AsyncDatabase[Document], after: str | None = None, limit: int = 0) -> AsyncCursor[Document]:
    """Registered treaties in id order, after the id `after`; at most `limit` (0: all)."""
    query = _REGISTERED | ({"_id": {"$gt": after}} if after is not None else {})
    return db.treaties.find(query).sort(_BY_ID).hint(_BY_ID).limit(limit)


async def treaties(db: AsyncDatabase[Document], after: str | None = None, limit: int = 0) -> list[Document]:
    """The registered treaties in id order after `after` (every one by default), at most `limit` (0: no limit)."""
    return await treaties_query(db, after, limit).to_list()


def actions_query(db: AsyncDatabase[Document], treaty_id: str) -> AsyncCursor[Document]:
    """The records of a treaty's actions (only actions' records carry a `treaty_id`)."""
    return db.events.find({"treaty_id": treaty_id}, {"seq": 1, "participant": 1, "action": 1})


# What an entry of a feed shows of an action's record.
_FEED_FIELDS = {"seq": 1, "applied_at": 1, "treaty_id": 1, "participant": 1, "action": 1}
# The feeds read the index of their key and sort what it gives: the index of `seq` alone would scan every event of
# every treaty for a rare one. Two more indexes would cost every action applied more than these cold reads save.
_BY_TREATY = [("treaty_id", ASCENDING), ("participant", ASCENDING)]
_BY_PARTICIPANT = [("participant", ASCENDING), ("treaty_id", ASCENDING)]


def treaty_feed_query(db: AsyncDatabase[Document], treaty_id: str, limit: int) -> AsyncCursor[Document]:
    """The records of a treaty's actions applied last, newest first."""
    return db.events.find({"treaty_id": treaty_id}, _FEED_FIELDS).sort("seq", DESCENDING).hint(_BY_TREATY).limit(limit)


def participant_feed_query(db: AsyncDatabase[Document], participant: str, limit: int) -> AsyncCursor[Document]:
    """The records of a participant's actions (in any treaty) applied last, newest first."""
    query = db.events.find({"participant": participant}, _FEED_FIELDS).sort("seq", DESCENDING)
    return query.hint(_BY_PARTICIPANT).limit(limit)


async def latest_actions(
    db: AsyncDatabase[Document], *, treaty_id: str | None = None, participant: str | None = None, limit: int
) -> list[Document]:
    """The records of the actions applied last, newest first: of a treaty, or else of a participant."""
    if treaty_id is not None:
        return await treaty_feed_query(db, treaty_id, limit).to_list()
    assert participant is not None
    return await participant_feed_query(db, participant, limit).to_list()


def treaties_of_query(db: AsyncDatabase[Document], participant: str) -> AsyncCursor[Document]:
    """The treaty of each action of a participant, in treaty order."""
    return db.events.find({"participant": participant}, {"treaty_id": 1}).sort("treaty_id", ASCENDING)


async def treaties_of(db: AsyncDatabase[Document], participant: str) -> list[str]:
    """The treaties a participant has acted on, in order."""
    return list(dict.fromkeys([d["treaty_id"] async for d in treaties_of_query(db, participant)]))


def revisions_query(db: AsyncDatabase[Document], treaty_ids: Sequence[str]) -> AsyncCursor[Document]:
    return db.revisions.find({"_id": {"$in": list(treaty_ids)}})


def resolutions_query(
    db: AsyncDatabase[Document],
    *,
    session: int | None = None,
    treaty_id: str | None = None,
    recalls: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> AsyncCursor[Document]:
    """Resolutions in symbol order, filtered; `after` is the last symbol of the previous page."""
    query: Document = {}
    if session is not None:
        query["session"] = session
    if treaty_id is not None:
        query["treaty.treaty_id"] = treaty_id
    if recalls is not None:
        query["cites"] = recalls
    if after is not None:
        query["_id"] = {"$gt": after}
    cursor = db.resolutions.find(query).sort(_BY_ID).limit(limit)
    return cursor.hint(_BY_ID) if set(query) <= {"_id"} else cursor


async def resolutions(
    db: AsyncDatabase[Document],
    *,
    session: int | None = None,
    treaty_id: str | None = None,
    recalls: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> list[Document]:
    """A page of `resolutions_query`."""
    query = resolutions_query(db, session=session, treaty_id=treaty_id, recalls=recalls, after=after, limit=limit)
    return await query.to_list()


async def resolution(db: AsyncDatabase[Document], symbol: str) -> Document | None:
    """The resolution stored under its canonical symbol."""
    return await db.resolutions.find_one({"_id": symbol})


def resolutions_by_symbol_query(db: AsyncDatabase[Document], symbols: Sequence[str]) -> AsyncCursor[Document]:
    return db.resolutions.find({"_id": {"$in": list(symbols)}})


async def resolutions_by_symbol(db: AsyncDatabase[Document], symbols: Sequence[str]) -> dict[str, Document]:
    """The resolutions stored among `symbols`, by symbol."""
    if not symbols:
        return {}
    return {d["_id"]: d async for d in resolutions_by_symbol_query(db, symbols)}


def recalled_by_query(db: AsyncDatabase[Document], symbol: str) -> AsyncCursor[Document]:
    return db.resolutions.find({"cites": symbol}, {"_id": 1}).sort("_id", ASCENDING)


async def recalled_by(db: AsyncDatabase[Document], symbol: str) -> list[str]:
    """The symbols of the resolutions that recall `symbol`, in order."""
    return [d["_id"] async for d in recalled_by_query(db, symbol)]


def resolution_titles_query(db: AsyncDatabase[Document]) -> AsyncCursor[Document]:
    return db.resolutions.find({}, {"title": 1, "adopted_on": 1}).sort(_BY_ID).hint(_BY_ID)


async def resolution_titles(db: AsyncDatabase[Document]) -> list[Document]:
    """Every resolution's symbol (`_id`), title and adoption date, in symbol order."""
    return await resolution_titles_query(db).to_list()


def meetings_query(db: AsyncDatabase[Document], treaty_id: str) -> AsyncCursor[Document]:
    return db.meetings.find({"treaty_id": treaty_id}).sort("start", ASCENDING)


async def meetings(db: AsyncDatabase[Document], treaty_id: str) -> list[Document]:
    """A treaty's meetings, by start date."""
    return await meetings_query(db, treaty_id).to_list()


def reports_query(db: AsyncDatabase[Document], treaty_id: str) -> AsyncCursor[Document]:
    return db.reports.find({"treaty_id": treaty_id})


def participant_reports_query(db: AsyncDatabase[Document], treaty_id: str, participant: str) -> AsyncCursor[Document]:
    return db.reports.find({"treaty_id": treaty_id, "participant": participant})


def _submitted(doc: Document) -> Submitted:
    return doc["kind"], doc["period"], date.fromisoformat(doc["submitted_on"])


async def reports(db: AsyncDatabase[Document], treaty_id: str) -> dict[str, list[Submitted]]:
    """The reports submitted under a treaty, by participant key."""
    by_participant: dict[str, list[Submitted]] = {}
    async for doc in reports_query(db, treaty_id):
        by_participant.setdefault(doc["participant"], []).append(_submitted(doc))
    return by_participant


async def participant_reports(db: AsyncDatabase[Document], treaty_id: str, participant: str) -> list[Submitted]:
    """The reports one participant submitted under a treaty."""
    return [_submitted(d) async for d in participant_reports_query(db, treaty_id, participant)]


async def report_kinds(db: AsyncDatabase[Document], treaty_id: str) -> list[str]:
    """The kinds of report recorded for a treaty by any participant, as the events spell them.

    A distinct over the (treaty_id, participant) index rather than a find of the one kind wanted: the rule
    matches kinds trimmed and case-blind, and SecantusDB plans a filter on `treaty_id` and `kind` as a
    collection scan.
    """
    kinds: list[str] = await db.reports.distinct("kind", {"treaty_id": treaty_id})
    return kinds


async def participant_keys(db: AsyncDatabase[Document]) -> list[str]:
    """Every participant key (ISO code, or UN name without one) that has acted on some treaty."""
    keys: list[str | None] = await db.events.distinct("participant")
    return [k for k in keys if k]


def events_query(db: AsyncDatabase[Document], after: int, limit: int) -> AsyncCursor[Document]:
    return db.events.find({"seq": {"$gt": after}}).sort("seq", ASCENDING).limit(limit)


async def events(db: AsyncDatabase[Document], after: int, limit: int) -> list[Document]:
    """The records of the events applied after `seq` number `after`, in order."""
    return await events_query(db, after, limit).to_list()


def latest_events_query(db: AsyncDatabase[Document], limit: int) -> AsyncCursor[Document]:
    return db.events.find({}).sort("seq", DESCENDING).limit(limit)


async def latest_events(db: AsyncDatabase[Document], limit: int) -> list[Document]:
    """The records of the events applied last, newest first."""
    return await latest_events_query(db, limit).to_list()


def dead_letters_query(db: AsyncDatabase[Document], limit: int) -> AsyncCursor[Document]:
    return db.dead_letters.find({}).sort("received_at", DESCENDING).limit(limit)


async def dead_letters(db: AsyncDatabase[Document], limit: int) -> list[Document]:
    """The dead letters received last, newest first."""
    return await dead_letters_query(db, limit).to_list()


def to_records(docs: Sequence[Document]) -> dict[str, list[ActionRecord]]:
    """A treaty's action records (`actions_query`) as the domain wants them: participant -> its actions, as applied."""
    records: dict[str, list[ActionRecord]] = {}
    for doc in sorted(docs, key=lambda d: d["seq"]):
        records.setdefault(doc["participant"], []).append(action_record(doc["action"]))
    return records


def rules_of(treaty: Document | None) -> TreatyRules | None:
    """The rules a `treaty.registered` carried; None when unregistered or without rules."""
    if treaty is None or not treaty.get("rules"):
        return None
    return TreatyRules.model_validate(treaty["rules"])


def stated_entry(doc: Document | None) -> StatedEntry | None:
    """The entry into force a notification stated, as a treaty's document keeps it."""
    stated = (doc or {}).get("stated_entry_into_force")
    if not stated:
        return None
    return StatedEntry(date.fromisoformat(stated["date"]), stated.get("notification"), stated.get("article"))


@dataclass(frozen=True)
class TreatyView:
    """A treaty's registration (None if unregistered) and prepared record as of one revision."""

    treaty_id: str
    revision: int
    treaty: Document | None
    record: TreatyRecord

    def name(self, participant: str) -> str:
        """The participant's name as the events spell it, else in UN usage, else its key."""
        return self.record.names.get(participant) or participant_name(participant) or participant

    @cached_property
    def by_name(self) -> list[tuple[str, str]]:
        """Every participant as (name, key), in that order: the order answers list them in."""
        return sorted((self.name(key), key) for key in self.record.currents)

    @cached_property
    def rules_explained(self) -> list[RuleInWords]:
        """The treaty's known rules in words, written once per view."""
        return rules_in_words(self.record.rules)


class TreatyViews:
    """Prepared treaty records kept in this process, each reloaded once its revision in MongoDB moves.

    The revision moves in the same transaction as the events that change the treaty, so a view is never
    older than what the request could read. Requests arriving together share one revision lookup, each
    issued after they arrived, so under load a read costs a fraction of one indexed query.
    """

    def __init__(self, db: AsyncDatabase[Document], capacity: int = 1024) -> None:
        self._db, self._capacity = db, capacity
        self._views: OrderedDict[str, TreatyView] = OrderedDict()
        self._loading: dict[tuple[str, int], asyncio.Task[TreatyView | None]] = {}
        self._wanted: set[str] = set()
        self._lookup: asyncio.Future[dict[str, int]] | None = None
        self._reading: set[asyncio.Task[None]] = set()

    async def get(self, treaty_id: str) -> TreatyView | None:
        """The treaty's view; None when it is neither registered nor acted on."""
        revisions = await self._revisions((treaty_id,))
        return await self._view(treaty_id, revisions.get(treaty_id, 0))

    async def many(self, treaty_ids: Sequence[str]) -> list[TreatyView | None]:
        """Views of several treaties."""
        revisions = await self._revisions(treaty_ids)
        return [await self._view(t, revisions.get(t, 0)) for t in treaty_ids]

    async def _revisions(self, treaty_ids: Sequence[str]) -> dict[str, int]:
        if self._lookup is None:
            self._lookup = asyncio.get_running_loop().create_future()
            self._wanted = set()
            asyncio.get_running_loop().call_soon(self._read_revisions)
        self._wanted.update(treaty_ids)
        return await asyncio.shield(self._lookup)

    def _read_revisions(self) -> None:
        lookup, wanted = self._lookup, sorted(self._wanted)
        # Later requests start the next lookup: this one's query may already be on its way.
        self._lookup = None
        assert lookup is not None

        async def read() -> None:
            try:
                lookup.set_result({d["_id"]: d["revision"] async for d in revisions_query(self._db, wanted)})
            except Exception as exc:
                lookup.set_exception(exc)

        task = asyncio.ensure_future(read())
        self._reading.add(task)
        task.add_done_callback(self._reading.discard)

    async def _view(self, treaty_id: str, revision: int) -> TreatyView | None:
        view = self._views.get(treaty_id)
        if view is not None and view.revision == revision:
            self._views.move_to_end(treaty_id)
            return view
        key = (treaty_id, revision)
        task = self._loading.get(key)
        if task is None:
            # Concurrent requests for the same revision share one load.
            task = asyncio.ensure_future(self._load(treaty_id, revision))
            self._loading[key] = task
            task.add_done_callback(lambda _: self._loading.pop(key, None))
        return await asyncio.shield(task)

    async def _load(self, treaty_id: str, revision: int) -> TreatyView | None:
        doc = await self._db.treaties.find_one({"_id": treaty_id})
        docs = [d async for d in actions_query(self._db, treaty_id)]
        if doc is None and not docs:
            return None
        treaty = registered(doc)
        record = TreatyRecord(to_records(docs), rules_of(treaty), stated_entry(doc))
        view = TreatyView(treaty_id, revision, treaty, record)
        current = self._views.get(treaty_id)
        if current is None or current.revision <= revision:
            self._views[treaty_id] = view
            self._views.move_to_end(treaty_id)
            while len(self._views) > self._capacity:
                self._views.popitem(last=False)
        return view

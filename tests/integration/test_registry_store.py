"""The registry's store and Kafka handler against the real MongoDB (and broker) the session starts."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal, cast

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from tests.integration.conftest import fresh_database
from treatywatch.cli.stack import Stack
from treatywatch.common.events import Envelope, Event, event_from_dict, to_json
from treatywatch.common.kafka import Publisher, ensure_topics
from treatywatch.common.mongo import Document, is_duplicate_key
from treatywatch.common.settings import Settings
from treatywatch.registry import store
from treatywatch.registry.consumer import Applier
from treatywatch.registry.domain import ActionRecord

WAIT_S = 30.0
COLLECTIONS = ("events", "counters", "revisions", "treaties", "resolutions", "meetings", "reports")


@pytest.fixture
async def db(client: AsyncMongoClient[Document]) -> AsyncIterator[AsyncDatabase[Document]]:
    async with fresh_database(client, store.create_indexes) as database:
        yield database


def event(event_type: str, data: dict[str, Any], event_id: str | None = None) -> Event:
    return event_from_dict(
        {
            "id": event_id or f"evt-{uuid.uuid4().hex}",
            "type": event_type,
            "source": "/tests/integration",
            "time": "2024-05-01T12:00:00Z",
            "data": data,
        }
    )


def batch() -> list[Event]:
    return [
        event("treaty.registered", {"treaty_id": "XXVI-5", "title": "Mine Ban Convention", "short_title": "APMBC"}),
        event(
            "treaty.action.recorded",
            {"treaty_id": "XXVI-5", "participant": "NOR", "action": "signature", "date": "1997-12-03"},
        ),
        event(
            "treaty.action.recorded",
            {"treaty_id": "XXVI-5", "participant": "NOR", "action": "ratification", "date": "1998-07-09"},
        ),
        event(
            "treaty.action.recorded",
            {
                "treaty_id": "XXVI-5",
                "participant": "Bolivia (Plurinational State of)",
                "action": "ratification",
                "date": "1998-09-09",
            },
        ),
        event(
            "resolution.adopted",
            {
                "symbol": "A/RES/64/56",
                "session": 64,
                "title": "Implementation of the Convention",
                "adopted_on": "2009-12-02",
                "treaty": {"treaty_id": "XXVI-5"},
                "recalls": [{"symbol": "A/RES/63/42"}],
            },
        ),
    ]


async def apply(
    client: AsyncMongoClient[Document], db: AsyncDatabase[Document], events: Sequence[Event]
) -> list[Event]:
    """Apply a batch inside one transaction, as the registry's consumer does."""

    async def transaction(session: AsyncClientSession) -> list[Event]:
        return await store.apply_events(db, session, [store.prepare(e) for e in events])

    async with client.start_session() as session:
        applied: list[Event] = await session.with_transaction(transaction)
    return applied


async def snapshot(db: AsyncDatabase[Document]) -> dict[str, list[Document]]:
    """Every document of the registry's collections, in _id order."""
    return {name: [d async for d in db[name].find({}).sort("_id", 1)] for name in COLLECTIONS}


async def test_create_indexes_twice_is_fine(db: AsyncDatabase[Document]) -> None:
    await store.create_indexes(db)
    indexes = await db.events.index_information()
    assert any(info.get("unique") and info["key"] == [("seq", 1)] for info in indexes.values()), indexes


async def test_apply_events_applies_a_treaty_its_actions_and_a_resolution(
    client: AsyncMongoClient[Document], db: AsyncDatabase[Document]
) -> None:
    events = batch()
    applied = await apply(client, db, events)
    assert [e.id for e in applied] == [e.id for e in events]

    treaty = await db.treaties.find_one({"_id": "XXVI-5"})
    assert treaty is not None
    assert treaty["title"] == "Mine Ban Convention"
    assert treaty["short_title"] == "APMBC"
    assert treaty["registered_by"] == events[0].id

    assert [(a.action, a.date.isoformat(), a.event_id) for a in await actions_of(db, "NOR")] == [
        ("signature", "1997-12-03", events[1].id),
        ("ratification", "1998-07-09", events[2].id),
    ]

    resolution = await db.resolutions.find_one({"_id": "A/RES/64/56"})
    assert resolution is not None
    assert resolution["session"] == 64
    assert resolution["event_id"] == events[4].id
    assert resolution["recalls"] == [{"symbol": "A/RES/63/42"}]
    assert resolution["cites"] == ["A/RES/63/42"]


async def test_events_get_consecutive_seq_across_batches(
    client: AsyncMongoClient[Document], db: AsyncDatabase[Document]
) -> None:
    first, second = batch(), batch()[1:3]
    await apply(client, db, first)
    await apply(client, db, second)
    stored = [d async for d in db.events.find({}).sort("seq", 1)]
    assert [d["seq"] for d in stored] == list(range(1, len(first) + len(second) + 1))
    assert [d["_id"] for d in stored] == [e.id for e in [*first, *second]]
    assert [d["type"] for d in stored[:5]] == [e.type for e in first]
    assert stored[0]["event"] == json.loads(to_json(first[0]))


async def test_applying_the_same_batch_again_returns_nothing_and_changes_nothing(
    client: AsyncMongoClient[Document], db: AsyncDatabase[Document]
) -> None:
    events = batch()
    await apply(client, db, events)
    before = await snapshot(db)

    assert await apply(client, db, events) == []
    assert await snapshot(db) == before


async def test_a_batch_with_a_repeated_event_applies_it_once(
    client: AsyncMongoClient[Document], db: AsyncDatabase[Document]
) -> None:
    events = batch()
    applied = await apply(client, db, [*events[:3], events[1], *events[3:], events[0]])
    assert [e.id for e in applied] == [e.id for e in events]
    assert len(await actions_of(db, "NOR")) == 2
    assert await db.events.count_documents({}) == len(events)


async def test_a_partly_seen_batch_applies_only_the_new_events(
    client: AsyncMongoClient[Document], db: AsyncDatabase[Document]
) -> None:
    events = batch()
    await apply(client, db, events[:2])
    applied = await apply(client, db, events)
    assert [e.id for e in applied] == [e.id for e in events[2:]]
    assert [d["seq"] async for d in db.events.find({}).sort("seq", 1)] == list(range(1, len(events) + 1))


async def test_a_batch_taken_as_new_fails_on_a_seen_event_and_leaves_nothing_behind(
    client: AsyncMongoClient[Document], db: AsyncDatabase[Document]
) -> None:
    events = batch()
    await apply(client, db, events[:2])
    before = await snapshot(db)

    async def as_new(session: AsyncClientSession) -> list[Event]:
        return await store.apply_events(db, session, [store.prepare(e) for e in events], look_first=False)

    async with client.start_session() as session:
        with pytest.raises((DuplicateKeyError, BulkWriteError)) as failed:
            await session.with_transaction(as_new)
    assert is_duplicate_key(failed.value)
    assert await snapshot(db) == before


async def test_an_action_given_by_un_name_is_stored_under_the_iso_code_with_the_name_kept(
    client: AsyncMongoClient[Document], db: AsyncDatabase[Document]
) -> None:
    await apply(client, db, batch())
    assert [(a.action, a.participant_name) for a in await actions_of(db, "BOL")] == [
        ("ratification", "Bolivia (Plurinational State of)")
    ]
    assert await db.events.count_documents({"participant": "Bolivia (Plurinational State of)"}) == 0

    # The same State by its code joins the same participation.
    by_code = event(
        "treaty.action.recorded",
        {"treaty_id": "XXVI-5", "participant": "BOL", "action": "declaration", "date": "1999-01-01"},
    )
    await apply(client, db, [by_code])
    # A bare code gives no name of its own.
    assert [(a.action, a.participant_name) for a in await actions_of(db, "BOL")] == [
        ("ratification", "Bolivia (Plurinational State of)"),
        ("declaration", None),
    ]


def record(settings: Settings, offset: int, value: bytes, key: bytes | None = b"XXVI-5/NOR") -> ConsumerRecord:
    """A fetched record as aiokafka hands it to the handler."""
    return ConsumerRecord(
        topic=settings.topic,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key or b""),
        serialized_value_size=len(value),
        headers=[],
    )


@pytest.fixture
async def kafka_settings(servers: Stack) -> Settings:
    name = f"t-{uuid.uuid4().hex[:12]}"
    settings = Settings(
        kafka_bootstrap=servers.kafka_bootstrap, topic=name, dead_letter_topic=f"{name}.dlq", topic_partitions=1
    )
    await ensure_topics(settings)
    return settings


@pytest.fixture
async def publisher(kafka_settings: Settings) -> AsyncIterator[Publisher]:
    publisher = Publisher(kafka_settings, timeout_s=10)
    await publisher.start()
    try:
        yield publisher
    finally:
        await publisher.stop()


async def read_dead_letters(settings: Settings, count: int) -> list[ConsumerRecord]:
    """The first `count` records of the dead-letter topic."""
    consumer = AIOKafkaConsumer(
        settings.dead_letter_topic,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[ConsumerRecord] = []
    try:
        async with asyncio.timeout(WAIT_S):
            while len(found) < count:
                batches = await consumer.getmany(timeout_ms=200)
                found.extend(r for part in batches.values() for r in part)
    finally:
        await consumer.stop()
    return found


async def test_the_applier_dead_letters_what_fails_the_contract_and_applies_the_rest(
    client: AsyncMongoClient[Document],
    db: AsyncDatabase[Document],
    kafka_settings: Settings,
    publisher: Publisher,
) -> None:
    good = batch()[1]
    not_json = b"{not json"
    not_contract = json.dumps(
        {"type": "treaty.action.recorded", "data": {"treaty_id": "XXVI-5", "participant": "NOR", "date": "1997"}}
    ).encode()
    records = [
        record(kafka_settings, 10, not_json),
        record(kafka_settings, 11, to_json(good)),
        record(kafka_settings, 12, not_contract),
    ]
    applier = Applier(client, db, publisher, kafka_settings.dead_letter_topic)
    await applier(records)

    assert await db.events.count_documents({}) == 1
    assert await db.events.find_one({"_id": good.id}) is not None

    letters = {d["_id"]: d async for d in db.dead_letters.find({})}
    json_key, contract_key = f"{kafka_settings.topic}/0/10", f"{kafka_settings.topic}/0/12"
    assert set(letters) == {json_key, contract_key}
    assert letters[json_key]["value"] == not_json.decode()
    assert letters[json_key]["offset"] == 10
    assert "json" in letters[json_key]["reason"].lower()
    reason = letters[contract_key]["reason"]
    assert "treaty.action.recorded.data.action" in reason
    assert "treaty.action.recorded.data.date" in reason

    published = await read_dead_letters(kafka_settings, 2)
    by_origin = {dict(r.headers)["origin"].decode(): r for r in published}
    assert set(by_origin) == {json_key, contract_key}
    assert by_origin[json_key].value == not_json
    assert by_origin[contract_key].value == not_contract
    assert by_origin[contract_key].key == b"XXVI-5/NOR"
    assert dict(by_origin[contract_key].headers)["reason"].decode() == reason

    # A redelivered batch (not committed before a crash) neither re-applies nor duplicates a dead letter.
    await applier(records)
    assert await db.events.count_documents({}) == 1
    assert await db.dead_letters.count_documents({}) == 2


async def test_the_applier_applies_a_partly_seen_redelivered_batch_once(
    client: AsyncMongoClient[Document], db: AsyncDatabase[Document], kafka_settings: Settings
) -> None:
    events = batch()
    applier = Applier(client, db, None, kafka_settings.dead_letter_topic)
    await applier([record(kafka_settings, i, to_json(e)) for i, e in enumerate(events[:2])])
    await applier([record(kafka_settings, i, to_json(e)) for i, e in enumerate(events)])
    stored = [d async for d in db.events.find({}).sort("seq", 1)]
    assert [d["_id"] for d in stored] == [e.id for e in events]
    assert [d["seq"] for d in stored] == list(range(1, len(events) + 1))
    assert len(await actions_of(db, "NOR")) == 2


async def actions_of(db: AsyncDatabase[Document], participant: str) -> list[ActionRecord]:
    """A participant's actions on XXVI-5, as the registry reads them, in the order they were applied."""
    return store.to_records([d async for d in store.actions_query(db, "XXVI-5")]).get(participant, [])


class Crash(Exception):
    """Stands for a failure after the batch was written, before the transaction commits."""


async def test_a_batch_whose_transaction_aborts_leaves_nothing_behind(
    client: AsyncMongoClient[Document], db: AsyncDatabase[Document]
) -> None:
    await apply(client, db, batch()[:1])
    before = await snapshot(db)

    async def transaction(session: AsyncClientSession) -> None:
        assert len(await store.apply_events(db, session, [store.prepare(e) for e in batch()])) == 5
        raise Crash

    async with client.start_session() as session:
        with pytest.raises(Crash):
            await session.with_transaction(transaction)
    assert await snapshot(db) == before


async def test_the_applier_dead_letters_a_record_without_a_value(
    client: AsyncMongoClient[Document],
    db: AsyncDatabase[Document],
    kafka_settings: Settings,
    publisher: Publisher,
) -> None:
    tombstone = ConsumerRecord(
        topic=kafka_settings.topic,
        partition=0,
        offset=3,
        timestamp=0,
        timestamp_type=0,
        key=b"XXVI-5/NOR",
        value=None,
        checksum=None,
        serialized_key_size=10,
        serialized_value_size=-1,
        headers=[],
    )
    await Applier(client, db, publisher, kafka_settings.dead_letter_topic)([tombstone])
    assert await db.dead_letters.count_documents({"_id": f"{kafka_settings.topic}/0/3"}) == 1


async def test_the_applier_dead_letters_an_event_it_cannot_store_and_applies_the_rest(
    client: AsyncMongoClient[Document],
    db: AsyncDatabase[Document],
    kafka_settings: Settings,
    publisher: Publisher,
) -> None:
    # Valid by the contract, which bounds no integer, but BSON holds none over 64 bits: every retry would fail.
    huge = event(
        "meeting.recorded",
        {
            "treaty_id": "XXVI-5",
            "kind": "msp",
            "ordinal": 2**64,
            "place": "Geneva",
            "start": "2024-01-01",
            "end": "2024-01-02",
        },
    )
    # A type a newer producer added: this registry's contract does not decode it.
    newer = json.dumps({"id": "evt-newer", "type": "treaty.amended", "source": "/tests", "data": {}}).encode()
    good = batch()[1]
    records = [
        record(kafka_settings, 20, to_json(huge)),
        record(kafka_settings, 21, newer),
        record(kafka_settings, 22, to_json(good)),
    ]
    applier = Applier(client, db, publisher, kafka_settings.dead_letter_topic)
    await applier(records)

    assert [d["_id"] async for d in db.events.find({})] == [good.id]
    assert await db.meetings.count_documents({}) == 0
    letters = {d["offset"]: d async for d in db.dead_letters.find({})}
    assert set(letters) == {20, 21}
    assert "cannot store the event" in letters[20]["reason"] and "8-byte ints" in letters[20]["reason"]
    assert "treaty.amended" in letters[21]["reason"]
    published = {r.value: r for r in await read_dead_letters(kafka_settings, 2)}
    assert set(published) == {to_json(huge), newer}
    assert dict(published[to_json(huge)].headers)["reason"].decode() == letters[20]["reason"]

    await applier(records)
    assert await db.events.count_documents({}) == 1
    assert await db.dead_letters.count_documents({}) == 2


class Amended(Envelope):
    """An event type outside the contract's union, as a newer producer's code might build one."""

    type: Literal["treaty.amended"] = "treaty.amended"
    data: dict[str, Any]


def test_an_event_no_projection_takes_is_unstorable_not_a_failure_to_retry() -> None:
    with pytest.raises(store.Unstorable, match="the registry cannot store the event"):
        store.prepare(cast(Event, Amended(data={})))


def test_an_event_over_mongodbs_document_limit_is_unstorable() -> None:
    text = "x" * 100_000
    paragraphs = [{"number": n, "verb": "Decides", "text": text} for n in range(1, 200)]
    big = event(
        "resolution.adopted",
        {"symbol": "A/RES/70/1", "session": 70, "title": "Long", "adopted_on": "2015-09-25", "paragraphs": paragraphs},
    )
    with pytest.raises(store.Unstorable, match="over MongoDB's limit"):
        store.prepare(big)

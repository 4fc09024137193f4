"""Notify's store against the real MongoDB the session starts: one delivery per pair, one winner per claim,
leases that end with their worker, pages that neither skip nor repeat, indexes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.integration.conftest import fresh_database
from treatywatch.common.events import Event, event_from_dict, to_json
from treatywatch.common.mongo import Document
from treatywatch.notify import store
from treatywatch.notify.api import Delivery, Subscription
from treatywatch.notify.domain import delivery_id

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(seconds=45)


@pytest.fixture
async def db(client: AsyncMongoClient[Document]) -> AsyncIterator[AsyncDatabase[Document]]:
    async with fresh_database(client, store.create_indexes) as database:
        yield database


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


async def add(db: AsyncDatabase[Document], event: Event, at: datetime = NOW, sub_id: str = "sub_1") -> str:
    await store.add_deliveries(db, [store.event_delivery(subscription(sub_id), event, at)])
    return delivery_id(sub_id, event.id)


async def test_create_indexes_twice_is_fine(db: AsyncDatabase[Document]) -> None:
    await store.create_indexes(db)
    keys = [info["key"] for info in (await db.deliveries.index_information()).values()]
    assert [("subscription_id", 1), ("status", 1), ("next_attempt_at", 1)] in keys
    assert [("received_at", 1)] in [info["key"] for info in (await db.events.index_information()).values()]


async def test_every_read_uses_an_index(db: AsyncDatabase[Document]) -> None:
    await add(db, action())
    queries: list[tuple[str, Document, Document | None]] = [
        ("subscriptions", {"enabled": True}, None),
        ("subscriptions", {}, {"created_at": 1, "_id": 1}),
        ("subscriptions", {"created_at": NOW, "_id": {"$gt": "sub_1"}}, {"created_at": 1, "_id": 1}),
        ("subscriptions", {"created_at": {"$gt": NOW}}, {"created_at": 1, "_id": 1}),
        ("subscriptions", {"created_by": "0123456789abcdef"}, None),
        ("deliveries", {"subscription_id": "sub_1", "status": "pending", "next_attempt_at": {"$lte": NOW}}, None),
        ("deliveries", {"subscription_id": "sub_1", "status": "pending", "next_attempt_at": {"$gt": NOW}}, None),
        ("deliveries", {"subscription_id": "sub_1"}, {"created_at": -1, "_id": -1}),
        ("deliveries", {"subscription_id": "sub_1", "status": "failed"}, {"created_at": -1, "_id": -1}),
        ("deliveries", {"subscription_id": "sub_1", "created_at": NOW, "_id": {"$lt": "msg_1"}}, {"_id": -1}),
        ("deliveries", {"subscription_id": "sub_1", "created_at": {"$lt": NOW}}, {"created_at": -1, "_id": -1}),
        ("deliveries", {"status": "pending"}, {"created_at": 1}),
        ("deliveries", {"_id": {"$in": ["a", "b"]}}, None),
        ("deliveries", {"lease": "worker-1", "status": "pending"}, None),
        ("events", {"received_at": {"$gte": NOW, "$lt": LATER}}, {"received_at": 1}),
    ]
    for collection, query, sort in queries:
        command: Document = {"find": collection, "filter": query, **({"sort": sort} if sort else {})}
        plan = (await db.command({"explain": command}))["queryPlanner"]["winningPlan"]
        assert "IXSCAN" in str(plan), (collection, query, plan)


async def test_add_deliveries_twice_for_the_same_pair_creates_one_delivery(db: AsyncDatabase[Document]) -> None:
    event = action()
    msg_id = await add(db, event)
    again = action()
    fresh = [store.event_delivery(subscription(), e, NOW + timedelta(1)) for e in (event, again)]
    assert await store.add_deliveries(db, fresh) == [fresh[1]]
    await db.deliveries.delete_one({"_id": delivery_id("sub_1", again.id)})

    [delivery] = [d async for d in db.deliveries.find({})]
    assert delivery["_id"] == msg_id
    assert (delivery["subscription_id"], delivery["event_id"]) == ("sub_1", event.id)
    assert delivery["event_type"] == "treaty.action.recorded"
    assert delivery["traceparent"] == event.traceparent
    assert delivery["body"] == to_json(event).decode()
    assert (delivery["status"], delivery["attempts"], delivery["attempt_count"]) == ("pending", [], 0)
    # The second call did not overwrite the first.
    assert delivery["created_at"] == delivery["next_attempt_at"] == NOW


async def test_due_deliveries_are_one_subscriptions_pending_ones_whose_time_has_come(
    db: AsyncDatabase[Document],
) -> None:
    early, late, other = action("NOR"), action("SWE"), action("FIN")
    await add(db, early)
    await add(db, late, NOW + timedelta(minutes=5))
    await add(db, other, sub_id="sub_2")
    assert [d["event_id"] for d in await store.due_deliveries(db, "sub_1", NOW, 10)] == [early.id]
    due = await store.due_deliveries(db, "sub_1", NOW + timedelta(minutes=5), 10)
    assert [d["event_id"] for d in due] == [early.id, late.id]
    assert len(await store.due_deliveries(db, "sub_1", NOW + timedelta(minutes=5), 1)) == 1
    assert await store.next_due_at(db, "sub_1", NOW) == NOW + timedelta(minutes=5)
    assert await store.next_due_at(db, "sub_1", NOW + timedelta(minutes=5)) is None


async def test_only_one_of_two_concurrent_claims_wins(db: AsyncDatabase[Document]) -> None:
    await add(db, action())
    first_read = await store.due_deliveries(db, "sub_1", NOW, 10)
    second_read = await store.due_deliveries(db, "sub_1", NOW, 10)
    results = await asyncio.gather(
        store.claim(db, first_read, "worker-a"),
        store.claim(db, second_read, "worker-b"),
    )
    assert sorted(len(r) for r in results) == [0, 1]
    [won] = [r for r in results if r]
    assert (won[0]["lease"], won[0]["next_attempt_at"]) in {("worker-a", None), ("worker-b", None)}
    # The claimed delivery is leased: never due while its worker lives, whatever the time.
    assert await store.due_deliveries(db, "sub_1", NOW + timedelta(days=365), 10) == []
    assert await store.next_due_at(db, "sub_1", NOW) is None


async def test_a_claim_of_several_keeps_only_what_it_won(db: AsyncDatabase[Document]) -> None:
    for participant in ("NOR", "SWE", "FIN"):
        await add(db, action(participant))
    due = await store.due_deliveries(db, "sub_1", NOW, 10)
    assert len(await store.claim(db, due[:1], "worker-a")) == 1
    won = await store.claim(db, due, "worker-b")
    assert [d["_id"] for d in won] == [d["_id"] for d in due[1:]]


async def test_a_delivery_inserted_leased_is_held_by_its_worker_only(db: AsyncDatabase[Document]) -> None:
    event = action()
    [held] = await store.add_deliveries(db, [store.leased(store.event_delivery(subscription(), event, NOW), "w-1")])
    assert (held["lease"], held["next_attempt_at"]) == ("w-1", None)
    assert await store.due_deliveries(db, "sub_1", NOW + timedelta(days=1), 10) == []
    assert await store.release(db, "w-2", NOW) == 0
    assert await store.release(db, "w-1", LATER, ids=["msg_other"]) == 0
    assert await store.release(db, "w-1", LATER, ids=[held["_id"]]) == 1
    [due] = await store.due_deliveries(db, "sub_1", LATER, 10)
    assert (due["_id"], due["lease"], due["next_attempt_at"]) == (held["_id"], None, LATER)


async def test_a_dead_workers_leases_are_released_by_the_sweep(db: AsyncDatabase[Document]) -> None:
    for participant in ("NOR", "SWE"):
        await add(db, action(participant))
    await store.heartbeat(db, "w-dead", NOW, ttl_s=30)
    await store.heartbeat(db, "w-alive", NOW, ttl_s=30)
    [one, two] = await store.due_deliveries(db, "sub_1", NOW, 10)
    await store.claim(db, [one], "w-dead")
    await store.claim(db, [two], "w-alive")
    # Within its time to live a worker keeps what it holds.
    assert await store.sweep_dead_workers(db, NOW + timedelta(seconds=29), linger_s=30) == 0
    await store.heartbeat(db, "w-alive", NOW + timedelta(seconds=29), ttl_s=30)
    swept_at = NOW + timedelta(seconds=31)
    assert await store.sweep_dead_workers(db, swept_at, linger_s=30) == 1
    [due] = await store.due_deliveries(db, "sub_1", swept_at, 10)
    assert (due["_id"], due["lease"], due["next_attempt_at"]) == (one["_id"], None, swept_at)
    # The dead one is kept, gone, for GONE_SWEEPS more sweeps, then forgotten.
    assert [(w["_id"], w.get("gone")) async for w in db.workers.find({}).sort("_id")] == [
        ("w-alive", None),
        ("w-dead", 1),
    ]
    at = swept_at
    for _ in range(store.GONE_SWEEPS):
        at += timedelta(seconds=31)
        await store.heartbeat(db, "w-alive", at, ttl_s=30)
        assert await store.sweep_dead_workers(db, at, linger_s=30) == 0
    assert [w["_id"] async for w in db.workers.find({})] == ["w-alive"]
    # A worker that stops hands back what it holds and is gone.
    assert await store.retire(db, "w-alive", swept_at, linger_s=30) == 1
    assert len(await store.due_deliveries(db, "sub_1", swept_at, 10)) == 2
    assert await db.workers.count_documents({"gone": 1}) == 1


async def test_a_lease_that_outlived_its_worker_is_released_by_the_next_sweep(db: AsyncDatabase[Document]) -> None:
    await add(db, action())
    await store.heartbeat(db, "w-stopping", NOW, ttl_s=30)
    assert await store.retire(db, "w-stopping", NOW, linger_s=30) == 0
    # A claim of the stopping worker that was still on its way lands after it retired.
    [due] = await store.due_deliveries(db, "sub_1", NOW, 10)
    await store.claim(db, [due], "w-stopping")
    assert await store.due_deliveries(db, "sub_1", NOW, 10) == []
    later = NOW + timedelta(seconds=31)
    assert await store.sweep_dead_workers(db, later, linger_s=30) == 1
    [again] = await store.due_deliveries(db, "sub_1", later, 10)
    assert (again["_id"], again["lease"]) == (due["_id"], None)
    assert await db.workers.count_documents({"_id": "w-stopping", "gone": 2}) == 1
    # A gone worker that beats again (it was only late) is alive again.
    await store.heartbeat(db, "w-late", NOW, ttl_s=30)
    assert await store.sweep_dead_workers(db, later, linger_s=30) == 0
    await store.heartbeat(db, "w-late", later, ttl_s=30)
    assert await db.workers.find_one({"_id": "w-late"}, {"_id": 0}) == {"alive_until": later + timedelta(seconds=30)}


async def test_sweepers_of_one_dead_worker_release_its_leases_once_in_bounded_batches(
    db: AsyncDatabase[Document],
) -> None:
    held = store.RELEASE_BATCH * 2 + 7
    await store.add_deliveries(
        db, [store.leased(store.event_delivery(subscription(), action(), NOW), "w-dead") for _ in range(held)]
    )
    await store.heartbeat(db, "w-dead", NOW, ttl_s=30)
    swept_at = NOW + timedelta(seconds=31)
    # Three notifies sweep at the same moment: the one that marks the dead worker releases everything it held.
    counts = await asyncio.gather(*(store.sweep_dead_workers(db, swept_at, linger_s=30) for _ in range(3)))
    assert sorted(counts) == [0, 0, held]
    assert await db.deliveries.count_documents({"lease": "w-dead"}) == 0
    assert len(await store.due_deliveries(db, "sub_1", swept_at, held + 1)) == held
    assert await db.workers.count_documents({"_id": "w-dead", "gone": 1}) == 1


async def test_leases_of_a_forgotten_worker_are_released_and_those_of_known_workers_kept(
    db: AsyncDatabase[Document],
) -> None:
    holders = ["w-alive", "w-gone", "w-forgotten", "w-forgotten"]
    await store.add_deliveries(
        db, [store.leased(store.event_delivery(subscription(), action(), NOW), holder) for holder in holders]
    )
    await store.heartbeat(db, "w-alive", NOW, ttl_s=30)
    await store.heartbeat(db, "w-gone", NOW, ttl_s=30)
    assert await store.retire(db, "w-gone", NOW, linger_s=30) == 1
    # w-forgotten's insert landed after its last sweep: nobody would ever release it.
    assert await store.release_orphaned(db, LATER) == 2
    assert [d["lease"] async for d in db.deliveries.find({"lease": {"$ne": None}})] == ["w-alive"]
    assert len(await store.due_deliveries(db, "sub_1", LATER, 10)) == 3
    assert await store.release_orphaned(db, LATER) == 0


async def test_an_attempt_is_recorded_only_under_its_lease(db: AsyncDatabase[Document]) -> None:
    msg_id = await add(db, action())
    assert len(await store.claim(db, await store.due_deliveries(db, "sub_1", NOW, 1), "worker-1")) == 1
    failed = {"at": NOW, "status_code": 503, "latency_ms": 12.5}
    retry_at = NOW + timedelta(seconds=5)
    await store.record_attempts(db, [store.Outcome(msg_id, "sub_1", "worker-1", failed, "pending", retry_at)])
    stale = {"at": NOW, "status_code": 204, "latency_ms": 1.0}
    await store.record_attempts(db, [store.Outcome(msg_id, "sub_1", "worker-1", stale, "succeeded", None)])

    stored = await db.deliveries.find_one({"_id": msg_id})
    assert stored is not None
    assert stored["attempts"] == [failed]
    assert (stored["attempt_count"], stored["cycle_attempts"]) == (1, 1)
    assert (stored["status"], stored["next_attempt_at"], stored["lease"]) == ("pending", retry_at, None)
    public = Delivery.of(stored).model_dump(mode="json", exclude_unset=True)
    assert public["id"] == msg_id and not {"_id", "body", "lease", "cycle_attempts"} & public.keys()
    assert public["attempts"] == [{"at": NOW.isoformat(), "status_code": 503, "latency_ms": 12.5}]


async def test_a_delivery_written_with_its_first_outcome_equals_one_recorded_after_its_insert(
    db: AsyncDatabase[Document],
) -> None:
    event = action()
    made = store.event_delivery(subscription(), event, NOW)
    failed = {"at": NOW, "status_code": 503, "latency_ms": 3.0}
    outcome = store.Outcome(made["_id"], "sub_1", "worker-1", failed, "pending", LATER)
    await store.add_deliveries(db, [store.leased(made, "worker-1")])
    await store.record_attempts(db, [outcome])
    recorded = await db.deliveries.find_one({"_id": made["_id"]})

    await db.deliveries.delete_many({})
    [written] = await store.add_deliveries(db, [store.attempted(store.leased(made, "worker-1"), outcome)])
    assert written == recorded == await db.deliveries.find_one({"_id": made["_id"]})
    assert [d["_id"] for d in await store.due_deliveries(db, "sub_1", LATER, 10)] == [made["_id"]]


async def test_a_failed_delivery_is_requeued_with_a_fresh_cycle(db: AsyncDatabase[Document]) -> None:
    msg_id = await add(db, action())
    await store.claim(db, await store.due_deliveries(db, "sub_1", NOW, 1), "w")
    await store.record_attempts(
        db, [store.Outcome(msg_id, "sub_1", "w", {"at": NOW, "latency_ms": 1.0}, "failed", None)]
    )
    assert await store.requeue_failed(db, [msg_id, "msg_missing"], LATER) == 1
    assert await store.requeue_failed(db, [msg_id], LATER) == 0
    stored = await db.deliveries.find_one({"_id": msg_id})
    assert stored is not None
    assert (stored["status"], stored["cycle_attempts"], stored["attempt_count"]) == ("pending", 0, 1)
    assert Delivery.of(stored).next_attempt_at == LATER


async def test_disable_fails_the_pending_deliveries(db: AsyncDatabase[Document]) -> None:
    await db.subscriptions.insert_one(subscription())
    await add(db, action())
    await store.disable(db, "sub_1", "the endpoint answered 410 Gone", NOW)
    assert await store.enabled_subscriptions(db) == []
    assert {d["status"] async for d in db.deliveries.find({})} == {"failed"}
    await store.enable(db, "sub_1")
    [enabled] = await store.enabled_subscriptions(db)
    assert "disabled_reason" not in enabled


async def test_events_are_kept_once_and_read_back_by_period(db: AsyncDatabase[Document]) -> None:
    one, two = action("NOR"), action("SWE")
    assert await store.record_events(db, [one], NOW) == {one.id}
    # Only the events new here are reported: the consumer sends their deliveries before writing them.
    assert await store.record_events(db, [one, two], NOW + timedelta(hours=1)) == {two.id}
    assert [e["_id"] async for e in store.events_between(db, NOW, NOW + timedelta(minutes=1))] == [one.id]
    period = [e async for e in store.events_between(db, NOW, NOW + timedelta(hours=2))]
    assert [e["_id"] for e in period] == [one.id, two.id]
    assert period[0]["body"] == to_json(one).decode()


async def test_pending_stats_count_and_date_the_oldest(db: AsyncDatabase[Document]) -> None:
    assert await store.pending_stats(db) == (0, None)
    await add(db, action("NOR"), NOW + timedelta(minutes=1))
    await add(db, action("SWE"), NOW)
    assert await store.pending_stats(db) == (2, NOW)


async def test_delete_subscription_takes_its_deliveries(db: AsyncDatabase[Document]) -> None:
    await db.subscriptions.insert_one(subscription())
    await add(db, action())
    await add(db, action(), sub_id="sub_2")
    assert await store.delete_subscription(db, "sub_1")
    assert not await store.delete_subscription(db, "sub_1")
    assert [d["subscription_id"] async for d in db.deliveries.find({})] == ["sub_2"]


async def test_a_subscription_is_read_changed_and_shown_without_its_secrets(db: AsyncDatabase[Document]) -> None:
    fields: Document = {
        "url": "https://example.org/hook",
        "event_types": ["*"],
        "filter": {"treaty_ids": [], "participants": []},
        "description": None,
        "enabled": True,
        "headers": {},
        "rate_limit": None,
    }
    first = store.new_subscription(fields, "whsec_first", "key-a", NOW)
    second = store.new_subscription(fields, "whsec_second", "key-a", LATER)
    other = store.new_subscription(fields, "whsec_other", "key-b", LATER)
    assert first["_id"] != second["_id"]
    for made in (second, other, first):
        await store.add_subscription(db, made)
    oldest = await store.subscriptions_page(db, None, 1)
    assert [s["_id"] for s in oldest] == [first["_id"]]
    assert (await store.count_created_by(db, "key-a"), await store.count_created_by(db, "key-c")) == (2, 0)
    assert await store.find_subscription(db, "sub_missing") is None

    await store.change_subscription(db, first["_id"], {"description": "the treaty office", "rate_limit": 2.0})
    previous = [{"secret": "whsec_first", "expires_at": LATER}]
    assert await store.replace_secret(db, first["_id"], "whsec_new", previous)
    # A conditional replacement (a re-seal) gives way to a rotation that came first.
    assert not await store.replace_secret(db, first["_id"], "whsec_resealed", [], replacing="whsec_first")
    stored = await store.find_subscription(db, first["_id"])
    assert stored is not None
    assert (stored["secret"], stored["previous_secrets"]) == ("whsec_new", previous)
    assert (stored["description"], stored["rate_limit"]) == ("the treaty office", 2.0)
    assert {s["_id"]: s["secret"] async for s in store.all_secrets(db)}[first["_id"]] == "whsec_new"

    public = Subscription.of(stored).model_dump(mode="json", exclude_unset=True)
    assert "whsec" not in str(public) and "key-a" not in str(public)
    assert public["id"] == first["_id"] and public["previous_secrets_expire_at"] == [LATER.isoformat()]
    assert public["created_at"] == NOW.isoformat() and "disabled_reason" not in public


async def test_a_subscription_is_shown_with_its_url_and_header_values_masked(db: AsyncDatabase[Document]) -> None:
    fields: Document = {
        "url": "https://hooks.example.org:8443/t/0a1b2c?key=s3cret",
        "event_types": ["*"],
        "filter": {"treaty_ids": [], "participants": []},
        "description": None,
        "enabled": True,
        "headers": {"Authorization": "Bearer s3cret"},
        "rate_limit": None,
    }
    public = Subscription.of(store.new_subscription(fields, "whsec_x", "key-a", NOW)).model_dump(mode="json")
    assert public["url"] == "https://hooks.example.org:8443/…/…"
    assert public["headers"] == {"Authorization": "***"}
    assert "s3cret" not in str(public) and "0a1b2c" not in str(public)


async def test_pages_of_subscriptions_neither_skip_nor_repeat_ties(db: AsyncDatabase[Document]) -> None:
    made = [store.new_subscription({"url": "https://example.org/hook"}, "whsec_x", "key-a", NOW) for _ in range(5)]
    made += [store.new_subscription({"url": "https://example.org/hook"}, "whsec_x", "key-a", LATER) for _ in range(2)]
    for subscription in made:
        await store.add_subscription(db, subscription)
    seen: list[str] = []
    cursor = None
    while page := await store.subscriptions_page(db, cursor, 2):
        seen += [s["_id"] for s in page]
        cursor = (page[-1]["created_at"], page[-1]["_id"])
    expected = sorted(s["_id"] for s in made[:5]) + sorted(s["_id"] for s in made[5:])
    assert seen == expected


async def test_a_subscriptions_deliveries_are_listed_newest_first_by_status(db: AsyncDatabase[Document]) -> None:
    early, late, other = action("NOR"), action("SWE"), action("FIN")
    early_id = await add(db, early)
    late_id = await add(db, late, LATER)
    await add(db, other, sub_id="sub_2")
    await store.claim(db, await store.due_deliveries(db, "sub_1", NOW, 1), "w")
    await store.record_attempts(
        db, [store.Outcome(early_id, "sub_1", "w", {"at": NOW, "latency_ms": 1.0}, "failed", None)]
    )
    listed = await store.subscription_deliveries(db, "sub_1", None, None, 10)
    assert [d["_id"] for d in listed] == [late_id, early_id]
    assert [d["_id"] for d in await store.subscription_deliveries(db, "sub_1", "failed", None, 10)] == [early_id]
    [newest] = await store.subscription_deliveries(db, "sub_1", None, None, 1)
    assert newest["_id"] == late_id
    after_newest = (newest["created_at"], newest["_id"])
    assert [d["_id"] for d in await store.subscription_deliveries(db, "sub_1", None, after_newest, 10)] == [early_id]
    found = await store.find_delivery(db, early_id)
    assert found is not None and found["status"] == "failed"
    assert await store.find_delivery(db, "msg_missing") is None


async def test_pages_of_deliveries_made_in_one_batch_neither_skip_nor_repeat(db: AsyncDatabase[Document]) -> None:
    # A consumer's batch, or a replay, gives its deliveries one `created_at`.
    batch = [store.event_delivery(subscription(), action(), NOW) for _ in range(7)]
    newest = store.event_delivery(subscription(), action(), LATER)
    await store.add_deliveries(db, [*batch, newest])
    await store.add_deliveries(db, [store.event_delivery(subscription("sub_2"), action(), NOW)])
    seen: list[str] = []
    cursor = None
    while page := await store.subscription_deliveries(db, "sub_1", None, cursor, 3):
        seen += [d["_id"] for d in page]
        cursor = (page[-1]["created_at"], page[-1]["_id"])
    assert seen == [newest["_id"], *sorted((d["_id"] for d in batch), reverse=True)]

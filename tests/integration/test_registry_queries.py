"""Every query the registry's API runs uses an index (checked with `explain()`), and the views it answers
from follow the events: corrections, late and repeated events, through the real store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.asynchronous.database import AsyncDatabase

from tests.integration.conftest import fresh_database
from tests.integration.test_registry_store import apply, event
from treatywatch.common.mongo import Document
from treatywatch.common.rules import MINE_BAN_RULES
from treatywatch.registry import store
from treatywatch.registry.domain import StatedEntry


@pytest.fixture
async def db(client: AsyncMongoClient[Document]) -> AsyncIterator[AsyncDatabase[Document]]:
    async with fresh_database(client, store.create_indexes) as database:
        yield database


def stages(plan: Any) -> list[str]:
    """Every stage name in a winning plan, depth first."""
    if isinstance(plan, dict):
        found = [plan["stage"]] if "stage" in plan else []
        return found + [s for value in plan.values() for s in stages(value)]
    if isinstance(plan, list):
        return [s for item in plan for s in stages(item)]
    return []


QUERIES = {
    "treaties": lambda db: store.treaties_query(db),
    "treaties after": lambda db: store.treaties_query(db, "T-3", 10),
    "feed of a treaty": lambda db: store.treaty_feed_query(db, "XXVI-5", 50),
    "feed of a participant": lambda db: store.participant_feed_query(db, "NOR", 50),
    "actions of a treaty": lambda db: store.actions_query(db, "XXVI-5"),
    "treaties of a participant": lambda db: store.treaties_of_query(db, "NOR"),
    "revisions": lambda db: store.revisions_query(db, ["XXVI-5", "XXVI-3"]),
    "resolutions by session": lambda db: store.resolutions_query(db, session=64),
    "resolutions by treaty": lambda db: store.resolutions_query(db, treaty_id="XXVI-5"),
    "resolutions recalling": lambda db: store.resolutions_query(db, recalls="A/RES/63/42"),
    "resolutions": lambda db: store.resolutions_query(db),
    "resolutions after": lambda db: store.resolutions_query(db, after="A/RES/60/1"),
    "resolutions by session after": lambda db: store.resolutions_query(db, session=6, after="A/RES/6/0"),
    "resolutions by symbol": lambda db: store.resolutions_by_symbol_query(db, ["A/RES/64/56"]),
    "recalled by": lambda db: store.recalled_by_query(db, "A/RES/63/42"),
    "meetings": lambda db: store.meetings_query(db, "XXVI-5"),
    "reports": lambda db: store.reports_query(db, "XXVI-5"),
    "events after": lambda db: store.events_query(db, 10, 100),
    "dead letters": lambda db: store.dead_letters_query(db, 100),
}


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_every_query_path_uses_an_index(db: AsyncDatabase[Document], name: str) -> None:
    for i in range(30):
        await db.treaties.insert_one({"_id": f"T-{i}"})
        await db.resolutions.insert_one({"_id": f"A/RES/{i}/1", "session": i, "cites": [f"A/RES/{i}/2"]})
    cursor: AsyncCursor[Document] = QUERIES[name](db)
    plan = (await cursor.explain())["queryPlanner"]["winningPlan"]
    used = stages(plan)
    assert "COLLSCAN" not in used and ({"IXSCAN", "IDHACK", "EXPRESS_IXSCAN"} & set(used)), (name, plan)


def action(event_id: str, participant: str, day: str, **extra: str) -> Any:
    data = {"treaty_id": "XXVI-5", "participant": participant, "action": "ratification", "date": day, **extra}
    return event("treaty.action.recorded", data, event_id)


async def test_views_follow_corrections_late_and_repeated_events(
    client: AsyncMongoClient[Document], db: AsyncDatabase[Document]
) -> None:
    views = store.TreatyViews(db)
    registered = event(
        "treaty.registered",
        {"treaty_id": "XXVI-5", "title": "Mine Ban", "rules": MINE_BAN_RULES.model_dump(mode="json")},
    )
    # The correction comes first, the act it corrects later and twice, the registration last.
    await apply(client, db, [action("fix", "Niger", "1999-03-23", corrects="wrong")])
    first = await views.get("XXVI-5")
    assert first is not None and first.record.statuses(date(2000, 1, 1)) != {}
    assert first.record.stats(date(2000, 1, 1)).in_force is None
    await apply(client, db, [action("wrong", "Nigeria", "1999-03-23")])
    await apply(client, db, [action("wrong", "Nigeria", "1999-03-23"), registered])
    view = await views.get("XXVI-5")
    assert view is not None and view.revision > first.revision
    assert set(view.record.statuses(date(2000, 1, 1))) == {"NER"}
    assert [r.event_id for r in view.record.superseded["NGA"]] == ["wrong"]
    assert view.record.stats(date(2000, 1, 1)).in_force == 0  # the rules are known now, too few instruments
    assert view.record.entry.reason == "1 of the 40 binding instruments the rule counts are recorded"
    assert view.name("NER") == "Niger"
    # The rules in words are written once per view.
    assert [p.source for p in view.rules_explained] == [
        "Article 17(1)",
        "Article 17(2)",
        "Article 20(3)",
        "Article 7(1) and (2)",
    ]
    assert view.rules_explained is view.rules_explained and first.rules_explained == []
    # Nothing changed: the same prepared view is served.
    assert await views.get("XXVI-5") is view
    assert await views.get("XXVI-404") is None


async def test_a_treaty_under_an_own_id_is_stored_and_viewed_like_any_other(
    client: AsyncMongoClient[Document], db: AsyncDatabase[Document]
) -> None:
    rules = {
        "entry_into_force": {
            "instruments": 43,
            "delay": {},
            "condition": "not_a_count",
            "description": "The depositary Governments and forty other States",
            "stated_date": "1970-03-05",
        }
    }
    registered = event("treaty.registered", {"treaty_id": "ext:npt", "title": "NPT", "rules": rules})
    ratified = event(
        "treaty.action.recorded",
        {"treaty_id": "ext:npt", "participant": "USA", "action": "ratification", "date": "1970-03-05"},
    )
    await apply(client, db, [registered, ratified])
    view = await store.TreatyViews(db).get("ext:npt")
    assert view is not None and view.treaty is not None and view.treaty["_id"] == "ext:npt"
    assert (view.record.entry.on, view.record.entry.shown) == (date(1970, 3, 5), "stated")
    assert view.record.stats(date(1971, 1, 1)).in_force == 1
    assert await store.treaties_of(db, "USA") == ["ext:npt"]


async def test_a_correction_applies_to_an_act_recorded_elsewhere_under_the_notification_it_names(
    client: AsyncMongoClient[Document], db: AsyncDatabase[Document]
) -> None:
    views = store.TreatyViews(db)
    # Poland's ratification sent directly (its own id), citing the notification; the correction names that one's id.
    sent = action("office:POL:1", "POL", "2012-12-28", notification="C.N.1.2013.TREATIES-XXVI.5")
    fix = action(
        "cn:C.N.45.2013.TREATIES-XXVI.5",
        "POL",
        "2012-12-27",
        notification="C.N.45.2013.TREATIES-XXVI.5",
        corrects="cn:C.N.1.2013.TREATIES-XXVI.5",
    )
    await apply(client, db, [sent, fix])
    view = await views.get("XXVI-5")
    assert view is not None
    assert [a.event_id for a in view.record.currents["POL"]] == ["cn:C.N.45.2013.TREATIES-XXVI.5"]
    assert [a.event_id for a in view.record.superseded["POL"]] == ["office:POL:1"]
    # The history keeps both records; the one the correction names by id, once it arrives, is the one replaced.
    ingested = action("cn:C.N.1.2013.TREATIES-XXVI.5", "POL", "2012-12-28", notification="C.N.1.2013.TREATIES-XXVI.5")
    await apply(client, db, [ingested])
    again = await views.get("XXVI-5")
    assert again is not None and again.revision > view.revision
    assert [a.event_id for a in again.record.superseded["POL"]] == ["cn:C.N.1.2013.TREATIES-XXVI.5"]
    assert {d["_id"] async for d in db.events.find({"participant": "POL"}, {"_id": 1})} == {
        "office:POL:1",
        "cn:C.N.1.2013.TREATIES-XXVI.5",
        "cn:C.N.45.2013.TREATIES-XXVI.5",
    }


async def test_a_notified_entry_into_force_is_kept_on_the_treaty_and_read_as_its_stated_date(
    client: AsyncMongoClient[Document], db: AsyncDatabase[Document]
) -> None:
    views = store.TreatyViews(db)
    notified = event(
        "treaty.entered_into_force",
        {"treaty_id": "XXVI-5", "date": "1999-03-01", "notification": "C.N.522.1998.TREATIES-XXVI.5"},
        "cn:C.N.522.1998.TREATIES-XXVI.5",
    )
    # Before the treaty is registered: known by the stated date alone, and not listed as registered.
    await apply(client, db, [notified])
    alone = await views.get("XXVI-5")
    assert alone is not None and alone.treaty is None
    assert (alone.record.entry.on, alone.record.entry.shown) == (date(1999, 3, 1), "stated")
    assert await store.treaties(db) == []
    # Registered without a stated date of its own: the notification's is the rules' stated date.
    assert MINE_BAN_RULES.entry_into_force is not None
    unstated = MINE_BAN_RULES.model_copy(
        update={"entry_into_force": MINE_BAN_RULES.entry_into_force.model_copy(update={"stated_date": None})}
    )
    registered = event(
        "treaty.registered", {"treaty_id": "XXVI-5", "title": "Mine Ban", "rules": unstated.model_dump(mode="json")}
    )
    await apply(client, db, [registered, action("nor", "NOR", "1998-07-09")])
    view = await views.get("XXVI-5")
    assert view is not None and view.treaty is not None and view.treaty["title"] == "Mine Ban"
    assert view.record.notified == StatedEntry(date(1999, 3, 1), "C.N.522.1998.TREATIES-XXVI.5")
    assert view.record.entry.stated == date(1999, 3, 1) and view.record.entry.computed is None
    assert [d["_id"] for d in await store.treaties(db)] == ["XXVI-5"]
    doc = await db.treaties.find_one({"_id": "XXVI-5"})
    assert doc is not None and doc["stated_entry_into_force"] == {
        "date": "1999-03-01",
        "notification": "C.N.522.1998.TREATIES-XXVI.5",
        "event_id": "cn:C.N.522.1998.TREATIES-XXVI.5",
    }

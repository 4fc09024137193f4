"""Trust in the registry: SIGKILLed repeatedly during a large import, and rebuilt from the topic, it ends
where an uninterrupted run that read the same events shuffled and twice ends. Registries run as processes."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from tests.conftest import DATA, OUTPUT
from tests.waiting import wait_until
from treatywatch.cli.stack import Ports, Stack
from treatywatch.common.events import ActionRecorded, Event, event_from_dict
from treatywatch.common.kafka import Message, Publisher, ensure_topics
from treatywatch.common.mongo import Document
from treatywatch.common.settings import Settings
from treatywatch.ingest.catalog import catalog_events
from treatywatch.ingest.service import untc_events
from treatywatch.ingest.untc import untc_treaty_id

# Mine Ban (XXVI-5) and some of the largest other files: about 3,000 actions.
FILES = ("26-5.csv", "27-8.csv", "27-7.csv", "26-3.csv", "9-4.csv", "4-9.csv", "18-1.csv", "18-5.csv", "18-9.csv")
KILLS = 3
DATES = ("1975-06-30", "1998-09-16", "1999-03-01", "2009-12-02", "2030-01-01")
NOT_JSON = b'{"type": "treaty.action.recorded", "data": '


def snapshot_events() -> list[Event]:
    """The catalog, the files' actions, corrections of a few of them, a meeting and a report."""
    events: list[Event] = list(catalog_events())
    actions: list[Event] = []
    for name in FILES:
        path = DATA.treaties / name
        if not path.exists():
            continue
        actions += untc_events(path.read_text(encoding="utf-8"), untc_treaty_id(path.stem)).events
    rng = random.Random(4)
    corrections = []
    for original in rng.sample(actions, 12):
        data = original.data.model_dump(mode="json", exclude_none=True)
        corrections.append(
            event_from_dict(
                {
                    "id": f"fix-{original.id}",
                    "type": "treaty.action.recorded",
                    "source": "/tests",
                    "data": {**data, "date": "2001-01-01", "corrects": original.id},
                }
            )
        )
    extras = [
        {
            "type": "meeting.recorded",
            "data": {
                "treaty_id": "XXVI-5",
                "kind": "msp",
                "ordinal": 1,
                "place": "Maputo",
                "start": "1999-05-03",
                "end": "1999-05-07",
            },
        },
        {
            "type": "report.submitted",
            "data": {
                "treaty_id": "XXVI-5",
                "participant": "NOR",
                "kind": "article7",
                "period": "initial",
                "submitted_on": "1999-08-20",
            },
        },
    ]
    events += actions + corrections
    events += [event_from_dict({"id": f"extra-{i}", "source": "/tests", **e}) for i, e in enumerate(extras)]
    return events


@dataclass
class Run:
    stack: Stack
    settings: Settings

    @property
    def url(self) -> str:
        return self.stack.url("registry")


def registry(servers: Stack, name: str, topic: str) -> Run:
    settings = Settings(
        kafka_bootstrap=servers.kafka_bootstrap or "",
        mongo_url=servers.mongo_url or "",
        topic=topic,
        dead_letter_topic=f"{topic}.dlq",
        mongo_db=f"{name}_{uuid.uuid4().hex[:8]}",
    )
    stack = Stack(
        data_dir=OUTPUT / "e2e-registry-trust" / name,
        ports=Ports.free(),
        kafka_bootstrap=servers.kafka_bootstrap,
        mongo_url=servers.mongo_url,
        embedded_kafka=servers.embedded_kafka,
        env={
            "TREATYWATCH_TOPIC": settings.topic,
            "TREATYWATCH_DEAD_LETTER_TOPIC": settings.dead_letter_topic,
            "TREATYWATCH_MONGO_DB": settings.mongo_db,
            "TREATYWATCH_GROUP_ID": f"group-{settings.mongo_db}",
        },
    )
    return Run(stack, settings)


async def publish(settings: Settings, events: list[Event], raw_first: bytes | None = None) -> None:
    await ensure_topics(settings)
    publisher = Publisher(settings)
    await publisher.start()
    try:
        if raw_first is not None:
            await publisher.publish([Message(settings.topic, b"XXVI-5/NOR", raw_first, [])])
        for i in range(0, len(events), 1000):
            await publisher.publish_events(events[i : i + 1000])
    finally:
        await publisher.stop()


@pytest.fixture(scope="module")
def mongo(servers: Stack) -> Iterator[MongoClient[Document]]:
    client: MongoClient[Document] = MongoClient(servers.mongo_url, tz_aware=True)
    try:
        yield client
    finally:
        client.close()


def applied(mongo: MongoClient[Document], run: Run) -> int:
    return mongo[run.settings.mongo_db].events.count_documents({})


def reached(mongo: MongoClient[Document], run: Run, target: int) -> bool:
    return applied(mongo, run) >= target


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return snapshot_events()


@pytest.fixture(scope="module")
def killed(servers: Stack, mongo: MongoClient[Document], events: list[Event]) -> Iterator[Run]:
    """A registry SIGKILLed KILLS times while it applies the import, then left to finish."""
    run = registry(servers, "killed", f"trust-{uuid.uuid4().hex[:8]}")
    asyncio.run(publish(run.settings, events, raw_first=NOT_JSON))
    distinct = len({e.id for e in events})

    try:
        for kill in range(1, KILLS + 1):
            run.stack.start_service("registry")
            target = distinct * kill // (KILLS + 1)
            wait_until(partial(reached, mongo, run, target), f"{target} events applied", timeout_s=60)
            run.stack.kill("registry")
        # The same port, so the same static group member: it resumes from the group's committed offsets.
        run.stack.start_service("registry")
        run.stack.wait_ready(("registry",))
        wait_until(lambda: applied(mongo, run) == distinct, "every event applied after the kills", timeout_s=90)
        yield run
    finally:
        run.stack.stop()


@pytest.fixture(scope="module")
def clean(servers: Stack, mongo: MongoClient[Document], events: list[Event]) -> Iterator[Run]:
    """An uninterrupted registry fed the same events shuffled, each twice, on a topic of its own."""
    run = registry(servers, "clean", f"trust-clean-{uuid.uuid4().hex[:8]}")
    shuffled = events * 2
    random.Random(11).shuffle(shuffled)
    asyncio.run(publish(run.settings, shuffled))
    try:
        run.stack.start_service("registry")
        run.stack.wait_ready(("registry",))
        distinct = len({e.id for e in events})
        wait_until(lambda: applied(mongo, run) == distinct, "every event applied", timeout_s=90)
        yield run
    finally:
        run.stack.stop()


def answers(run: Run, treaty_ids: list[str]) -> dict[str, Any]:
    """Every treaty's stats on several dates, participants and timeline, as the registry serves them."""
    out: dict[str, Any] = {}
    with httpx.Client(base_url=run.url, timeout=30) as http:
        for treaty_id in treaty_ids:
            for as_of in DATES:
                out[f"{treaty_id} stats {as_of}"] = http.get(f"/v1/treaties/{treaty_id}/stats?as_of={as_of}").json()
                participants = http.get(f"/v1/treaties/{treaty_id}/participants?as_of={as_of}").json()
                out[f"{treaty_id} participants {as_of}"] = participants
            out[f"{treaty_id} timeline"] = http.get(f"/v1/treaties/{treaty_id}/timeline").json()
    return out


def treaty_ids(events: list[Event]) -> list[str]:
    return sorted({e.data.treaty_id for e in events if isinstance(e.data, ActionRecorded)})


def test_sigkilled_repeatedly_the_registry_ends_as_an_uninterrupted_run_of_shuffled_duplicates(
    killed: Run, clean: Run, mongo: MongoClient[Document], events: list[Event]
) -> None:
    ids = treaty_ids(events)
    assert len(ids) >= 8
    expected = answers(clean, ids)
    assert answers(killed, ids) == expected
    assert expected["XXVI-5 stats 2009-12-02"]["parties"] == 156
    # The corrections took effect: no participant of any treaty still shows a corrected record.
    corrected = {e.data.corrects for e in events if isinstance(e.data, ActionRecorded) and e.data.corrects}
    shown = {
        a["event_id"] for k, v in expected.items() if "participants" in k for p in v["items"] for a in p["actions"]
    }
    assert shown and not corrected & shown

    # The audit trail has every event exactly once, numbered without gaps, in both runs.
    for run in (killed, clean):
        seqs = sorted(d["seq"] for d in mongo[run.settings.mongo_db].events.find({}, {"seq": 1}))
        assert seqs == list(range(1, len({e.id for e in events}) + 1))
    letters = httpx.get(f"{killed.url}/v1/dead-letters", timeout=10).json()["items"]
    assert [d["value"] for d in letters] == [NOT_JSON.decode()]


def comparable(db: Any) -> dict[str, Any]:
    """Every collection without what depends on when or in which order events were applied."""
    out: dict[str, Any] = {}
    for name in ("treaties", "resolutions", "meetings", "reports", "revisions"):
        out[name] = list(db[name].find({}).sort("_id", 1))
    out["events"] = {
        d["_id"]: {k: v for k, v in d.items() if k not in ("seq", "applied_at")} for d in db.events.find({})
    }
    out["dead_letters"] = [(d["_id"], d["reason"], d["value"]) for d in db.dead_letters.find({}).sort("_id", 1)]
    return out


def test_a_rebuild_from_the_topic_equals_the_live_database(killed: Run, mongo: MongoClient[Document]) -> None:
    database = f"rebuilt_{uuid.uuid4().hex[:8]}"
    env = {**os.environ, **killed.stack.service_env("registry")}
    command = [sys.executable, "-m", "treatywatch.cli.registry", "rebuild", "--into", database]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"TREATYWATCH_MONGO_DB={database}" in done.stdout
    live, rebuilt = mongo[killed.settings.mongo_db], mongo[database]
    assert comparable(rebuilt) == comparable(live)

    # A second rebuild into the same database is refused rather than mixed in.
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "not empty" in again.stdout

"""The import through the CLI while the registry and notify are SIGKILLed at random moments and restarted: the
registry ends as an undisturbed one does, every event reaches a catch-all webhook, and no webhook-id changes body."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from tests.conftest import DATA, OUTPUT
from tests.receiver import Receiver, webhook_receiver
from tests.waiting import wait_until
from treatywatch.cli.client import read_titles
from treatywatch.cli.stack import Ports, Stack
from treatywatch.common.mongo import Document
from treatywatch.ingest.catalog import catalog_events, is_catalogued
from treatywatch.ingest.untc import parse_status_file, untc_treaty_id

KEY = "crashes-" + uuid.uuid4().hex
TREATIES = DATA.treaties
FULL = bool(os.environ.get("FAULTS_FULL"))
# The full snapshot with FAULTS_FULL=1 (make faults); a slice of it otherwise, to fit CI's time.
FILES = sorted(TREATIES.glob("*.csv"))[: None if FULL else 80]
KILLS = 5
SEED = 7
PATIENCE_S = 900 if FULL else 120
STATS_DATES = ("1960-01-01", "1985-06-30", "2000-01-01", "2015-12-31", "2100-01-01")
PARTICIPANTS_DATES = ("1990-01-01", "2100-01-01")
CLEAN_DB = "clean_registry"


def expected_events(files: list[Path]) -> tuple[set[str], set[str]]:
    """The ids of ingest's catalog and of the actions the files hold; the treaties it registers (titled, not
    catalogued), whose ids are digests of what it registers."""
    titles = read_titles(TREATIES)
    known = {e.id for e in catalog_events()}
    registered: set[str] = set()
    for path in files:
        treaty_id = untc_treaty_id(path.stem)
        known |= {a.event_id for a in parse_status_file(path.read_text(encoding="utf-8"), treaty_id).actions}
        if treaty_id in titles and not is_catalogued(treaty_id):
            registered.add(treaty_id)
    return known, registered


@pytest.fixture
def restarts() -> Iterator[ThreadPoolExecutor]:
    """Threads that kill and restart services. A process gets SIGTERM when the thread that started it ends
    (PR_SET_PDEATHSIG), so they end after the platform: the test asks for this fixture before `platform`."""
    with ThreadPoolExecutor(2) as pool:
        yield pool


@pytest.fixture
def platform() -> Iterator[Stack]:
    """The three services on a broker and database of their own, since this test kills services."""
    # A folder of its own: sessions may run side by side in one tree.
    (OUTPUT / "faults").mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(dir=OUTPUT / "faults", prefix="crashes-"))
    stack = Stack(
        data_dir=data_dir,
        ports=Ports.free(),
        api_key=KEY,
        env={
            # A delivery whose notify was killed mid-attempt is taken up again within seconds, not minutes.
            "TREATYWATCH_DELIVERY_TIMEOUT_S": "1",
            "TREATYWATCH_WORKER_TTL_S": "2",
            "TREATYWATCH_DELIVERY_IDLE_POLL_S": "0.5",
            "TREATYWATCH_RETRY_SCHEDULE_S": "[0, 0.5, 1, 2, 4, 8, 16, 32]",
        },
    )
    try:
        stack.start_servers()
        # Ingest starts in the test, once the webhook subscription exists, so its catalog is delivered too.
        for service in ("registry", "notify"):
            stack.start_service(service)
        stack.wait_ready(("registry", "notify"))
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def clean(platform: Stack) -> Iterator[Stack]:
    """A second, undisturbed registry reading the same topic in another group into another database."""
    stack = Stack(
        data_dir=platform.data_dir / "clean",
        ports=Ports.free(),
        api_key=KEY,
        kafka_bootstrap=platform.kafka_bootstrap,
        mongo_url=platform.mongo_url,
        embedded_kafka=platform.embedded_kafka,
        env={"TREATYWATCH_GROUP_ID": "clean-registry", "TREATYWATCH_MONGO_DB": CLEAN_DB},
    )
    try:
        stack.start_service("registry")
        stack.wait_ready(("registry",))
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def mongo(platform: Stack) -> Iterator[MongoClient[Document]]:
    client: MongoClient[Document] = MongoClient(platform.mongo_url, tz_aware=True)
    try:
        yield client
    finally:
        client.close()


def applied(mongo: MongoClient[Document], database: str) -> int:
    """Events a registry has applied, read from its database (it answers while the registry is down)."""
    return mongo[database].events.count_documents({})


def delivered(receiver: Receiver) -> int:
    return len(receiver.ids())


def event_log(stack: Stack) -> list[str]:
    """The ids of the registry's audit trail, in order."""
    ids: list[str] = []
    after = "0"
    with httpx.Client(base_url=stack.url("registry"), timeout=30) as http:
        while True:
            page = http.get("/v1/events", params={"after": after, "limit": 1000}).json()
            if not page["items"]:
                return ids
            ids += [e["id"] for e in page["items"]]
            after = page["next"]


def answers(stack: Stack, treaty_ids: list[str]) -> dict[str, Any]:
    """Each treaty's stats on several dates and its participants on two, as the registry serves them."""
    out: dict[str, Any] = {}
    with httpx.Client(base_url=stack.url("registry"), timeout=30) as http:
        for treaty_id in treaty_ids:
            for as_of in STATS_DATES:
                out[f"{treaty_id} stats {as_of}"] = http.get(f"/v1/treaties/{treaty_id}/stats?as_of={as_of}").json()
            for as_of in PARTICIPANTS_DATES:
                participants = http.get(f"/v1/treaties/{treaty_id}/participants?as_of={as_of}").json()
                out[f"{treaty_id} participants {as_of}"] = participants
    return out


def kill_schedule(total: int) -> dict[str, list[int]]:
    """KILLS moments for each service, as counts of events its own progress has reached."""
    rng = random.Random(SEED)
    return {s: sorted(int(total * rng.uniform(0.05, 0.9)) for _ in range(KILLS)) for s in ("registry", "notify")}


@pytest.mark.timeout(PATIENCE_S * 3)
def test_sigkilled_registry_and_notify_lose_double_and_alter_nothing(
    restarts: ThreadPoolExecutor,
    platform: Stack,
    clean: Stack,
    mongo: MongoClient[Document],
    capsys: pytest.CaptureFixture[str],
) -> None:
    known, registered = expected_events(FILES)
    total = len(known) + len(registered)
    treaty_ids = sorted(untc_treaty_id(p.stem) for p in FILES)
    with webhook_receiver() as receiver:
        created = httpx.post(
            f"{platform.url('notify')}/v1/subscriptions",
            json={"url": receiver.url, "event_types": ["*"]},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        platform.start_service("ingest")
        platform.wait_ready(("ingest",))

        started = time.monotonic()
        with open(platform.log_dir / "cli.log", "wb") as out:
            cli = subprocess.Popen(
                [sys.executable, "-m", "treatywatch.cli.main", "import", "untc", *map(str, FILES)],
                env={**os.environ, "TREATYWATCH_INGEST_URL": platform.url("ingest"), "TREATYWATCH_API_KEY": KEY},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        # Each service dies when its own progress reaches its next moment: the registry by the events it
        # applied (read from its database, which answers while it is down), notify by the webhooks it sent.
        progress = {"registry": partial(applied, mongo, "treatywatch_registry"), "notify": partial(delivered, receiver)}

        def reached(service: str, moment: int) -> bool:
            return progress[service]() >= moment

        def kill_repeatedly(service: str, moments: list[int]) -> list[tuple[str, int, float]]:
            kills = []
            for moment in moments:
                wait_until(partial(reached, service, moment), f"{service} at {moment} events", PATIENCE_S)
                platform.kill(service)
                kills.append((service, progress[service](), round(time.monotonic() - started, 1)))
                platform.start_service(service)
                platform.wait_ready((service,))
            return kills

        # One thread per service, so that one's restart does not hold back the other's kills.
        done = [restarts.submit(kill_repeatedly, s, moments) for s, moments in kill_schedule(total).items()]
        kills = sorted((k for future in done for k in future.result()), key=lambda k: k[2])

        assert cli.wait(timeout=PATIENCE_S) == 0, platform.log_tail("cli")
        wait_until(lambda: applied(mongo, CLEAN_DB) >= total, "the clean registry to apply every event", PATIENCE_S)
        wait_until(lambda: progress["registry"]() >= total, "the killed registry to apply every event", PATIENCE_S)
        wait_until(lambda: delivered(receiver) >= total, "every event to be delivered", PATIENCE_S)
        finished = time.monotonic() - started
        requests = list(receiver.requests)

    expected = event_log(clean)
    assert len(expected) == len(set(expected)) == total
    assert known <= set(expected)
    log = event_log(platform)
    assert len(log) == len(set(log)), "the killed registry applied an event twice"
    assert set(log) == set(expected)
    assert answers(platform, treaty_ids) == answers(clean, treaty_ids)

    bodies: dict[str, set[bytes]] = {}
    for request in requests:
        bodies.setdefault(request.headers["webhook-id"], set()).add(request.body)
    changed = {webhook_id: len(b) for webhook_id, b in bodies.items() if len(b) > 1}
    assert not changed, f"webhook-ids delivered with different bodies: {changed}"
    assert {json.loads(next(iter(b)))["id"] for b in bodies.values()} == set(expected)

    assert [service for service, *_ in kills].count("registry") == KILLS
    assert [service for service, *_ in kills].count("notify") == KILLS
    with capsys.disabled():
        print(
            f"\ncrash test: {len(FILES)} files, {total} events, all applied and delivered in {finished:.1f} s;"
            f" {len(kills)} kills (service, events done, s): {kills};"
            f" {len(requests)} deliveries, {len(requests) - len(bodies)} duplicates"
        )

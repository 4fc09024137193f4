"""What the fault tests that import the snapshot share: the platform under test, an undisturbed registry beside
it, the import through the CLI, and the registry's and the webhook receiver's progress and answers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from pymongo import MongoClient

from tests.conftest import DATA, OUTPUT
from tests.receiver import Receiver
from tests.waiting import wait_until
from treatywatch.cli.client import read_titles
from treatywatch.cli.stack import Ports, Stack
from treatywatch.common.mongo import Document
from treatywatch.ingest.catalog import catalog_events, is_catalogued
from treatywatch.ingest.untc import parse_status_file, untc_treaty_id

TREATIES = DATA.treaties
FULL = bool(os.environ.get("FAULTS_FULL"))
# The full snapshot with FAULTS_FULL=1 (make faults); a slice of it otherwise, to fit CI's time.
FILES = sorted(TREATIES.glob("*.csv"))[: None if FULL else 80]
PATIENCE_S = 900 if FULL else 300
# How often a condition that counts documents is polled: SecantusDB scans the collection under its global lock
# (half a second for 30,000 events), and the default 50 ms poll kept it from serving the services at all.
DB_POLL_S = 1.0
REGISTRY_DB = "treatywatch_registry"
CLEAN_DB = "clean_registry"
STATS_DATES = ("1960-01-01", "1985-06-30", "2000-01-01", "2015-12-31", "2100-01-01")
PARTICIPANTS_DATES = ("1990-01-01", "2100-01-01")
# A delivery whose notify was killed mid-attempt is taken up again within seconds, not minutes.
QUICK_NOTIFY = {
    "TREATYWATCH_DELIVERY_TIMEOUT_S": "1",
    "TREATYWATCH_WORKER_TTL_S": "2",
    "TREATYWATCH_DELIVERY_IDLE_POLL_S": "0.5",
    "TREATYWATCH_RETRY_SCHEDULE_S": "[0, 0.5, 1, 2, 4, 8, 16, 32]",
}


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


@contextmanager
def platform_under_test(name: str, key: str, replicas: int = 1, env: dict[str, str] | None = None) -> Iterator[Stack]:
    """Registry and notify (`replicas` of each) on a broker and database of their own, since the test kills
    them. Ingest is left to the test, to start once its webhook subscription exists so the catalog is
    delivered too."""
    # A folder of its own: sessions may run side by side in one tree.
    (OUTPUT / "faults").mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(dir=OUTPUT / "faults", prefix=f"{name}-"))
    env = QUICK_NOTIFY | (env or {})
    stack = Stack(data_dir=data_dir, ports=Ports.free(), api_key=key, replicas=replicas, env=env)
    try:
        stack.start_servers()
        for replica in range(replicas):
            # One replica at a time joins its groups (see Stack.start_services).
            for service in ("registry", "notify"):
                stack.start_service(service, replica)
            stack.wait_ready(("registry", "notify"), only=replica)
        yield stack
    finally:
        stack.stop()
        # The servers' data goes; the processes' logs stay in test-output/, to read when the test failed.
        for servers in ("kafka", "mongo"):
            shutil.rmtree(data_dir / servers, ignore_errors=True)


@contextmanager
def clean_registry(platform: Stack) -> Iterator[Stack]:
    """A second, undisturbed registry reading the same topic in another group into another database."""
    stack = Stack(
        data_dir=platform.data_dir / "clean",
        ports=Ports.free(),
        api_key=platform.api_key,
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


@contextmanager
def database(platform: Stack) -> Iterator[MongoClient[Document]]:
    client: MongoClient[Document] = MongoClient(platform.mongo_url, tz_aware=True)
    try:
        yield client
    finally:
        client.close()


def subscribe_everything(platform: Stack, receiver: Receiver) -> None:
    created = httpx.post(
        f"{platform.url('notify')}/v1/subscriptions",
        json={"url": receiver.url, "event_types": ["*"]},
        headers={"Authorization": f"Bearer {platform.api_key}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text


def start_import(platform: Stack, files: list[Path]) -> subprocess.Popen[bytes]:
    """`treatywatch import untc` of the files into the platform's ingest, logged to cli.log."""
    env = {**os.environ, "TREATYWATCH_INGEST_URL": platform.url("ingest"), "TREATYWATCH_API_KEY": platform.api_key}
    with open(platform.log_dir / "cli.log", "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "treatywatch.cli.main", "import", "untc", *map(str, files)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def applied(mongo: MongoClient[Document], database: str) -> int:
    """Events a registry has applied, read from its database (it answers while the registry is down)."""
    return mongo[database].events.count_documents({})


def wait_for_everything(
    platform: Stack,
    cli: subprocess.Popen[bytes],
    mongo: MongoClient[Document],
    receiver: Receiver,
    total: int,
    registry_applied: Callable[[], int],
    registry: str,
) -> None:
    """The import ends well; then the clean registry, the registry under test (`registry`, in messages) and the
    catch-all webhook have every one of the `total` events."""
    assert cli.wait(timeout=PATIENCE_S) == 0, platform.log_tail("cli")
    clean_applied = partial(applied, mongo, CLEAN_DB)
    wait_until(lambda: clean_applied() >= total, "the clean registry to apply every event", PATIENCE_S, DB_POLL_S)
    wait_until(lambda: registry_applied() >= total, f"{registry} to apply every event", PATIENCE_S, DB_POLL_S)
    wait_until(lambda: delivered(receiver) >= total, "every event to be delivered", PATIENCE_S)


def delivered(receiver: Receiver) -> int:
    """The webhook-ids the receiver accepted (answered 2xx)."""
    return len({r.headers["webhook-id"] for r in receiver.delivered()})


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


def bodies_by_webhook_id(receiver: Receiver) -> dict[str, set[bytes]]:
    bodies: dict[str, set[bytes]] = {}
    for request in list(receiver.requests):
        bodies.setdefault(request.headers["webhook-id"], set()).add(request.body)
    return bodies

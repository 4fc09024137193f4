"""The platform as a newcomer starts it: `treatywatch run` on ports of its own, and `treatywatch seed` run twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import OUTPUT, ROOT, services_on
from tests.waiting import wait_until
from treatywatch.cli.stack import Ports, Stack

KEY = "seed-" + uuid.uuid4().hex
CLI = [sys.executable, "-m", "treatywatch.cli.main"]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without Treaty Watch settings, so the CLI uses only what a test gives it."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("TREATYWATCH_")}, **extra}


def get(url: str) -> Any:
    response = httpx.get(url, timeout=10)
    return response.json() if response.status_code == 200 else None


def test_run_takes_its_ports_and_loads_and_verifies_the_seed() -> None:
    OUTPUT.mkdir(exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(dir=OUTPUT, prefix="run-"))
    ports = Ports.free()
    flags = [f"--{name}-port={getattr(ports, name)}" for name in ("ingest", "registry", "notify", "kafka")]
    # The database's port from the environment: both ways of giving a port are the CLI's contract.
    env = clean_env(TREATYWATCH_MONGO_PORT=str(ports.mongo), TREATYWATCH_DEV_API_KEY=KEY)
    out = data_dir / "run.out"
    with out.open("wb") as sink:
        run = subprocess.Popen(
            [*CLI, "run", "--data-dir", str(data_dir), *flags], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        wait_until(
            lambda: "is ready" in out.read_text() or run.poll() is not None, "`treatywatch run` to be ready", 120
        )
        printed = out.read_text()
        assert run.poll() is None, printed
        assert "The registry verifies the seed's claim: 156 parties on 2009-12-02" in printed
        assert f"http://127.0.0.1:{ports.ingest}" in printed
        registry = f"http://127.0.0.1:{ports.registry}"
        assert get(f"{registry}/v1/treaties/XXVI-5/stats?as_of=2009-12-02")["parties"] == 156
        claims = get(f"{registry}/v1/resolutions/64%2F56")["claims"]
        assert [c["verified"] for c in claims if c["kind"] == "parties_count"] == [True]

        # A second platform may not share the first one's data folder, whatever its ports.
        other = Ports.free()
        second_flags = [f"--{n}-port={getattr(other, n)}" for n in ("ingest", "registry", "notify", "kafka", "mongo")]
        second = subprocess.run(
            [*CLI, "run", "--data-dir", str(data_dir), *second_flags],
            cwd=ROOT,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert "is in use by another Treaty Watch" in second.stdout
    finally:
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0, out.read_text()


@pytest.fixture(scope="module")
def platform(servers: Stack) -> Iterator[Stack]:
    with services_on(servers, "seed", ("ingest", "registry"), KEY) as stack:
        yield stack


def seed(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [*CLI, "seed", "--ingest-url", stack.url("ingest"), "--api-key", KEY, *args]
    return subprocess.run(argv, cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=180)


def event_ids(stack: Stack) -> list[str]:
    """The audit trail's event ids, in the order they were applied."""
    ids: list[str] = []
    after = "0"
    while True:
        page = get(f"{stack.url('registry')}/v1/events?after={after}&limit=1000")
        if not page["items"]:
            return ids
        ids += [e["id"] for e in page["items"]]
        after = page["next"]


def test_seed_loads_verifies_and_doubles_nothing_when_run_again(platform: Stack) -> None:
    first = seed(platform, "--registry-url", platform.url("registry"))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "The registry verifies the seed's claim: 156 parties on 2009-12-02" in first.stdout
    applied = event_ids(platform)
    assert len(applied) == len(set(applied)) > 156

    again = seed(platform)
    assert again.returncode == 0, again.stdout + again.stderr
    # Whatever the second run published is applied before an event sent after it: then count.
    sentinel: dict[str, Any] = {"id": f"sentinel-{uuid.uuid4()}", "type": "treaty.registered", "source": "/tests/seed"}
    sentinel["data"] = {"treaty_id": "XXVI-99", "title": "A sentinel treaty"}
    response = httpx.post(
        f"{platform.url('ingest')}/v1/events",
        content=json.dumps(sentinel),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    wait_until(lambda: get(f"{platform.url('registry')}/v1/treaties/XXVI-99"), "the sentinel to be applied")
    assert event_ids(platform) == [*applied, sentinel["id"]]
    assert get(f"{platform.url('registry')}/v1/treaties/XXVI-5/stats?as_of=2009-12-02")["parties"] == 156


def test_seed_from_a_folder_without_the_data_names_what_is_missing(platform: Stack) -> None:
    empty = Path(tempfile.mkdtemp(dir=OUTPUT, prefix="no-data-"))
    result = seed(platform, "--data", str(empty))
    assert result.returncode == 1
    assert "26-5.csv" in result.stdout and "A-RES-64-56.txt" in result.stdout

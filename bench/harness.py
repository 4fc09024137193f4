"""What every benchmark shares: a fresh platform as processes, percentiles, peak memory, results."""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import pycountry
from tests.receiver import Receiver

from treatywatch.cli.seed import Data
from treatywatch.cli.stack import Ports, Stack

ROOT = Path(__file__).resolve().parents[1]
DATA = Data(ROOT / "data")
WORK = ROOT / "test-output" / "bench"
RESULTS = ROOT / "bench" / "results" / "latest.json"
API_KEY = "bench-" + uuid.uuid4().hex
# Live traffic touches many participations, a few actions each: every current country on 40 treaties.
PARTICIPANTS = tuple(sorted(c.alpha_3 for c in pycountry.countries))
TREATIES = 40


def action_events(count: int, source: str) -> list[dict[str, Any]]:
    """Distinct, valid action events spread over treaties and participants."""
    return [
        {
            "id": f"bench-{uuid.uuid4()}",
            "type": "treaty.action.recorded",
            "source": source,
            "data": {
                "treaty_id": f"XXVI-{i % TREATIES + 1}",
                "participant": PARTICIPANTS[i // TREATIES % len(PARTICIPANTS)],
                "action": "signature",
                "date": f"{1990 + i % 30}-0{1 + i % 9}-1{i % 9}",
            },
        }
        for i in range(count)
    ]


@contextmanager
def running_platform(
    name: str, services: Sequence[str] = ("ingest", "registry", "notify"), replicas: int = 1
) -> Iterator[Stack]:
    """A fresh broker, database and `replicas` processes of the given services, stopped afterwards."""
    data_dir = WORK / name
    shutil.rmtree(data_dir, ignore_errors=True)
    stack = Stack(data_dir=data_dir, ports=Ports.free(), api_key=API_KEY, replicas=replicas)
    try:
        stack.start_servers()
        # One replica of each at a time, as Stack.start_services does: each joins its groups after the last.
        for replica in range(replicas):
            for service in services:
                stack.start_service(service, replica)
            stack.wait_ready(tuple(services), only=replica)
        yield stack
    finally:
        stack.stop()


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by the nearest-rank method."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "count": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan"),
    }


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU time (user + system) used so far by each of the platform's processes, with the children in its process
    group (ingest's parser workers), by process name."""
    tick = os.sysconf("SC_CLK_TCK")
    groups = {process.pid: name for name, process in stack.processes.items()}
    used = dict.fromkeys(groups.values(), 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name may hold spaces and parentheses: the fields are after its last ')'.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        name = groups.get(int(fields[2]))
        if name is not None:
            used[name] += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
    return used


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    packages = ("aiokafka", "pymongo", "fastapi", "pydantic", "noida-db", "secantusdb", "uvicorn", "httpx")
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "cores": len([line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("processor")]),
        "memory_gb": round(int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024, 1),
        "python": platform.python_version(),
        "versions": {name: metadata.version(name) for name in packages},
    }


def write_results(results: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


def first_arrivals(receiver: Receiver) -> dict[str, float]:
    """Event id -> when its first webhook arrived (time.monotonic, as the receiver stamps it)."""
    seen: dict[str, float] = {}
    for request in list(receiver.requests):
        seen.setdefault(json.loads(request.body)["id"], request.at)
    return seen


def conflicting_webhook_ids(receiver: Receiver) -> int:
    """How many webhook-ids arrived with two different bodies (must be none)."""
    bodies: dict[str, set[bytes]] = {}
    for request in list(receiver.requests):
        bodies.setdefault(request.headers["webhook-id"], set()).add(request.body)
    return sum(1 for b in bodies.values() if len(b) > 1)


def subscribe(stack: Stack, url: str, event_types: Sequence[str] = ("*",)) -> str:
    """A subscription of `url` to every event; returns its id."""
    response = httpx.post(
        f"{stack.url('notify')}/v1/subscriptions",
        json={"url": url, "event_types": list(event_types)},
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["id"])


def metric_sum(stack: Stack, service: str, name: str, replica: int = 0) -> float:
    """The sum of a Prometheus counter's samples across labels, scraped from a service's replica."""
    text = httpx.get(f"{stack.url(service, replica)}/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float, every_s: float = 0.1) -> None:
    """Poll until the condition holds; fail loudly on timeout so no figure is reported for unfinished work."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(every_s)

"""Registry read latency on the full UNTC snapshot: 32 concurrent clients on `stats?as_of=` and
`participants?as_of=` over random treaties and dates, against a registry process fed through Kafka.

Run: `.venv/bin/python -m bench.queries` (about two minutes; the load goes through the real consumer).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import date, timedelta

import httpx
from pymongo import MongoClient

from bench.harness import DATA, machine, running_platform, summary_ms
from treatywatch.cli.stack import Stack
from treatywatch.common.events import Event
from treatywatch.common.kafka import Publisher, ensure_topics
from treatywatch.common.mongo import Document
from treatywatch.common.settings import Settings
from treatywatch.ingest.catalog import catalog_events
from treatywatch.ingest.service import untc_events
from treatywatch.ingest.untc import untc_treaty_id

CLIENTS = 32
REQUESTS_PER_CLIENT = 150
PATHS = {"stats": "/v1/treaties/{}/stats?as_of={}", "participants": "/v1/treaties/{}/participants?as_of={}"}


def snapshot() -> tuple[list[Event], list[str]]:
    """Every action of every status file in the snapshot, after the catalog; and the treaties acted on."""
    events: list[Event] = list(catalog_events())
    treaties: set[str] = set()
    for path in sorted(DATA.treaties.glob("*.csv")):
        treaty_id = untc_treaty_id(path.stem)
        actions = untc_events(path.read_text(encoding="utf-8"), treaty_id).events
        events += actions
        treaties |= {treaty_id} if actions else set()
    return events, sorted(treaties)


async def publish(stack: Stack, events: list[Event]) -> None:
    settings = Settings(kafka_bootstrap=stack.kafka_bootstrap or "")
    await ensure_topics(settings)
    publisher = Publisher(settings, timeout_s=60)
    await publisher.start()
    try:
        for i in range(0, len(events), 2000):
            await publisher.publish_events(events[i : i + 2000])
    finally:
        await publisher.stop()


def wait_applied(stack: Stack, expected: int) -> float:
    started = time.monotonic()
    with MongoClient[Document](stack.mongo_url) as mongo:
        events = mongo["treatywatch_registry"].events
        while events.count_documents({}) < expected:
            if time.monotonic() - started > 900:
                raise TimeoutError("the registry did not apply the snapshot in 15 minutes")
            time.sleep(0.5)
    return time.monotonic() - started


class Connection:
    """A bare HTTP/1.1 keep-alive GET client: on two cores, a full client library costs more CPU than the
    registry it measures, and the clients' own queueing would then be what the percentiles show."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self._reader, self._writer, self._host = reader, writer, host

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, host)

    async def get(self, path: str) -> tuple[int, bytes]:
        self._writer.write(f"GET {path} HTTP/1.1\r\nHost: {self._host}\r\n\r\n".encode())
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
        body = await self._reader.readexactly(int(headers["content-length"]))
        return int(lines[0].split()[1]), body

    def close(self) -> None:
        self._writer.close()


async def clients(host: str, port: int, kind: str, treaties: list[str]) -> list[float]:
    """CLIENTS closed-loop clients, each on its own connection, timing every request."""
    latencies: list[float] = []
    first, span = date(1950, 1, 1), (date(2025, 1, 1) - date(1950, 1, 1)).days

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        connection = await Connection.open(host, port)
        try:
            for _ in range(REQUESTS_PER_CLIENT):
                path = PATHS[kind].format(rng.choice(treaties), first + timedelta(days=rng.randint(0, span)))
                started = time.perf_counter()
                status, body = await connection.get(path)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"{path}: {status} {body[:200]!r}")
        finally:
            connection.close()

    await asyncio.gather(*(client(i) for i in range(CLIENTS)))
    return latencies


async def warm(base_url: str, treaties: list[str]) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        for treaty_id in treaties:
            (await http.get(f"/v1/treaties/{treaty_id}/stats")).raise_for_status()


def run() -> dict[str, object]:
    """Load the full snapshot, then 32 concurrent clients on stats and participants; latencies and rates."""
    events, treaties = snapshot()
    print(f"snapshot: {len(events)} events, {len(treaties)} treaties with actions", flush=True)
    with running_platform("queries", services=("registry",)) as stack:
        asyncio.run(publish(stack, events))
        load_s = wait_applied(stack, len({e.id for e in events}))
        print(f"applied through Kafka in {load_s:.1f} s", flush=True)
        base_url = stack.url("registry")
        asyncio.run(warm(base_url, treaties))
        results: dict[str, object] = {"events": len(events), "treaties": len(treaties), "load_s": round(load_s, 1)}
        for kind in PATHS:
            started = time.perf_counter()
            latencies = asyncio.run(clients("127.0.0.1", stack.ports.registry, kind, treaties))
            elapsed = time.perf_counter() - started
            summary = summary_ms(latencies) | {"requests_per_s": round(len(latencies) / elapsed)}
            results[kind] = summary
            print(f"{kind:<13} {CLIENTS} clients: {json.dumps(summary)}", flush=True)
    return results


if __name__ == "__main__":
    print(json.dumps(run() | {"machine": machine()}, indent=2))

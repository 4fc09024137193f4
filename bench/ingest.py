"""Ingest throughput: `POST /v1/events:batch` (500 per batch) and `POST /v1/events`, beside bare aiokafka."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from bench.harness import API_KEY, action_events, running_platform
from treatywatch.common.events import event_from_dict, partition_key, to_json, with_defaults
from treatywatch.common.settings import Settings

SOURCE = "/bench/ingest"


async def post_batches(url: str, payload: list[dict[str, Any]], batch: int, clients: int) -> float:
    chunks = [payload[i : i + batch] for i in range(0, len(payload), batch)]
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for chunk in chunks:
        queue.put_nowait(chunk)
    headers = {"Authorization": f"Bearer {API_KEY}"}

    async def worker(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            chunk = queue.get_nowait()
            response = await http.post(f"{url}/v1/events:batch", json={"events": chunk}, headers=headers)
            response.raise_for_status()

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60) as http:
        await asyncio.gather(*(worker(http) for _ in range(clients)))
    return len(payload) / (time.perf_counter() - started)


def post_singles(url: str, clients: int, seconds: int) -> float:
    """Requests per second of single-event POSTs under wrk (a C load generator: a Python client saturates first)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    output = subprocess.run(
        [
            wrk,
            "-t2",
            f"-c{clients}",
            f"-d{seconds}s",
            "-s",
            str(Path(__file__).with_name("single_event.lua")),
            "-H",
            f"Authorization: Bearer {API_KEY}",
            "-H",
            "Content-Type: application/json",
            url,
            "--",
            uuid.uuid4().hex[:8],
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"ingest refused requests under load:\n{output}")
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))  # type: ignore[union-attr]


async def bare_producer(bootstrap: str, topic: str, payload: list[dict[str, Any]]) -> float:
    """The baseline: the same events, serialised as ingest does, sent with aiokafka alone (acks=all)."""
    messages = [with_defaults(event_from_dict(e), None) for e in payload]
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        compression_type=Settings().kafka_compression,
        linger_ms=2,
    )
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [await producer.send(topic, to_json(m), key=partition_key(m).encode()) for m in messages]
        await asyncio.gather(*futures)
        return len(payload) / (time.perf_counter() - started)
    finally:
        await producer.stop()


def run(batch_events: int = 40_000, single_seconds: int = 15) -> dict[str, Any]:
    """Events per second through ingest, batched and one by one, and the bare producer's rate."""
    with running_platform("ingest", services=("ingest",)) as stack:
        url = stack.url("ingest")
        assert stack.kafka_bootstrap is not None
        asyncio.run(post_batches(url, action_events(2_000, SOURCE), 500, 2))  # warm-up: connections, JIT caches
        batch_rate = asyncio.run(post_batches(url, action_events(batch_events, SOURCE), 500, 4))
        single_rate = post_singles(url, clients=32, seconds=single_seconds)
        same_payloads = action_events(batch_events, SOURCE)
        baseline = asyncio.run(bare_producer(stack.kafka_bootstrap, "bench-baseline", same_payloads))
    return {
        "batch_events_per_s": round(batch_rate),
        "single_requests_per_s": round(single_rate),
        "baseline_producer_events_per_s": round(baseline),
        "batch_vs_baseline": round(batch_rate / baseline, 2),
    }


if __name__ == "__main__":
    print(run())

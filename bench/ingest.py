"""Ingest throughput: `POST /v1/events:batch` (500 per batch) and `POST /v1/events`, beside bare aiokafka."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.harness import API_KEY, action_events, running_platform
from treatywatch.common.events import event_from_dict, with_defaults
from treatywatch.common.kafka import event_message, producer_options, send_batches
from treatywatch.common.settings import Settings

SOURCE = "/bench/ingest"


async def post_batches(url: str, payload: list[dict[str, Any]], batch: int, clients: int) -> float:
    # The bodies are written before the clock starts: on two cores, the client's JSON would be taken from ingest.
    bodies = [json.dumps({"events": payload[i : i + batch]}).encode() for i in range(0, len(payload), batch)]
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}

    async def worker(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            response = await http.post(f"{url}/v1/events:batch", content=body, headers=headers)
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


async def bare_producer(settings: Settings, payload: list[dict[str, Any]]) -> dict[str, float]:
    """The baseline, in events per second: the records ingest would publish for these events (same values, keys
    and headers), built before the clock starts and sent by aiokafka alone, configured as ingest's producer, to a
    new topic partitioned as the event topic; both ways aiokafka sends, a send() per message and a record batch
    per partition."""
    ways = ("send", "batches")
    topics = [f"bench-baseline-{way}-{uuid.uuid4().hex[:8]}" for way in ways]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, settings.topic_partitions, 1) for topic in topics])
    finally:
        await admin.close()
    events = [with_defaults(event_from_dict(e), None) for e in payload]
    producer = AIOKafkaProducer(**producer_options(settings, 60))
    await producer.start()
    rates: dict[str, float] = {}
    try:
        for way, topic in zip(ways, topics, strict=True):
            messages = [event_message(topic, e) for e in events]
            started = time.perf_counter()
            if way == "send":
                futures = [await producer.send(topic, m.value, key=m.key, headers=m.headers) for m in messages]
            else:
                futures = await send_batches(producer, messages)
            await asyncio.gather(*futures)
            rates[way] = len(messages) / (time.perf_counter() - started)
    finally:
        await producer.stop()
    return rates


def run(batch_events: int = 40_000, single_seconds: int = 15, rounds: int = 2) -> dict[str, Any]:
    """Events per second through ingest, batched (the best of `rounds`) and one by one, and the bare producer's
    rate (the faster way, the best of as many rounds, between ingest's rounds)."""
    with running_platform("ingest", services=("ingest",)) as stack:
        url = stack.url("ingest")
        assert stack.kafka_bootstrap is not None
        settings = Settings(kafka_bootstrap=stack.kafka_bootstrap)
        asyncio.run(post_batches(url, action_events(2_000, SOURCE), 500, 2))  # warm-up: connections, JIT caches
        batch_rate, bare = 0.0, {"send": 0.0, "batches": 0.0}
        for _ in range(rounds):
            # Interleaved, so a neighbour's load on the machine falls on both sides of the ratio alike.
            batch_rate = max(batch_rate, asyncio.run(post_batches(url, action_events(batch_events, SOURCE), 500, 4)))
            rates = asyncio.run(bare_producer(settings, action_events(batch_events, SOURCE)))
            bare = {way: max(bare[way], rate) for way, rate in rates.items()}
        single_rate = post_singles(url, clients=32, seconds=single_seconds)
    baseline = max(bare.values())
    return {
        "batch_events_per_s": round(batch_rate),
        "single_requests_per_s": round(single_rate),
        "baseline_producer_events_per_s": round(baseline),
        "baseline_send_per_message_events_per_s": round(bare["send"]),
        "baseline_batch_per_partition_events_per_s": round(bare["batches"]),
        "batch_vs_baseline": round(batch_rate / baseline, 2),
    }


if __name__ == "__main__":
    print(run())

"""The full UNTC snapshot through the CLI until the registry applied and notify delivered every event,
beside a baseline of bare aiokafka (produce and consume) and bare PyMongo (bulk-write the final documents)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient
from tests.receiver import webhook_receiver

from bench.harness import (
    API_KEY,
    DATA,
    conflicting_webhook_ids,
    metric_sum,
    peak_rss_mb,
    running_platform,
    subscribe,
    wait_for,
)
from treatywatch.cli.stack import SERVICES
from treatywatch.common.events import Event, partition_key, to_json, with_defaults
from treatywatch.common.settings import Settings
from treatywatch.ingest.service import untc_events
from treatywatch.ingest.untc import read_index, untc_treaty_id

TREATIES = DATA.treaties


def snapshot_events() -> list[Event]:
    """The events the CLI's import publishes, built in-process by ingest's own code (for counts and baseline)."""
    titles = read_index((TREATIES.parent / "index.csv").read_text(encoding="utf-8"))
    events: list[Event] = []
    for path in sorted(TREATIES.glob("*.csv")):
        treaty_id = untc_treaty_id(path.stem)
        entry = titles.get(treaty_id)
        title, url = (entry.title, entry.url) if entry else (None, None)
        events += untc_events(path.read_text(encoding="utf-8"), treaty_id, title, url).events
    return [with_defaults(e, None) for e in events]


async def bare_kafka(bootstrap: str, events: list[Event]) -> float:
    """Seconds to produce (acks=all) and consume the same events with aiokafka alone."""
    topic = f"baseline-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        compression_type=Settings().kafka_compression,
        linger_ms=2,
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, to_json(e), key=partition_key(e).encode()) for e in events]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=topic, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        seen = 0
        while seen < len(events):
            batch = await consumer.getmany(timeout_ms=500, max_records=500)
            seen += sum(len(records) for records in batch.values())
            await consumer.commit()
    finally:
        await consumer.stop()
    return time.perf_counter() - started


async def bare_mongo(url: str) -> float:
    """Seconds to bulk-write the registry's final documents into a fresh database with PyMongo alone."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    try:
        source = client["treatywatch_registry"]
        collections = {n: [d async for d in source[n].find({})] for n in await source.list_collection_names()}
        target = client[f"baseline_{uuid.uuid4().hex[:8]}"]
        started = time.perf_counter()
        for name, docs in collections.items():
            if docs:
                await target[name].insert_many(docs, ordered=False)
        return time.perf_counter() - started
    finally:
        await client.close()


def run() -> dict[str, Any]:
    """Pipeline seconds, baseline seconds, their ratio and each service's peak memory."""
    events = snapshot_events()
    with running_platform("pipeline") as stack, webhook_receiver() as receiver:
        subscribe(stack, receiver.url)
        applied_before = metric_sum(stack, "registry", "treatywatch_registry_events_applied_total")
        started = time.perf_counter()
        cli = [sys.executable, "-m", "treatywatch.cli.main", "import", "untc", str(TREATIES)]
        subprocess.run(
            [*cli, "--ingest-url", stack.url("ingest"), "--api-key", API_KEY],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        imported = time.perf_counter() - started

        def registry_done() -> bool:
            applied = metric_sum(stack, "registry", "treatywatch_registry_events_applied_total")
            return applied - applied_before >= len(events)

        wait_for(registry_done, "the registry to apply every event", timeout_s=1800, every_s=0.2)
        applied = time.perf_counter() - started
        wait_for(lambda: len(receiver.ids()) >= len(events), "every delivery", timeout_s=1800, every_s=1)
        delivered = time.perf_counter() - started
        memory = {s: peak_rss_mb(stack.processes[s].pid) for s in SERVICES}
        assert stack.kafka_bootstrap and stack.mongo_url
        kafka_s = asyncio.run(bare_kafka(stack.kafka_bootstrap, events))
        mongo_s = asyncio.run(bare_mongo(stack.mongo_url))
        baseline = kafka_s + mongo_s
        conflicting = conflicting_webhook_ids(receiver)
    return {
        "events": len(events),
        "cli_import_s": round(imported, 1),
        "registry_applied_s": round(applied, 1),
        "all_delivered_s": round(delivered, 1),
        "baseline_s": round(baseline, 1),
        "baseline_kafka_s": round(kafka_s, 1),
        "baseline_mongo_s": round(mongo_s, 1),
        "pipeline_vs_baseline": round(delivered / baseline, 2),
        "deliveries_received": len(receiver.requests),
        "webhook_ids_with_two_bodies": conflicting,
        "peak_rss_mb": memory,
    }


if __name__ == "__main__":
    print(run())

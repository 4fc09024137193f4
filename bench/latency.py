"""End-to-end latency at a steady rate: from ingest's 202 to the registry showing the event, and to a
local receiver getting its webhook."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
from tests.receiver import webhook_receiver

from bench.harness import API_KEY, first_arrivals, running_platform, subscribe, summary_ms
from bench.ingest import PARTICIPANTS


async def drive(ingest: str, registry: str, rate: float, seconds: float) -> tuple[dict[str, float], dict[str, float]]:
    """Post `rate` events a second for `seconds`; watch the registry's audit trail; return (202 times, seen)."""
    accepted: dict[str, float] = {}
    seen: dict[str, float] = {}
    total = int(rate * seconds)
    done = asyncio.Event()

    async def watch(http: httpx.AsyncClient) -> None:
        # The audit trail, polled continuously: "showing" is what a client reading the registry sees.
        cursor = (await http.get(f"{registry}/v1/events?after=0&limit=1")).json()["next"]
        while not (done.is_set() and len(seen) >= total):
            page = (await http.get(f"{registry}/v1/events", params={"after": cursor, "limit": 1000})).json()
            now = time.monotonic()
            for item in page["items"]:
                seen.setdefault(item["id"], now)
            cursor = page["next"]
            if not page["items"]:
                await asyncio.sleep(0.002)

    async def post(http: httpx.AsyncClient, i: int) -> None:
        event: dict[str, Any] = {
            "id": f"lat-{uuid.uuid4()}",
            "type": "treaty.action.recorded",
            "source": "/bench/latency",
            "data": {
                "treaty_id": "XXVI-5",
                "participant": PARTICIPANTS[i % len(PARTICIPANTS)],
                "action": "declaration",
                "date": "2010-01-01",
            },
        }
        response = await http.post(f"{ingest}/v1/events", json=event, headers={"Authorization": f"Bearer {API_KEY}"})
        response.raise_for_status()
        accepted[event["id"]] = time.monotonic()

    async with httpx.AsyncClient(timeout=30) as http, httpx.AsyncClient(timeout=30) as watcher:
        watching = asyncio.create_task(watch(watcher))
        started = time.perf_counter()
        posts = []
        for i in range(total):
            await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
            posts.append(asyncio.create_task(post(http, i)))
        await asyncio.gather(*posts)
        done.set()
        await asyncio.wait_for(watching, timeout=120)
    return accepted, seen


def run(rate: float = 100, seconds: float = 60) -> dict[str, Any]:
    """p50/p99 of both paths at `rate` events a second."""
    with running_platform("latency") as stack, webhook_receiver() as receiver:
        subscribe(stack, receiver.url, ["treaty.action.recorded"])
        accepted, seen = asyncio.run(drive(stack.url("ingest"), stack.url("registry"), rate, seconds))
        deadline = time.monotonic() + 120
        while len(receiver.ids()) < len(accepted) and time.monotonic() < deadline:
            time.sleep(0.05)
        arrived = first_arrivals(receiver)
    to_registry = [seen[i] - t for i, t in accepted.items() if i in seen]
    to_webhook = [arrived[i] - t for i, t in accepted.items() if i in arrived]
    return {
        "rate_per_s": rate,
        "seconds": seconds,
        "to_registry": summary_ms(to_registry),
        "to_webhook": summary_ms(to_webhook),
        "missing_in_registry": len(accepted) - len(to_registry),
        "missing_webhooks": len(accepted) - len(to_webhook),
    }


if __name__ == "__main__":
    print(run())

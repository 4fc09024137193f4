"""End-to-end latency at a steady rate: from ingest's 202 to the registry showing the event, and to a
local receiver getting its webhook."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import httpx
from tests.receiver import webhook_receiver

from bench.harness import API_KEY, action_events, first_arrivals, running_platform, subscribe, summary_ms


async def drive(ingest: str, rate: float, seconds: float) -> dict[str, float]:
    """Post `rate` events a second for `seconds`; return each event's 202 time (wall clock)."""
    accepted: dict[str, float] = {}
    payload = action_events(int(rate * seconds), "/bench/latency")

    async def post(http: httpx.AsyncClient, event: dict[str, Any]) -> None:
        response = await http.post(f"{ingest}/v1/events", json=event, headers={"Authorization": f"Bearer {API_KEY}"})
        response.raise_for_status()
        accepted[event["id"]] = time.time()

    async with httpx.AsyncClient(timeout=30) as http:
        started = time.perf_counter()
        posts = []
        for i, event in enumerate(payload):
            await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
            posts.append(asyncio.create_task(post(http, event)))
        await asyncio.gather(*posts)
    return accepted


def applied_times(registry: str) -> dict[str, float]:
    """Each applied event's commit time, from the registry's audit trail (read once, after the run: polling
    it during the run would load the very services being measured)."""
    applied: dict[str, float] = {}
    cursor = "0"
    with httpx.Client(timeout=30) as http:
        while True:
            page = http.get(f"{registry}/v1/events", params={"after": cursor, "limit": 1000}).json()
            if not page["items"]:
                return applied
            for item in page["items"]:
                applied[item["id"]] = datetime.fromisoformat(item["applied_at"]).timestamp()
            cursor = page["next"]


def run(rate: float = 100, seconds: float = 60) -> dict[str, Any]:
    """p50/p99 of both paths at `rate` events a second."""
    with running_platform("latency") as stack, webhook_receiver() as receiver:
        subscribe(stack, receiver.url, ["treaty.action.recorded"])
        # The receiver stamps arrivals with time.monotonic(); this turns them into wall-clock times.
        wall_offset = time.time() - time.monotonic()
        accepted = asyncio.run(drive(stack.url("ingest"), rate, seconds))
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and (
            len(receiver.ids()) < len(accepted)
            or not set(accepted) <= set(seen := applied_times(stack.url("registry")))
        ):
            time.sleep(1)
        seen = applied_times(stack.url("registry"))
        arrived = {i: at + wall_offset for i, at in first_arrivals(receiver).items()}
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

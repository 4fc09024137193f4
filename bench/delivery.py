"""Delivery throughput and delay: events through ingest to N local webhook receivers, on the embedded stack.

Run from the repository root: `.venv/bin/python -m bench.delivery --events 1000 --subscriptions 10`.
Reports deliveries per second and the p50/p99 delay from ingest's 202 to the receiver getting the webhook,
beside a baseline: bare httpx posting the same number of signed bodies to the same receivers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from tests.receiver import Receiver, webhook_receiver
from tests.waiting import wait_until

from treatywatch.cli.stack import Ports, Stack
from treatywatch.common.events import event_from_dict, to_json, with_defaults
from treatywatch.notify.domain import new_secret, signatures

KEY = "bench-" + uuid.uuid4().hex
AUTH = {"Authorization": f"Bearer {KEY}"}


def events(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"bench-{uuid.uuid4()}",
            "type": "treaty.action.recorded",
            "source": "/bench",
            "data": {
                "treaty_id": f"XXVI-{i % 50 + 1}",
                "participant": "NOR",
                "action": "signature",
                "date": "1997-12-03",
            },
        }
        for i in range(count)
    ]


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def run(stack: Stack, receivers: list[Receiver], count: int, batch: int, rate: float | None) -> dict[str, float]:
    """Publish `count` events in batches (paced to `rate` events/s when given) and time every delivery."""
    accepted_at: dict[str, float] = {}
    todo = events(count)
    started = time.monotonic()
    with httpx.Client(base_url=stack.url("ingest"), headers=AUTH, timeout=60) as ingest:
        for i in range(0, count, batch):
            if rate:
                time.sleep(max(0.0, started + i / rate - time.monotonic()))
            chunk = todo[i : i + batch]
            response = ingest.post("/v1/events:batch", json={"events": chunk})
            response.raise_for_status()
            now = time.monotonic()
            accepted_at.update((e["id"], now) for e in chunk)
    expected = count * len(receivers)
    wait_until(
        lambda: sum(len(r.requests) for r in receivers) >= expected, "every delivery", timeout_s=900, every_s=0.2
    )
    delays = [r_.at - accepted_at[json.loads(r_.body)["id"]] for r in receivers for r_ in r.requests]
    last = max(r_.at for r in receivers for r_ in r.requests)
    return {
        "deliveries": len(delays),
        "seconds": round(last - started, 2),
        "deliveries_per_s": round(len(delays) / (last - started), 1),
        "p50_ms": round(percentile(delays, 50) * 1000, 1),
        "p99_ms": round(percentile(delays, 99) * 1000, 1),
        "max_ms": round(max(delays) * 1000, 1),
    }


async def bare_httpx(receivers: list[Receiver], count: int, concurrency: int = 4) -> dict[str, float]:
    """Deliveries per second when bare httpx posts `count` signed event bodies to each receiver,
    `concurrency` at a time per receiver (notify's default per subscription)."""
    secret = new_secret()
    bodies = [to_json(with_defaults(event_from_dict(e), None)) for e in events(count)]

    async def post_all(client: httpx.AsyncClient, receiver: Receiver, slots: asyncio.Semaphore) -> None:
        async def post(body: bytes) -> None:
            async with slots:
                msg_id, timestamp = f"msg_{uuid.uuid4().hex}", int(time.time())
                headers = {
                    "content-type": "application/cloudevents+json",
                    "webhook-id": msg_id,
                    "webhook-timestamp": str(timestamp),
                    "webhook-signature": signatures([secret], msg_id, timestamp, body),
                }
                (await client.post(receiver.url, content=body, headers=headers)).raise_for_status()

        await asyncio.gather(*(post(b) for b in bodies))

    limits = httpx.Limits(max_connections=concurrency * len(receivers))
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(post_all(client, r, asyncio.Semaphore(concurrency)) for r in receivers))
        seconds = time.perf_counter() - started
    return {"deliveries": count * len(receivers), "deliveries_per_s": round(count * len(receivers) / seconds, 1)}


def measure(
    events: int = 1000, subscriptions: int = 10, batch: int = 100, paced_events: int = 300, rate: float = 20.0
) -> dict[str, Any]:
    """A burst of `events` to `subscriptions` receivers, then `paced_events` at `rate`; both runs' figures."""
    with tempfile.TemporaryDirectory(prefix="treatywatch-bench-") as tmp, ExitStack() as exits:
        stack = Stack(data_dir=Path(tmp), ports=Ports.free(), api_key=KEY, env={"TREATYWATCH_TOPIC": "bench"})
        exits.callback(stack.stop)
        stack.start_servers()
        for service in ("ingest", "notify"):
            stack.start_service(service)
        stack.wait_ready(("ingest", "notify"))
        receivers = [exits.enter_context(webhook_receiver()) for _ in range(subscriptions)]
        for receiver in receivers:
            created = httpx.post(
                f"{stack.url('notify')}/v1/subscriptions",
                json={"url": receiver.url, "event_types": ["treaty.action.recorded"]},
                headers=AUTH,
            )
            created.raise_for_status()
        # Subscriptions reach the consumer's next batch; wait until notify serves them.
        wait_until(
            lambda: httpx.get(f"{stack.url('notify')}/v1/subscriptions", headers=AUTH).json()["count"] == subscriptions,
            "the subscriptions",
        )
        burst = run(stack, receivers, events, batch, None)
        for receiver in receivers:
            receiver.requests.clear()
        paced = run(stack, receivers, paced_events, 1, rate)
        for receiver in receivers:
            receiver.requests.clear()
        baseline = asyncio.run(bare_httpx(receivers, events))
    return {
        "burst": {"events": events, "subscriptions": subscriptions, **burst},
        "paced": {"events_per_s": rate, "subscriptions": subscriptions, **paced},
        "baseline_bare_httpx": baseline,
        "burst_vs_baseline": round(burst["deliveries_per_s"] / baseline["deliveries_per_s"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--subscriptions", type=int, default=10)
    parser.add_argument("--batch", type=int, default=100, help="events per ingest request")
    parser.add_argument("--paced-events", type=int, default=300, help="then this many events at --rate")
    parser.add_argument("--rate", type=float, default=20.0, help="events per second of the paced run")
    args = parser.parse_args()
    results = measure(args.events, args.subscriptions, args.batch, args.paced_events, args.rate)
    for name, figures in results.items():
        print(json.dumps({"run": name, **figures}))


if __name__ == "__main__":
    main()

"""Delivery throughput and delay: events through ingest to N local webhook receivers, on the embedded stack.

Run from the repository root: `.venv/bin/python -m bench.delivery --events 1000 --subscriptions 10`.
Reports deliveries per second and the p50/p99 delay from ingest's 202 to the receiver getting the webhook,
beside a baseline: a bare aiohttp sender posting the same number of bodies, signed as notify signs them, to the
same receivers at notify's default concurrency (the fastest of a run before notify's burst and one after).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import multiprocessing
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import uvloop
from tests.receiver import Receiver, webhook_receiver
from tests.waiting import wait_until

from bench.harness import cpu_seconds
from treatywatch.cli.stack import Ports, Stack
from treatywatch.common.events import event_from_dict, to_json, with_defaults
from treatywatch.notify.app import NotifySettings
from treatywatch.notify.domain import delivery_id, new_secret, signatures

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


def run(stack: Stack, receivers: list[Receiver], count: int, batch: int, rate: float | None) -> dict[str, Any]:
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


def sign_v1(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """A Standard Webhooks `v1,` signature: base64 HMAC-SHA256 over `id.timestamp.body`."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


async def bare_aiohttp(urls: list[str], count: int, concurrency: int, max_connections: int) -> dict[str, Any]:
    """Deliveries per second when one aiohttp session posts `count` signed event bodies to each URL.

    What notify sends (the event's JSON, Standard Webhooks headers signed with the subscription's secret, its
    traceparent), at notify's default limits (`concurrency` in flight per URL, `max_connections` in all), over
    one keep-alive pool; `concurrency` workers per URL rather than a task per request, so the sender does as
    little as it can besides sending.
    """
    secret = new_secret()
    key = base64.b64decode(secret.removeprefix("whsec_"))
    made = [with_defaults(event_from_dict(e), None) for e in events(count)]
    bodies = [(e.id, e.traceparent or "", to_json(e)) for e in made]
    msg_id, body = delivery_id("bare", bodies[0][0]), bodies[0][2]
    # The same signature notify's own signing makes, so the baseline does all of notify's signing work.
    assert sign_v1(key, msg_id, 1, body) == signatures([secret], msg_id, 1, body)

    async def worker(session: aiohttp.ClientSession, url: str, subscription: str, todo: Iterator[int]) -> None:
        for i in todo:
            event_id, traceparent, body = bodies[i]
            msg_id, timestamp = delivery_id(subscription, event_id), int(time.time())
            headers = {
                "content-type": "application/cloudevents+json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign_v1(key, msg_id, timestamp, body),
                "traceparent": traceparent,
            }
            async with session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                await response.read()
                if not 200 <= response.status < 300:
                    raise RuntimeError(f"the receiver answered {response.status}")

    connector = aiohttp.TCPConnector(limit=max_connections, limit_per_host=0)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as session:
        started, cpu_started = time.perf_counter(), time.process_time()
        async with asyncio.TaskGroup() as group:
            for n, url in enumerate(urls):
                todo = iter(range(count))
                for _ in range(concurrency):
                    group.create_task(worker(session, url, f"sub-{n}", todo))
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    deliveries = count * len(urls)
    return {
        "deliveries": deliveries,
        "deliveries_per_s": round(deliveries / seconds, 1),
        "cpu_ms_per_delivery": {"sender": round(1000 * cpu_s / deliveries, 3)},
    }


def run_bare_aiohttp(urls: list[str], count: int, concurrency: int, max_connections: int) -> dict[str, Any]:
    """`bare_aiohttp` on uvloop, as notify's uvicorn runs; called in a process of its own."""
    return uvloop.run(bare_aiohttp(urls, count, concurrency, max_connections))


def baseline(receivers: list[Receiver], count: int) -> dict[str, Any]:
    """The bare sender in its own process (as notify is: the receivers' threads here do not share its GIL)."""
    defaults = NotifySettings.model_fields
    concurrency = defaults["subscription_concurrency"].default
    max_connections = defaults["delivery_max_connections"].default
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        urls = [r.url for r in receivers]
        receiving = time.process_time()
        result: dict[str, Any] = pool.submit(run_bare_aiohttp, urls, count, concurrency, max_connections).result()
        # This process does nothing else meanwhile: its CPU is the receivers'.
        result["cpu_ms_per_delivery"]["receivers"] = round(
            1000 * (time.process_time() - receiving) / result["deliveries"], 3
        )
    return {**result, "concurrency_per_receiver": concurrency, "max_connections": max_connections}


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
        # The bare sender runs before notify's burst and after it, on the same receivers; the faster run counts.
        before = baseline(receivers, events)
        clear(receivers)
        cpu_before, receiving = cpu_seconds(stack), time.process_time()
        burst = run(stack, receivers, events, batch, None)
        cpu = {n: s - cpu_before[n] for n, s in cpu_seconds(stack).items()}
        # The receivers', with this process's own sending of the batches to ingest.
        cpu["receivers"] = time.process_time() - receiving
        burst["cpu_ms_per_delivery"] = {n: round(1000 * s / burst["deliveries"], 3) for n, s in cpu.items()}
        clear(receivers)
        paced = run(stack, receivers, paced_events, 1, rate)
        clear(receivers)
        after = baseline(receivers, events)
    bare = max(before, after, key=lambda b: b["deliveries_per_s"])
    return {
        "burst": {"events": events, "subscriptions": subscriptions, **burst},
        "paced": {"events_per_s": rate, "subscriptions": subscriptions, **paced},
        "baseline_bare_aiohttp": {**bare, "runs_per_s": [before["deliveries_per_s"], after["deliveries_per_s"]]},
        "burst_vs_baseline": round(burst["deliveries_per_s"] / bare["deliveries_per_s"], 2),
    }


def clear(receivers: list[Receiver]) -> None:
    for receiver in receivers:
        receiver.requests.clear()


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
        print(json.dumps({"run": name, **figures} if isinstance(figures, dict) else {name: figures}))


if __name__ == "__main__":
    main()

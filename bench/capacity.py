"""Capacity: the highest event rate at which ingest-to-webhook p99 stays within 100 ms, for 1 and for 3 replicas of
every service, with latency and CPU per process at fixed rates, so an operator sees how the cost grows.

The load is open-loop: single-event POSTs to /v1/events at a fixed rate, round-robin over the ingest replicas, from a
process of its own (uvloop, one aiohttp pool), whatever the answers' pace. An event's latency runs from the moment
its POST was due (not when it went out, so a load generator held up by a slow platform cannot hide the delay) to
its webhook arriving at a local receiver. A rate is sustained when every event is accepted, every webhook arrives
and the p99 is within the bound; the search steps from the fixed rates up (doubling) and then bisects.

Run from the repository root: `.venv/bin/python -m bench.capacity --step-s 10 --replicas 1 3`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import uvloop
from tests.receiver import Receiver, webhook_receiver

from bench.harness import (
    API_KEY,
    action_events,
    cpu_seconds,
    first_arrivals,
    metric_sum,
    running_platform,
    subscribe,
    summary_ms,
)
from treatywatch.cli.stack import SERVICES, Stack, process_name

P99_BOUND_MS = 100.0
RATES = (10.0, 100.0, 500.0)
# The target for the webhook path at 100 events/s.
P99_AT_100_TARGET_MS = 25.0


async def drive(urls: list[str], bodies: list[tuple[str, bytes]], rate: float, api_key: str) -> dict[str, Any]:
    """POST each body when it falls due (`rate` a second, round-robin over `urls`), whether or not earlier ones were
    answered; each event's due time (time.monotonic, as the receiver stamps arrivals), answers and CPU used."""
    due: dict[str, float] = {}
    answered: list[float] = []
    late: list[float] = []
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {api_key}", "content-type": "application/json"}

    async def post(session: aiohttp.ClientSession, url: str, body: bytes, at: float) -> None:
        try:
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status != 202:
                    errors.append(f"status {response.status}")
                    return
            answered.append(time.monotonic() - at)
        except aiohttp.ClientError as exc:
            errors.append(type(exc).__name__)

    cpu_started = time.process_time()
    connector = aiohttp.TCPConnector(limit=512, limit_per_host=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.monotonic() + 0.05
        posts = []
        for i, (event_id, body) in enumerate(bodies):
            at = due[event_id] = started + i / rate
            if (wait := at - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            late.append(time.monotonic() - at)
            posts.append(asyncio.create_task(post(session, urls[i % len(urls)] + "/v1/events", body, at)))
        sent_s = time.monotonic() - started
        await asyncio.gather(*posts)
    return {
        "due": due,
        "sent_s": sent_s,
        "errors": errors,
        "accepted": summary_ms(answered),
        "late": summary_ms(late),
        "cpu_s": time.process_time() - cpu_started,
    }


def machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (every core, every process, not only this benchmark's)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def run_drive(urls: list[str], bodies: list[tuple[str, bytes]], rate: float, api_key: str) -> dict[str, Any]:
    """`drive` on uvloop, as the services' uvicorn runs; called in the load generator's own process."""
    return uvloop.run(drive(urls, bodies, rate, api_key))


class Bench:
    """One running platform, its receiver and the load generator's process; steps at given rates."""

    def __init__(
        self, stack: Stack, receiver: Receiver, load: ProcessPoolExecutor, step_s: float, drain_s: float
    ) -> None:
        self.stack, self.receiver, self.load = stack, receiver, load
        self.step_s, self.drain_s = step_s, drain_s
        self.sent = 0
        self.steps: dict[float, dict[str, Any]] = {}

    def consumed_by_registry(self) -> float:
        return sum(
            metric_sum(self.stack, "registry", "treatywatch_events_consumed_total", replica)
            for replica in range(self.stack.replicas)
        )

    def settle(self, webhooks: int, deadline: float) -> bool:
        """Wait until `webhooks` have arrived and the registry has consumed every event sent; False past the
        deadline (the step's work is then not all done: its rate is not sustained)."""
        while len(self.receiver.requests) < webhooks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        while self.consumed_by_registry() < self.sent:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.25)
        return True

    def step(self, rate: float) -> dict[str, Any]:
        """Load the platform at `rate` events a second for `step_s`; latency, losses and CPU per process."""
        self.receiver.requests.clear()
        events = action_events(max(1, round(rate * self.step_s)), "/bench/capacity")
        bodies = [(e["id"], json.dumps(e).encode()) for e in events]
        urls = [self.stack.url("ingest", replica) for replica in range(self.stack.replicas)]
        cpu_before, started = cpu_seconds(self.stack), time.monotonic()
        busy_before, here_before = machine_busy_s(), time.process_time()
        sent = self.load.submit(run_drive, urls, bodies, rate, API_KEY).result()
        self.sent += len(bodies) - len(sent["errors"])
        settled = self.settle(len(bodies) - len(sent["errors"]), time.monotonic() + self.drain_s)
        window_s = time.monotonic() - started
        cpu_after = cpu_seconds(self.stack)
        busy_s, here_s = machine_busy_s() - busy_before, time.process_time() - here_before
        arrived = first_arrivals(self.receiver)
        webhook = summary_ms([arrived[i] - at for i, at in sent["due"].items() if i in arrived])
        missing = len(bodies) - len(sent["due"].keys() & arrived.keys())
        cpu = {name: round(100 * (cpu_after[name] - cpu_before[name]) / window_s, 1) for name in cpu_after}
        cpu["load generator"] = round(100 * sent["cpu_s"] / window_s, 1)
        cpu["receiver"] = round(100 * here_s / window_s, 1)
        # What the rest of the machine (other processes than these) took meanwhile: on a shared machine, the load.
        ours = sum(cpu_after[n] - cpu_before[n] for n in cpu_after) + sent["cpu_s"] + here_s
        cpu["others"] = round(100 * max(0.0, busy_s - ours) / window_s, 1)
        result = {
            "rate_per_s": rate,
            "events": len(bodies),
            "sent_s": round(sent["sent_s"], 2),
            "settled_s": round(window_s, 2),
            "webhook": webhook,
            "accepted_by_ingest": sent["accepted"],
            # How late the load generator sent the POSTs (counted in the latency): a starved generator shows here.
            "sent_late": sent["late"],
            "errors": len(sent["errors"]),
            "missing_webhooks": missing,
            "cpu_percent_of_a_core": cpu,
            "sustained": settled and not sent["errors"] and not missing and webhook["p99_ms"] <= P99_BOUND_MS,
        }
        self.steps[rate] = result
        print(
            f"  {self.stack.replicas} x, {rate:g} events/s: p50 {webhook['p50_ms']} ms, p99 {webhook['p99_ms']} ms, "
            f"{missing} missing, {len(sent['errors'])} errors, settled in {window_s:.1f} s",
            flush=True,
        )
        return result

    def highest_sustained(self, max_rate: float, bisections: int) -> tuple[float, float | None]:
        """The highest rate sustained below the first one that was not, searching up from the rates measured so far
        (doubling), then bisecting; and the lowest rate found not sustained (None if `max_rate` was)."""
        low, high = 0.0, None
        for rate in sorted(self.steps):
            if not self.steps[rate]["sustained"]:
                high = rate
                break
            low = rate
        while high is None and low and low * 2 <= max_rate:
            if self.step(low * 2)["sustained"]:
                low *= 2
            else:
                high = low * 2
        for _ in range(bisections):
            if high is None:
                break
            middle = round((low + high) / 2 / 10) * 10
            if middle in (low, high):
                break
            if self.step(middle)["sustained"]:
                low = middle
            else:
                high = middle
        return low, high


def per_service(cpu: dict[str, float], replicas: int) -> dict[str, Any]:
    """CPU of each service summed over its replicas, each replica's share, the broker and the database."""
    out: dict[str, Any] = {}
    for service in SERVICES:
        shares = [cpu.get(process_name(service, replica), 0.0) for replica in range(replicas)]
        out[service] = round(sum(shares), 1) if replicas == 1 else {"total": round(sum(shares), 1), "each": shares}
    out["broker"], out["database"] = cpu.get("kafka", 0.0), cpu.get("mongo", 0.0)
    for other in ("load generator", "receiver", "others"):
        out[other] = cpu.get(other, 0.0)
    return out


def measure(replicas: int, step_s: float, drain_s: float, max_rate: float, bisections: int) -> dict[str, Any]:
    """The fixed rates, then the search, on a fresh platform of `replicas` processes of each service."""
    spawn = multiprocessing.get_context("spawn")
    with (
        running_platform(f"capacity-{replicas}", replicas=replicas) as stack,
        webhook_receiver() as receiver,
        ProcessPoolExecutor(1, mp_context=spawn) as load,
    ):
        subscribe(stack, receiver.url, ["treaty.action.recorded"])
        bench = Bench(stack, receiver, load, step_s, drain_s)
        # A short warm-up (connections, the consumers' first fetches and the subscription seen by every notify).
        bench.step(10)
        bench.steps.clear()
        for rate in RATES:
            bench.step(rate)
        low, high = bench.highest_sustained(max_rate, bisections)
    steps = dict(sorted(bench.steps.items()))
    for step in steps.values():
        step["cpu_percent_of_a_core"] = per_service(step["cpu_percent_of_a_core"], replicas)
    return {
        "replicas": replicas,
        "max_sustained_per_s": low,
        "first_not_sustained_per_s": high,
        "at": {f"{rate:g}": steps[rate] for rate in RATES},
        "steps": [
            {"rate_per_s": s["rate_per_s"], "p99_ms": s["webhook"]["p99_ms"], "sustained": s["sustained"]}
            for s in steps.values()
        ],
        "at_max": steps.get(low),
    }


def run(
    replicas: tuple[int, ...] = (1, 3),
    step_s: float = 10,
    drain_s: float = 60,
    max_rate: float = 4000,
    bisections: int = 3,
) -> dict[str, Any]:
    """The capacity of each replica count, and the issue's figures: p99 at 100 events/s, 3 replicas against 1."""
    started = time.monotonic()
    by_replicas = {f"{n}": measure(n, step_s, drain_s, max_rate, bisections) for n in replicas}
    one = by_replicas.get("1")
    three = by_replicas.get("3")
    return {
        "bound_p99_ms": P99_BOUND_MS,
        "step_s": step_s,
        "load": "single-event POSTs to /v1/events, open loop, round-robin over the ingest replicas",
        "replicas": by_replicas,
        "webhook_p99_at_100_ms": one["at"]["100"]["webhook"]["p99_ms"] if one else None,
        "webhook_p99_at_100_target_ms": P99_AT_100_TARGET_MS,
        "three_vs_one_replica": (
            round(three["max_sustained_per_s"] / one["max_sustained_per_s"], 2)
            if one and three and one["max_sustained_per_s"]
            else None
        ),
        "seconds": round(time.monotonic() - started),
    }


def table(results: dict[str, Any]) -> str:
    """Latency and CPU per rate and replica count, as a Markdown table (for the README)."""
    rows = [
        "| replicas | events/s | webhook p50 | webhook p99 | ingest's 202 p99 | CPU, % of a core: ingest, registry, "
        "notify, broker, database (load generator, receiver; other processes on the machine) |",
        "|---|---|---|---|---|---|",
    ]
    for n, figures in results["replicas"].items():
        steps = [(f"{rate}", step) for rate, step in figures["at"].items()]
        if figures["at_max"] is not None:
            steps.append((f"**{figures['max_sustained_per_s']:g}** (highest sustained)", figures["at_max"]))
        for label, step in steps:
            cpu = step["cpu_percent_of_a_core"]
            shares = ", ".join(
                f"{cpu[s]['total']} ({' + '.join(f'{v:g}' for v in cpu[s]['each'])})"
                if isinstance(cpu[s], dict)
                else f"{cpu[s]}"
                for s in SERVICES
            )
            lost = f", {step['missing_webhooks']} missing" if step["missing_webhooks"] else ""
            rows.append(
                f"| {n} | {label} | {step['webhook']['p50_ms']} ms | {step['webhook']['p99_ms']} ms{lost} | "
                f"{step['accepted_by_ingest']['p99_ms']} ms | {shares}, {cpu['broker']}, {cpu['database']} "
                f"({cpu['load generator']}, {cpu['receiver']}; {cpu['others']}) |"
            )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--step-s", type=float, default=10, help="seconds of load at each rate")
    parser.add_argument("--drain-s", type=float, default=60, help="at most this long for a step's work to finish")
    parser.add_argument("--max-rate", type=float, default=4000, help="events/s the search goes up to at most")
    parser.add_argument("--bisections", type=int, default=3, help="steps between the last rate sustained and the next")
    args = parser.parse_args()
    results = run(tuple(args.replicas), args.step_s, args.drain_s, args.max_rate, args.bisections)
    print(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    main()

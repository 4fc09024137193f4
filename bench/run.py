"""`make bench`: every benchmark on the real services as processes; a table, and bench/results/latest.json."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench import capacity, delivery, ingest, latency, parsers, pipeline, queries
from bench.harness import RESULTS, machine, write_results

BENCHMARKS: dict[str, Callable[[], dict[str, Any]]] = {
    "ingest": ingest.run,
    "latency": latency.run,
    "pipeline": pipeline.run,
    "queries": queries.run,
    "delivery": delivery.measure,
    "parsers": parsers.run,
    "capacity": capacity.run,
}


def table(results: dict[str, Any]) -> str:
    """The figures as a Markdown table, for the terminal and the README."""
    rows = ["| benchmark | figure | value |", "|---|---|---|"]
    for name, figures in results["benchmarks"].items():
        for key, value in figures.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items())
            rows.append(f"| {name} | {key} | {value} |")
    return "\n".join(rows)


def check(figure: float, bound: float, at_least: bool = False) -> str:
    return "yes" if (figure >= bound if at_least else figure <= bound) else "no"


def targets(benchmarks: dict[str, Any]) -> str:
    """The issue's targets beside what this run measured, as a Markdown table (for the README)."""
    rows = ["| benchmark | measured | baseline in the same run | target | met? |", "|---|---|---|---|---|"]
    if b := benchmarks.get("ingest"):
        rows.append(
            f"| ingest, batch of 500 | {b['batch_events_per_s']:,} events/s | bare aiokafka producer: "
            f"{b['baseline_producer_events_per_s']:,} events/s | 20,000 events/s | "
            f"{check(b['batch_events_per_s'], 20_000, at_least=True)} |"
        )
        rows.append(
            f"| ingest, single event | {b['single_requests_per_s']:,} requests/s | | 1,500 requests/s | "
            f"{check(b['single_requests_per_s'], 1_500, at_least=True)} |"
        )
    if b := benchmarks.get("latency"):
        for path in ("to_registry", "to_webhook"):
            p50, p99 = b[path]["p50_ms"], b[path]["p99_ms"]
            rows.append(
                f"| latency {path.replace('_', ' ')}, {b['rate_per_s']:g} events/s for {b['seconds']:g} s | "
                f"p50 {p50} ms, p99 {p99} ms | | p50 20 ms, p99 100 ms | "
                f"{'yes' if check(p50, 20) == check(p99, 100) == 'yes' else 'no'} |"
            )
    if b := benchmarks.get("queries"):
        for name, bound in (("stats", 20), ("participants", 50)):
            q = b[name]
            rows.append(
                f"| queries `{name}`, 32 clients, full snapshot | p50 {q['p50_ms']} ms, p99 {q['p99_ms']} ms "
                f"({q['requests_per_s']:,}/s) | | p99 {bound} ms | {check(q['p99_ms'], bound)} |"
            )
    if b := benchmarks.get("delivery"):
        burst, bare = b["burst"], b["baseline_bare_aiohttp"]
        rows.append(
            f"| delivery, {burst['events']:,} events to {burst['subscriptions']} subscriptions | "
            f"{burst['deliveries_per_s']:,} deliveries/s | bare aiohttp, signed: {bare['deliveries_per_s']:,}/s | "
            f"1,000/s and 0.8 x bare | {check(burst['deliveries_per_s'], 1_000, at_least=True)}, "
            f"{check(b['burst_vs_baseline'], 0.8, at_least=True)} ({b['burst_vs_baseline']} x) |"
        )
    if b := benchmarks.get("capacity"):
        if (p99 := b["webhook_p99_at_100_ms"]) is not None:
            rows.append(
                f"| capacity: latency to webhook, 100 events/s for {b['step_s']:g} s, 1 replica | p99 {p99} ms | | "
                f"p99 {b['webhook_p99_at_100_target_ms']:g} ms | {check(p99, b['webhook_p99_at_100_target_ms'])} |"
            )
        highest = ", ".join(
            f"{n} replica{'s' if n != '1' else ''} {r['max_sustained_per_s']:g} events/s"
            for n, r in b["replicas"].items()
        )
        ratio = f" (3 against 1: {b['three_vs_one_replica']} x)" if b.get("three_vs_one_replica") else ""
        rows.append(
            f"| capacity: highest rate with webhook p99 within {b['bound_p99_ms']:g} ms | {highest}{ratio} | | "
            "none (2 cores) | |"
        )
    if b := benchmarks.get("pipeline"):
        rows.append(
            f"| import, {b['events']:,} events through CLI, registry and notify | {b['all_delivered_s']} s "
            f"(registry done at {b['registry_applied_s']} s) | bare aiokafka {b.get('baseline_kafka_s', '?')} s "
            f"+ bare PyMongo {b.get('baseline_mongo_s', '?')} s = {b['baseline_s']} s | 1.5 x baseline | "
            f"{check(b['pipeline_vs_baseline'], 1.5)} ({b['pipeline_vs_baseline']} x) |"
        )
        memory = b["peak_rss_mb"]
        rows.append(
            f"| memory, peak during the import | {', '.join(f'{k} {v} MB' for k, v in memory.items())} | | "
            f"200 MB each | {check(max(memory.values()), 200)} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("only", nargs="*", help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)")
    names = parser.parse_args().only or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks {sorted(unknown)}; choose from {', '.join(BENCHMARKS)}")
    results: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
    measured: dict[str, Any] = {}
    for name in names:
        started = time.perf_counter()
        print(f"running {name} ...", flush=True)
        measured[name] = BENCHMARKS[name]()
        print(f"  done in {time.perf_counter() - started:.0f} s: {measured[name]}", flush=True)
    # Running a subset updates those figures and keeps the others of the last run (read now, not at the start,
    # so that a subset run meanwhile keeps its figures too).
    previous = (
        json.loads(RESULTS.read_text())["benchmarks"] if RESULTS.exists() and len(names) < len(BENCHMARKS) else {}
    )
    results["benchmarks"] = {**previous, **measured}
    write_results(results)
    print(table(results))
    print()
    print(targets(results["benchmarks"]))
    if "capacity" in results["benchmarks"]:
        print()
        print(capacity.table(results["benchmarks"]["capacity"]))
    print(f"\nwritten to {RESULTS.relative_to(RESULTS.parents[2])}")


if __name__ == "__main__":
    main()

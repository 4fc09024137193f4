"""`make bench`: every benchmark on the real services as processes; a table, and bench/results/latest.json."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench import delivery, ingest, latency, pipeline, queries
from bench.harness import RESULTS, machine, write_results

BENCHMARKS: dict[str, Callable[[], dict[str, Any]]] = {
    "ingest": ingest.run,
    "latency": latency.run,
    "pipeline": pipeline.run,
    "queries": queries.run,
    "delivery": delivery.measure,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("only", nargs="*", help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)")
    names = parser.parse_args().only or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks {sorted(unknown)}; choose from {', '.join(BENCHMARKS)}")
    results: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
    # Running a subset updates those figures and keeps the others of the last run.
    previous = (
        json.loads(RESULTS.read_text())["benchmarks"] if RESULTS.exists() and len(names) < len(BENCHMARKS) else {}
    )
    results["benchmarks"] = dict(previous)
    for name in names:
        started = time.perf_counter()
        print(f"running {name} ...", flush=True)
        results["benchmarks"][name] = BENCHMARKS[name]()
        print(f"  done in {time.perf_counter() - started:.0f} s: {results['benchmarks'][name]}", flush=True)
    write_results(results)
    print(table(results))
    print(f"\nwritten to {RESULTS.relative_to(RESULTS.parents[2])}")


if __name__ == "__main__":
    main()

"""Parse time per input size of the two document parsers, on real-like and adversarial text, against a linear
budget and beside the baseline: the fastest bare pass over the same characters in the same run (`str.split` into
lines and cells for a status file, into lines and words for a resolution), which no parser can beat.

Adversarial text stays within the caps (cells of 2,000 characters, lines of 50,000), as an attacker's would;
past them a document is refused before it is read.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from itertools import cycle
from typing import Any

from bench.harness import DATA
from treatywatch.ingest.catalog import treaties_by_unts
from treatywatch.ingest.resolution import NotAResolution, parse_resolution
from treatywatch.ingest.untc import MAX_CELL_CHARS, NotAStatusFile, parse_status_file

SIZES_KB = (1, 10, 100, 1000)
# Linear budgets: milliseconds per KB of text and a constant. The real-like text takes under a millisecond a KB;
# the quadratic patterns this replaced took 350 ms a KB at 20 KB, and more the longer the run.
BUDGET_MS_PER_KB = {"status file": 3.0, "resolution": 10.0}
BUDGET_CONSTANT_MS = 5.0
HEADER = 'Participant,Signature,"Ratification, Acceptance(A), Approval(AA), Accession(a), Succession(d)"'


def _fill(header: str, pieces: list[str], size: int) -> str:
    """`header`, then `pieces` in turn (whole: a cut cell or paragraph would be another input) to `size` characters."""
    parts, length = [header], len(header)
    for piece in cycle(pieces):
        if length >= size:
            break
        parts.append(piece)
        length += len(piece)
    return "".join(parts)


def status_file(kind: str, size: int) -> str:
    if kind == "real-like":
        header, _, table = DATA.mine_ban.read_text(encoding="utf-8").partition("\n")
        return _fill(header + "\n", table.splitlines(keepends=True), size)
    # The shapes of the security review and their kin: long runs where a date, a mark or a name could start, each
    # cell under the cap, and a tenth of the text at most so that even 1 KB holds a few rows.
    run = min(MAX_CELL_CHARS - 20, size // 10)
    rows = [
        "Peru,3 Dec 1997" + " " * run + "1x,\n",
        '"' + "1" * run + 'x",3 Dec 1997,\n',
        "Chile,3 Dec 1997 " + "(1)" * (run // 3) + ",\n",
        "Fiji,,4 Dec 1998" + "¹†*" * (run // 3) + " a\n",
        '"Mali",,"3 Dec 1997' + " and" * (run // 4) + ' x"\n',
        "Togo," + "3 Dec " * (run // 6) + ",\n",
    ]
    return _fill(HEADER + "\n", rows, size)


def resolution(kind: str, size: int) -> str:
    head, opening, rest = DATA.resolution.read_text(encoding="utf-8").partition("The General Assembly,\n")
    body, plenary, tail = rest.partition("*55th plenary meeting")
    if kind == "real-like":
        paragraphs = [paragraph + "\n\n" for paragraph in body.split("\n\n") if paragraph.strip()]
        return _fill(head + opening, paragraphs, size - len(plenary) - len(tail)) + plenary + tail
    # Each paragraph a tenth of the text at most, and every line under the cap.
    run = min(40_000, size // 10)
    paragraphs = [
        "Recalling" + " " * run + "its resolutions\n\n",
        "Noting that" + " one" * (run // 4) + " States parties\n\n",
        "Recalling the Convention" + "¹ x" * (run // 3) + "\n\n",
        "Noting" + " entered into force" * (run // 19) + "\n\n",
        "Recalling the first meeting of the States parties, held in" + " Geneva (2000),¹" * (run // 16) + "\n\n",
        "1. *Urges*\n\n" + "a\n\n" * (run // 3),
    ]
    return _fill(head + opening, paragraphs, size)


def _best_ms(read: Callable[[str], object], text: str, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        with contextlib.suppress(NotAResolution, NotAStatusFile):
            read(text)
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 2)


def _bare_cells(text: str) -> object:
    return [line.split(",") for line in text.split("\n")]


def _bare_words(text: str) -> object:
    return [line.split() for line in text.split("\n")]


def run() -> dict[str, Any]:
    """Milliseconds per parse at each size, the baseline's, each parse's budget, and whether all kept to it."""
    treaties = treaties_by_unts()
    parsers: dict[str, tuple[Callable[[str, int], str], Callable[[str], object], Callable[[str], object]]] = {
        "status file": (status_file, lambda text: parse_status_file(text, "XXVI-5"), _bare_cells),
        "resolution": (resolution, lambda text: parse_resolution(text, treaties), _bare_words),
    }
    results: dict[str, Any] = {}
    rows = []
    within = True
    for parser, (make, parse, bare) in parsers.items():
        for kind in ("real-like", "adversarial"):
            figures: dict[str, dict[str, float]] = {"ms": {}, "budget ms": {}, "baseline ms": {}}
            for kb in SIZES_KB:
                text = make(kind, kb * 1024)
                size_kb = len(text.encode()) / 1024
                repeats = 3 if kb >= 100 else 10
                ms, bare_ms = _best_ms(parse, text, repeats), _best_ms(bare, text, repeats)
                budget = round(BUDGET_MS_PER_KB[parser] * size_kb + BUDGET_CONSTANT_MS, 1)
                within = within and ms <= budget
                for name, value in (("ms", ms), ("budget ms", budget), ("baseline ms", bare_ms)):
                    figures[name][f"{kb} KB"] = value
                rows.append(
                    f"| {parser} | {kind} | {size_kb:,.1f} KB | {ms:,.2f} | {ms / size_kb:.3f} | {budget:,.1f} | "
                    f"{'yes' if ms <= budget else 'no'} | {bare_ms:,.2f} | {ms / max(bare_ms, 0.01):,.0f} x |"
                )
            for name, values in figures.items():
                results[f"{parser} {kind} {name}"] = values
    results["within_budget"] = within
    print("| parser | text | size | parse ms | ms per KB | budget ms | within | bare split ms | parse / bare |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows), flush=True)
    return results


if __name__ == "__main__":
    print(run())

"""The data the project ships in `data/` (the UNTC snapshot, the founding resolution) and loading its seed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from treatywatch.cli.client import ImportSummary, Ingest

# Relative to the working directory: the repository's root for `make run`, /app in the cli image.
DATA_DIR = Path("data")


class SeedError(RuntimeError):
    """The seed could not be loaded or verified; the message says what is missing or what failed."""


@dataclass(frozen=True)
class Data:
    """The layout of a data folder: `untc/` (treaties/, declarations/, index.csv) and `resolutions/`."""

    root: Path

    @property
    def treaties(self) -> Path:
        return self.root / "untc" / "treaties"

    @property
    def mine_ban(self) -> Path:
        """The Mine Ban Convention's status file (UNTC `XXVI-5`)."""
        return self.treaties / "26-5.csv"

    @property
    def resolution(self) -> Path:
        """The founding resolution, A/RES/64/56."""
        return self.root / "resolutions" / "A-RES-64-56.txt"

    def check(self) -> None:
        """Raise a SeedError naming the seed files this folder lacks."""
        missing = [str(p) for p in (self.mine_ban, self.resolution) if not p.is_file()]
        if missing:
            raise SeedError(f"no seed in {self.root}: missing {', '.join(missing)} (the repository's data/ has them)")


@dataclass(frozen=True)
class Seeded:
    summary: ImportSummary
    symbol: str
    warnings: int


def load_seed(client: Ingest, data: Data) -> Seeded:
    """Import the Mine Ban Convention's status file and publish resolution 64/56; event ids are fixed, so running it
    again publishes nothing new downstream."""
    data.check()
    summary = client.import_files([data.mine_ban])
    if summary.failed:
        raise SeedError(f"ingest refused {data.mine_ban.name}: {summary.failed[0][1]}")
    resolution = client.resolution(data.resolution)
    return Seeded(summary, resolution["resolution"]["symbol"], len(resolution["warnings"]))


def verified_parties(registry_url: str, symbol: str) -> int | None:
    """The parties found for the resolution's parties-count claims, once the registry verifies all of them."""
    try:
        response = httpx.get(f"{registry_url}/v1/resolutions/{quote(symbol, safe='')}", timeout=5)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    claims: list[dict[str, Any]] = [c for c in response.json()["claims"] if c["kind"] == "parties_count"]
    if not claims or not all(c.get("verified") for c in claims):
        return None
    found: int = claims[0]["found"]
    return found


def wait_verified(registry_url: str, symbol: str, timeout_s: float) -> int:
    """Wait until the registry has applied the seed and verifies its claim; the number of parties it found."""
    deadline = time.monotonic() + timeout_s
    while (found := verified_parties(registry_url, symbol)) is None:
        if time.monotonic() > deadline:
            raise SeedError(f"the registry at {registry_url} has not verified {symbol}'s claim in {timeout_s:.0f} s")
        time.sleep(0.2)
    return found

"""The treaties whose rules ship with the platform, as data (`catalog.json`), registered when ingest starts."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources

from treatywatch.common.events import TreatyRegistered, TreatyRegisteredEvent


@cache
def catalog() -> tuple[TreatyRegistered, ...]:
    """Every shipped treaty, validated against the contract."""
    raw = json.loads(resources.files(__package__).joinpath("catalog.json").read_text(encoding="utf-8"))
    return tuple(TreatyRegistered.model_validate(item) for item in raw)


def catalog_events() -> list[TreatyRegisteredEvent]:
    """One `treaty.registered` per shipped treaty; the id hashes the content, so restarts add no duplicates."""
    events = []
    for treaty in catalog():
        body = treaty.model_dump_json(exclude_none=True).encode()
        digest = hashlib.sha256(body).hexdigest()[:16]
        events.append(
            TreatyRegisteredEvent(
                id=f"catalog:{treaty.treaty_id}:{digest}",
                source="/treatywatch/catalog",
                type="treaty.registered",
                data=treaty,
            )
        )
    return events


def treaties_by_unts() -> dict[tuple[int, int], str]:
    """UNTS (volume, number) to UNTC id, for resolving the treaty a resolution cites."""
    return {(t.unts.volume, t.unts.number): t.treaty_id for t in catalog() if t.unts is not None}


@cache
def _by_id() -> dict[str, TreatyRegistered]:
    return {t.treaty_id: t for t in catalog()}


def catalogued(treaty_id: str) -> TreatyRegistered | None:
    """The shipped treaty with this id (its rules included), or None when ingest does not know it."""
    return _by_id().get(treaty_id)


def is_catalogued(treaty_id: str) -> bool:
    """Whether the treaty ships with the platform (ingest registers it at start-up)."""
    return treaty_id in _by_id()

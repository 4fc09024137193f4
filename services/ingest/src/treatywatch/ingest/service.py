"""Ingest's use cases: events, resolution texts and UNTC status files checked, turned into events, published.

Each use case takes the publisher it publishes with; api.py only reads requests and shapes answers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import structlog
from pydantic import ValidationError

from treatywatch.common.events import (
    ActionRecorded,
    ActionRecordedEvent,
    Event,
    ResolutionAdopted,
    ResolutionAdoptedEvent,
    TreatyRegistered,
    TreatyRegisteredEvent,
    event_from_dict,
    with_defaults,
)
from treatywatch.common.kafka import BrokerUnavailable, Publisher
from treatywatch.common.logging import log
from treatywatch.common.web import validation_errors
from treatywatch.ingest.catalog import is_catalogued, treaties_by_unts
from treatywatch.ingest.resolution import parse_resolution
from treatywatch.ingest.untc import StatusImport, parse_status_file

__all__ = [
    "ContractError",
    "ResolutionRead",
    "UntcImport",
    "import_untc",
    "publish",
    "publish_batch",
    "publish_event",
    "publish_resolution",
    "read_resolution",
    "untc_events",
    "validate_events",
]


class ContractError(ValueError):
    """Input that does not satisfy the event contract; `errors` names every bad field as {path, message, type}."""

    def __init__(self, errors: list[dict[str, Any]], detail: str) -> None:
        super().__init__(detail)
        self.errors, self.detail = errors, detail


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


async def publish(publisher: Publisher, events: Sequence[Event]) -> None:
    """Publish and wait for the broker's acknowledgement; BrokerUnavailable when it does not answer."""
    try:
        await publisher.publish_events(events)
    except BrokerUnavailable as exc:
        log.warning("publish_failed", error=str(exc), events=len(events))
        raise
    for event in events:
        log.info("event_published", event_id=event.id, type=event.type, trace_id=event.trace_id)


# --- events -----------------------------------------------------------------------------------------


def validate_events(items: Sequence[Any], traceparent: str | None, *, batch: bool) -> list[Event]:
    """Every item as a contract event with its defaults; ContractError lists all errors (with indexes in a batch)."""
    events: list[Event] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            events.append(with_defaults(event_from_dict(item), traceparent))
        except ValidationError as exc:
            if batch:
                errors += [{**e, "index": index} for e in validation_errors(exc, ("events", index))]
            else:
                errors += validation_errors(exc)
    if not errors:
        return events
    if not batch:
        raise ContractError(errors, "the event does not match the contract")
    bad = len({e["index"] for e in errors})
    raise ContractError(errors, f"{bad} of {len(items)} events are invalid; none was published")


async def publish_event(publisher: Publisher, item: Any, traceparent: str | None) -> Event:
    """Validate one event and publish it."""
    (event,) = validate_events([item], traceparent, batch=False)
    structlog.contextvars.bind_contextvars(event_id=event.id, trace_id=event.trace_id)
    await publish(publisher, [event])
    return event


async def publish_batch(publisher: Publisher, items: Sequence[Any], traceparent: str | None) -> list[Event]:
    """Validate every event of a batch and publish them together, none if any is invalid."""
    events = validate_events(items, traceparent, batch=True)
    await publish(publisher, events)
    return events


# --- resolutions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolutionRead:
    """A resolution read from its text, what the parser could not find, and its event's id once published."""

    data: ResolutionAdopted
    warnings: list[str]
    event_id: str | None = None


def read_resolution(text: str) -> ResolutionRead:
    """Parse a resolution's text; NotAResolution, or ContractError when the parse breaks the contract."""
    parsed = parse_resolution(text, treaties_by_unts())
    try:
        data = ResolutionAdopted.model_validate(parsed.data)
    except ValidationError as exc:
        raise ContractError(validation_errors(exc), "the parsed resolution does not satisfy the contract") from exc
    return ResolutionRead(data, parsed.warnings)


async def publish_resolution(
    publisher: Publisher, text: str, traceparent: str | None, *, dry_run: bool = False
) -> ResolutionRead:
    """Parse a resolution and, unless a dry run, publish it as `resolution.adopted`."""
    read = read_resolution(text)
    if dry_run:
        return read
    # The id hashes the text, so posting the same text again duplicates nothing.
    event = ResolutionAdoptedEvent(
        id=f"resolution:{read.data.symbol}:{_digest(text, 16)}",
        source="/treatywatch/ingest/resolutions",
        type="resolution.adopted",
        data=read.data,
    )
    await publish(publisher, [with_defaults(event, traceparent)])
    return replace(read, event_id=event.id)


# --- UNTC status files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UntcImport:
    """A status file read into events, beside the parse (rows, rejected rows, unresolved names, columns)."""

    import_id: str
    treaty_id: str
    status: StatusImport
    events: list[Event]


def _registration(treaty_id: str, title: str, url: str | None, source: str) -> TreatyRegisteredEvent:
    try:
        data = TreatyRegistered(treaty_id=treaty_id, title=title, url=url)
    except ValidationError as exc:
        raise ContractError(validation_errors(exc), "the treaty to register does not satisfy the contract") from exc
    digest = _digest(data.model_dump_json(exclude_none=True), 16)
    return TreatyRegisteredEvent(id=f"untc:{treaty_id}:{digest}", source=source, type="treaty.registered", data=data)


def untc_events(text: str, treaty_id: str, title: str | None = None, url: str | None = None) -> UntcImport:
    """A UNTC status file's events: `treaty.registered` first when `title` names a treaty the catalogue lacks,
    then one `treaty.action.recorded` per action. Ids are fixed by content, so a re-import duplicates nothing.

    Raises NotAStatusFile, or ContractError when the treaty or a row breaks the contract.
    """
    status = parse_status_file(text, treaty_id)
    source = f"/treatywatch/ingest/untc/{treaty_id}"
    events: list[Event] = []
    if title and not is_catalogued(treaty_id):
        events.append(_registration(treaty_id, title, url, source))
    try:
        events += [
            ActionRecordedEvent(
                id=a.event_id, source=source, type="treaty.action.recorded", data=ActionRecorded.model_validate(a.data)
            )
            for a in status.actions
        ]
    except ValidationError as exc:
        raise ContractError(validation_errors(exc), "an imported row does not satisfy the contract") from exc
    return UntcImport("imp_" + _digest(text, 20), treaty_id, status, events)


async def import_untc(
    publisher: Publisher,
    text: str,
    treaty_id: str,
    traceparent: str | None,
    title: str | None = None,
    url: str | None = None,
) -> UntcImport:
    """Read a UNTC status file into events and publish them all."""
    imported = untc_events(text, treaty_id, title, url)
    await publish(publisher, [with_defaults(e, traceparent) for e in imported.events])
    return imported

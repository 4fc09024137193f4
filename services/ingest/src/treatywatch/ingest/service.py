"""Ingest's use cases: events, resolution texts, UNTC status files and depositary notifications checked, turned into
events, published.

Each use case takes the publisher it publishes with and the limits it keeps; documents are parsed by the workers
it is given (off the event loop, within a time limit). api.py only reads requests and shapes answers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, get_args

import structlog
from pydantic import ValidationError

from treatywatch.common.events import (
    BINDING_ACTIONS,
    ActionRecorded,
    ActionRecordedEvent,
    AnyEvent,
    Event,
    ResolutionAdopted,
    ResolutionAdoptedEvent,
    TreatyEnteredIntoForce,
    TreatyEnteredIntoForceEvent,
    TreatyRegistered,
    TreatyRegisteredEvent,
    event_from_dict,
    notification_event_id,
    with_defaults,
)
from treatywatch.common.kafka import BrokerUnavailable, Publisher, event_message
from treatywatch.common.logging import log
from treatywatch.common.rules import TreatyRules
from treatywatch.common.web import validation_errors
from treatywatch.ingest.catalog import catalogued, is_catalogued, treaties_by_unts
from treatywatch.ingest.notification import ParsedNotification, action_data, parse_notification
from treatywatch.ingest.pdf import pdf_text
from treatywatch.ingest.resolution import parse_resolution
from treatywatch.ingest.untc import StatusImport, TooManyActions, parse_status_file
from treatywatch.ingest.workers import ParseWorkers

__all__ = [
    "ContractError",
    "EventTooLarge",
    "IncompleteResolution",
    "Limits",
    "NotificationRead",
    "NotifiedEvent",
    "Refused",
    "ResolutionRead",
    "UntcImport",
    "check_sizes",
    "import_untc",
    "message_bytes",
    "notification_events",
    "publish",
    "publish_batch",
    "publish_event",
    "publish_notification",
    "publish_resolution",
    "read_notification",
    "read_resolution",
    "untc_events",
    "validate_events",
]


class Refused(ValueError):
    """Input refused before anything was published; `errors` names what is wrong as {path, message, type}."""

    def __init__(self, errors: list[dict[str, Any]], detail: str) -> None:
        super().__init__(detail)
        self.errors, self.detail = errors, detail

    def __reduce__(self) -> tuple[type[Refused], tuple[list[dict[str, Any]], str]]:
        # Documents are read in worker processes, whose exceptions come back pickled.
        return type(self), (self.errors, self.detail)


class ContractError(Refused):
    """Input that does not satisfy the event contract, or more events than one request may publish."""


class EventTooLarge(Refused):
    """Events larger than a Kafka message may be (the topic's max.message.bytes)."""


@dataclass(frozen=True)
class Limits:
    """What one request may publish: how many events (a batch, or a UNTC import), and how large each."""

    max_events: int = 1_000
    # Kafka's default max.message.bytes is 1 MiB: the broker refuses a larger record, which would surface as a
    # 503 to retry, forever. Checked here, it is a 413 naming the event.
    max_event_bytes: int = 1_000_000


def _digest(content: str | bytes, length: int) -> str:
    return hashlib.sha256(content.encode() if isinstance(content, str) else content).hexdigest()[:length]


def message_bytes(event: Event) -> int:
    """The bytes of an event's Kafka record that count against max.message.bytes: value, key and headers."""
    message = event_message("", event)  # the topic is not part of the record
    return len(message.value) + len(message.key or b"") + sum(len(k) + len(v) for k, v in message.headers)


# Measuring an event writes its JSON, which costs the batch path a quarter of its CPU; most need no measuring. An
# event read from a request body is, as a record, its part of the body written again plus what ingest adds (id,
# time, subject, trace context, key, headers: under this many bytes). Written again, no string grows: JSON escapes
# the same characters whichever way the client wrote them. Numbers can (`1e300` read as an integer is 301 digits),
# so only the types without any are spared.
_ADDED_BYTES = 8 * 1024


def _has_numbers(schema: Any) -> bool:
    """Whether a JSON schema (with its definitions) admits a number anywhere."""
    if isinstance(schema, dict):
        return schema.get("type") in ("integer", "number") or any(_has_numbers(v) for v in schema.values())
    return isinstance(schema, list) and any(_has_numbers(v) for v in schema)


_WITHOUT_NUMBERS = tuple(model for model in get_args(AnyEvent) if not _has_numbers(model.model_json_schema()))


def check_sizes(events: Sequence[Event], limit: int, *, body_bytes: int | None = None, batch: bool = False) -> None:
    """EventTooLarge naming each event whose record is over `limit` bytes (by index and path in a batch).

    `body_bytes`: the size of the request body the events were read from, which spares measuring those that cannot
    be over the limit.
    """
    spared = _WITHOUT_NUMBERS if body_bytes is not None and body_bytes + _ADDED_BYTES <= limit else ()
    over = [
        (index, event, size)
        for index, event in enumerate(events)
        if not isinstance(event, spared) and (size := message_bytes(event)) > limit
    ]
    if not over:
        return
    errors: list[dict[str, Any]] = []
    for index, event, size in over:
        error = {"message": f"{size:,} bytes, more than the {limit:,} a Kafka message may hold", "type": "too_large"}
        errors.append({"path": f"events.{index}", "index": index, "id": event.id, **error} if batch else error)
    if len(events) == 1:
        size = over[0][2]
        detail = f"the event is {size:,} bytes, more than the {limit:,} a Kafka message may hold; it was not published"
    else:
        detail = (
            f"{len(over)} of {len(events)} events are larger than the {limit:,} bytes a Kafka message may hold; "
            "none was published"
        )
    raise EventTooLarge(errors, detail)


async def publish(publisher: Publisher, events: Sequence[Event]) -> None:
    """Publish and wait for the broker's acknowledgement; BrokerUnavailable when it does not answer."""
    try:
        await publisher.publish_events(events)
    except BrokerUnavailable as exc:
        log.warning("publish_failed", error=str(exc), events=len(events))
        raise
    if len(events) == 1:
        (event,) = events
        log.info("event_published", event_id=event.id, type=event.type, trace_id=event.trace_id)
        return
    # One line for many: a line per event cost a batch a quarter of its CPU. Each id and trace id is still in it.
    log.info(
        "events_published",
        count=len(events),
        event_ids=[e.id for e in events],
        trace_ids=[e.trace_id for e in events],
    )


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


async def publish_event(
    publisher: Publisher, item: Any, traceparent: str | None, limits: Limits, *, body_bytes: int | None = None
) -> Event:
    """Validate one event and publish it; `body_bytes`, the size of the body it came in, spares measuring it."""
    (event,) = validate_events([item], traceparent, batch=False)
    structlog.contextvars.bind_contextvars(event_id=event.id, trace_id=event.trace_id)
    check_sizes([event], limits.max_event_bytes, body_bytes=body_bytes)
    await publish(publisher, [event])
    return event


async def publish_batch(
    publisher: Publisher,
    items: Sequence[Any],
    traceparent: str | None,
    limits: Limits,
    *,
    body_bytes: int | None = None,
) -> list[Event]:
    """Validate every event of a batch and publish them together, none if any is invalid or the batch too long."""
    if len(items) > limits.max_events:
        cap = f"at most {limits.max_events:,} events"
        error = {"path": "events", "message": f"{cap} per batch, not {len(items):,}", "type": "too_long"}
        raise ContractError([error], f"a batch holds {cap}; this one has {len(items):,} and none was published")
    events = validate_events(items, traceparent, batch=True)
    check_sizes(events, limits.max_event_bytes, body_bytes=body_bytes, batch=True)
    await publish(publisher, events)
    return events


# --- resolutions ------------------------------------------------------------------------------------


# A resolution is a few pages, an omnibus one a few dozen.
RESOLUTION_MAX_PAGES = 50


class IncompleteResolution(ContractError):
    """A parse that lacks fields the contract requires, refused for publishing: `errors` names each field (`path`)
    with the parser's reason (`message`)."""


def _incomplete(missing: Sequence[tuple[str, str]]) -> IncompleteResolution:
    errors = [{"path": name, "message": reason, "type": "missing"} for name, reason in missing]
    names = ", ".join(name for name, _ in missing)
    return IncompleteResolution(
        errors,
        f"not found: {names}, which the contract requires; the resolution was not published (a dry run answers "
        "what was read)",
    )


@dataclass(frozen=True)
class ResolutionRead:
    """A resolution as read: `fields`, every field of its event's data (None or [] where the parser found nothing);
    `missing`, each required field not found with the reason; `data`, the event's data when none is missing; the
    parser's warnings; and the event's id once published."""

    fields: dict[str, Any]
    warnings: list[str]
    missing: list[tuple[str, str]]
    data: ResolutionAdopted | None = None
    event_id: str | None = None


def _json_bytes_at_least(value: Any) -> int:
    """A lower bound of the size of `value` (parsed data) as JSON without its nulls, found without writing it."""
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, dict):
        entries = [len(key) + 3 + _json_bytes_at_least(item) for key, item in value.items() if item is not None]
        return 1 + sum(entries) + max(len(entries), 1)
    if isinstance(value, list):
        return 1 + sum(_json_bytes_at_least(item) for item in value) + max(len(value), 1)
    return 1


def read_resolution(document: str | bytes, max_event_bytes: int | None = None) -> ResolutionRead:
    """Read a resolution, its text or a PDF's bytes (run in a worker): every field found, and the event's data when
    no required field is missing.

    Raises NoText for a PDF without text, NotAResolution or LineTooLong, EventTooLarge when its event would
    certainly be over `max_event_bytes` (found before building it), ContractError when a complete parse breaks the
    contract's other limits.
    """
    text = pdf_text(document, max_pages=RESOLUTION_MAX_PAGES) if isinstance(document, bytes) else document
    parsed = parse_resolution(text, treaties_by_unts())
    # Repeated texts (a claim quotes its paragraph) can make the event far larger than the document: refuse it
    # here, in the worker, before validating, pickling back or serialising hundreds of megabytes.
    if max_event_bytes is not None and (least := _json_bytes_at_least(parsed.data)) > max_event_bytes:
        error = {"message": f"at least {least:,} bytes, more than {max_event_bytes:,}", "type": "too_large"}
        raise EventTooLarge(
            [{"path": "", **error}],
            f"the resolution's event would be at least {least:,} bytes, more than the {max_event_bytes:,} "
            "a Kafka message may hold; it was not published",
        )
    if not parsed.complete:
        return ResolutionRead(parsed.data, parsed.warnings, parsed.missing)
    try:
        data = ResolutionAdopted.model_validate(parsed.data)
    except ValidationError as exc:
        raise ContractError(validation_errors(exc), "the parsed resolution does not satisfy the contract") from exc
    return ResolutionRead(data.model_dump(mode="json"), parsed.warnings, [], data)


async def publish_resolution(
    publisher: Publisher,
    workers: ParseWorkers,
    document: str | bytes,
    traceparent: str | None,
    limits: Limits,
    *,
    dry_run: bool = False,
) -> ResolutionRead:
    """Read a resolution (its text, or a PDF's bytes) in a worker and, unless a dry run, publish it as
    `resolution.adopted`.

    A dry run answers what was read, complete or not. Publishing an incomplete parse raises IncompleteResolution;
    otherwise a dry run refuses what publishing would, so one that passes with nothing missing publishes when run
    for real.
    """
    read = await workers.run(read_resolution, document, limits.max_event_bytes)
    if read.data is None:
        if dry_run:
            return read
        raise _incomplete(read.missing)
    # The id hashes the document, so posting the same text or PDF again duplicates nothing.
    event = ResolutionAdoptedEvent(
        id=f"resolution:{read.data.symbol}:{_digest(document, 16)}",
        source="/treatywatch/ingest/resolutions",
        type="resolution.adopted",
        data=read.data,
    )
    published = with_defaults(event, traceparent)
    check_sizes([published], limits.max_event_bytes)
    if dry_run:
        return read
    await publish(publisher, [published])
    return replace(read, event_id=published.id)


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


def untc_events(
    text: str, treaty_id: str, title: str | None = None, url: str | None = None, *, max_events: int | None = None
) -> UntcImport:
    """A UNTC status file's events: `treaty.registered` first when `title` names a treaty the catalogue lacks,
    then one `treaty.action.recorded` per action. Ids are fixed by content, so a re-import duplicates nothing.

    Raises NotAStatusFile, or ContractError when the treaty or a row breaks the contract or the file yields more
    than `max_events` events (counted as it is read).
    """
    register = bool(title) and not is_catalogued(treaty_id)
    # Counted as the file is read, in the worker: tens of thousands of events would take seconds to send back and
    # publish, and reading them all first would take the memory the cap is there to spare.
    max_actions = None if max_events is None else max_events - (1 if register else 0)
    try:
        status = parse_status_file(text, treaty_id, max_actions=max_actions)
    except TooManyActions as exc:
        cap = f"at most {max_events:,} events"
        error = {"path": "", "message": f"{cap} per import", "type": "too_long"}
        raise ContractError(
            [error],
            f"the file yields more than {max_events:,} events; an import publishes {cap}, and none was published",
        ) from exc
    source = f"/treatywatch/ingest/untc/{treaty_id}"
    events: list[Event] = []
    if title and register:
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
    workers: ParseWorkers,
    text: str,
    treaty_id: str,
    traceparent: str | None,
    limits: Limits,
    title: str | None = None,
    url: str | None = None,
) -> UntcImport:
    """Read a UNTC status file into events (in a worker) and publish them all."""
    imported = await workers.run(untc_events, text, treaty_id, title, url, max_events=limits.max_events)
    events = [with_defaults(e, traceparent) for e in imported.events]
    check_sizes(events, limits.max_event_bytes)
    await publish(publisher, events)
    return imported


# --- depositary notifications -------------------------------------------------------------------------

NOTIFICATION_SOURCE = "/treatywatch/ingest/notifications"
# What a notification announces: participants' acts, or the treaty's own entry into force.
NotifiedEvent = ActionRecordedEvent | TreatyEnteredIntoForceEvent


@dataclass(frozen=True)
class NotificationRead:
    """A notification as read, the events it announces (`treaty.action.recorded`, or `treaty.entered_into_force`),
    and what a human should check (the parser's warnings first, then ingest's: dates against the treaty's rules)."""

    notification: ParsedNotification
    events: list[NotifiedEvent]
    warnings: list[str]


@dataclass(frozen=True)
class _RuleDate:
    """The date a treaty's rule gives for an act to take effect, with the rule's source; or, with no date, why the
    rules cannot say."""

    value: dt.date | None
    source: str


def _in_force_for_joiner(deposit: dt.date, rules: TreatyRules) -> _RuleDate:
    """In force for a participant: `later_participants` from its deposit, not before the treaty's own stated entry
    into force."""
    later, treaty = rules.later_participants, rules.entry_into_force
    if later is None:
        return _RuleDate(None, "the treaty's rule for later participants is unknown")
    if treaty is not None and treaty.in_force is False:
        return _RuleDate(None, "the catalogue states that the treaty is not in force")
    value, source = later.apply(deposit), later.source or "the rule for later participants"
    if treaty is not None and treaty.stated_date is not None and treaty.stated_date > value:
        value, source = treaty.stated_date, treaty.source or "the treaty's entry into force"
    return _RuleDate(value, source)


def _withdrawal_effect(deposit: dt.date, rules: TreatyRules) -> _RuleDate:
    if rules.withdrawal is not None:
        return _RuleDate(rules.withdrawal.apply(deposit), rules.withdrawal.source or "the withdrawal rule")
    terms = rules.withdrawal_terms
    if terms is not None and not terms.allowed:
        return _RuleDate(None, f"the treaty provides for no withdrawal ({terms.source})")
    if terms is not None:
        return _RuleDate(None, f"the treaty's withdrawal is no notice period ({terms.source})")
    return _RuleDate(None, "the treaty's withdrawal rule is unknown")


def _date_checks(parsed: ParsedNotification) -> list[str]:
    """The date the notification states for the act to take effect against the one the treaty's rules give.

    Only where ingest's catalogue knows the rule; a warning when the two differ, never an override. A succession
    takes effect from the succession of States, which no rule of the treaty counts.
    """
    treaty = catalogued(parsed.treaty_id)
    if treaty is None:
        return [f"{parsed.treaty_id} is not in ingest's catalogue: its rules are unknown, the dates are not checked"]
    if treaty.rules is None:
        return [f"the rules of {parsed.treaty_id} are unknown (none in the catalogue): the dates are not checked"]
    if parsed.action == "withdrawal":
        by_rule = _withdrawal_effect(parsed.date, treaty.rules)
    elif parsed.action in BINDING_ACTIONS and parsed.action != "succession":
        by_rule = _in_force_for_joiner(parsed.date, treaty.rules)
    else:
        return []
    what, stated = str(parsed.action).replace("_", " "), parsed.effective_date
    if by_rule.value is None:
        return [f"{by_rule.source}: the date stated for the {what} is not checked"] if stated is not None else []
    if stated is None:
        return [f"the notification states no date for the {what}; {by_rule.source} gives {by_rule.value}"]
    if stated != by_rule.value:
        return [f"the notification states {stated} for the {what}; {by_rule.source} gives {by_rule.value}"]
    return []


def _corrects(parsed: ParsedNotification) -> tuple[str | None, list[str]]:
    """The event a correction corrects (the id its act got when its notification was ingested), and the warning.

    The registry applies it to the event of that id, else to the participant's act recorded with the corrected
    notification's reference (an act that came from elsewhere).
    """
    if parsed.corrects_reference is None:
        return None, ["the corrected notification is not named: published as an act that corrects no event"]
    return notification_event_id(parsed.corrects_reference), []


def _announced(parsed: ParsedNotification) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """(event id, data) of each act the notification announces, and warnings on how they were made."""
    act_id, act = notification_event_id(parsed.reference), action_data(parsed)
    warnings: list[str] = []
    if parsed.kind == "correction":
        corrects, warnings = _corrects(parsed)
        if corrects is not None:
            act["corrects"] = corrects
    acts = [(act_id, act)]
    # `RATIFICATION WITH RESERVATION`: the binding act, and each statement as an act of its own with the text.
    text = act.pop("text", None) if parsed.with_statements else None
    for statement in parsed.with_statements:
        data = {key: value for key, value in act.items() if key not in ("effective_date", "corrects")}
        acts.append((f"{act_id}:{statement}", {**data, "action": statement, **({"text": text} if text else {})}))
    if len(parsed.with_statements) > 1 and text:
        kinds = " and ".join(parsed.with_statements)
        warnings.append(f"one text holds the {kinds}: each of their events carries it whole")
    return acts, warnings


def _entry_into_force(parsed: ParsedNotification) -> TreatyEnteredIntoForceEvent:
    """The `treaty.entered_into_force` event of a notification of the treaty's own entry into force."""
    data = {
        "treaty_id": parsed.treaty_id,
        "date": parsed.date.isoformat(),
        "notification": parsed.reference,
        "article": parsed.article,
    }
    return TreatyEnteredIntoForceEvent(
        id=notification_event_id(parsed.reference),
        source=NOTIFICATION_SOURCE,
        type="treaty.entered_into_force",
        data=TreatyEnteredIntoForce.model_validate({k: v for k, v in data.items() if v is not None}),
    )


def notification_events(parsed: ParsedNotification) -> NotificationRead:
    """The events a parsed notification announces, with every warning.

    One `treaty.action.recorded` per act, id `cn:<reference>`; a binding act with statements adds one per statement
    (`cn:<reference>:reservation`). A correction corrects `cn:<reference it corrects>`. A treaty's own entry into
    force is one `treaty.entered_into_force`, id `cn:<reference>`. Raises ContractError when the data breaks the
    contract.
    """
    warnings = list(parsed.warnings)
    try:
        if parsed.kind == "entry_into_force":
            return NotificationRead(parsed, [_entry_into_force(parsed)], warnings)
        acts, how = _announced(parsed)
        events: list[NotifiedEvent] = [
            ActionRecordedEvent(
                id=event_id,
                source=NOTIFICATION_SOURCE,
                type="treaty.action.recorded",
                data=ActionRecorded.model_validate(data),
            )
            for event_id, data in acts
        ]
    except ValidationError as exc:
        raise ContractError(validation_errors(exc), "the notification's act does not satisfy the contract") from exc
    return NotificationRead(parsed, events, [*warnings, *_date_checks(parsed), *how])


def read_notification(document: str | bytes) -> NotificationRead:
    """Read one notification, as text or as a PDF's bytes, into its events (run in a worker).

    Raises NoText for a PDF without text, NotANotification, NotificationTooLarge, or ContractError.
    """
    text = pdf_text(document) if isinstance(document, bytes) else document
    return notification_events(parse_notification(text))


def _notified_event(event: Event) -> NotifiedEvent:
    # with_defaults keeps the event's class; its signature only knows the union.
    if not isinstance(event, ActionRecordedEvent | TreatyEnteredIntoForceEvent):
        raise TypeError(f"expected an event a notification announces, not {event.type}")
    return event


async def publish_notification(
    publisher: Publisher,
    workers: ParseWorkers,
    document: str | bytes,
    traceparent: str | None,
    limits: Limits,
    *,
    dry_run: bool = False,
) -> NotificationRead:
    """Read a notification (text, or a PDF's bytes) in a worker and, unless a dry run, publish its events.

    A dry run refuses what publishing would and answers the events as they would be published.
    """
    read = await workers.run(read_notification, document)
    events = [_notified_event(with_defaults(event, traceparent)) for event in read.events]
    check_sizes(events, limits.max_event_bytes)
    if events and not dry_run:
        await publish(publisher, events)
    return replace(read, events=events)

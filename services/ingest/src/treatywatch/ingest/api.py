"""Ingest's HTTP routes: read and bound the body, call the use case (service.py), answer typed or as a problem."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from treatywatch.common.events import ActionRecordedEvent, TreatyEnteredIntoForceEvent
from treatywatch.common.kafka import BrokerUnavailable, Publisher
from treatywatch.common.tracing import request_traceparent
from treatywatch.common.web import Problem, invalid, read_body, require_scope
from treatywatch.ingest import service
from treatywatch.ingest.notification import NotANotification, NotificationTooLarge, ParsedNotification
from treatywatch.ingest.pdf import NoText
from treatywatch.ingest.resolution import LineTooLong, NotAResolution
from treatywatch.ingest.untc import NotAStatusFile
from treatywatch.ingest.workers import ParserStopped, ParseTimeout, ParseWorkers

router = APIRouter(prefix="/v1", tags=["ingest"])
JSON_TYPES = ("application/json", "application/cloudevents+json", "application/cloudevents-batch+json")
CSV_TYPES = ("text/csv", "text/plain", "application/csv")
# Documents (resolutions, notifications) come as text or as the PDF they are published in.
DOCUMENT_TYPES = ("text/plain", "application/pdf")
# The bodies are read by hand (media type, size limit, UTF-8), so their schema is declared here.
JSON_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}}
CSV_BODY = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}}
DOCUMENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@dataclass(frozen=True, slots=True)
class Publishing:
    """What a write publishes with: the producer, the parse workers, the caps, and the caller's trace context."""

    publisher: Publisher
    workers: ParseWorkers
    limits: service.Limits
    traceparent: str | None


async def _publishing(request: Request) -> Publishing:
    # One dependency, not four: each one FastAPI resolves costs the single-event route about 4 % of its time.
    state = request.app.state
    return Publishing(state.publisher, state.workers, state.limits, request_traceparent(request.headers))


Write = Annotated[str, require_scope("ingest:write")]
Outlet = Annotated[Publishing, Depends(_publishing)]


class Accepted(BaseModel):
    id: str


class BatchAccepted(BaseModel):
    ids: list[str]


class MissingField(BaseModel):
    field: str = Field(description="A field `resolution.adopted` requires: symbol, session, title or adopted_on")
    reason: str = Field(description="Why the parser did not find it, in words")


class ResolutionAnswer(BaseModel):
    resolution: dict[str, Any] = Field(
        description="The event's data as read: every field of `resolution.adopted` (the `ResolutionAdopted` "
        "schema), null or [] where the parser found nothing"
    )
    warnings: list[str]
    missing: list[MissingField] = Field(
        description="The required fields not found, each with the reason; a resolution with any is not published"
    )
    id: str | None = Field(default=None, description="The published event's id; absent on a dry run")


class NotificationAnswer(BaseModel):
    notification: ParsedNotification = Field(description="The notification as read, with the parser's warnings")
    events: list[ActionRecordedEvent | TreatyEnteredIntoForceEvent] = Field(
        description="The events published (on a dry run, as they would be): one `treaty.action.recorded` per act, "
        "or the treaty's own `treaty.entered_into_force`; id `cn:<reference>`"
    )
    warnings: list[str] = Field(
        description="What a human should check: the parser's warnings, then the stated dates against the treaty's "
        "rules, corrections"
    )


class Rejected(BaseModel):
    line: int = Field(description="1-based line in the file (the header is 1)")
    reason: str


class UntcImported(BaseModel):
    import_id: str = Field(description="The same for the same file: a re-import publishes the same event ids")
    treaty_id: str
    rows: int
    events: int = Field(description="Events published")
    rejected: list[Rejected]
    unresolved: list[str] = Field(description="Participant names kept without a code")
    columns: list[str] = Field(description="How each column was read")


def _media_type(request: Request, media_types: tuple[str, ...], what: str) -> str:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in media_types:
        accepted = " or ".join(media_types)
        raise Problem(415, "Unsupported media type", f"send {what} ({accepted}), not {media or 'nothing'}")
    return media


def _text(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Problem(400, "Not UTF-8", f"the body is not UTF-8: invalid byte at offset {exc.start}") from exc
    if not text.strip():
        raise Problem(400, "Empty body", "the body is empty")
    return text


async def text_body(request: Request, media_types: tuple[str, ...], what: str) -> str:
    """The body as text: 415 for another media type, 413 over the limit, 400 when empty or not UTF-8."""
    _media_type(request, media_types, what)
    return _text(await read_body(request, request.app.state.settings.max_body_bytes))


async def document_body(request: Request, what: str) -> str | bytes:
    """A document's text (`text/plain`, checked as text_body does) or its PDF's bytes (`application/pdf`)."""
    media = _media_type(request, DOCUMENT_TYPES, what)
    raw = await read_body(request, request.app.state.settings.max_body_bytes)
    if media != "application/pdf":
        return _text(raw)
    if not raw:
        raise Problem(400, "Empty body", "the body is empty")
    return raw


async def json_body(request: Request) -> tuple[Any, int]:
    """The request's JSON body and its size in bytes, with 415, 413 and 400 problems for what is not JSON."""
    text = await text_body(request, JSON_TYPES, "JSON")
    try:
        return json.loads(text), len(text.encode())
    except json.JSONDecodeError as exc:
        raise Problem(400, "Malformed JSON", f"line {exc.lineno} column {exc.colno}: {exc.msg}") from exc


@contextmanager
def problems() -> Iterator[None]:
    """The service's refusals as problem details; a broker that does not answer is a 503 to retry."""
    try:
        yield
    except service.ContractError as exc:
        raise invalid(exc.errors, exc.detail) from exc
    except service.EventTooLarge as exc:
        raise Problem(413, "Event too large", exc.detail, errors=exc.errors) from exc
    except NotAStatusFile as exc:
        raise Problem(422, "Not a UNTC status file", exc.reason) from exc
    except ParseTimeout as exc:
        raise Problem(422, "Document too slow to read", str(exc)) from exc
    except ParserStopped as exc:
        raise Problem(422, "Document not read", str(exc)) from exc
    except NoText as exc:
        raise Problem(422, "No extractable text", str(exc), reason=exc.reason) from exc
    except BrokerUnavailable as exc:
        raise Problem(
            503,
            "Broker unavailable",
            "the event broker did not acknowledge; retry with the same event ids (no duplicates are created)",
            headers={"Retry-After": "5"},
        ) from exc


@contextmanager
def resolution_problems() -> Iterator[None]:
    """A resolution's refusals: not one (422 naming what is missing), a line too long, a parse that lacks fields the
    contract requires (422 with one error per field)."""
    try:
        yield
    except NotAResolution as exc:
        raise Problem(422, "Not a resolution", str(exc), missing=exc.missing) from exc
    except LineTooLong as exc:
        raise Problem(422, "Line too long", str(exc), line=exc.line) from exc
    except service.IncompleteResolution as exc:
        missing = [{"field": e["path"], "reason": e["message"]} for e in exc.errors]
        raise Problem(422, "Incomplete resolution", exc.detail, errors=exc.errors, missing=missing) from exc


@contextmanager
def notification_problems() -> Iterator[None]:
    """A notification's refusals: not one (422 naming what is missing), over the caps."""
    try:
        yield
    except NotANotification as exc:
        errors = [{"path": "body", "message": missing, "type": "missing"} for missing in exc.missing]
        raise Problem(422, "Not a depositary notification", str(exc), errors=errors, missing=exc.missing) from exc
    except NotificationTooLarge as exc:
        # The whole text over its cap is too large; one line over its cap is a text of the wrong shape.
        if exc.what == "the text":
            raise Problem(413, "Notification too large", str(exc)) from exc
        raise Problem(422, "Line too long", str(exc)) from exc


@router.post(
    "/events",
    status_code=202,
    response_model=Accepted,
    summary="Publish one event (a CloudEvent of a contract type)",
    openapi_extra=JSON_BODY,
)
async def post_event(request: Request, _: Write, out: Outlet) -> Accepted:
    body, size = await json_body(request)
    if not isinstance(body, dict):
        raise invalid([{"path": "", "message": "the body must be a JSON object", "type": "object_type"}])
    with problems():
        event = await service.publish_event(out.publisher, body, out.traceparent, out.limits, body_bytes=size)
    return Accepted(id=event.id)


@router.post(
    "/events:batch",
    status_code=202,
    response_model=BatchAccepted,
    summary="Publish a batch of events, all or nothing",
    openapi_extra=JSON_BODY,
)
async def post_batch(request: Request, _: Write, out: Outlet) -> BatchAccepted:
    body, size = await json_body(request)
    items = body.get("events") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise invalid([{"path": "events", "message": "a non-empty list of events is required", "type": "missing"}])
    with problems():
        events = await service.publish_batch(out.publisher, items, out.traceparent, out.limits, body_bytes=size)
    return BatchAccepted(ids=[e.id for e in events])


@router.post(
    "/resolutions",
    status_code=202,
    response_model=ResolutionAnswer,
    response_model_exclude_none=True,
    summary="Read a General Assembly resolution (text or PDF) and publish it as `resolution.adopted`",
    description="A parse that lacks a field the contract requires is not published: it is a 422, Incomplete "
    "resolution, with one error per missing field (`path` the field, `message` why). A dry run answers what was "
    "read, complete or not, with `missing` naming what a publish would lack.",
    openapi_extra=DOCUMENT_BODY,
    responses={200: {"model": ResolutionAnswer, "description": "dry run: the parse, nothing published"}},
)
async def post_resolution(
    request: Request,
    response: Response,
    _: Write,
    out: Outlet,
    dry_run: bool = False,
) -> ResolutionAnswer:
    document = await document_body(request, "one resolution")
    with problems(), resolution_problems():
        read = await service.publish_resolution(
            out.publisher, out.workers, document, out.traceparent, out.limits, dry_run=dry_run
        )
    if dry_run:
        response.status_code = 200
    missing = [MissingField(field=name, reason=reason) for name, reason in read.missing]
    return ResolutionAnswer(resolution=read.fields, warnings=read.warnings, missing=missing, id=read.event_id)


@router.post(
    "/notifications",
    status_code=202,
    response_model=NotificationAnswer,
    response_model_exclude_none=True,
    summary="Read one depositary notification (text or PDF) and publish the acts it announces",
    description="Each act becomes a `treaty.action.recorded` event with id `cn:<reference>`, `notification` the "
    "C.N. reference and `effective_date` the date stated; a treaty's own entry into force becomes a "
    "`treaty.entered_into_force` event with the same id; sending the same notification again publishes nothing "
    "new.",
    openapi_extra=DOCUMENT_BODY,
    responses={200: {"model": NotificationAnswer, "description": "dry run: the parse and the events to publish"}},
)
async def post_notification(
    request: Request,
    response: Response,
    _: Write,
    out: Outlet,
    dry_run: bool = False,
) -> NotificationAnswer:
    document = await document_body(request, "one depositary notification")
    with problems(), notification_problems():
        read = await service.publish_notification(
            out.publisher, out.workers, document, out.traceparent, out.limits, dry_run=dry_run
        )
    if dry_run:
        response.status_code = 200
    return NotificationAnswer(notification=read.notification, events=read.events, warnings=read.warnings)


@router.post(
    "/imports/untc",
    status_code=202,
    response_model=UntcImported,
    summary="Import a UN Treaty Collection status file (CSV) as `treaty.action.recorded` events",
    openapi_extra=CSV_BODY,
)
async def post_untc_import(
    request: Request,
    treaty_id: Annotated[str, Query(pattern=r"^[IVXLC]+-[0-9]+[A-Za-z0-9.-]*$", description="UNTC id, e.g. XXVI-5")],
    _: Write,
    out: Outlet,
    title: Annotated[str | None, Query(max_length=2000, description="registers the treaty when not yet known")] = None,
    url: Annotated[str | None, Query(max_length=2000)] = None,
) -> UntcImported:
    text = await text_body(request, CSV_TYPES, "a UNTC status file as CSV")
    with problems():
        imported = await service.import_untc(
            out.publisher, out.workers, text, treaty_id, out.traceparent, out.limits, title, url
        )
    status = imported.status
    return UntcImported(
        import_id=imported.import_id,
        treaty_id=imported.treaty_id,
        rows=status.rows,
        events=len(imported.events),
        rejected=[Rejected(line=r.line, reason=r.reason) for r in status.rejected],
        unresolved=status.unresolved,
        columns=status.columns,
    )

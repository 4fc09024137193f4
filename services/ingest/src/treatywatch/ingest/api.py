"""Ingest's HTTP routes: events, resolutions and UNTC status files in; CloudEvents to Kafka out."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

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
from treatywatch.common.tracing import request_traceparent
from treatywatch.common.web import Problem, invalid, read_body, require_scope, validation_errors
from treatywatch.ingest.catalog import is_catalogued, treaties_by_unts
from treatywatch.ingest.resolution import NotAResolution, parse_resolution
from treatywatch.ingest.untc import NotAStatusFile, parse_status_file

router = APIRouter(prefix="/v1", tags=["ingest"])
WRITE = require_scope("ingest:write")
JSON_TYPES = ("application/json", "application/cloudevents+json", "application/cloudevents-batch+json")


class Accepted(BaseModel):
    id: str


class BatchAccepted(BaseModel):
    ids: list[str]


async def text_body(request: Request, media_types: tuple[str, ...], what: str) -> str:
    """The body as text: 415 for another media type, 413 over the limit, 400 when empty or not UTF-8."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in media_types:
        raise Problem(415, "Unsupported media type", f"send {what} ({media_types[0]}), not {media or 'nothing'}")
    raw = await read_body(request, request.app.state.settings.max_body_bytes)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Problem(400, "Not UTF-8", f"the body is not UTF-8: invalid byte at offset {exc.start}") from exc
    if not text.strip():
        raise Problem(400, "Empty body", "the body is empty")
    return text


async def json_body(request: Request) -> Any:
    """The request's JSON body, with 415, 413 and 400 problems for what is not JSON."""
    text = await text_body(request, JSON_TYPES, "JSON")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Problem(400, "Malformed JSON", f"line {exc.lineno} column {exc.colno}: {exc.msg}") from exc


def validate_events(items: list[Any], request: Request, batch: bool) -> list[Event]:
    """Validate every event, collecting all errors (with the event's index in a batch) before refusing."""
    traceparent = request_traceparent(request.headers)
    events: list[Event] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        prefix: tuple[str | int, ...] = ("events", index) if batch else ()
        try:
            events.append(with_defaults(event_from_dict(item), traceparent))
        except ValidationError as exc:
            for error in validation_errors(exc, prefix):
                errors.append({**error, "index": index} if batch else error)
    if errors:
        detail = f"{len({e.get('index') for e in errors})} of {len(items)} events are invalid; none was published"
        raise invalid(errors, detail if batch else "the event does not match the contract")
    return events


async def publish(request: Request, events: list[Event]) -> None:
    """Publish and wait for the broker's acknowledgement; 503 with Retry-After when it does not answer."""
    publisher: Publisher = request.app.state.publisher
    try:
        await publisher.publish_events(events)
    except BrokerUnavailable as exc:
        log.warning("publish_failed", error=str(exc), events=len(events))
        raise Problem(
            503,
            "Broker unavailable",
            "the event broker did not acknowledge; retry with the same event ids (no duplicates are created)",
            headers={"Retry-After": "5"},
        ) from exc
    for event in events:
        log.info("event_published", event_id=event.id, type=event.type, trace_id=event.trace_id)


@router.post(
    "/events",
    status_code=202,
    response_model=Accepted,
    summary="Publish one event (a CloudEvent of a contract type)",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}},
)
async def post_event(request: Request, _: str = WRITE) -> JSONResponse:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise invalid([{"path": "", "message": "the body must be a JSON object", "type": "object_type"}])
    (event,) = validate_events([body], request, batch=False)
    structlog.contextvars.bind_contextvars(event_id=event.id, trace_id=event.trace_id)
    await publish(request, [event])
    return JSONResponse({"id": event.id}, status_code=202)


@router.post(
    "/events:batch",
    status_code=202,
    response_model=BatchAccepted,
    summary="Publish a batch of events, all or nothing",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}},
)
async def post_batch(request: Request, _: str = WRITE) -> JSONResponse:
    body = await json_body(request)
    items = body.get("events") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise invalid([{"path": "events", "message": "a non-empty list of events is required", "type": "missing"}])
    events = validate_events(items, request, batch=True)
    await publish(request, events)
    return JSONResponse({"ids": [e.id for e in events]}, status_code=202)


TEXT = {"requestBody": {"required": True, "content": {"text/plain": {"schema": {"type": "string"}}}}}
CSV = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}}


@router.post(
    "/resolutions",
    status_code=202,
    summary="Parse a General Assembly resolution's text and publish it as `resolution.adopted`",
    openapi_extra=TEXT,
    responses={200: {"description": "dry run: the parse, nothing published"}},
)
async def post_resolution(request: Request, dry_run: bool = False, _: str = WRITE) -> JSONResponse:
    text = await text_body(request, ("text/plain",), "the resolution as plain text")
    try:
        parsed = parse_resolution(text, treaties_by_unts())
    except NotAResolution as exc:
        raise Problem(422, "Not a resolution", str(exc), missing=exc.missing) from exc
    try:
        data = ResolutionAdopted.model_validate(parsed.data)
    except ValidationError as exc:
        raise invalid(validation_errors(exc), "the parsed resolution does not satisfy the contract") from exc
    body: dict[str, Any] = {"resolution": data.model_dump(mode="json", exclude_none=True), "warnings": parsed.warnings}
    if dry_run:
        return JSONResponse(body, status_code=200)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    event = with_defaults(
        ResolutionAdoptedEvent(
            id=f"resolution:{data.symbol}:{digest}",
            source="/treatywatch/ingest/resolutions",
            type="resolution.adopted",
            data=data,
        ),
        request_traceparent(request.headers),
    )
    await publish(request, [event])
    return JSONResponse({**body, "id": event.id}, status_code=202)


@router.post(
    "/imports/untc",
    status_code=202,
    summary="Import a UN Treaty Collection status file (CSV) as `treaty.action.recorded` events",
    openapi_extra=CSV,
)
async def post_untc_import(
    request: Request,
    treaty_id: str = Query(pattern=r"^[IVXLC]+-[0-9]+[A-Za-z0-9.-]*$", description="UNTC id, e.g. XXVI-5"),
    title: str | None = Query(default=None, max_length=2000, description="registers the treaty when not yet known"),
    url: str | None = Query(default=None, max_length=2000),
    _: str = WRITE,
) -> JSONResponse:
    text = await text_body(request, ("text/csv", "text/plain", "application/csv"), "a UNTC status file as CSV")
    try:
        result = parse_status_file(text, treaty_id)
    except NotAStatusFile as exc:
        raise Problem(422, "Not a UNTC status file", exc.reason) from exc
    traceparent = request_traceparent(request.headers)
    source = f"/treatywatch/ingest/untc/{treaty_id}"
    events: list[Event] = []
    if title and not is_catalogued(treaty_id):
        registered = TreatyRegistered(treaty_id=treaty_id, title=title, url=url)
        digest = hashlib.sha256(registered.model_dump_json(exclude_none=True).encode()).hexdigest()[:16]
        events.append(
            TreatyRegisteredEvent(
                id=f"untc:{treaty_id}:{digest}", source=source, type="treaty.registered", data=registered
            )
        )
    try:
        events += [
            ActionRecordedEvent(
                id=a.event_id, source=source, type="treaty.action.recorded", data=ActionRecorded.model_validate(a.data)
            )
            for a in result.actions
        ]
    except ValidationError as exc:
        raise invalid(validation_errors(exc), "an imported row does not satisfy the contract") from exc
    events = [with_defaults(e, traceparent) for e in events]
    await publish(request, events)
    import_id = "imp_" + hashlib.sha256(text.encode()).hexdigest()[:20]
    return JSONResponse(
        {
            "import_id": import_id,
            "treaty_id": treaty_id,
            "rows": result.rows,
            "events": len(events),
            "rejected": [{"line": r.line, "reason": r.reason} for r in result.rejected],
            "unresolved": result.unresolved,
            "columns": result.columns,
        },
        status_code=202,
    )

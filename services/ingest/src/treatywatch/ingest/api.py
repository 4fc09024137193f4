"""Ingest's HTTP routes: events, resolutions and UNTC status files in; CloudEvents to Kafka out."""

from __future__ import annotations

import json
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from treatywatch.common.events import Event, event_from_dict, with_defaults
from treatywatch.common.kafka import BrokerUnavailable, Publisher
from treatywatch.common.logging import log
from treatywatch.common.web import Problem, invalid, read_body, require_scope, validation_errors

router = APIRouter(prefix="/v1", tags=["ingest"])
WRITE = require_scope("ingest:write")
JSON_TYPES = ("application/json", "application/cloudevents+json", "application/cloudevents-batch+json")


class Accepted(BaseModel):
    id: str


class BatchAccepted(BaseModel):
    ids: list[str]


async def json_body(request: Request) -> Any:
    """The request's JSON body, with 415, 413 and 400 problems for what is not JSON."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in JSON_TYPES:
        raise Problem(415, "Unsupported media type", f"send JSON (application/json), not {media or 'nothing'}")
    raw = await read_body(request, request.app.state.settings.max_body_bytes)
    if not raw.strip():
        raise Problem(400, "Empty body", "the body is empty")
    try:
        return json.loads(raw)
    except UnicodeDecodeError as exc:
        raise Problem(400, "Not UTF-8", f"the body is not UTF-8 at byte {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise Problem(400, "Malformed JSON", f"line {exc.lineno} column {exc.colno}: {exc.msg}") from exc


def validate_events(items: list[Any], request: Request, batch: bool) -> list[Event]:
    """Validate every event, collecting all errors (with the event's index in a batch) before refusing."""
    traceparent = request.headers.get("traceparent")
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

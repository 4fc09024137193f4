"""Notify's HTTP routes: subscriptions, their secrets, deliveries, retries and replays."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pymongo.asynchronous.database import AsyncDatabase

from treatywatch.common.events import EVENT_TYPES, parse_event
from treatywatch.common.mongo import Document
from treatywatch.common.web import Problem, invalid, require_read, require_scope
from treatywatch.notify import store
from treatywatch.notify.delivery import Deliverer
from treatywatch.notify.domain import (
    header_problems,
    matches,
    new_secret,
    type_matches,
    url_problem,
    webhook_test_event,
)

router = APIRouter(prefix="/v1", tags=["notify"])
WRITE = require_scope("subscriptions:write")
READ = require_read()
REPLAY_BATCH = 500


class Filter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    treaty_ids: list[str] = Field(default_factory=list)
    participants: list[str] = Field(default_factory=list)


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=2000)
    event_types: list[str] = Field(min_length=1)
    filter: Filter = Field(default_factory=Filter)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool = True
    headers: dict[str, str] = Field(default_factory=dict, max_length=20)
    rate_limit: float | None = Field(default=None, gt=0, le=10_000, description="Deliveries per second at most")


class SubscriptionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(default=None, min_length=1, max_length=2000)
    event_types: list[str] | None = Field(default=None, min_length=1)
    filter: Filter | None = None
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None
    headers: dict[str, str] | None = Field(default=None, max_length=20)
    rate_limit: float | None = Field(default=None, gt=0, le=10_000)


class Created(BaseModel):
    id: str
    secret: str


class Rotation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grace_period_s: float | None = Field(
        default=None, ge=0, le=7 * 86400, description="How long the old secret still signs (default: 24 h)"
    )


class Rotated(BaseModel):
    secret: str
    previous_secret_expires_at: datetime | None


class Queued(BaseModel):
    delivery_id: str
    event_id: str


class Replayed(BaseModel):
    events: int = Field(description="Events notify received in the period")
    matched: int = Field(description="Of those, the ones the subscription wants")
    queued: int = Field(description="Deliveries created or started afresh (the rest were delivered or pending)")


def _db(request: Request) -> AsyncDatabase[Document]:
    db: AsyncDatabase[Document] = request.app.state.db
    return db


def _deliverer(request: Request) -> Deliverer:
    deliverer: Deliverer = request.app.state.deliverer
    return deliverer


def _check(request: Request, url: str | None, event_types: list[str] | None, headers: dict[str, str] | None) -> None:
    errors = []
    if url is not None:
        reason = url_problem(url, request.app.state.settings.webhook_http_hosts)
        if reason:
            errors.append({"path": "url", "message": reason, "type": "url_refused"})
    for i, pattern in enumerate(event_types or []):
        if not any(type_matches([pattern], t) for t in EVENT_TYPES) and pattern != "webhook.test":
            errors.append(
                {"path": f"event_types.{i}", "message": f"{pattern!r} matches no event type", "type": "unknown_type"}
            )
    errors += [{"path": "headers", "message": m, "type": "header_refused"} for m in header_problems(headers or {})]
    if errors:
        raise invalid(errors, "the subscription cannot be accepted")


async def _get(db: AsyncDatabase[Document], subscription_id: str) -> Document:
    doc = await db.subscriptions.find_one({"_id": subscription_id})
    if doc is None:
        raise Problem(404, "Not found", f"no subscription {subscription_id!r}")
    return doc


async def _get_delivery(db: AsyncDatabase[Document], delivery_id: str) -> Document:
    doc = await db.deliveries.find_one({"_id": delivery_id})
    if doc is None:
        raise Problem(404, "Not found", f"no delivery {delivery_id!r}")
    return doc


def _enabled(subscription: Document) -> None:
    if not subscription.get("enabled", True):
        raise Problem(
            409,
            "Subscription disabled",
            f"the subscription is disabled ({subscription.get('disabled_reason') or 'by request'}); enable it first",
        )


@router.post("/subscriptions", status_code=201, response_model=Created, summary="Subscribe a webhook URL")
async def create_subscription(request: Request, body: SubscriptionIn, _: str = WRITE) -> Created:
    _check(request, body.url, body.event_types, body.headers)
    doc = {
        "_id": "sub_" + secrets.token_hex(12),
        **body.model_dump(),
        "secret": new_secret(),
        "previous_secrets": [],
        "created_at": datetime.now(UTC),
    }
    await _db(request).subscriptions.insert_one(doc)
    _deliverer(request).refresh()
    return Created(id=doc["_id"], secret=doc["secret"])


@router.get("/subscriptions", summary="All subscriptions", dependencies=[READ])
async def list_subscriptions(request: Request) -> dict[str, Any]:
    items = [store.public_subscription(d) async for d in _db(request).subscriptions.find({}).sort("created_at", 1)]
    return {"items": items, "count": len(items)}


@router.get(
    "/subscriptions/{subscription_id}",
    summary="One subscription (its secret is never shown again)",
    dependencies=[READ],
)
async def get_subscription(request: Request, subscription_id: str) -> dict[str, Any]:
    return store.public_subscription(await _get(_db(request), subscription_id))


@router.patch("/subscriptions/{subscription_id}", summary="Change a subscription; `enabled` pauses or resumes it")
async def patch_subscription(
    request: Request, subscription_id: str, body: SubscriptionPatch, _: str = WRITE
) -> dict[str, Any]:
    db = _db(request)
    current = await _get(db, subscription_id)
    changes = body.model_dump(exclude_unset=True)
    _check(request, changes.get("url"), changes.get("event_types"), changes.get("headers"))
    enabled = changes.pop("enabled", None)
    if changes:
        await db.subscriptions.update_one({"_id": subscription_id}, {"$set": changes})
    if enabled is False and current.get("enabled", True):
        await _deliverer(request).disable(subscription_id, "disabled by request")
    elif enabled is True and not current.get("enabled", True):
        await store.enable(db, subscription_id)
    _deliverer(request).refresh()
    return store.public_subscription(await _get(db, subscription_id))


@router.delete("/subscriptions/{subscription_id}", status_code=204, summary="Delete a subscription and its deliveries")
async def delete_subscription(request: Request, subscription_id: str, _: str = WRITE) -> Response:
    if not await store.delete_subscription(_db(request), subscription_id):
        raise Problem(404, "Not found", f"no subscription {subscription_id!r}")
    _deliverer(request).refresh()
    return Response(status_code=204)


@router.post(
    "/subscriptions/{subscription_id}/secret:rotate",
    response_model=Rotated,
    summary="A new secret; the old one keeps signing (a second signature) for the grace period",
)
async def rotate_secret(
    request: Request,
    subscription_id: str,
    body: Annotated[Rotation | None, Body()] = None,
    _: str = WRITE,
) -> Rotated:
    db = _db(request)
    current = await _get(db, subscription_id)
    now = datetime.now(UTC)
    grace = (
        body.grace_period_s if body and body.grace_period_s is not None else request.app.state.settings.secret_grace_s
    )
    expires = now + timedelta(seconds=grace)
    # A zero grace period is for a leaked secret: every earlier secret stops signing at once.
    previous = []
    if grace > 0:
        kept = [p for p in current.get("previous_secrets") or [] if p["expires_at"] > now]
        previous = [{"secret": current["secret"], "expires_at": expires}, *kept]
    secret = new_secret()
    await db.subscriptions.update_one(
        {"_id": subscription_id}, {"$set": {"secret": secret, "previous_secrets": previous}}
    )
    _deliverer(request).refresh()
    return Rotated(secret=secret, previous_secret_expires_at=expires if grace > 0 else None)


@router.post(
    "/subscriptions/{subscription_id}/test",
    status_code=202,
    response_model=Queued,
    summary="Send a `webhook.test` event to the subscription's URL",
)
async def send_test(request: Request, subscription_id: str, _: str = WRITE) -> Queued:
    db = _db(request)
    subscription = await _get(db, subscription_id)
    _enabled(subscription)
    now = datetime.now(UTC)
    event = webhook_test_event(subscription_id, "test_" + secrets.token_hex(12), now)
    body = json.dumps(event, separators=(",", ":"))
    delivery = store.new_delivery(subscription_id, event["id"], event["type"], body, None, now)
    await store.add_deliveries(db, [delivery])
    _deliverer(request).wake([subscription_id])
    return Queued(delivery_id=delivery["_id"], event_id=event["id"])


@router.get(
    "/subscriptions/{subscription_id}/deliveries",
    summary="Deliveries, newest first: status, attempts (code, latency, error) and next attempt",
    dependencies=[READ],
)
async def list_deliveries(
    request: Request,
    subscription_id: str,
    status: Literal["pending", "succeeded", "failed"] | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    db = _db(request)
    await _get(db, subscription_id)
    query: Document = {"subscription_id": subscription_id}
    if status is not None:
        query["status"] = status
    cursor = db.deliveries.find(query).sort("created_at", -1).limit(limit)
    items = [store.public_delivery(d) async for d in cursor]
    return {"items": items, "count": len(items)}


@router.post(
    "/subscriptions/{subscription_id}/replay",
    status_code=202,
    response_model=Replayed,
    summary="Send again the matching events notify received in [since, until) that were not delivered",
)
async def replay(
    request: Request,
    subscription_id: str,
    since: AwareDatetime,
    until: AwareDatetime | None = None,
    _: str = WRITE,
) -> Replayed:
    db = _db(request)
    subscription = await _get(db, subscription_id)
    _enabled(subscription)
    now = datetime.now(UTC)
    until = until or now
    if since >= until:
        raise invalid([{"path": "since", "message": "must be before until", "type": "range"}])
    seen = matched = queued = 0
    batch: list[Document] = []

    async def flush() -> int:
        created = len(await store.add_deliveries(db, batch))
        again = await store.requeue_failed(db, [d["_id"] for d in batch], now)
        batch.clear()
        return created + again

    async for stored in store.events_between(db, since, until):
        seen += 1
        event = parse_event(stored["body"])
        if matches(subscription, event):
            matched += 1
            batch.append(
                store.new_delivery(subscription_id, event.id, event.type, stored["body"], event.traceparent, now)
            )
            if len(batch) >= REPLAY_BATCH:
                queued += await flush()
    queued += await flush()
    if queued:
        _deliverer(request).wake([subscription_id])
    return Replayed(events=seen, matched=matched, queued=queued)


@router.get("/deliveries/{delivery_id}", summary="One delivery and its attempts", dependencies=[READ])
async def get_delivery(request: Request, delivery_id: str) -> dict[str, Any]:
    return store.public_delivery(await _get_delivery(_db(request), delivery_id))


@router.post(
    "/deliveries/{delivery_id}/retry",
    status_code=202,
    summary="Attempt a delivery now (a finished one starts a fresh retry cycle)",
)
async def retry_delivery(request: Request, delivery_id: str, _: str = WRITE) -> dict[str, Any]:
    db = _db(request)
    delivery = await _get_delivery(db, delivery_id)
    _enabled(await _get(db, delivery["subscription_id"]))
    now = datetime.now(UTC)
    if delivery["status"] == "pending" and delivery.get("lease"):
        raise Problem(409, "Attempt in flight", "this delivery is queued or being sent; see its outcome first")
    if not await store.retry_now(db, delivery, now):
        raise Problem(409, "Conflict", "the delivery changed meanwhile; read it and try again")
    _deliverer(request).wake([delivery["subscription_id"]])
    return store.public_delivery(await _get_delivery(db, delivery_id))

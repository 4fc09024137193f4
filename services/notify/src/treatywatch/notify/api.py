"""Notify's HTTP routes: subscriptions and their deliveries."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from pymongo.asynchronous.database import AsyncDatabase

from treatywatch.common.events import EVENT_TYPES
from treatywatch.common.mongo import Document
from treatywatch.common.web import Problem, invalid, require_read, require_scope
from treatywatch.notify import store
from treatywatch.notify.domain import new_secret, type_matches, url_problem

router = APIRouter(prefix="/v1", tags=["notify"])
WRITE = require_scope("subscriptions:write")
READ = require_read()


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
    headers: dict[str, str] = Field(default_factory=dict)


class SubscriptionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(default=None, min_length=1, max_length=2000)
    event_types: list[str] | None = Field(default=None, min_length=1)
    filter: Filter | None = None
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None
    headers: dict[str, str] | None = None


class Created(BaseModel):
    id: str
    secret: str


def _db(request: Request) -> AsyncDatabase[Document]:
    db: AsyncDatabase[Document] = request.app.state.db
    return db


def _check(request: Request, url: str | None, event_types: list[str] | None) -> None:
    errors = []
    if url is not None:
        reason = url_problem(url, request.app.state.settings.webhook_http_hosts)
        if reason:
            errors.append({"path": "url", "message": reason, "type": "url_refused"})
    for i, pattern in enumerate(event_types or []):
        if not any(type_matches([pattern], t) for t in EVENT_TYPES) and pattern != "webhook.test":
            errors.append(
                {
                    "path": f"event_types.{i}",
                    "message": f"{pattern!r} matches no event type",
                    "type": "unknown_type",
                }
            )
    if errors:
        raise invalid(errors, "the subscription cannot be accepted")


async def _get(db: AsyncDatabase[Document], subscription_id: str) -> Document:
    doc = await db.subscriptions.find_one({"_id": subscription_id})
    if doc is None:
        raise Problem(404, "Not found", f"no subscription {subscription_id!r}")
    return doc


@router.post("/subscriptions", status_code=201, response_model=Created, summary="Subscribe a webhook URL")
async def create_subscription(request: Request, body: SubscriptionIn, _: str = WRITE) -> Created:
    _check(request, body.url, body.event_types)
    doc = {
        "_id": "sub_" + secrets.token_hex(12),
        **body.model_dump(),
        "secret": new_secret(),
        "created_at": datetime.now(UTC),
    }
    await _db(request).subscriptions.insert_one(doc)
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


@router.patch("/subscriptions/{subscription_id}", summary="Change a subscription")
async def patch_subscription(
    request: Request, subscription_id: str, body: SubscriptionPatch, _: str = WRITE
) -> dict[str, Any]:
    db = _db(request)
    await _get(db, subscription_id)
    changes = body.model_dump(exclude_unset=True)
    _check(request, changes.get("url"), changes.get("event_types"))
    if changes:
        await db.subscriptions.update_one({"_id": subscription_id}, {"$set": changes})
    return store.public_subscription(await _get(db, subscription_id))


@router.delete("/subscriptions/{subscription_id}", status_code=204, summary="Delete a subscription")
async def delete_subscription(request: Request, subscription_id: str, _: str = WRITE) -> Response:
    result = await _db(request).subscriptions.delete_one({"_id": subscription_id})
    if result.deleted_count == 0:
        raise Problem(404, "Not found", f"no subscription {subscription_id!r}")
    return Response(status_code=204)


@router.get(
    "/subscriptions/{subscription_id}/deliveries",
    summary="Deliveries and their attempts",
    dependencies=[READ],
)
async def list_deliveries(
    request: Request, subscription_id: str, limit: int = Query(default=100, ge=1, le=1000)
) -> dict[str, Any]:
    db = _db(request)
    await _get(db, subscription_id)
    cursor = db.deliveries.find({"subscription_id": subscription_id}).sort("created_at", -1).limit(limit)
    items = [store.public_delivery(d) async for d in cursor]
    return {"items": items, "count": len(items)}

"""Notify's HTTP routes: subscriptions, their secrets, deliveries, retries and replays.

Subscriptions and deliveries are private: reading them takes a key with `subscriptions:read`, whatever the
operator says about reads. Even then a subscription's URL and header values are shown masked (they carry the
subscriber's tokens), and its secret only once, when it is made or rotated.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.routing import APIRoute
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from treatywatch.common.mongo import Document
from treatywatch.common.settings import hash_key
from treatywatch.common.web import Credentials, Problem, invalid, require_scope
from treatywatch.notify.domain import masked_headers, masked_url
from treatywatch.notify.service import (
    Changed,
    Disabled,
    InFlight,
    Invalid,
    NotFound,
    Notify,
    Rejected,
    TooMany,
)
from treatywatch.notify.store import Cursor

# The answers have always written times as `+00:00` (pydantic writes `Z`, which some clients' parsers refuse).
Timestamp = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]


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

    def changes(self) -> Document:
        """The fields given; null leaves a field unchanged unless the subscription may have it empty."""
        given = self.model_dump(exclude_unset=True)
        return {k: v for k, v in given.items() if v is not None or k in ("description", "rate_limit")}


class Subscription(BaseModel):
    """A subscription as clients see it: never a secret, its URL and header values masked."""

    id: str
    url: str = Field(
        description="The URL's scheme, host and port; each path segment shows as `…`, the query and fragment are "
        "left out (`https://hooks.example.org:8443/…/…` for `https://hooks.example.org:8443/t/0a1b?key=s`)"
    )
    event_types: list[str]
    filter: Filter
    description: str | None
    enabled: bool
    headers: dict[str, str] = Field(description="The custom headers' names, each value shown as `***`")
    rate_limit: float | None
    created_at: Timestamp
    previous_secrets_expire_at: list[Timestamp] = Field(description="When each previous secret stops signing")
    disabled_reason: str | None = None
    disabled_at: Timestamp | None = None
    failing_since: Timestamp | None = None

    @classmethod
    def of(cls, doc: Document) -> Subscription:
        """The stored subscription, as clients see it."""
        previous = [p["expires_at"] for p in doc.get("previous_secrets") or []]
        return cls.model_validate(
            {
                **doc,
                "id": doc["_id"],
                "url": masked_url(doc["url"]),
                "headers": masked_headers(doc.get("headers") or {}),
                "previous_secrets_expire_at": previous,
            }
        )


NEXT = "Where the next page starts (pass it as `after`); null on the last page"


class Subscriptions(BaseModel):
    items: list[Subscription]
    count: int = Field(description="Items on this page")
    next: str | None = Field(description=NEXT)


class Attempt(BaseModel):
    at: Timestamp
    status_code: int | None = None
    latency_ms: float
    error: str | None = None


class Delivery(BaseModel):
    """A delivery as clients see it: its attempts and, while it waits, when the next one is due."""

    id: str = Field(description="The `webhook-id`")
    subscription_id: str
    event_id: str
    event_type: str
    traceparent: str | None
    status: Literal["pending", "succeeded", "failed"]
    attempts: list[Attempt]
    attempt_count: int
    next_attempt_at: Timestamp | None = Field(
        description="null once finished, or while an attempt is queued or being sent"
    )
    created_at: Timestamp

    @classmethod
    def of(cls, doc: Document) -> Delivery:
        """The stored delivery, as clients see it."""
        next_attempt_at = doc["next_attempt_at"] if doc["status"] == "pending" else None
        return cls.model_validate({**doc, "id": doc["_id"], "next_attempt_at": next_attempt_at})


class Deliveries(BaseModel):
    items: list[Delivery]
    count: int = Field(description="Items on this page")
    next: str | None = Field(description=NEXT)


class Created(BaseModel):
    id: str
    secret: str


class Rotation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grace_period_s: float | None = Field(
        default=None,
        ge=0,
        le=7 * 86400,
        description="How long the old secret still signs (default: the operator's TREATYWATCH_SECRET_GRACE_S)",
    )


class Rotated(BaseModel):
    secret: str
    # Written with pydantic's `Z`, as this answer always was.
    previous_secret_expires_at: datetime | None


class Queued(BaseModel):
    delivery_id: str
    event_id: str


class Replayed(BaseModel):
    events: int = Field(description="Events notify received in the period")
    matched: int = Field(description="Of those, the ones the subscription wants")
    queued: int = Field(description="Deliveries created or started afresh (the rest were delivered or pending)")


PROBLEMS: dict[type[Rejected], tuple[int, str]] = {
    NotFound: (404, "Not found"),
    Disabled: (409, "Subscription disabled"),
    InFlight: (409, "Attempt in flight"),
    Changed: (409, "Conflict"),
    TooMany: (409, "Too many subscriptions"),
}


def problem(rejected: Rejected) -> Problem:
    """The problem details a rejected use case is answered with."""
    if isinstance(rejected, Invalid):
        return invalid(rejected.errors) if rejected.detail is None else invalid(rejected.errors, rejected.detail)
    status, title = PROBLEMS[type(rejected)]
    return Problem(status, title, str(rejected))


class AnswersRejections(APIRoute):
    """A route whose rejected use cases are answered as problem details."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await handle(request)
            except Rejected as rejected:
                raise problem(rejected) from rejected

        return handler


def _notify(request: Request) -> Notify:
    notify: Notify = request.app.state.notify
    return notify


Service = Annotated[Notify, Depends(_notify)]
Write = Annotated[str, require_scope("subscriptions:write")]
Read = Annotated[str, require_scope("subscriptions:read")]


def _creator(_: Write, credentials: Credentials) -> str:
    # `Write` admitted the key, so there are credentials; a subscription records the start of the key's hash.
    return hash_key(credentials.credentials.strip() if credentials else "")[:16]


Creator = Annotated[str, Depends(_creator)]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PAGE_LIMIT = 1000
Limit = Annotated[int, Query(ge=1, le=PAGE_LIMIT, description="Items per page")]
After = Annotated[str | None, Query(description="The `next` of the previous page")]


def cursor_text(cursor: Cursor | None) -> str | None:
    """A page's cursor as clients pass it back: opaque to them."""
    if cursor is None:
        return None
    at, last_id = cursor
    text = f"{(at - EPOCH) // timedelta(milliseconds=1)}:{last_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def cursor_of(text: str | None) -> Cursor | None:
    """The cursor a client passed back; 422 for anything a list did not give."""
    if text is None:
        return None
    try:
        ms, _, last_id = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().partition(":")
        at = EPOCH + timedelta(milliseconds=int(ms))
    except (binascii.Error, ValueError, OverflowError):
        at, last_id = EPOCH, ""
    if not last_id:
        raise invalid([{"path": "after", "message": "not the `next` of a page", "type": "cursor"}])
    return at, last_id


# Routes answering subscriptions or deliveries set `response_model_exclude_unset`: a field the stored document
# lacks (`disabled_reason`, an attempt's `error`) stays absent rather than null.
router = APIRouter(prefix="/v1", tags=["notify"], route_class=AnswersRejections)


@router.post("/subscriptions", status_code=201, summary="Subscribe a webhook URL")
async def create_subscription(notify: Service, body: SubscriptionIn, created_by: Creator) -> Created:
    created = await notify.create_subscription(body.model_dump(), created_by)
    return Created(id=created.id, secret=created.secret)


@router.get(
    "/subscriptions", summary="Subscriptions, oldest first, a page at a time", response_model_exclude_unset=True
)
async def list_subscriptions(notify: Service, _: Read, after: After = None, limit: Limit = 100) -> Subscriptions:
    page = await notify.list_subscriptions(cursor_of(after), limit)
    items = [Subscription.of(d) for d in page.items]
    return Subscriptions(items=items, count=len(items), next=cursor_text(page.next))


@router.get(
    "/subscriptions/{subscription_id}",
    summary="One subscription (its secret is never shown again)",
    response_model_exclude_unset=True,
)
async def get_subscription(notify: Service, subscription_id: str, _: Read) -> Subscription:
    return Subscription.of(await notify.get_subscription(subscription_id))


@router.patch(
    "/subscriptions/{subscription_id}",
    summary="Change a subscription; `enabled` pauses or resumes it",
    response_model_exclude_unset=True,
)
async def patch_subscription(notify: Service, subscription_id: str, body: SubscriptionPatch, _: Write) -> Subscription:
    return Subscription.of(await notify.update_subscription(subscription_id, body.changes()))


@router.delete("/subscriptions/{subscription_id}", status_code=204, summary="Delete a subscription and its deliveries")
async def delete_subscription(notify: Service, subscription_id: str, _: Write) -> Response:
    await notify.delete_subscription(subscription_id)
    return Response(status_code=204)


@router.post(
    "/subscriptions/{subscription_id}/secret:rotate",
    summary="A new secret; the old one keeps signing (a second signature) for the grace period",
)
async def rotate_secret(
    notify: Service, subscription_id: str, _: Write, body: Annotated[Rotation | None, Body()] = None
) -> Rotated:
    rotated = await notify.rotate_secret(subscription_id, body.grace_period_s if body else None)
    return Rotated(secret=rotated.secret, previous_secret_expires_at=rotated.previous_expires_at)


@router.post(
    "/subscriptions/{subscription_id}/test",
    status_code=202,
    summary="Send a `webhook.test` event to the subscription's URL",
)
async def send_test(notify: Service, subscription_id: str, _: Write) -> Queued:
    sent = await notify.send_test(subscription_id)
    return Queued(delivery_id=sent.delivery_id, event_id=sent.event_id)


@router.get(
    "/subscriptions/{subscription_id}/deliveries",
    summary="Deliveries, newest first, a page at a time: status, attempts (code, latency, error) and next attempt",
    response_model_exclude_unset=True,
)
async def list_deliveries(
    notify: Service,
    subscription_id: str,
    _: Read,
    status: Literal["pending", "succeeded", "failed"] | None = None,
    after: After = None,
    limit: Limit = 100,
) -> Deliveries:
    page = await notify.list_deliveries(subscription_id, status, cursor_of(after), limit)
    items = [Delivery.of(d) for d in page.items]
    return Deliveries(items=items, count=len(items), next=cursor_text(page.next))


@router.post(
    "/subscriptions/{subscription_id}/replay",
    status_code=202,
    summary="Send again the matching events notify received in [since, until) that were not delivered",
)
async def replay(
    notify: Service, subscription_id: str, since: AwareDatetime, _: Write, until: AwareDatetime | None = None
) -> Replayed:
    count = await notify.replay(subscription_id, since, until)
    return Replayed(events=count.events, matched=count.matched, queued=count.queued)


@router.get("/deliveries/{delivery_id}", summary="One delivery and its attempts", response_model_exclude_unset=True)
async def get_delivery(notify: Service, delivery_id: str, _: Read) -> Delivery:
    return Delivery.of(await notify.get_delivery(delivery_id))


@router.post(
    "/deliveries/{delivery_id}/retry",
    status_code=202,
    summary="Attempt a delivery now (a finished one starts a fresh retry cycle)",
    response_model_exclude_unset=True,
)
async def retry_delivery(notify: Service, delivery_id: str, _: Write) -> Delivery:
    return Delivery.of(await notify.retry_delivery(delivery_id))

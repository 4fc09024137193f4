"""Notify's HTTP routes: subscriptions, their secrets, deliveries, retries and replays."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.routing import APIRoute
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from treatywatch.common.mongo import Document
from treatywatch.common.web import Problem, invalid, require_read, require_scope
from treatywatch.notify.service import Changed, Disabled, InFlight, Invalid, NotFound, Notify, Rejected

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
    """A subscription as clients see it: never a secret."""

    id: str
    url: str
    event_types: list[str]
    filter: Filter
    description: str | None
    enabled: bool
    headers: dict[str, str]
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
        return cls.model_validate({**doc, "id": doc["_id"], "previous_secrets_expire_at": previous})


class Subscriptions(BaseModel):
    items: list[Subscription]
    count: int


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
    count: int


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
Read = Annotated[None, require_read()]

# Routes answering subscriptions or deliveries set `response_model_exclude_unset`: a field the stored document
# lacks (`disabled_reason`, an attempt's `error`) stays absent rather than null.
router = APIRouter(prefix="/v1", tags=["notify"], route_class=AnswersRejections)


@router.post("/subscriptions", status_code=201, summary="Subscribe a webhook URL")
async def create_subscription(notify: Service, body: SubscriptionIn, _: Write) -> Created:
    created = await notify.create_subscription(body.model_dump())
    return Created(id=created.id, secret=created.secret)


@router.get("/subscriptions", summary="All subscriptions", response_model_exclude_unset=True)
async def list_subscriptions(notify: Service, _: Read) -> Subscriptions:
    items = [Subscription.of(d) for d in await notify.list_subscriptions()]
    return Subscriptions(items=items, count=len(items))


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
    summary="Deliveries, newest first: status, attempts (code, latency, error) and next attempt",
    response_model_exclude_unset=True,
)
async def list_deliveries(
    notify: Service,
    subscription_id: str,
    _: Read,
    status: Literal["pending", "succeeded", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Deliveries:
    items = [Delivery.of(d) for d in await notify.list_deliveries(subscription_id, status, limit)]
    return Deliveries(items=items, count=len(items))


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

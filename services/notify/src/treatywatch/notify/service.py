"""Notify's use cases: subscriptions, their secrets, tests, replays and retries, over the store.

Each change tells the delivery engine, so it acts on it at once rather than at its next poll.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from treatywatch.common.events import parse_event
from treatywatch.common.logging import log
from treatywatch.common.mongo import Document
from treatywatch.notify import store
from treatywatch.notify.delivery import Deliverer, now_utc
from treatywatch.notify.domain import (
    HttpAllowList,
    matches,
    new_secret,
    secrets_after_rotation,
    subscription_problems,
    webhook_test_event,
)
from treatywatch.notify.store import Cursor
from treatywatch.notify.vault import Unopenable, Vault

# Deliveries a replay writes at once: its memory stays bounded whatever the period.
REPLAY_BATCH = 500


class Rejected(Exception):
    """A use case that cannot be carried out; the message says why."""


class NotFound(Rejected):
    """No subscription or delivery has that id."""


class Disabled(Rejected):
    """The subscription is disabled: it sends nothing until it is enabled."""


class Invalid(Rejected):
    """The request cannot be accepted; `errors` lists each field at fault as {path, message, type}."""

    def __init__(self, errors: list[dict[str, Any]], detail: str | None = None) -> None:
        super().__init__(detail)
        self.errors, self.detail = errors, detail


class InFlight(Rejected):
    """The delivery is queued or being sent."""


class Changed(Rejected):
    """The delivery changed between reading and writing it."""


class TooMany(Rejected):
    """The key has made as many subscriptions as one key may have."""


@dataclass(frozen=True)
class NewSubscription:
    """A subscription just made, with the only showing of its secret."""

    id: str
    secret: str


@dataclass(frozen=True)
class NewSecret:
    """A rotated secret, and when the one it replaced stops signing (None: at once)."""

    secret: str
    previous_expires_at: datetime | None


@dataclass(frozen=True)
class SentTest:
    """The queued `webhook.test` delivery and its event."""

    delivery_id: str
    event_id: str


@dataclass(frozen=True)
class Page:
    """One page of a list, and where the next one starts (None after the last)."""

    items: list[Document]
    next: Cursor | None


def page_of(found: list[Document], limit: int) -> Page:
    """The page of `limit` items from `limit + 1` read: one more means there is a next page."""
    items = found[:limit]
    more = len(found) > limit
    return Page(items, (items[-1]["created_at"], items[-1]["_id"]) if more else None)


@dataclass
class ReplayCount:
    """What a replay read, found wanted, and queued."""

    events: int = 0
    matched: int = 0
    queued: int = 0


class Notify:
    """The use cases behind notify's HTTP routes."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        deliverer: Deliverer,
        vault: Vault,
        allowed: HttpAllowList,
        secret_grace_s: float,
        subscriptions_per_key: int,
    ) -> None:
        self._db, self._deliverer, self._vault = db, deliverer, vault
        self._allowed, self._secret_grace_s = allowed, secret_grace_s
        self._subscriptions_per_key = subscriptions_per_key

    async def create_subscription(self, fields: Document, created_by: str) -> NewSubscription:
        """Subscribe a webhook URL for the key `created_by` names; the answer is the only time its secret is shown."""
        self._check(fields)
        if await store.count_created_by(self._db, created_by) >= self._subscriptions_per_key:
            raise TooMany(
                f"this API key has {self._subscriptions_per_key} subscriptions, as many as one key may have "
                "(TREATYWATCH_SUBSCRIPTIONS_PER_KEY): delete one first"
            )
        subscription = store.new_subscription(fields, new_secret(), created_by, now_utc())
        await store.add_subscription(self._db, self._vault.sealed(subscription))
        self._deliverer.refresh()
        return NewSubscription(subscription["_id"], subscription["secret"])

    async def list_subscriptions(self, after: Cursor | None, limit: int) -> Page:
        """A page of subscriptions, oldest first."""
        return page_of(await store.subscriptions_page(self._db, after, limit + 1), limit)

    async def get_subscription(self, subscription_id: str) -> Document:
        """One subscription; NotFound if there is none."""
        subscription = await store.find_subscription(self._db, subscription_id)
        if subscription is None:
            raise NotFound(f"no subscription {subscription_id!r}")
        return subscription

    async def update_subscription(self, subscription_id: str, changes: Document) -> Document:
        """Change the given fields; `enabled` false disables the subscription, true enables it again."""
        current = await self.get_subscription(subscription_id)
        self._check(changes)
        fields = {k: v for k, v in changes.items() if k != "enabled"}
        if fields:
            await store.change_subscription(self._db, subscription_id, fields)
        enabled = changes.get("enabled")
        if enabled is False and current.get("enabled", True):
            await self._deliverer.disable(subscription_id, "disabled by request")
        elif enabled is True and not current.get("enabled", True):
            await store.enable(self._db, subscription_id)
        self._deliverer.refresh()
        return await self.get_subscription(subscription_id)

    async def delete_subscription(self, subscription_id: str) -> None:
        """Delete a subscription and its deliveries."""
        if not await store.delete_subscription(self._db, subscription_id):
            raise NotFound(f"no subscription {subscription_id!r}")
        self._deliverer.refresh()

    async def rotate_secret(self, subscription_id: str, grace_s: float | None) -> NewSecret:
        """A new secret; the old one signs too for `grace_s` (by default the operator's grace period)."""
        current = self._vault.opened(await self.get_subscription(subscription_id))
        grace_s = self._secret_grace_s if grace_s is None else grace_s
        now = now_utc()
        secret = new_secret()
        rotated = {**current, "secret": secret, "previous_secrets": secrets_after_rotation(current, grace_s, now)}
        sealed = self._vault.sealed(rotated)
        await store.replace_secret(self._db, subscription_id, sealed["secret"], sealed["previous_secrets"])
        self._deliverer.refresh()
        previous = rotated["previous_secrets"]
        return NewSecret(secret, previous[0]["expires_at"] if previous else None)

    async def reseal_secrets(self) -> int:
        """Seal under the first key every stored secret that is not (plain, or under an older key); return how many
        subscriptions changed. One whose secrets no key opens is logged and left as it is."""
        resealed = 0
        async for stored in store.all_secrets(self._db):
            if not self._vault.stale(stored):
                continue
            try:
                sealed = self._vault.sealed(self._vault.opened(stored))
            except Unopenable as exc:
                log.error("secret_unopenable", subscription_id=stored["_id"], error=str(exc))
                continue
            # Only if no rotation wrote a newer secret meanwhile (another notify may be doing the same).
            resealed += await store.replace_secret(
                self._db, stored["_id"], sealed["secret"], sealed["previous_secrets"], replacing=stored["secret"]
            )
        return resealed

    async def send_test(self, subscription_id: str) -> SentTest:
        """Queue a `webhook.test` event for the subscription."""
        await self._enabled_subscription(subscription_id)
        now = now_utc()
        event = webhook_test_event(subscription_id, "test_" + secrets.token_hex(12), now)
        body = json.dumps(event, separators=(",", ":"))
        delivery = store.new_delivery(subscription_id, event["id"], event["type"], body, None, now)
        await store.add_deliveries(self._db, [delivery])
        self._deliverer.wake([subscription_id])
        return SentTest(delivery["_id"], event["id"])

    async def list_deliveries(self, subscription_id: str, status: str | None, after: Cursor | None, limit: int) -> Page:
        """A page of a subscription's deliveries (of one status, if given), newest first."""
        await self.get_subscription(subscription_id)
        return page_of(await store.subscription_deliveries(self._db, subscription_id, status, after, limit + 1), limit)

    async def replay(self, subscription_id: str, since: datetime, until: datetime | None) -> ReplayCount:
        """Queue again the matching events received in [since, until) whose deliveries are not delivered or pending."""
        subscription = await self._enabled_subscription(subscription_id)
        now = now_utc()
        until = until or now
        if since >= until:
            raise Invalid([{"path": "since", "message": "must be before until", "type": "range"}])
        count = ReplayCount()
        batch: list[Document] = []
        async for stored in store.events_between(self._db, since, until):
            count.events += 1
            event = parse_event(stored["body"])
            if matches(subscription, event):
                count.matched += 1
                batch.append(
                    store.new_delivery(subscription_id, event.id, event.type, stored["body"], event.traceparent, now)
                )
                if len(batch) >= REPLAY_BATCH:
                    count.queued += await self._queue_again(batch, now)
                    batch = []
        count.queued += await self._queue_again(batch, now)
        if count.queued:
            self._deliverer.wake([subscription_id])
        return count

    async def get_delivery(self, delivery_id: str) -> Document:
        """One delivery with its attempts; NotFound if there is none."""
        delivery = await store.find_delivery(self._db, delivery_id)
        if delivery is None:
            raise NotFound(f"no delivery {delivery_id!r}")
        return delivery

    async def retry_delivery(self, delivery_id: str) -> Document:
        """Make a delivery due now (a finished one starts a fresh retry cycle); return it as it is then."""
        delivery = await self.get_delivery(delivery_id)
        await self._enabled_subscription(delivery["subscription_id"])
        if delivery["status"] == "pending" and delivery.get("lease"):
            raise InFlight("this delivery is queued or being sent; see its outcome first")
        if not await store.retry_now(self._db, delivery, now_utc()):
            raise Changed("the delivery changed meanwhile; read it and try again")
        self._deliverer.wake([delivery["subscription_id"]])
        return await self.get_delivery(delivery_id)

    def _check(self, fields: Document) -> None:
        errors = subscription_problems(
            fields.get("url"), fields.get("event_types"), fields.get("headers"), self._allowed
        )
        if errors:
            raise Invalid(errors, "the subscription cannot be accepted")

    async def _enabled_subscription(self, subscription_id: str) -> Document:
        subscription = await self.get_subscription(subscription_id)
        if not subscription.get("enabled", True):
            reason = subscription.get("disabled_reason") or "by request"
            raise Disabled(f"the subscription is disabled ({reason}); enable it first")
        return subscription

    async def _queue_again(self, deliveries: Sequence[Document], now: datetime) -> int:
        """Record the deliveries that are new and start a fresh cycle for those that failed; return how many."""
        created = len(await store.add_deliveries(self._db, deliveries))
        return created + await store.requeue_failed(self._db, [d["_id"] for d in deliveries], now)

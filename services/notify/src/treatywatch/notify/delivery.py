"""The delivery engine: one lane per enabled subscription, so a slow or dead endpoint only ever delays itself.

A lane leases a few due deliveries at a time, sends at most `concurrency` of them at once (paced by the
subscription's rate limit), and hands each outcome to one recorder that writes them in batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from pymongo.asynchronous.database import AsyncDatabase

from treatywatch.common import tracing
from treatywatch.common.logging import log
from treatywatch.common.mongo import Document
from treatywatch.notify import store
from treatywatch.notify.domain import Policy, judge, rate_slot, retry_after_s, signatures, signing_secrets
from treatywatch.notify.sender import Refused, Reply, Sender, SendError

DELIVERIES = Counter(
    "treatywatch_notify_delivery_outcomes_total", "Deliveries that reached a final status", ["outcome"]
)
ATTEMPTS = Counter("treatywatch_notify_attempts_total", "Delivery attempts by outcome", ["outcome"])
ATTEMPT_SECONDS = Histogram(
    "treatywatch_notify_attempt_seconds",
    "Latency of one delivery attempt",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
)
QUEUE_DEPTH = Gauge("treatywatch_notify_pending_deliveries", "Deliveries waiting for a successful attempt")
OLDEST_PENDING = Gauge(
    "treatywatch_notify_oldest_pending_delivery_age_seconds", "Age of the oldest pending delivery (0 when none)"
)
IN_FLIGHT = Gauge("treatywatch_notify_attempts_in_flight", "Attempts being sent right now")


@dataclass(frozen=True)
class Tuning:
    """How hard the engine works: timeouts, concurrency and how often it looks at the database."""

    timeout_s: float = 15.0
    subscription_concurrency: int = 4
    prefetch: int = 32
    max_connections: int = 256
    lease_margin_s: float = 30.0
    idle_poll_s: float = 5.0
    refresh_s: float = 2.0
    gauges_s: float = 10.0


def now_utc() -> datetime:
    return datetime.now(UTC)


class Deliverer:
    """Keeps a lane per enabled subscription and records every attempt's outcome."""

    def __init__(self, db: AsyncDatabase[Document], policy: Policy, tuning: Tuning, sender: Sender) -> None:
        self.db, self.policy, self.tuning, self.sender = db, policy, tuning, sender
        self.connections = asyncio.Semaphore(tuning.max_connections)
        self._lanes: dict[str, Lane] = {}
        self._outcomes: asyncio.Queue[store.Outcome] = asyncio.Queue()
        self._refresh = asyncio.Event()

    def wake(self, subscription_ids: Iterable[str]) -> None:
        """New deliveries are due for these subscriptions: look now rather than at the next poll."""
        for subscription_id in subscription_ids:
            lane = self._lanes.get(subscription_id)
            if lane is None:
                self._refresh.set()
            else:
                lane.due_at(now_utc())

    def refresh(self) -> None:
        """A subscription changed: reload them now."""
        self._refresh.set()

    async def run(self) -> None:
        """Deliver until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._supervise())
            group.create_task(self._record_forever())
            group.create_task(self._gauges_forever())

    async def close(self) -> None:
        """Stop every lane, write the outcomes still queued, close the connections."""
        for lane in self._lanes.values():
            lane.stop()
        await self._flush()
        await self.sender.close()

    def record(self, outcome: store.Outcome) -> None:
        self._outcomes.put_nowait(outcome)

    async def disable(self, subscription_id: str, reason: str) -> None:
        """Disable a subscription and stop its lane."""
        lane = self._lanes.pop(subscription_id, None)
        if lane is not None:
            lane.stop()
        await store.disable(self.db, subscription_id, reason, now_utc())
        log.warning("subscription_disabled", subscription_id=subscription_id, reason=reason)

    async def _supervise(self) -> None:
        while True:
            self._refresh.clear()
            try:
                subscriptions = {s["_id"]: s for s in await store.enabled_subscriptions(self.db)}
            except Exception:
                log.exception("subscriptions_refresh_failed")
                subscriptions = {i: lane.subscription for i, lane in self._lanes.items()}
            for gone in self._lanes.keys() - subscriptions.keys():
                self._lanes.pop(gone).stop()
            for subscription_id, subscription in subscriptions.items():
                lane = self._lanes.get(subscription_id)
                if lane is None:
                    self._lanes[subscription_id] = Lane(self, subscription)
                else:
                    lane.subscription = subscription
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._refresh.wait(), timeout=self.tuning.refresh_s)

    async def _record_forever(self) -> None:
        while True:
            # Outcomes that arrive while a batch is being written form the next batch.
            first = await self._outcomes.get()
            await self._write([first, *self._drain(499)])

    async def _flush(self) -> None:
        while batch := self._drain(500):
            await self._write(batch)

    def _drain(self, limit: int) -> list[store.Outcome]:
        return [self._outcomes.get_nowait() for _ in range(min(self._outcomes.qsize(), limit))]

    async def _write(self, batch: list[store.Outcome]) -> None:
        try:
            await store.record_attempts(self.db, batch)
        except Exception:
            # Unrecorded attempts are sent again when their lease ends: at least once, same id and body.
            log.exception("recording_attempts_failed", count=len(batch))
            return
        for outcome in batch:
            if outcome.status != "pending":
                DELIVERIES.labels(outcome.status).inc()
            elif outcome.next_attempt_at is not None and (lane := self._lanes.get(outcome.subscription_id)):
                lane.due_at(outcome.next_attempt_at)

    async def _gauges_forever(self) -> None:
        while True:
            try:
                count, oldest = await store.pending_stats(self.db)
                QUEUE_DEPTH.set(count)
                OLDEST_PENDING.set((now_utc() - oldest).total_seconds() if oldest else 0)
            except Exception:
                log.exception("gauges_failed")
            await asyncio.sleep(self.tuning.gauges_s)


class Lane:
    """One subscription's deliveries: leased a few at a time, sent with bounded concurrency and pace."""

    def __init__(self, engine: Deliverer, subscription: Document) -> None:
        self.engine = engine
        self.subscription = subscription
        self._held: set[str] = set()
        self._slots = asyncio.Semaphore(engine.tuning.subscription_concurrency)
        self._wakeup = asyncio.Event()
        self._next_due: datetime | None = None
        self._next_slot = 0.0
        self._stopped = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._task = asyncio.create_task(self._run())

    @property
    def id(self) -> str:
        subscription_id: str = self.subscription["_id"]
        return subscription_id

    def due_at(self, when: datetime) -> None:
        """Something of this subscription falls due at `when`: look then, or now if that has passed."""
        if self._next_due is None or when < self._next_due:
            self._next_due = when
            self._wakeup.set()

    def stop(self) -> None:
        """Take nothing new; queued sends are dropped (their leases end), sends under way finish."""
        self._stopped = True
        self._task.cancel()

    async def _run(self) -> None:
        while not self._stopped:
            try:
                wait_s = await self._take_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("lane_failed", subscription_id=self.id)
                wait_s = self.engine.tuning.idle_poll_s
            await self._sleep(wait_s)

    async def _sleep(self, seconds: float) -> None:
        """Sleep up to `seconds`, but only until the earliest due time `due_at` reports meanwhile."""
        deadline = time.monotonic() + seconds
        while True:
            if self._next_due is not None:
                deadline = min(deadline, time.monotonic() + (self._next_due - now_utc()).total_seconds())
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=remaining)
            except TimeoutError:
                return

    async def _take_due(self) -> float:
        """Lease what is due and start sending it; return how long to wait before looking again."""
        tuning = self.engine.tuning
        self._next_due = None
        room = tuning.prefetch - len(self._held)
        if room <= 0:
            return tuning.idle_poll_s
        now = now_utc()
        due = [d for d in await store.due_deliveries(self.engine.db, self.id, now, room) if d["_id"] not in self._held]
        if due:
            token = secrets.token_hex(8)
            claimed = await store.claim(self.engine.db, due, self._leases(now, len(due)), token)
            for delivery in claimed:
                self._held.add(delivery["_id"])
                task = asyncio.create_task(self._attempt(delivery, token))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if len(due) == room:
                return 0
        later = await store.next_due_at(self.engine.db, self.id, now, self._held)
        wait = (later - now_utc()).total_seconds() if later else tuning.idle_poll_s
        return min(wait, tuning.idle_poll_s)

    def _leases(self, now: datetime, count: int) -> list[datetime]:
        """Each leased delivery's lease covers the sends queued before it, the rate limit's pace and a margin."""
        tuning = self.engine.tuning
        rate = self.subscription.get("rate_limit")
        leases = []
        for i in range(len(self._held), len(self._held) + count):
            rounds = i // tuning.subscription_concurrency + 1
            seconds = rounds * tuning.timeout_s + (i / rate if rate else 0) + tuning.lease_margin_s
            leases.append(now + timedelta(seconds=seconds))
        return leases

    async def _attempt(self, delivery: Document, lease: str) -> None:
        try:
            async with self._slots:
                if self._stopped:
                    return
                await self._pace()
                async with self.engine.connections:
                    IN_FLIGHT.inc()
                    try:
                        await self._send_and_judge(delivery, lease)
                    finally:
                        IN_FLIGHT.dec()
        except Exception:
            log.exception("attempt_failed", delivery_id=delivery["_id"])
        finally:
            self._held.discard(delivery["_id"])
            # Refill once half the leased deliveries are done, not after every one.
            if len(self._held) == self.engine.tuning.prefetch // 2:
                self.due_at(now_utc())

    async def _pace(self) -> None:
        slot = rate_slot(self._next_slot, time.monotonic(), self.subscription.get("rate_limit"))
        self._next_slot = slot
        await asyncio.sleep(max(0.0, slot - time.monotonic()))

    async def _send_and_judge(self, delivery: Document, lease: str) -> None:
        subscription = self.subscription
        attempt: dict[str, Any] = {"at": now_utc()}
        code: int | None = None
        retry_after = None
        started = time.perf_counter()
        try:
            response = await self._send(delivery, subscription)
            code = attempt["status_code"] = response.status_code
            retry_after = retry_after_s(response.headers.get("retry-after"), now_utc())
            if response.is_redirect:
                attempt["error"] = f"redirect to {response.headers.get('location')!r} not followed"
        except Refused as exc:
            attempt["error"] = f"refused: {exc}"
        except TimeoutError:
            attempt["error"] = f"timed out after {self.engine.tuning.timeout_s:g} s"
        except SendError as exc:
            attempt["error"] = str(exc)
        latency = time.perf_counter() - started
        attempt["latency_ms"] = round(latency * 1000, 2)
        ATTEMPT_SECONDS.observe(latency)

        now = now_utc()
        ok = code is not None and 200 <= code < 300
        failing_since = subscription.get("failing_since")
        if not ok and failing_since is None:
            failing_since = subscription["failing_since"] = now
            await store.mark_failing(self.engine.db, self.id, now)
        elif ok and failing_since is not None:
            subscription.pop("failing_since", None)
            await store.mark_failing(self.engine.db, self.id, None)
            failing_since = None
        verdict = judge(
            code,
            retry_after,
            delivery["cycle_attempts"] + 1,
            failing_since,
            self.engine.policy,
            now,
            random.uniform(-1, 1),
        )
        status, retry_at = verdict.status, verdict.next_attempt_at
        if self._stopped and status == "pending":
            status, retry_at = "failed", None
            attempt["error"] = attempt.get("error") or "the subscription was disabled"
        ATTEMPTS.labels("success" if ok else "failure").inc()
        self.engine.record(store.Outcome(delivery["_id"], self.id, lease, attempt, status, retry_at))
        log.info(
            "delivery_attempt",
            delivery_id=delivery["_id"],
            event_id=delivery["event_id"],
            trace_id=(delivery.get("traceparent") or "--").split("-")[1] or None,
            status=status,
            code=code,
            error=attempt.get("error"),
        )
        if verdict.disable_reason and not self._stopped:
            await self.engine.disable(self.id, verdict.disable_reason)

    async def _send(self, delivery: Document, subscription: Document) -> Reply:
        body = delivery["body"].encode()
        timestamp = int(time.time())
        secrets_ = signing_secrets(subscription, now_utc())
        headers = {
            **(subscription.get("headers") or {}),
            "content-type": "application/cloudevents+json",
            "webhook-id": delivery["_id"],
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signatures(secrets_, delivery["_id"], timestamp, body),
        }
        if delivery.get("traceparent"):
            headers["traceparent"] = delivery["traceparent"]
        attributes = {"webhook.id": delivery["_id"], "cloudevents.event_id": delivery["event_id"]}
        with tracing.span(
            "deliver", delivery.get("traceparent"), kind=tracing.SpanKind.CLIENT, attributes=attributes
        ) as span:
            reply = await self.engine.sender.post(subscription["url"], body, headers)
            tracing.record_status(span, reply.status_code, ok=200 <= reply.status_code < 300)
            return reply

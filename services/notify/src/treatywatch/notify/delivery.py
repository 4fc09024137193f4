"""The delivery worker: sends due deliveries as signed Standard Webhooks requests and records each attempt."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from prometheus_client import Counter, Histogram
from pymongo.asynchronous.database import AsyncDatabase

from treatywatch.common.logging import log
from treatywatch.common.mongo import Document
from treatywatch.notify import store
from treatywatch.notify.domain import next_attempt, sign

DELIVERIES = Counter("treatywatch_notify_attempts_total", "Delivery attempts by outcome", ["outcome"])
ATTEMPT_SECONDS = Histogram("treatywatch_notify_attempt_seconds", "Latency of one delivery attempt")


class Deliverer:
    """Picks due deliveries, sends them concurrently and schedules retries."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        schedule_s: list[float],
        timeout_s: float,
        concurrency: int = 32,
    ) -> None:
        self._db = db
        self._schedule = schedule_s
        self._timeout = timeout_s
        self._wake = asyncio.Event()
        self._limit = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency
        self._http = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)
        self._secrets: dict[str, Document] = {}

    def wake(self) -> None:
        """New deliveries are due: look now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled, polling at least once a second for retries that fall due."""
        while True:
            try:
                sent = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery_loop_failed")
                sent = 0
            if sent == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def close(self) -> None:
        await self._http.aclose()

    async def deliver_due(self) -> int:
        """Attempt every delivery due now; return how many were attempted."""
        now = datetime.now(UTC)
        due = await store.due_deliveries(self._db, now, limit=self._concurrency * 4)
        if not due:
            return 0
        subscriptions = {
            d["_id"]: d
            async for d in self._db.subscriptions.find({"_id": {"$in": list({x["subscription_id"] for x in due})}})
        }
        lease = now + timedelta(seconds=self._timeout + 30)
        tasks = []
        for delivery in due:
            if not await store.claim(self._db, delivery, lease):
                continue
            tasks.append(asyncio.create_task(self._attempt(delivery, subscriptions.get(delivery["subscription_id"]))))
        await asyncio.gather(*tasks)
        return len(tasks)

    async def _attempt(self, delivery: Document, subscription: Document | None) -> None:
        async with self._limit:
            started = time.perf_counter()
            attempt: dict[str, Any] = {"at": datetime.now(UTC)}
            ok = False
            if subscription is None or not subscription.get("enabled", True):
                attempt["error"] = "the subscription was deleted or disabled"
            else:
                try:
                    response = await self._send(delivery, subscription)
                    attempt["status_code"] = response.status_code
                    ok = 200 <= response.status_code < 300
                except httpx.HTTPError as exc:
                    attempt["error"] = f"{type(exc).__name__}: {exc}"
            latency = time.perf_counter() - started
            attempt["latency_ms"] = round(latency * 1000, 2)
            ATTEMPT_SECONDS.observe(latency)
            made = delivery["attempt_count"] + 1
            retry_at = None if ok or subscription is None else next_attempt(self._schedule, made, datetime.now(UTC))
            status = "succeeded" if ok else ("pending" if retry_at else "failed")
            await store.record_attempt(self._db, delivery["_id"], attempt, status, retry_at)
            DELIVERIES.labels("success" if ok else "failure").inc()
            log.info(
                "delivery_attempt",
                delivery_id=delivery["_id"],
                event_id=delivery["event_id"],
                trace_id=(delivery.get("traceparent") or "--").split("-")[1] or None,
                status=status,
                code=attempt.get("status_code"),
                error=attempt.get("error"),
            )

    async def _send(self, delivery: Document, subscription: Document) -> httpx.Response:
        body = delivery["body"].encode()
        timestamp = int(time.time())
        headers = {
            **(subscription.get("headers") or {}),
            "content-type": "application/cloudevents+json",
            "webhook-id": delivery["_id"],
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(subscription["secret"], delivery["_id"], timestamp, body),
        }
        if delivery.get("traceparent"):
            headers["traceparent"] = delivery["traceparent"]
        return await self._http.post(subscription["url"], content=body, headers=headers)

"""The delivery engine: one lane per enabled subscription, so a slow or dead endpoint only ever delays itself.

Fresh deliveries go from the consumer straight into their lane's memory, leased to this process. Those of
events new to notify are sent before they are written: the consumer waits a moment for their first attempts
and writes each delivery once, with its outcome (a crash before that write sends them again, under the same
webhook-id, when the events are consumed again). The database is read only for what memory had no room for,
for retries that fall due and for the leases of a worker that died. A lane sends at most `concurrency`
deliveries at once (paced by the subscription's rate limit) and hands each outcome to one recorder that
writes them in batches. The process's leases last as long as its heartbeat.

A lane's memory is bounded twice: in deliveries and in the characters of their bodies. Whatever goes wrong in
an attempt is recorded as a failed attempt, so it counts towards the retry schedule like any other failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import time
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from pymongo.asynchronous.database import AsyncDatabase

from treatywatch.common import tracing
from treatywatch.common.logging import log
from treatywatch.common.mongo import Document
from treatywatch.notify import store
from treatywatch.notify.domain import (
    Policy,
    judge,
    masked_url,
    rate_slot,
    retry_after_s,
    signatures,
    signing_secrets,
)
from treatywatch.notify.sender import Refused, Reply, Sender, SendError
from treatywatch.notify.vault import Unopenable, Vault

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
# Outcomes the recorder writes in one bulk write at most.
RECORD_BATCH = 500
# The gauges and the search for orphaned leases scan every pending delivery: each may take at most this share
# of the time.
SCAN_SHARE = 0.02


@dataclass(frozen=True)
class Tuning:
    """How hard the engine works: timeouts, concurrency, memory and how often it looks at the database."""

    timeout_s: float
    subscription_concurrency: int
    buffer: int
    buffer_bytes: int
    max_connections: int
    hold_wait_s: float
    first_attempt_wait_s: float
    worker_ttl_s: float
    idle_poll_s: float
    refresh_s: float
    gauges_s: float
    # One recorder write's worth: attempts go on at most as fast as `max_unrecorded` per write, and with 128 a
    # busy SecantusDB (a write every 4 s) held three notifies to about 30 attempts a second.
    max_unrecorded: int = RECORD_BATCH


def scan_pause_s(interval_s: float, took_s: float) -> float:
    """How long to wait before a scan runs again: `interval_s`, or longer so that a scan that took `took_s`
    takes at most `SCAN_SHARE` of the time."""
    return max(interval_s, took_s / SCAN_SHARE)


def now_utc() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


def size(delivery: Document) -> int:
    """What a delivery's body weighs in a lane's memory: its characters (its bytes, for the ASCII of most JSON)."""
    return len(delivery["body"])


@dataclass
class Room:
    """What a lane can still take in: deliveries, and characters of their bodies.

    A lane that holds nothing takes one delivery whatever its size, so no body is too large to be sent.
    """

    count: int
    chars: int
    empty: bool

    def take(self, chars: int) -> bool:
        """Make room for a body of `chars` characters; False, taking nothing, if it does not fit."""
        if self.count <= 0 or (chars > self.chars and not self.empty):
            return False
        self.count, self.chars, self.empty = self.count - 1, self.chars - chars, False
        return True


class FirstAttempts:
    """The first outcomes of deliveries sent before they were written, as they come in."""

    def __init__(self, delivery_ids: Iterable[str]) -> None:
        self.outcomes: dict[str, store.Outcome | None] = dict.fromkeys(delivery_ids)
        self._missing = len(self.outcomes)
        self._complete = asyncio.Event()
        if not self._missing:
            self._complete.set()

    def offer(self, outcome: store.Outcome) -> bool:
        """Keep the outcome if it is the first of one of these deliveries; False if it is for the recorder."""
        if outcome.delivery_id not in self.outcomes or self.outcomes[outcome.delivery_id] is not None:
            return False
        self.outcomes[outcome.delivery_id] = outcome
        self._missing -= 1
        if not self._missing:
            self._complete.set()
        return True

    async def wait(self, timeout_s: float, worth_waiting: Callable[[list[str]], bool]) -> None:
        """Until every delivery has its outcome, `timeout_s` has passed or the missing ones are not worth the wait."""
        deadline = time.monotonic() + timeout_s
        while not self._complete.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not worth_waiting([i for i, o in self.outcomes.items() if o is None]):
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._complete.wait(), timeout=min(remaining, 0.05))


class Deliverer:
    """Keeps a lane per enabled subscription, this worker's heartbeat, and records every attempt's outcome."""

    def __init__(
        self, db: AsyncDatabase[Document], policy: Policy, tuning: Tuning, sender: Sender, vault: Vault
    ) -> None:
        self.db, self.policy, self.tuning, self.sender, self.vault = db, policy, tuning, sender, vault
        self.worker_id = "notify-" + secrets.token_hex(8)
        self.connections = asyncio.Semaphore(tuning.max_connections)
        # Attempts sent but not yet written: a crash sends these again, so there are never many (at most a recorder
        # batch). Those of deliveries being admitted are not counted (their events are consumed again after a crash,
        # so the batch bounds them).
        self._unrecorded = asyncio.Semaphore(tuning.max_unrecorded)
        self._uncounted: set[str] = set()
        self._lanes: dict[str, Lane] = {}
        self._outcomes: asyncio.Queue[store.Outcome] = asyncio.Queue()
        self._first: FirstAttempts | None = None
        self._refresh = asyncio.Event()
        self._alive = False
        self._unopenable: set[str] = set()

    async def register(self) -> None:
        """Announce this worker; until then the consumer leaves fresh deliveries in the database."""
        await store.heartbeat(self.db, self.worker_id, now_utc(), self._alive_for_s)
        self._alive = True
        log.info("worker_registered", worker_id=self.worker_id)

    @property
    def _alive_for_s(self) -> float:
        # A heartbeat every quarter of the TTL keeps the worker alive for three quarters of it, and every worker
        # sweeps each quarter: a dead worker's leases are released within the TTL of its death, and a live one
        # would have to miss three heartbeats in a row to lose its own.
        return self.tuning.worker_ttl_s * 3 / 4

    async def hold(self, deliveries: Sequence[Document]) -> list[Document]:
        """The deliveries as they should be inserted: leased to this worker where their lane has room.

        A lane that is sending waits a little for room (the broker keeps the backlog meanwhile); one that
        stays full is marked congested and its deliveries go to the database until it has drained.
        """
        wanted, chars = Tally[str](), Tally[str]()
        for delivery in deliveries:
            wanted[delivery["subscription_id"]] += 1
            chars[delivery["subscription_id"]] += size(delivery)
        deadline = time.monotonic() + self.tuning.hold_wait_s
        for subscription_id, count in wanted.items():
            lane = self._lanes.get(subscription_id)
            if lane is not None and not lane.congested:
                wanted_room = Room(
                    min(count, self.tuning.buffer), min(chars[subscription_id], self.tuning.buffer_bytes), False
                )
                await lane.wait_for_room(wanted_room, deadline)
        room = {i: lane.room() for i, lane in self._lanes.items() if self._alive}
        out = []
        for delivery in deliveries:
            free = room.get(delivery["subscription_id"])
            if free is not None and free.take(size(delivery)):
                delivery = store.leased(delivery, self.worker_id)
            out.append(delivery)
        return out

    async def admit(self, deliveries: Sequence[Document], new_event_ids: Collection[str]) -> list[Document]:
        """Record the consumer's new deliveries, sending first those of new events that their lane can hold.

        Returns the deliveries that were new. Each is written once: with its first attempt's outcome where that
        came within `first_attempt_wait_s`, else leased to this worker (its outcome is recorded later).
        """
        held = await self.hold(deliveries)
        early = {
            d["_id"]: self._lanes[d["subscription_id"]]
            for d in held
            if d["lease"] == self.worker_id
            and d["event_id"] in new_event_ids
            and d["subscription_id"] in self._lanes
            and self._lanes[d["subscription_id"]].quick()
        }
        first = self._first = FirstAttempts(early)
        written: dict[str, store.Outcome | None] = {}
        try:
            for delivery in held:
                if delivery["_id"] in early:
                    early[delivery["_id"]].push(delivery)
            await first.wait(self.tuning.first_attempt_wait_s, lambda missing: any(early[i].quick() for i in missing))
            outcomes = dict(first.outcomes)
            docs = [self._as_written(d, outcomes, early, made) for d, made in zip(held, deliveries, strict=True)]
            created = await store.add_deliveries(self.db, docs)
            written = outcomes
        finally:
            self._first = None
            # Outcomes not in the insert go to the recorder: those that came while it was on its way are recorded
            # on their (now written) deliveries; if it failed, the events are consumed again, and the recorder
            # still frees their attempts' places (their updates find no delivery).
            for delivery_id, outcome in first.outcomes.items():
                if outcome is not None and written.get(delivery_id) is None:
                    self._outcomes.put_nowait(outcome)
        self._recorded([o for o in written.values() if o is not None])
        await self.take([d for d in created if d["_id"] not in early])
        return created

    def _as_written(
        self, delivery: Document, outcomes: dict[str, store.Outcome | None], early: dict[str, Lane], original: Document
    ) -> Document:
        """How a held delivery is inserted: with its first outcome, or as held, or, if its lane is gone, as made."""
        if delivery["_id"] not in early:
            return delivery
        outcome = outcomes[delivery["_id"]]
        if outcome is not None:
            return store.attempted(delivery, outcome)
        lane = early[delivery["_id"]]
        return delivery if self._lanes.get(lane.id) is lane and not lane.stopped else original

    async def take(self, created: Sequence[Document]) -> None:
        """Send the newly recorded deliveries: held ones from memory, the others once their lane reads them."""
        orphans: list[str] = []
        for delivery in created:
            lane = self._lanes.get(delivery["subscription_id"])
            if delivery["lease"] != self.worker_id:
                self.wake([delivery["subscription_id"]])
            elif lane is None:
                orphans.append(delivery["_id"])
            else:
                lane.push(delivery)
        if orphans:
            # The lane stopped between the insert and now: let whoever serves the subscription have them.
            try:
                await store.release(self.db, self.worker_id, now_utc(), orphans)
            except Exception:
                log.exception("release_failed", count=len(orphans))

    def wake(self, subscription_ids: Iterable[str]) -> None:
        """Deliveries in the database are due for these subscriptions: look now rather than at the next poll."""
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
            ttl_s = self.tuning.worker_ttl_s
            group.create_task(self._every(ttl_s / 4, self._beat, "heartbeat_failed"))
            group.create_task(self._every(ttl_s / 4, self._sweep, "sweep_failed"))
            orphans_s = ttl_s * store.GONE_SWEEPS
            group.create_task(
                self._every(orphans_s, self._release_orphans, "orphan_release_failed", scan=True, wait=True)
            )
            group.create_task(self._every(self.tuning.gauges_s, self._update_gauges, "gauges_failed", scan=True))

    async def close(self, timeout_s: float = 10.0) -> None:
        """Stop every lane, write the outcomes still queued, hand the leases back, close the connections.

        With the database gone this gives up after `timeout_s`: the unwritten attempts are sent again once
        this worker's heartbeat has expired, so a stop never hangs on it.
        """
        for lane in self._lanes.values():
            lane.stop(subscription_ended=False)
        try:
            async with asyncio.timeout(timeout_s):
                await self._flush()
                if self._alive:
                    released = await store.retire(self.db, self.worker_id, now_utc(), self.tuning.worker_ttl_s)
                    log.info("worker_retired", worker_id=self.worker_id, released=released)
        except Exception:
            log.exception("worker_retire_failed", worker_id=self.worker_id)
        await self.sender.close()

    def record(self, outcome: store.Outcome) -> None:
        """An attempt's outcome: written with its delivery if that is still being admitted, else by the recorder."""
        if self._first is None or not self._first.offer(outcome):
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
                subscriptions = self._opened(await store.enabled_subscriptions(self.db))
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

    def _opened(self, subscriptions: Iterable[Document]) -> dict[str, Document]:
        """The subscriptions with their secrets readable, by id; one whose secrets no key opens gets no lane
        (its deliveries wait in the database for a notify that has the key), and is logged once."""
        opened = {}
        for subscription in subscriptions:
            try:
                opened[subscription["_id"]] = self.vault.opened(subscription)
            except Unopenable as exc:
                if subscription["_id"] not in self._unopenable:
                    log.error("secret_unopenable", subscription_id=subscription["_id"], error=str(exc))
                self._unopenable.add(subscription["_id"])
        return opened

    async def _every(
        self,
        interval_s: float,
        step: Callable[[], Awaitable[None]],
        failure: str,
        *,
        scan: bool = False,
        wait: bool = False,
    ) -> None:
        """Run `step` every `interval_s` until cancelled (after a first wait if `wait`), logging `failure` when it
        raises. A `scan` of every pending delivery waits longer after a slow run (`scan_pause_s`)."""
        pause_s = interval_s if wait else 0.0
        while True:
            await asyncio.sleep(pause_s)
            started = time.monotonic()
            try:
                await step()
            except Exception:
                log.exception(failure, worker_id=self.worker_id)
            pause_s = scan_pause_s(interval_s, time.monotonic() - started) if scan else interval_s

    async def _beat(self) -> None:
        """Keep this worker's leases alive.

        Apart from the sweep: releasing a dead worker's leases can take seconds on a busy database, and a
        heartbeat waiting behind it made live workers look dead to each other, each releasing the others'
        leases in turn (seen with three notifies on the full snapshot).
        """
        await store.heartbeat(self.db, self.worker_id, now_utc(), self._alive_for_s)
        self._alive = True

    async def _sweep(self) -> None:
        """Release the leases of workers that died or retired."""
        if released := await store.sweep_dead_workers(self.db, now_utc(), self.tuning.worker_ttl_s):
            log.warning("dead_workers_swept", released=released)
            self.wake(self._lanes)

    async def _release_orphans(self) -> None:
        """Release leases whose worker is forgotten; run as rarely as a gone worker is kept (GONE_SWEEPS sweeps)."""
        if released := await store.release_orphaned(self.db, now_utc()):
            log.warning("orphaned_leases_released", released=released)
            self.wake(self._lanes)

    async def _record_forever(self) -> None:
        batch: list[store.Outcome] = []
        while True:
            # Outcomes that arrive while a batch is being written form the next batch; a batch that could
            # not be written is tried again (its deliveries stay leased to this worker until then).
            if not batch:
                batch.append(await self._outcomes.get())
            batch += self._drain(RECORD_BATCH - len(batch))
            if await self._write(batch):
                batch = []
            else:
                await asyncio.sleep(self.tuning.idle_poll_s / 5)

    async def _flush(self) -> None:
        while batch := self._drain(RECORD_BATCH):
            await self._write(batch)

    def _drain(self, limit: int) -> list[store.Outcome]:
        return [self._outcomes.get_nowait() for _ in range(min(self._outcomes.qsize(), limit))]

    async def _write(self, batch: list[store.Outcome]) -> bool:
        """Record a batch of outcomes; False if the database did not take it."""
        try:
            await store.record_attempts(self.db, batch)
        except Exception:
            log.exception("recording_attempts_failed", count=len(batch))
            return False
        self._recorded(batch)
        return True

    async def before_attempt(self, delivery_id: str) -> None:
        """Wait for room among the attempts sent but not yet written."""
        if self._first is not None and delivery_id in self._first.outcomes:
            self._uncounted.add(delivery_id)
        else:
            await self._unrecorded.acquire()

    def attempt_settled(self, delivery_id: str) -> None:
        """The attempt is written, or was never sent: its room is free."""
        if delivery_id in self._uncounted:
            self._uncounted.discard(delivery_id)
        else:
            self._unrecorded.release()

    def _recorded(self, outcomes: Sequence[store.Outcome]) -> None:
        """These outcomes are written: room for more attempts, final ones counted, retries scheduled."""
        for outcome in outcomes:
            self.attempt_settled(outcome.delivery_id)
            if outcome.status != "pending":
                DELIVERIES.labels(outcome.status).inc()
            elif outcome.next_attempt_at is not None and (lane := self._lanes.get(outcome.subscription_id)):
                lane.due_at(outcome.next_attempt_at)

    async def _update_gauges(self) -> None:
        """The backlog gauges; every `gauges_s`, or less often when the backlog makes the queries slow: with 30,000
        pending deliveries they took over a second of SecantusDB's time each, from every notify."""
        count, oldest = await store.pending_stats(self.db)
        QUEUE_DEPTH.set(count)
        OLDEST_PENDING.set((now_utc() - oldest).total_seconds() if oldest else 0)


class Lane:
    """One subscription's deliveries: held in memory up to a bound, sent with bounded concurrency and pace."""

    def __init__(self, engine: Deliverer, subscription: Document) -> None:
        self.engine = engine
        self.subscription = subscription
        self._queue: asyncio.Queue[Document] = asyncio.Queue()
        self._in_flight = 0
        # Characters of the bodies held, queued or in flight.
        self._chars = 0
        self._sent = asyncio.Event()
        # Full for longer than the consumer waits: fresh deliveries go to the database until half is sent.
        self.congested = False
        # A moving average of the latency of this subscription's attempts, and when those in flight began.
        self._latency_s = 0.0
        self._sending: dict[str, float] = {}
        self._slots = asyncio.Semaphore(engine.tuning.subscription_concurrency)
        self._wakeup = asyncio.Event()
        self._next_due: datetime | None = None
        self._next_slot = 0.0
        self.stopped = False
        self.subscription_ended = False
        self._attempts: set[asyncio.Task[None]] = set()
        self._failing_wanted: datetime | None = None
        self._failing_writer: asyncio.Task[None] | None = None
        self._tasks = [asyncio.create_task(self._dispatch_forever()), asyncio.create_task(self._read_forever())]

    @property
    def id(self) -> str:
        subscription_id: str = self.subscription["_id"]
        return subscription_id

    def room(self) -> Room:
        """What this lane can still hold in memory."""
        tuning = self.engine.tuning
        return Room(
            tuning.buffer - self._queue.qsize() - self._in_flight, tuning.buffer_bytes - self._chars, self._chars == 0
        )

    def half_free(self) -> bool:
        """Whether at least half of this lane's memory is free, in deliveries and in characters."""
        room, tuning = self.room(), self.engine.tuning
        return room.count >= tuning.buffer // 2 and room.chars >= tuning.buffer_bytes // 2

    async def wait_for_room(self, wanted: Room, deadline: float) -> None:
        """Wait until `wanted` fits in memory; past the deadline, mark the lane congested."""
        while (room := self.room()).count < wanted.count or room.chars < wanted.chars:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.congested = True
                log.info("lane_congested", subscription_id=self.id, held=self._queue.qsize() + self._in_flight)
                return
            self._sent.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sent.wait(), timeout=remaining)

    def quick(self) -> bool:
        """Whether the consumer may wait for this lane's first attempts: it is neither failing, full nor slow."""
        limit = self.engine.tuning.first_attempt_wait_s / 10
        now = time.monotonic()
        slow = self._latency_s > limit or any(now - started > limit for started in self._sending.values())
        return not slow and not self.congested and self.subscription.get("failing_since") is None

    def push(self, delivery: Document) -> None:
        """A delivery leased to this worker: send it in turn."""
        self._chars += size(delivery)
        self._queue.put_nowait(delivery)

    def due_at(self, when: datetime) -> None:
        """Something of this subscription in the database falls due at `when`: look then, or now if that has passed."""
        if self._next_due is None or when < self._next_due:
            self._next_due = when
            self._wakeup.set()

    def stop(self, subscription_ended: bool = True) -> None:
        """Take nothing new; held deliveries are dropped; sends finish.

        When the subscription ended (it is gone or disabled), an attempt that would be retried fails instead; when
        only this worker stops, it stays pending, for whichever notify runs next.
        """
        self.stopped = True
        self.subscription_ended = subscription_ended
        for task in self._tasks:
            task.cancel()

    async def _dispatch_forever(self) -> None:
        while True:
            delivery = await self._queue.get()
            await self.engine.before_attempt(delivery["_id"])
            await self._slots.acquire()
            self._in_flight += 1
            await self._pace()
            task = asyncio.create_task(self._attempt(delivery))
            self._attempts.add(task)
            task.add_done_callback(self._attempts.discard)

    async def _read_forever(self) -> None:
        while True:
            try:
                wait_s = await self._read_due()
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

    async def _read_due(self) -> float:
        """Lease what is due in the database while memory has room; return how long to wait before looking again."""
        tuning = self.engine.tuning
        self._next_due = None
        room = self.room()
        if room.count <= 0 or not self.half_free():
            # Memory is busy: the dispatcher asks again once half of it has been sent.
            return tuning.idle_poll_s
        now = now_utc()
        due = await store.due_deliveries(self.engine.db, self.id, now, room.count)
        fitting = []
        for delivery in due:
            if not room.take(size(delivery)):
                # Their bodies fill memory: the rest stay in the database until half of it is sent.
                break
            fitting.append(delivery)
        for delivery in await store.claim(self.engine.db, fitting, self.engine.worker_id):
            self.push(delivery)
        if len(fitting) < len(due):
            return tuning.idle_poll_s
        if room.count == 0:
            return 0
        later = await store.next_due_at(self.engine.db, self.id, now)
        wait = (later - now_utc()).total_seconds() if later else tuning.idle_poll_s
        return min(wait, tuning.idle_poll_s)

    async def _attempt(self, delivery: Document) -> None:
        queued = False
        try:
            if self.stopped:
                return
            async with self.engine.connections:
                IN_FLIGHT.inc()
                try:
                    disable_reason = await self._send_and_judge(delivery)
                finally:
                    IN_FLIGHT.dec()
            queued = True
            if disable_reason and not self.stopped:
                await self.engine.disable(self.id, disable_reason)
        except Exception:
            log.exception("attempt_failed", delivery_id=delivery["_id"])
        finally:
            if not queued:
                self.engine.attempt_settled(delivery["_id"])
                if not self.stopped:
                    # Still leased to this worker: try again from memory after a pause.
                    asyncio.get_running_loop().call_later(self.engine.tuning.idle_poll_s, self.push, delivery)
            self._settle(delivery)

    def _settle(self, delivery: Document) -> None:
        """An attempt is over: its place and its body's characters are free; once half of memory is, look at the
        database again."""
        busy = not self.half_free()
        self._in_flight -= 1
        self._chars -= size(delivery)
        self._slots.release()
        self._sent.set()
        if self.half_free():
            self.congested = False
            if busy:
                self.due_at(now_utc())

    async def _pace(self) -> None:
        slot = rate_slot(self._next_slot, time.monotonic(), self.subscription.get("rate_limit"))
        self._next_slot = slot
        await asyncio.sleep(max(0.0, slot - time.monotonic()))

    async def _send_and_judge(self, delivery: Document) -> str | None:
        """Send once, judge the reply and queue the outcome (last); return why to disable the subscription, if so."""
        subscription = self.subscription
        attempt: dict[str, Any] = {"at": now_utc()}
        code: int | None = None
        retry_after = None
        started = self._sending[delivery["_id"]] = time.monotonic()
        try:
            response = await self._send(delivery, subscription)
            code = attempt["status_code"] = response.status_code
            retry_after = retry_after_s(response.headers.get("retry-after"), now_utc())
            if response.is_redirect:
                attempt["error"] = f"redirect to {masked_url(response.headers['location'])[:100]} not followed"
        except Refused as exc:
            attempt["error"] = f"refused: {exc}"
        except TimeoutError:
            attempt["error"] = f"timed out after {self.engine.tuning.timeout_s:g} s"
        except SendError as exc:
            attempt["error"] = str(exc)
        except Exception as exc:
            # A bug, or a request no client would send (a header the subscription got before headers were
            # checked): still an attempt, failed, so the schedule ends it rather than a retry every few seconds.
            log.exception("attempt_error", delivery_id=delivery["_id"])
            attempt["error"] = f"the request could not be made ({type(exc).__name__})"
        finally:
            self._sending.pop(delivery["_id"], None)
        latency = time.monotonic() - started
        self._latency_s = 0.8 * self._latency_s + 0.2 * latency
        attempt["latency_ms"] = round(latency * 1000, 2)
        ATTEMPT_SECONDS.observe(latency)

        now = now_utc()
        ok = code is not None and 200 <= code < 300
        failing_since = subscription.get("failing_since")
        if not ok and failing_since is None:
            failing_since = subscription["failing_since"] = now
            self._mark_failing(now)
        elif ok and failing_since is not None:
            subscription.pop("failing_since", None)
            self._mark_failing(None)
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
        if self.subscription_ended and status == "pending":
            status, retry_at = "failed", None
            attempt["error"] = attempt.get("error") or "the subscription was disabled"
        ATTEMPTS.labels("success" if ok else "failure").inc()
        log.info(
            "delivery_attempt",
            delivery_id=delivery["_id"],
            event_id=delivery["event_id"],
            trace_id=(delivery.get("traceparent") or "--").split("-")[1] or None,
            status=status,
            code=code,
            error=attempt.get("error"),
        )
        self.engine.record(store.Outcome(delivery["_id"], self.id, self.engine.worker_id, attempt, status, retry_at))
        return verdict.disable_reason

    def _mark_failing(self, since: datetime | None) -> None:
        """Note in the database since when the subscription fails (None: it does not), without waiting for it.

        One write at a time, of the latest state: an endpoint refusing every few requests flips the state at
        every other attempt, and attempts that waited for each write were paced by the database (under two a
        second per lane on a busy SecantusDB). Memory stays the truth for this worker's judgements.
        """
        self._failing_wanted = since
        if self._failing_writer is None or self._failing_writer.done():
            self._failing_writer = asyncio.create_task(self._write_failing())

    async def _write_failing(self) -> None:
        while True:
            since = self._failing_wanted
            # Best effort: the attempt's outcome matters more, and the next failure or success notes it again.
            try:
                await store.mark_failing(self.engine.db, self.id, since)
            except Exception:
                log.exception("mark_failing_failed", subscription_id=self.id)
            if self._failing_wanted is since:
                return

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

"""The consumer's wait for the first attempts of deliveries it has not written yet."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from treatywatch.notify.delivery import FirstAttempts
from treatywatch.notify.store import Outcome

NOW = datetime(2024, 5, 1, tzinfo=UTC)


def outcome(delivery_id: str, status: str = "succeeded") -> Outcome:
    return Outcome(delivery_id, "sub_1", "worker-1", {"at": NOW, "status_code": 204}, status, None)


def test_only_the_first_outcome_of_an_awaited_delivery_is_kept() -> None:
    first = FirstAttempts(["msg_a", "msg_b"])
    assert first.offer(outcome("msg_a"))
    assert not first.offer(outcome("msg_a", "failed")), "a second outcome goes to the recorder"
    assert not first.offer(outcome("msg_other")), "an outcome of another delivery goes to the recorder"
    assert first.outcomes["msg_a"] is not None and first.outcomes["msg_a"].status == "succeeded"
    assert first.outcomes["msg_b"] is None


async def test_the_wait_ends_when_every_outcome_is_in() -> None:
    first = FirstAttempts(["msg_a", "msg_b"])
    asyncio.get_running_loop().call_later(0.01, first.offer, outcome("msg_a"))
    asyncio.get_running_loop().call_later(0.02, first.offer, outcome("msg_b"))
    started = time.monotonic()
    await first.wait(30, lambda missing: True)
    assert time.monotonic() - started < 30
    assert all(o is not None for o in first.outcomes.values())


async def test_the_wait_ends_once_the_missing_ones_are_not_worth_it() -> None:
    first = FirstAttempts(["msg_fast", "msg_slow"])
    first.offer(outcome("msg_fast"))
    asked: list[list[str]] = []

    def worth_waiting(missing: list[str]) -> bool:
        asked.append(missing)
        return False

    await first.wait(30, worth_waiting)
    assert asked == [["msg_slow"]]
    assert first.outcomes["msg_slow"] is None


async def test_the_wait_ends_at_its_timeout() -> None:
    first = FirstAttempts(["msg_a"])
    await first.wait(0.05, lambda missing: True)
    assert first.outcomes["msg_a"] is None


async def test_nothing_to_wait_for_returns_at_once() -> None:
    first = FirstAttempts([])
    await first.wait(30, lambda missing: True)
    assert first.outcomes == {}

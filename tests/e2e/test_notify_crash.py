"""Notify killed with SIGKILL in the middle of retrying, then restarted: every event arrives, each under one body."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import services_on
from tests.receiver import Receiver, Reply, per_message, valid_signatures, webhook_receiver
from tests.waiting import wait_until
from treatywatch.cli.stack import Stack

KEY = "crash-" + uuid.uuid4().hex
AUTH = {"Authorization": f"Bearer {KEY}"}
STOPPED_EVENTS = 400
DAY = "1997-12-03"


@pytest.fixture(scope="module")
def platform(servers: Stack) -> Iterator[Stack]:
    env = {
        "TREATYWATCH_GROUP_ID": f"notify-crash-{uuid.uuid4().hex[:8]}",
        "TREATYWATCH_RETRY_SCHEDULE_S": "[0, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]",
        "TREATYWATCH_DELIVERY_TIMEOUT_S": "1",
        "TREATYWATCH_WORKER_TTL_S": "2",
        "TREATYWATCH_DELIVERY_IDLE_POLL_S": "0.5",
        "TREATYWATCH_WEBHOOK_HTTP_HOSTS": '["127.0.0.1"]',
    }
    with services_on(servers, "e2e-notify-crash", ("ingest", "notify"), KEY, env) as stack:
        yield stack


def subscribe(platform: Stack, receiver: Receiver) -> str:
    """Subscribe the receiver to recorded actions; return the subscription's secret."""
    created = httpx.post(
        f"{platform.url('notify')}/v1/subscriptions",
        json={"url": receiver.url, "event_types": ["treaty.action.recorded"]},
        headers=AUTH,
    )
    assert created.status_code == 201, created.text
    secret: str = created.json()["secret"]
    return secret


def signatures(prefix: str, count: int) -> list[dict[str, Any]]:
    """`count` signatures by Norway spread over five treaties, under fresh ids."""
    return [
        {
            "id": f"{prefix}-{uuid.uuid4()}",
            "type": "treaty.action.recorded",
            "source": "/tests/e2e/crash",
            "data": {"treaty_id": f"XXVI-{i % 5 + 1}", "participant": "NOR", "action": "signature", "date": DAY},
        }
        for i in range(count)
    ]


def test_a_notify_killed_mid_retry_delivers_everything_exactly_once_in_effect(platform: Stack) -> None:
    # Every message fails twice before it is accepted, so the kill finds deliveries between attempts.
    with webhook_receiver(per_message(2, Reply(503))) as receiver:
        secret = subscribe(platform, receiver)
        events = signatures("crash", 40)
        accepted = httpx.post(f"{platform.url('ingest')}/v1/events:batch", json={"events": events}, headers=AUTH)
        assert accepted.status_code == 202, accepted.text

        wait_until(lambda: len(receiver.requests) >= 20, "retries under way")
        assert len(receiver.delivered()) < len(events)
        platform.kill("notify")
        # The restart rejoins the same group under the same static member id and resumes from the
        # committed offsets; pending deliveries were durable before those commits.
        platform.start_service("notify")
        platform.wait_ready(("notify",))
        wait_until(lambda: len({r.headers["webhook-id"] for r in receiver.delivered()}) == 40, "every event delivered")

    bodies: dict[str, set[bytes]] = {}
    for request in receiver.requests:
        bodies.setdefault(request.headers["webhook-id"], set()).add(request.body)
        assert valid_signatures(secret, request)
    assert all(len(b) == 1 for b in bodies.values())
    assert {json.loads(next(iter(b)))["id"] for b in bodies.values()} == {e["id"] for e in events}


def test_a_notify_stopped_mid_attempt_leaves_the_retries_to_the_next_one(platform: Stack) -> None:
    # Every first attempt is answered 503, so notify stops (SIGTERM, as a rolling update does) while attempts are in
    # flight and failing: each stays pending, and the notify that starts next delivers it.
    with webhook_receiver(per_message(1, Reply(503))) as receiver:
        subscribe(platform, receiver)
        events = signatures("stopped", STOPPED_EVENTS)
        accepted = httpx.post(f"{platform.url('ingest')}/v1/events:batch", json={"events": events}, headers=AUTH)
        assert accepted.status_code == 202, accepted.text
        wait_until(lambda: len(receiver.requests) >= STOPPED_EVENTS // 4, "attempts under way")
        platform.stop_process("notify")
        platform.start_service("notify")
        platform.wait_ready(("notify",))
        wait_until(
            lambda: len({r.headers["webhook-id"] for r in receiver.delivered()}) == STOPPED_EVENTS,
            "every event delivered",
        )

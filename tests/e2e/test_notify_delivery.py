"""Notify's delivery engine as a real process, against real local receivers that fail, stall, throttle and redirect."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import services_on
from tests.receiver import Reply, always, first_then, valid_signatures, webhook_receiver
from tests.waiting import wait_until
from treatywatch.cli.stack import Stack, free_port

KEY = "notify-" + uuid.uuid4().hex
AUTH = {"Authorization": f"Bearer {KEY}"}
SCHEDULE = [0, 0.3, 0.3, 0.3, 0.3, 0.3]


@pytest.fixture(scope="module")
def platform(servers: Stack) -> Iterator[Stack]:
    env = {
        "TREATYWATCH_GROUP_ID": f"notify-delivery-{uuid.uuid4().hex[:8]}",
        "TREATYWATCH_RETRY_SCHEDULE_S": json.dumps(SCHEDULE),
        "TREATYWATCH_RETRY_JITTER": "0.1",
        "TREATYWATCH_DELIVERY_TIMEOUT_S": "1.5",
        "TREATYWATCH_DISABLE_AFTER_S": "2.5",
        "TREATYWATCH_SUBSCRIPTION_CONCURRENCY": "2",
        "TREATYWATCH_WORKER_TTL_S": "3",
        # A small memory per subscription, so these tests also take the path through the database.
        "TREATYWATCH_DELIVERY_BUFFER": "4",
        "TREATYWATCH_DELIVERY_HOLD_WAIT_S": "0.5",
        "TREATYWATCH_DELIVERY_IDLE_POLL_S": "1",
        "TREATYWATCH_SUBSCRIPTION_REFRESH_S": "0.5",
        "TREATYWATCH_GAUGES_INTERVAL_S": "0.5",
        # The receivers listen on loopback, which notify refuses unless the operator allows it.
        "TREATYWATCH_WEBHOOK_HTTP_HOSTS": json.dumps(["127.0.0.1", "localhost", "::1"]),
    }
    with services_on(servers, "e2e-notify-delivery", ("ingest", "notify"), KEY, env) as stack:
        yield stack


def notify(stack: Stack, method: str, path: str, body: Any = None) -> httpx.Response:
    return httpx.request(method, f"{stack.url('notify')}{path}", json=body, headers=AUTH, timeout=30)


def subscribe(stack: Stack, url: str, treaty: str, **extra: Any) -> tuple[str, str]:
    """Subscribe `url` to the actions of one treaty (each test its own, so tests do not see each other's events)."""
    body = {"url": url, "event_types": ["treaty.*"], "filter": {"treaty_ids": [treaty]}, **extra}
    created = notify(stack, "POST", "/v1/subscriptions", body)
    assert created.status_code == 201, created.text
    return created.json()["id"], created.json()["secret"]


def a_treaty() -> str:
    return f"XXVI-{uuid.uuid4().int % 10**9}"


def publish(stack: Stack, treaty: str, count: int = 1) -> list[str]:
    """Publish `count` actions on `treaty` through ingest; return their event ids."""
    events: list[dict[str, Any]] = [
        {
            "id": f"evt-{uuid.uuid4()}",
            "type": "treaty.action.recorded",
            "source": "/tests/e2e/notify",
            "data": {"treaty_id": treaty, "participant": "NOR", "action": "signature", "date": "1997-12-03"},
        }
        for _ in range(count)
    ]
    accepted = httpx.post(f"{stack.url('ingest')}/v1/events:batch", json={"events": events}, headers=AUTH, timeout=30)
    assert accepted.status_code == 202, accepted.text
    return [e["id"] for e in events]


def deliveries(stack: Stack, subscription_id: str) -> list[dict[str, Any]]:
    listed = notify(stack, "GET", f"/v1/subscriptions/{subscription_id}/deliveries")
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


def subscription(stack: Stack, subscription_id: str) -> dict[str, Any]:
    found: dict[str, Any] = notify(stack, "GET", f"/v1/subscriptions/{subscription_id}").json()
    return found


def newest_when(stack: Stack, subscription_id: str, status: str) -> dict[str, Any]:
    """The subscription's newest delivery once it has `status` (empty until then)."""
    items = deliveries(stack, subscription_id)
    return items[0] if items and items[0]["status"] == status else {}


def once_disabled(stack: Stack, subscription_id: str) -> dict[str, Any]:
    """The subscription once it is disabled (empty until then)."""
    found = subscription(stack, subscription_id)
    return {} if found["enabled"] else found


def logged_events(stack: Stack) -> set[tuple[str, str | None]]:
    """(event, subscription id) of every line notify has logged."""
    lines = (stack.log_dir / "notify.log").read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    return {(e.get("event"), e.get("subscription_id")) for e in entries}


def metrics_after_a_success(stack: Stack) -> str:
    text = httpx.get(f"{stack.url('notify')}/metrics").text
    return text if 'outcome="succeeded"' in text else ""


def test_an_endpoint_that_fails_then_recovers_gets_the_event_once_under_one_webhook_id(platform: Stack) -> None:
    treaty = a_treaty()
    with webhook_receiver(first_then(2, Reply(500))) as receiver:
        subscription_id, secret = subscribe(platform, receiver.url, treaty)
        [event_id] = publish(platform, treaty)
        wait_until(receiver.delivered, "the third attempt to succeed")

    assert len(receiver.requests) == 3
    assert len(receiver.ids()) == 1 and len({r.body for r in receiver.requests}) == 1
    assert all(valid_signatures(secret, r) for r in receiver.requests)
    assert json.loads(receiver.requests[0].body)["id"] == event_id
    delivery = wait_until(
        lambda: newest_when(platform, subscription_id, "succeeded"),
        "the success to be recorded",
    )
    assert delivery["id"] == receiver.requests[0].headers["webhook-id"]
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 204]
    assert all(a["latency_ms"] >= 0 and "error" not in a for a in delivery["attempts"])
    assert delivery["attempt_count"] == 3 and delivery["next_attempt_at"] is None
    assert subscription(platform, subscription_id)["enabled"] is True


def test_a_slow_endpoint_does_not_delay_a_healthy_one(platform: Stack) -> None:
    treaty = a_treaty()
    with (
        webhook_receiver(always(Reply(204, delay_s=30))) as slow,
        webhook_receiver() as healthy,
    ):
        slow_id, _ = subscribe(platform, slow.url, treaty)
        subscribe(platform, healthy.url, treaty)
        ids = publish(platform, treaty, 20)
        wait_until(lambda: len(healthy.ids()) == 20, "every event at the healthy endpoint", timeout_s=10)
        # Its memory full, the stalled subscription is not waited for: the next events reach the healthy one.
        more = publish(platform, treaty, 20)
        wait_until(lambda: len(healthy.ids()) == 40, "the next events at the healthy endpoint", timeout_s=10)
        # The stalled endpoint holds at most its subscription's concurrency (2), never the healthy one's turn.
        assert slow.max_concurrent <= 2
        assert len(slow.requests) <= 4
        assert ("lane_congested", slow_id) in logged_events(platform)
        # What did not fit in memory waits in the database, pending.
        assert [d["status"] for d in deliveries(platform, slow_id)] == ["pending"] * 40
    assert {json.loads(r.body)["id"] for r in healthy.requests} == set(ids + more)


def test_429_with_retry_after_is_honoured(platform: Stack) -> None:
    treaty = a_treaty()
    with webhook_receiver(first_then(1, Reply(429, {"Retry-After": "1"}))) as receiver:
        subscribe(platform, receiver.url, treaty)
        publish(platform, treaty)
        wait_until(receiver.delivered, "the attempt after the Retry-After")
    first, second = receiver.requests
    # The schedule alone would have retried after 0.3 s.
    assert second.at - first.at >= 0.95
    assert [r.headers["webhook-id"] for r in receiver.requests] == [first.headers["webhook-id"]] * 2


def test_410_disables_the_subscription_with_the_reason(platform: Stack) -> None:
    treaty = a_treaty()
    with webhook_receiver(always(Reply(410))) as gone, webhook_receiver() as sentinel:
        gone_id, _ = subscribe(platform, gone.url, treaty)
        subscribe(platform, sentinel.url, treaty)
        publish(platform, treaty)
        disabled = wait_until(lambda: once_disabled(platform, gone_id), "the subscription to be disabled")
        assert "410" in disabled["disabled_reason"]
        [failed] = deliveries(platform, gone_id)
        assert failed["status"] == "failed" and [a["status_code"] for a in failed["attempts"]] == [410]

        publish(platform, treaty)
        wait_until(lambda: len(sentinel.delivered()) == 2, "the second event at the sentinel")
        assert len(gone.requests) == 1
        assert len(deliveries(platform, gone_id)) == 1


def test_a_redirect_to_a_private_address_is_not_followed_and_fails(platform: Stack) -> None:
    treaty = a_treaty()
    with webhook_receiver(always(Reply(302, {"Location": "http://10.0.0.1/steal"}))) as receiver:
        subscription_id, _ = subscribe(platform, receiver.url, treaty)
        publish(platform, treaty)
        delivery = wait_until(
            lambda: newest_when(platform, subscription_id, "failed"),
            "the delivery to fail after its last attempt",
        )
    assert len(delivery["attempts"]) == len(SCHEDULE) == len(receiver.requests)
    # Where it pointed is shown as any URL is: its origin and a masked path.
    assert {a["error"] for a in delivery["attempts"]} == {"redirect to http://10.0.0.1/… not followed"}
    assert {a["status_code"] for a in delivery["attempts"]} == {302}
    assert {r.path for r in receiver.requests} == {"/hook"}


def test_a_rotated_secret_signs_alongside_the_new_one_during_the_grace_period(platform: Stack) -> None:
    treaty = a_treaty()
    with webhook_receiver() as receiver:
        subscription_id, old = subscribe(platform, receiver.url, treaty)
        rotated = notify(platform, "POST", f"/v1/subscriptions/{subscription_id}/secret:rotate")
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]
        assert new.startswith("whsec_") and new != old
        expires = datetime.fromisoformat(rotated.json()["previous_secret_expires_at"])
        assert expires > datetime.now(UTC) + timedelta(hours=23)

        publish(platform, treaty)
        during = wait_until(lambda: receiver.requests, "the delivery during the grace period")[0]
        signatures = during.headers["webhook-signature"].split()
        assert len(signatures) == 2
        assert valid_signatures(new, during) == [signatures[0]]
        assert valid_signatures(old, during) == [signatures[1]]

        # No grace period (a leaked secret): only the newest signs from now on.
        revoked = notify(platform, "POST", f"/v1/subscriptions/{subscription_id}/secret:rotate", {"grace_period_s": 0})
        newest = revoked.json()["secret"]
        assert revoked.json()["previous_secret_expires_at"] is None
        publish(platform, treaty)
        after = wait_until(lambda: receiver.requests[1:], "the delivery after the revocation")[0]
        assert len(after.headers["webhook-signature"].split()) == 1
        assert valid_signatures(newest, after)
        assert not valid_signatures(new, after) and not valid_signatures(old, after)
    assert "secret" not in subscription(platform, subscription_id)


def test_the_test_endpoint_sends_a_signed_webhook_test_event(platform: Stack) -> None:
    with webhook_receiver() as receiver:
        subscription_id, secret = subscribe(platform, receiver.url, a_treaty())
        queued = notify(platform, "POST", f"/v1/subscriptions/{subscription_id}/test")
        assert queued.status_code == 202, queued.text
        request = wait_until(lambda: receiver.requests, "the test delivery")[0]
    event = json.loads(request.body)
    assert event["type"] == "webhook.test" and event["specversion"] == "1.0"
    assert event["id"] == queued.json()["event_id"]
    assert request.headers["webhook-id"] == queued.json()["delivery_id"]
    assert valid_signatures(secret, request)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://192.168.1.1/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://[fd00:ec2::254]/hook",
        "https://0x7f000001/hook",
        "https://[64:ff9b::a9fe:a9fe]/latest/meta-data",
        "https://[2002:a00:1::]/hook",
        "http://127.0.0.1:0/hook",
        "http://example.org/hook",
        "https://user:pass@example.org/hook",
    ],
)
def test_urls_aimed_at_private_networks_are_refused(platform: Stack, url: str) -> None:
    refused = notify(platform, "POST", "/v1/subscriptions", {"url": url, "event_types": ["treaty.*"]})
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [e["path"] for e in refused.json()["errors"]] == ["url"]

    with webhook_receiver() as receiver:
        subscription_id, _ = subscribe(platform, receiver.url, a_treaty())
    patched = notify(platform, "PATCH", f"/v1/subscriptions/{subscription_id}", {"url": url})
    assert patched.status_code == 422, patched.text
    assert subscription(platform, subscription_id)["url"] == receiver.url.removesuffix("/hook") + "/…"


def test_custom_headers_are_sent_but_cannot_override_notifys_own(platform: Stack) -> None:
    refused = notify(
        platform,
        "POST",
        "/v1/subscriptions",
        {"url": "http://127.0.0.1:9/hook", "event_types": ["treaty.*"], "headers": {"webhook-id": "x"}},
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["path"] == "headers"
    treaty = a_treaty()
    with webhook_receiver() as receiver:
        subscribe(platform, receiver.url, treaty, headers={"X-Office": "treaties"}, description="the treaty office")
        publish(platform, treaty)
        request = wait_until(lambda: receiver.requests, "the delivery")[0]
    assert request.headers["x-office"] == "treaties"


def test_a_failed_delivery_can_be_retried_by_hand(platform: Stack) -> None:
    treaty = a_treaty()
    with webhook_receiver(first_then(len(SCHEDULE), Reply(500))) as receiver:
        subscription_id, _ = subscribe(platform, receiver.url, treaty)
        publish(platform, treaty)
        failed = wait_until(
            lambda: newest_when(platform, subscription_id, "failed"),
            "the delivery to fail",
        )
        retried = notify(platform, "POST", f"/v1/deliveries/{failed['id']}/retry")
        assert retried.status_code == 202, retried.text
        wait_until(receiver.delivered, "the manual retry to succeed")
    done = wait_until(lambda: newest_when(platform, subscription_id, "succeeded"), "the success to be recorded")
    assert done["id"] == failed["id"]
    assert [a["status_code"] for a in done["attempts"]] == [500] * len(SCHEDULE) + [204]
    assert notify(platform, "POST", "/v1/deliveries/msg_nothing/retry").status_code == 404


def test_replay_sends_a_period_again_once(platform: Stack) -> None:
    treaty = a_treaty()
    since = datetime.now(UTC) - timedelta(seconds=1)
    with webhook_receiver() as first, webhook_receiver() as late:
        subscribe(platform, first.url, treaty)
        ids = publish(platform, treaty, 3)
        wait_until(lambda: len(first.ids()) == 3, "the events at the first subscriber")

        late_id, _ = subscribe(platform, late.url, treaty)
        window = {"since": since.isoformat(), "until": datetime.now(UTC).isoformat()}
        replayed = httpx.post(
            f"{platform.url('notify')}/v1/subscriptions/{late_id}/replay", params=window, headers=AUTH, timeout=30
        )
        assert replayed.status_code == 202, replayed.text
        assert replayed.json()["matched"] == 3 and replayed.json()["queued"] == 3
        wait_until(lambda: len(late.ids()) == 3, "the replayed events")
        again = httpx.post(
            f"{platform.url('notify')}/v1/subscriptions/{late_id}/replay", params=window, headers=AUTH, timeout=30
        )
        assert again.json() == {"events": replayed.json()["events"], "matched": 3, "queued": 0}
    assert {json.loads(r.body)["id"] for r in late.requests} == set(ids)
    assert len(late.requests) == 3
    backwards = httpx.post(
        f"{platform.url('notify')}/v1/subscriptions/{late_id}/replay",
        params={"since": window["until"], "until": window["since"]},
        headers=AUTH,
        timeout=30,
    )
    assert backwards.status_code == 422


def test_a_subscription_failing_continuously_is_disabled_with_the_reason(platform: Stack) -> None:
    treaty = a_treaty()
    subscription_id, _ = subscribe(platform, f"http://127.0.0.1:{free_port()}/hook", treaty)
    publish(platform, treaty)
    wait_until(
        lambda: newest_when(platform, subscription_id, "failed"),
        "the first delivery to fail",
    )
    assert subscription(platform, subscription_id)["enabled"] is True
    publish(platform, treaty)
    disabled = wait_until(lambda: once_disabled(platform, subscription_id), "the subscription to be disabled")
    assert "failed since" in disabled["disabled_reason"]
    assert {d["status"] for d in deliveries(platform, subscription_id)} == {"failed"}
    # What failed is told in words that name no address.
    assert {a["error"] for d in deliveries(platform, subscription_id) for a in d["attempts"]} == {"could not connect"}
    enabled = notify(platform, "PATCH", f"/v1/subscriptions/{subscription_id}", {"enabled": True}).json()
    assert enabled["enabled"] is True and "disabled_reason" not in enabled


def test_a_rate_limit_spaces_the_deliveries(platform: Stack) -> None:
    treaty = a_treaty()
    with webhook_receiver() as receiver:
        subscribe(platform, receiver.url, treaty, rate_limit=10)
        publish(platform, treaty, 8)
        wait_until(lambda: len(receiver.requests) == 8, "every delivery")
    arrivals = sorted(r.at for r in receiver.requests)
    assert arrivals[-1] - arrivals[0] >= 0.6


def test_metrics_report_outcomes_latency_and_the_queue(platform: Stack) -> None:
    text = wait_until(lambda: metrics_after_a_success(platform), "a succeeded delivery in the metrics")
    for name in (
        "treatywatch_notify_delivery_outcomes_total",
        "treatywatch_notify_attempts_total",
        "treatywatch_notify_attempt_seconds_bucket",
        "treatywatch_notify_pending_deliveries",
        "treatywatch_notify_oldest_pending_delivery_age_seconds",
    ):
        assert name in text


def test_null_in_a_patch_clears_only_what_a_subscription_may_lack(platform: Stack) -> None:
    subscription_id, _ = subscribe(platform, "http://127.0.0.1:9/hook", a_treaty(), description="office", rate_limit=5)
    nulls = dict.fromkeys(("url", "event_types", "filter", "headers", "enabled", "description", "rate_limit"))
    patched = notify(platform, "PATCH", f"/v1/subscriptions/{subscription_id}", nulls)
    assert patched.status_code == 200, patched.text
    found = patched.json()
    assert (found["url"], found["event_types"], found["enabled"]) == ("http://127.0.0.1:9/…", ["treaty.*"], True)
    assert (found["description"], found["rate_limit"]) == (None, None)
    assert subscription(platform, subscription_id) == found

"""One event end to end: ingest -> Kafka -> registry and notify, as real processes (as `make run` starts them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import services_on
from tests.receiver import Receiver, webhook_receiver
from tests.waiting import wait_until
from treatywatch.cli.stack import Stack

KEY = "e2e-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def platform(broker_servers: Stack) -> Iterator[Stack]:
    """The three services on each embedded broker in turn, with databases of their own on the shared server."""
    env = {"TREATYWATCH_RETRY_SCHEDULE_S": "[0, 0.2, 0.5]"}
    with services_on(broker_servers, f"e2e-{broker_servers.broker}", ("ingest", "registry"), KEY, env) as stack:
        # Notify on the same topic, with a database of its own: the registry's and notify's both hold `events`.
        stack.env["TREATYWATCH_MONGO_DB"] += "_notify"
        stack.start_service("notify")
        stack.wait_ready(("notify",))
        yield stack


@pytest.fixture(scope="module")
def receiver(platform: Stack) -> Iterator[Receiver]:
    # One per platform: the tests count every request the receiver got.
    with webhook_receiver() as r:
        yield r


def post(stack: Stack, service: str, path: str, body: Any) -> httpx.Response:
    return httpx.post(f"{stack.url(service)}{path}", json=body, headers={"Authorization": f"Bearer {KEY}"}, timeout=30)


def get(stack: Stack, service: str, path: str) -> Any:
    response = httpx.get(f"{stack.url(service)}{path}", headers={"Authorization": f"Bearer {KEY}"}, timeout=30)
    response.raise_for_status()
    return response.json()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks verification written from the spec, independent of notify's code."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(sig == f"v1,{expected}" for sig in headers["webhook-signature"].split())


def test_an_action_reaches_the_registry_and_a_signed_webhook_once(platform: Stack, receiver: Receiver) -> None:
    # Exact type: ingest's start-up catalog event (treaty.registered) may reach notify after this.
    subscription = {"url": receiver.url, "event_types": ["treaty.action.recorded"]}
    created = post(platform, "notify", "/v1/subscriptions", subscription)
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")

    action: dict[str, Any] = {
        "id": f"e2e-{uuid.uuid4()}",
        "type": "treaty.action.recorded",
        "source": "/tests/e2e",
        "data": {
            "treaty_id": "XXVI-5",
            "participant": "Afghanistan",
            "action": "accession",
            "date": "2002-09-11",
        },
    }
    accepted = post(platform, "ingest", "/v1/events", action)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json() == {"id": action["id"]}

    stats = wait_until(
        lambda: (s := get(platform, "registry", "/v1/treaties/XXVI-5/stats?as_of=2009-12-02"))["parties"] == 1 and s,
        "the registry to count the party",
    )
    assert stats["treaty_id"] == "XXVI-5" and stats["signatories"] == 0 and stats["withdrawn"] == 0
    participants = get(platform, "registry", "/v1/treaties/XXVI-5/participants?status=party")
    assert [(p["participant"], p["consent"]["action"]) for p in participants["items"]] == [("AFG", "accession")]
    assert get(platform, "registry", "/v1/treaties/XXVI-5/stats?as_of=2002-09-10")["parties"] == 0

    delivery = wait_until(lambda: receiver.requests, "the webhook delivery")[0]
    assert verify(secret, delivery.headers, delivery.body)
    assert json.loads(delivery.body)["id"] == action["id"]

    # The same id again, then a sentinel on the same partition key: once the sentinel is through,
    # the duplicate has been handled, and it must have changed nothing.
    assert post(platform, "ingest", "/v1/events", action).status_code == 202
    sentinel = {**action, "id": f"e2e-{uuid.uuid4()}", "data": {**action["data"], "action": "declaration"}}
    assert post(platform, "ingest", "/v1/events", sentinel).status_code == 202

    # Registry and notify consume independently: wait for the sentinel in each.
    def applied_ids() -> list[str]:
        return [e["id"] for e in get(platform, "registry", "/v1/events?after=0&limit=1000")["items"]]

    wait_until(lambda: sentinel["id"] in applied_ids(), "the sentinel to be applied")
    applied = applied_ids()
    wait_until(
        lambda: any(json.loads(r.body)["id"] == sentinel["id"] for r in receiver.requests), "the sentinel's delivery"
    )
    assert applied.count(action["id"]) == 1
    bodies_by_webhook_id: dict[str, set[bytes]] = {}
    for request in receiver.requests:
        bodies_by_webhook_id.setdefault(request.headers["webhook-id"], set()).add(request.body)
    assert len(bodies_by_webhook_id) == 2
    assert all(len(bodies) == 1 for bodies in bodies_by_webhook_id.values())
    assert get(platform, "registry", "/v1/treaties/XXVI-5/stats?as_of=2009-12-02")["parties"] == 1

    deliveries = get(platform, "notify", f"/v1/subscriptions/{created.json()['id']}/deliveries")["items"]
    assert {d["status"] for d in deliveries} == {"succeeded"}
    assert all(d["attempts"][0]["status_code"] == 204 for d in deliveries)


def test_one_trace_id_runs_through_all_three_services_logs(platform: Stack, receiver: Receiver) -> None:
    created = post(platform, "notify", "/v1/subscriptions", {"url": receiver.url, "event_types": ["treaty.*"]})
    assert created.status_code == 201, created.text
    trace_id = uuid.uuid4().hex
    traceparent = f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"
    action = {
        "type": "treaty.action.recorded",
        "source": "/tests/e2e",
        "data": {"treaty_id": "XXVI-5", "participant": "FIN", "action": "accession", "date": "2012-01-09"},
    }
    response = httpx.post(
        f"{platform.url('ingest')}/v1/events",
        json=action,
        headers={"Authorization": f"Bearer {KEY}", "traceparent": traceparent},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    delivered = wait_until(
        lambda: [r for r in receiver.requests if r.headers.get("traceparent") == traceparent],
        "a delivery carrying the trace context",
    )
    assert json.loads(delivered[0].body)["traceparent"] == traceparent

    def logged_in(service: str) -> list[dict[str, Any]]:
        lines = (platform.log_dir / f"{service}.log").read_text().splitlines()
        return [
            entry for line in lines if line.startswith("{") and (entry := json.loads(line)).get("trace_id") == trace_id
        ]

    for service in ("ingest", "registry", "notify"):
        entries = wait_until(lambda s=service: logged_in(s), f"{service} to log the trace id")  # type: ignore[misc]
        assert all(e["service"] == service and e["event_id"] == response.json()["id"] for e in entries)

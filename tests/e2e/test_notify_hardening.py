"""Notify's answers to a security review, each finding checked against the running service: private subscriptions
and deliveries, masked URLs and headers, pages, a cap per key, bounded reads of answers and of memory, failures
that are recorded and name no address, and webhook secrets sealed at rest."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from tests.conftest import services_on
from tests.receiver import Reply, always, valid_signatures, webhook_receiver
from tests.waiting import wait_until
from treatywatch.cli.stack import Stack
from treatywatch.common.mongo import Document
from treatywatch.common.settings import hash_key

KEY = "notify-hardening-" + uuid.uuid4().hex
READ, WRITE = "subscriptions:read", "subscriptions:write"
# One key per test that subscribes, so the cap per key counts only that test's subscriptions.
SCOPES = {
    "reader": [READ],
    "writer": [WRITE],
    "registry-reader": ["read"],
    "masking": [READ, WRITE],
    "paging": [READ, WRITE],
    "capped": [READ, WRITE],
    "other": [READ, WRITE],
    "big": [READ, WRITE],
    "throttled": [READ, WRITE],
    "checked": [READ, WRITE],
    "stalled": [READ, WRITE],
    "errors": [READ, WRITE],
}
KEYS = {name: f"{name}-{uuid.uuid4().hex}" for name in SCOPES}
PER_KEY = 5
SCHEDULE = [0, 0.3, 0.3, 0.3]
BUFFER_BYTES = 4000
LOOPBACK = json.dumps(["127.0.0.1", "localhost", "::1"])


def env_of(name: str, **extra: str) -> dict[str, str]:
    keys = [{"name": n, "sha256": hash_key(KEYS[n]), "scopes": SCOPES[n]} for n in SCOPES]
    return {
        "TREATYWATCH_GROUP_ID": f"{name}-{uuid.uuid4().hex[:8]}",
        "TREATYWATCH_API_KEYS": json.dumps(keys),
        "TREATYWATCH_WEBHOOK_HTTP_HOSTS": LOOPBACK,
        "TREATYWATCH_RETRY_SCHEDULE_S": json.dumps(SCHEDULE),
        "TREATYWATCH_DELIVERY_TIMEOUT_S": "5",
        "TREATYWATCH_DELIVERY_IDLE_POLL_S": "1",
        "TREATYWATCH_SUBSCRIPTION_REFRESH_S": "0.5",
        "TREATYWATCH_DELIVERY_HOLD_WAIT_S": "0.5",
        **extra,
    }


@pytest.fixture(scope="module")
def platform(servers: Stack) -> Iterator[Stack]:
    env = env_of(
        "notify-hardening",
        TREATYWATCH_SUBSCRIPTIONS_PER_KEY=str(PER_KEY),
        TREATYWATCH_DELIVERY_BUFFER_BYTES=str(BUFFER_BYTES),
    )
    with services_on(servers, "e2e-notify-hardening", ("ingest", "notify"), KEY, env) as stack:
        yield stack


def auth(name: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS.get(name, KEY)}"} if name else {}


def call(stack: Stack, method: str, path: str, key: str | None, body: Any = None, **params: Any) -> httpx.Response:
    return httpx.request(
        method, f"{stack.url('notify')}{path}", json=body, params=params, headers=auth(key), timeout=30
    )


def subscribe(stack: Stack, key: str, url: str, **extra: Any) -> tuple[str, str]:
    created = call(stack, "POST", "/v1/subscriptions", key, {"url": url, "event_types": ["*"], **extra})
    assert created.status_code == 201, created.text
    return created.json()["id"], created.json()["secret"]


def send_test(stack: Stack, subscription_id: str) -> str:
    queued = call(stack, "POST", f"/v1/subscriptions/{subscription_id}/test", KEY)
    assert queued.status_code == 202, queued.text
    delivery_id: str = queued.json()["delivery_id"]
    return delivery_id


def delivery_when(stack: Stack, delivery_id: str, status: str) -> dict[str, Any]:
    found: dict[str, Any] = call(stack, "GET", f"/v1/deliveries/{delivery_id}", "reader").json()
    return found if found.get("status") == status else {}


@contextmanager
def database(servers: Stack, stack: Stack) -> Iterator[Any]:
    """The platform's notify database, as notify's own MongoDB client would see it."""
    client: MongoClient[Document] = MongoClient(servers.mongo_url, tz_aware=True)
    try:
        yield client[stack.env["TREATYWATCH_MONGO_DB"]]
    finally:
        client.close()


def stored_subscription(url: str, secret: str, **extra: Any) -> Document:
    """A subscription as notify stores it, written straight to the database (as one made by an older notify)."""
    return {
        "_id": f"sub_{uuid.uuid4().hex[:24]}",
        "url": url,
        "event_types": ["*"],
        "filter": {"treaty_ids": [], "participants": []},
        "description": None,
        "enabled": True,
        "headers": {},
        "rate_limit": None,
        "secret": secret,
        "previous_secrets": [],
        "created_at": datetime.now(UTC),
        **extra,
    }


def test_subscriptions_and_deliveries_need_a_key_with_subscriptions_read(platform: Stack) -> None:
    with webhook_receiver() as receiver:
        subscription_id, _ = subscribe(platform, "masking", receiver.url)
        delivery_id = send_test(platform, subscription_id)
        paths = [
            "/v1/subscriptions",
            f"/v1/subscriptions/{subscription_id}",
            f"/v1/subscriptions/{subscription_id}/deliveries",
            f"/v1/deliveries/{delivery_id}",
        ]
        # Reads are open on this deployment (TREATYWATCH_READ_REQUIRES_KEY is off): these are not.
        for path in paths:
            statuses = [call(platform, "GET", path, key).status_code for key in (None, "registry-reader", "writer")]
            assert statuses == [401, 403, 403], path
            assert call(platform, "GET", path, "reader").status_code == 200, path


def test_readers_see_the_origin_and_header_names_only(platform: Stack) -> None:
    with webhook_receiver() as receiver:
        url = f"{receiver.url}/T0KEN?key=s3cret"
        subscription_id, secret = subscribe(platform, "masking", url, headers={"Authorization": "Bearer s3cret"})
        assert secret.startswith("whsec_")
        send_test(platform, subscription_id)
        [request] = wait_until(lambda: receiver.requests, "the test delivery")
    # The subscriber gets everything it asked for...
    assert request.path == "/hook/T0KEN?key=s3cret" and request.headers["authorization"] == "Bearer s3cret"
    # ...and readers only the origin, a masked path and the header names.
    origin = receiver.url.removesuffix("/hook")
    answers = [
        call(platform, "GET", f"/v1/subscriptions/{subscription_id}", "reader"),
        call(platform, "PATCH", f"/v1/subscriptions/{subscription_id}", "masking", {"description": "office"}),
        call(platform, "GET", "/v1/subscriptions", "reader", limit=1000),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert "s3cret" not in answer.text and "T0KEN" not in answer.text
    shown = answers[0].json()
    assert (shown["url"], shown["headers"]) == (f"{origin}/…/…", {"Authorization": "***"})
    assert "secret" not in shown


def pages(stack: Stack, path: str, limit: int) -> list[list[dict[str, Any]]]:
    """Every page of a list, following `next` until it is null."""
    found: list[list[dict[str, Any]]] = []
    after = None
    while True:
        params = {"limit": limit} | ({"after": after} if after else {})
        answer = call(stack, "GET", path, "reader", **params)
        assert answer.status_code == 200, answer.text
        found.append(answer.json()["items"])
        assert answer.json()["count"] == len(found[-1]) <= limit
        after = answer.json()["next"]
        if after is None:
            return found


def test_every_list_is_read_a_page_at_a_time(platform: Stack) -> None:
    made = [subscribe(platform, "paging", "http://127.0.0.1:9/hook")[0] for _ in range(PER_KEY)]
    listed = [s["id"] for page in pages(platform, "/v1/subscriptions", 2) for s in page]
    assert len(listed) == len(set(listed)) and set(made) <= set(listed)
    assert listed == [s["id"] for s in call(platform, "GET", "/v1/subscriptions", "reader", limit=1000).json()["items"]]

    first, second, third = (send_test(platform, made[0]) for _ in range(3))
    by_page = pages(platform, f"/v1/subscriptions/{made[0]}/deliveries", 2)
    assert [[d["id"] for d in page] for page in by_page] == [[third, second], [first]]

    for params in ({"limit": 1001}, {"limit": 0}, {"after": "not-a-cursor"}, {"after": "bm8tY29sb24"}):
        refused = call(platform, "GET", "/v1/subscriptions", "reader", **params)
        assert refused.status_code == 422, (params, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"


def test_a_key_may_have_only_so_many_subscriptions(platform: Stack) -> None:
    made = [subscribe(platform, "capped", "http://127.0.0.1:9/hook")[0] for _ in range(PER_KEY)]
    refused = call(
        platform, "POST", "/v1/subscriptions", "capped", {"url": "http://127.0.0.1:9/h", "event_types": ["*"]}
    )
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert f"{PER_KEY} subscriptions" in refused.json()["detail"]
    # Another key is not held to this one's count; a deleted subscription frees its place.
    subscribe(platform, "other", "http://127.0.0.1:9/hook")
    assert call(platform, "DELETE", f"/v1/subscriptions/{made[0]}", "capped").status_code == 204
    subscribe(platform, "capped", "http://127.0.0.1:9/hook")


def peak_memory_bytes(stack: Stack) -> int:
    """The most memory the notify process has held at once (its high-water mark)."""
    with open(f"/proc/{stack.processes['notify'].pid}/status") as status:
        [peak] = [int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:")]
    return peak


def test_a_huge_answer_is_neither_read_nor_waited_for(platform: Stack) -> None:
    size = 256 * 1024 * 1024
    before = peak_memory_bytes(platform)
    with webhook_receiver(always(Reply(200, body_bytes=size))) as receiver:
        subscription_id, _ = subscribe(platform, "big", receiver.url)
        delivery_id = send_test(platform, subscription_id)
        delivery = wait_until(lambda: delivery_when(platform, delivery_id, "succeeded"), "the delivery to succeed")
    assert [a["status_code"] for a in delivery["attempts"]] == [200]
    assert all(r.body_sent < size // 8 for r in receiver.requests), [r.body_sent for r in receiver.requests]
    grown = peak_memory_bytes(platform) - before
    assert grown < 64 * 1024 * 1024, f"notify's peak memory grew by {grown / 2**20:.0f} MiB"


def test_a_retry_after_that_is_not_rfc_9110_is_ignored_and_every_attempt_recorded(platform: Stack) -> None:
    with webhook_receiver(always(Reply(503, {"Retry-After": "²"}))) as receiver:
        subscription_id, _ = subscribe(platform, "throttled", receiver.url)
        delivery_id = send_test(platform, subscription_id)
        failed = wait_until(lambda: delivery_when(platform, delivery_id, "failed"), "the delivery to fail")
    assert [a["status_code"] for a in failed["attempts"]] == [503] * len(SCHEDULE)
    assert len(receiver.requests) == len(SCHEDULE)


@pytest.mark.parametrize(
    ("headers", "named"),
    [({"X-Name\n": "v"}, "'X-Name\\n'"), ({"X-Value": "a\x0bb"}, "'X-Value'"), ({"X-Value": "a\n"}, "'X-Value'")],
)
def test_header_names_and_values_are_checked_strictly(platform: Stack, headers: dict[str, str], named: str) -> None:
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["*"], "headers": headers}
    refused = call(platform, "POST", "/v1/subscriptions", "checked", body)
    assert refused.status_code == 422, refused.text
    assert [e["path"] for e in refused.json()["errors"]] == ["headers"]
    assert named in refused.json()["errors"][0]["message"]
    subscription_id, _ = subscribe(platform, "checked", "http://127.0.0.1:9/hook")
    patched = call(platform, "PATCH", f"/v1/subscriptions/{subscription_id}", "checked", {"headers": headers})
    assert patched.status_code == 422, patched.text
    assert call(platform, "DELETE", f"/v1/subscriptions/{subscription_id}", "checked").status_code == 204


def test_an_attempt_that_cannot_be_made_is_recorded_as_failed(servers: Stack, platform: Stack) -> None:
    with webhook_receiver() as receiver:
        # A header stored before headers were checked: the HTTP client refuses to send it.
        stored = stored_subscription(receiver.url, "whsec_" + base64.b64encode(os.urandom(32)).decode())
        stored["headers"] = {"X-Bad\n": "v"}
        with database(servers, platform) as db:
            db.subscriptions.insert_one(stored)
        delivery_id = send_test(platform, stored["_id"])
        failed = wait_until(lambda: delivery_when(platform, delivery_id, "failed"), "the delivery to fail")
    assert [a["error"] for a in failed["attempts"]] == ["the request could not be made (ValueError)"] * len(SCHEDULE)
    assert receiver.requests == []


def publish(stack: Stack, treaty: str, count: int) -> int:
    """Publish `count` actions on `treaty` through ingest; return the size of the smallest event as sent."""
    events = [
        {
            "id": f"evt-{uuid.uuid4()}",
            "type": "treaty.action.recorded",
            "source": "/tests/e2e/notify-hardening",
            "data": {"treaty_id": treaty, "participant": "NOR", "action": "signature", "date": "1997-12-03"},
        }
        for _ in range(count)
    ]
    accepted = httpx.post(
        f"{stack.url('ingest')}/v1/events:batch", json={"events": events}, headers=auth(KEY), timeout=30
    )
    assert accepted.status_code == 202, accepted.text
    return min(len(json.dumps(e)) for e in events)


def test_a_stalled_subscriptions_memory_is_bounded_by_the_size_of_its_bodies(platform: Stack) -> None:
    treaty = f"XXVI-{uuid.uuid4().int % 10**9}"
    count = 30
    with webhook_receiver(always(Reply(204, delay_s=30))) as stalled:
        subscription_id, _ = subscribe(platform, "stalled", stalled.url, filter={"treaty_ids": [treaty]})
        smallest = publish(platform, treaty, count)
        path = f"/v1/subscriptions/{subscription_id}/deliveries"

        def every_delivery() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = call(platform, "GET", path, "reader").json()["items"]
            return found if len(found) == count else []

        items = wait_until(every_delivery, "every delivery recorded")
        # Held in memory (leased to notify, in flight or queued) is what has no next attempt while pending; a
        # delivery's body is the event as ingest completed it, larger than the event as sent.
        held = [d for d in items if d["status"] == "pending" and d["next_attempt_at"] is None]
        assert 1 <= len(held) <= BUFFER_BYTES // smallest + 1, f"{len(held)} deliveries held of {count}"
        assert all(d["status"] == "pending" for d in items)


def test_a_failures_record_names_no_address(platform: Stack) -> None:
    # `.invalid` never resolves (RFC 2606); what a resolved internal address reads as: tests/integration.
    subscription_id, _ = subscribe(platform, "errors", "https://hook.treatywatch.invalid/hook")
    delivery_id = send_test(platform, subscription_id)
    failed = wait_until(lambda: delivery_when(platform, delivery_id, "failed"), "the delivery to fail")
    errors = {a["error"] for a in failed["attempts"]}
    assert errors == {"the host name could not be resolved"}
    assert not any(re.search(r"\d+\.\d+\.\d+\.\d+|::1", e) for e in errors)


FIRST, SECOND = (base64.urlsafe_b64encode(os.urandom(32)).decode() for _ in range(2))


@pytest.fixture(scope="module")
def sealing(servers: Stack) -> Iterator[Stack]:
    env = env_of("notify-sealing", TREATYWATCH_SECRET_KEYS=json.dumps([FIRST]))
    with services_on(servers, "e2e-notify-sealing", ("notify",), KEY, env) as stack:
        yield stack


def key_id(key: str) -> str:
    """How a sealed secret names its key: the start of the key's SHA-256 (per the vault's format)."""
    return hashlib.sha256(base64.urlsafe_b64decode(key)).hexdigest()[:8]


def sealed_under(key: str, stored: Document | None) -> bool:
    secrets_ = [stored["secret"], *(p["secret"] for p in stored["previous_secrets"])] if stored else []
    return bool(secrets_) and all(s.startswith(f"sealed:v1:{key_id(key)}:") for s in secrets_)


def once_sealed(db: Any, subscription_id: str, key: str) -> Document | None:
    """The stored subscription once its secrets are sealed under `key` (None until then)."""
    stored: Document | None = db.subscriptions.find_one({"_id": subscription_id})
    return stored if sealed_under(key, stored) else None


def restart_with_keys(stack: Stack, keys: list[str]) -> None:
    stack.stop_process("notify")
    stack.env["TREATYWATCH_SECRET_KEYS"] = json.dumps(keys)
    stack.start_service("notify")
    stack.wait_ready(("notify",))


def signed_test_delivery(stack: Stack, subscription_id: str, receiver: Any) -> Any:
    seen = len(receiver.requests)
    send_test(stack, subscription_id)
    return wait_until(lambda: receiver.requests[seen:], "the test delivery")[0]


def test_webhook_secrets_are_sealed_at_rest_and_their_keys_can_be_rotated(servers: Stack, sealing: Stack) -> None:
    with database(servers, sealing) as db, webhook_receiver() as receiver:
        # One subscription made by a notify without keys: its secret is plain in the database.
        legacy_secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
        legacy = stored_subscription(receiver.url, legacy_secret)
        db.subscriptions.insert_one(legacy)
        made, secret = subscribe(sealing, "masking", receiver.url)
        stored = db.subscriptions.find_one({"_id": made})
        assert sealed_under(FIRST, stored) and secret not in str(stored)
        assert valid_signatures(secret, signed_test_delivery(sealing, made, receiver))
        assert valid_signatures(legacy_secret, signed_test_delivery(sealing, legacy["_id"], receiver))

        rotated = call(sealing, "POST", f"/v1/subscriptions/{made}/secret:rotate", "masking").json()["secret"]
        stored = db.subscriptions.find_one({"_id": made})
        assert sealed_under(FIRST, stored) and len(stored["previous_secrets"]) == 1
        assert secret not in str(stored) and rotated not in str(stored)
        during = signed_test_delivery(sealing, made, receiver)
        assert valid_signatures(rotated, during) and valid_signatures(secret, during)

        # Each start seals under the first key what is not: the plain secret, then all under a new first key;
        # once that is done the old key can go.
        for keys in ([FIRST], [SECOND, FIRST], [SECOND]):
            restart_with_keys(sealing, keys)
            for subscription_id, secrets_ in ((made, [rotated, secret]), (legacy["_id"], [legacy_secret])):
                stored = wait_until(
                    partial(once_sealed, db, subscription_id, keys[0]), f"{subscription_id} sealed under {keys[0]}"
                )
                assert not any(s in str(stored) for s in secrets_)
                request = signed_test_delivery(sealing, subscription_id, receiver)
                assert all(valid_signatures(s, request) for s in secrets_)

"""Notify's pure rules: Standard Webhooks signing, subscription matching, retry timing, URL, header and address
checks, what readers see of a subscription, and the sealing of secrets at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from treatywatch.common.events import Event, event_from_dict
from treatywatch.notify.app import NotifySettings
from treatywatch.notify.domain import (
    HttpAllowList,
    Policy,
    address_problem,
    delivery_id,
    event_participant,
    event_treaty,
    header_problems,
    judge,
    masked_headers,
    masked_url,
    matches,
    new_secret,
    next_attempt,
    rate_slot,
    retry_after_s,
    secrets_after_rotation,
    sign,
    signatures,
    signing_secrets,
    subscription_problems,
    type_matches,
    url_problem,
    webhook_test_event,
)
from treatywatch.notify.vault import SEALED, Unopenable, Vault, key_bytes, key_id

# The Standard Webhooks specification's own example (github.com/standard-webhooks/standard-webhooks, spec).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

LOOPBACK = HttpAllowList.of(["127.0.0.1", "localhost", "::1"])
NONE = HttpAllowList()


def reference_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The signature as the spec defines it, written independently of notify's code."""
    key = base64.b64decode(secret.split("_", 1)[1])
    mac = hmac.new(key, msg_id.encode() + b"." + str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def action(participant: str = "NOR", treaty_id: str = "XXVI-5") -> Event:
    return event_from_dict(
        {
            "type": "treaty.action.recorded",
            "data": {
                "treaty_id": treaty_id,
                "participant": participant,
                "action": "ratification",
                "date": "1998-09-09",
            },
        }
    )


def registered(treaty_id: str = "XXVI-5") -> Event:
    return event_from_dict({"type": "treaty.registered", "data": {"treaty_id": treaty_id, "title": "A treaty"}})


def resolution(treaty_id: str | None) -> Event:
    data: dict[str, Any] = {"symbol": "A/RES/64/56", "session": 64, "title": "A resolution", "adopted_on": "2009-12-02"}
    if treaty_id is not None:
        data["treaty"] = {"treaty_id": treaty_id}
    return event_from_dict({"type": "resolution.adopted", "data": data})


def subscription(event_types: list[str], **extra: Any) -> dict[str, Any]:
    return {"_id": "sub_1", "url": "https://example.org/hook", "event_types": event_types, "enabled": True, **extra}


def test_the_reference_signature_reproduces_the_spec_example() -> None:
    assert reference_signature(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_sign_matches_the_spec_example() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_sign_matches_the_reference_for_a_fresh_secret() -> None:
    secret = new_secret()
    body = b'{"type":"treaty.registered","data":{"treaty_id":"XXVI-5"}}'
    assert sign(secret, "msg_abc", 1700000000, body) == reference_signature(secret, "msg_abc", 1700000000, body)


def verified(secret: str, msg_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether a receiver using the official Standard Webhooks library accepts the request."""
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": header}
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except WebhookVerificationError:
        return False
    return True


def test_a_receiver_using_the_library_accepts_a_header_where_one_of_two_signatures_is_valid() -> None:
    now = int(time.time())
    valid = signatures([SPEC_SECRET], SPEC_ID, now, SPEC_BODY)
    stale = signatures([new_secret()], SPEC_ID, now, SPEC_BODY)
    assert verified(SPEC_SECRET, SPEC_ID, now, SPEC_BODY, valid)
    assert verified(SPEC_SECRET, SPEC_ID, now, SPEC_BODY, f"{stale} {valid}")
    assert verified(SPEC_SECRET, SPEC_ID, now, SPEC_BODY, f"{valid} {stale}")
    assert not verified(SPEC_SECRET, SPEC_ID, now, SPEC_BODY, stale)


@pytest.mark.parametrize(
    ("msg_id", "timestamp", "body", "secret"),
    [
        ("msg_other", SPEC_TIMESTAMP, SPEC_BODY, SPEC_SECRET),
        (SPEC_ID, SPEC_TIMESTAMP + 1, SPEC_BODY, SPEC_SECRET),
        (SPEC_ID, SPEC_TIMESTAMP, b'{"test": 2432232315}', SPEC_SECRET),
        (SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, new_secret()),
    ],
)
def test_a_changed_id_timestamp_body_or_secret_changes_the_signature(
    msg_id: str, timestamp: int, body: bytes, secret: str
) -> None:
    assert sign(secret, msg_id, timestamp, body) != SPEC_SIGNATURE


def test_new_secret_is_whsec_and_at_least_24_random_bytes() -> None:
    secrets_made = {new_secret() for _ in range(50)}
    assert len(secrets_made) == 50
    for secret in secrets_made:
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) >= 24


def test_delivery_id_is_stable_and_distinct() -> None:
    first = delivery_id("sub_1", "evt-1")
    assert first == delivery_id("sub_1", "evt-1")
    assert first.startswith("msg_")
    others = {
        delivery_id("sub_2", "evt-1"),
        delivery_id("sub_1", "evt-2"),
        # The separator keeps the pair unambiguous.
        delivery_id("sub_1e", "vt-1"),
        delivery_id("sub_", "1evt-1"),
    }
    assert first not in others
    assert len(others) == 4


@pytest.mark.parametrize(
    ("patterns", "event_type", "expected"),
    [
        (["treaty.registered"], "treaty.registered", True),
        (["treaty.registered"], "treaty.action.recorded", False),
        (["treaty.*"], "treaty.registered", True),
        (["treaty.*"], "treaty.action.recorded", True),
        (["treaty.*"], "treatyx.registered", False),
        (["treaty.*"], "resolution.adopted", False),
        (["treaty.action.*"], "treaty.action.recorded", True),
        (["treaty.action.*"], "treaty.registered", False),
        (["*"], "report.submitted", True),
        (["*"], "meeting.recorded", True),
        (["meeting.recorded", "report.*"], "report.submitted", True),
        (["meeting.recorded", "report.*"], "resolution.adopted", False),
        (["treaty"], "treaty.registered", False),
        (["treaty.registered.*"], "treaty.registered", False),
        ([], "treaty.registered", False),
    ],
)
def test_type_matches(patterns: list[str], event_type: str, expected: bool) -> None:
    assert type_matches(patterns, event_type) is expected


def test_matches_by_type_only() -> None:
    sub = subscription(["treaty.*"])
    assert matches(sub, action())
    assert matches(sub, registered())
    assert not matches(sub, resolution("XXVI-5"))


def test_a_disabled_subscription_matches_nothing() -> None:
    assert not matches(subscription(["*"], enabled=False), action())
    assert matches(subscription(["*"], enabled=True), action())


def test_a_treaty_filter_admits_only_events_of_those_treaties() -> None:
    sub = subscription(["*"], filter={"treaty_ids": ["XXVI-5", "XXVI-6"]})
    assert matches(sub, action(treaty_id="XXVI-5"))
    assert matches(sub, registered("XXVI-6"))
    assert not matches(sub, action(treaty_id="XXVI-7"))
    # A resolution names its treaty inside `treaty`.
    assert matches(sub, resolution("XXVI-5"))
    assert not matches(sub, resolution("XXVI-8"))
    assert not matches(sub, resolution(None))


def test_a_participant_filter_admits_only_events_naming_those_participants() -> None:
    sub = subscription(["*"], filter={"participants": ["NOR", "SWE"]})
    assert matches(sub, action("NOR"))
    assert matches(sub, action("SWE"))
    assert not matches(sub, action("FIN"))
    assert not matches(sub, registered())


def test_treaty_and_participant_filters_both_apply() -> None:
    sub = subscription(["treaty.action.recorded"], filter={"treaty_ids": ["XXVI-5"], "participants": ["NOR"]})
    assert matches(sub, action("NOR", "XXVI-5"))
    assert not matches(sub, action("NOR", "XXVI-6"))
    assert not matches(sub, action("SWE", "XXVI-5"))


def test_empty_filters_admit_everything_of_the_type() -> None:
    sub = subscription(["treaty.*"], filter={"treaty_ids": [], "participants": []})
    assert matches(sub, action("FIN", "XXVI-9"))


def test_a_participant_filter_by_code_admits_the_same_state_by_its_un_name() -> None:
    sub = subscription(["*"], filter={"participants": ["BOL"]})
    assert matches(sub, action("Bolivia (Plurinational State of)"))


def meeting() -> Event:
    data = {
        "treaty_id": "XXVI-5",
        "kind": "COP",
        "ordinal": 1,
        "place": "Rome",
        "start": "2005-01-01",
        "end": "2005-01-02",
    }
    return event_from_dict({"type": "meeting.recorded", "data": data})


def report() -> Event:
    data = {
        "treaty_id": "XXVI-5",
        "participant": "NOR",
        "kind": "article 7",
        "period": "2024",
        "submitted_on": "2025-04-30",
    }
    return event_from_dict({"type": "report.submitted", "data": data})


def entered_into_force() -> Event:
    data = {"treaty_id": "XXVI-5", "date": "1999-03-01", "notification": "C.N.522.1998.TREATIES-XXVI.5"}
    return event_from_dict({"type": "treaty.entered_into_force", "data": data})


@pytest.mark.parametrize(
    ("event", "treaty", "participant"),
    [
        (action("NOR", "XXVI-5"), "XXVI-5", "NOR"),
        (registered("XXVI-6"), "XXVI-6", None),
        (resolution("XXVI-7"), "XXVI-7", None),
        (resolution(None), None, None),
        (meeting(), "XXVI-5", None),
        (report(), "XXVI-5", "NOR"),
        (entered_into_force(), "XXVI-5", None),
    ],
)
def test_every_event_type_names_its_treaty_and_participant(
    event: Event, treaty: str | None, participant: str | None
) -> None:
    assert (event_treaty(event), event_participant(event)) == (treaty, participant)


def test_next_attempt_follows_the_schedule_then_gives_up() -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    schedule = [0.0, 5.0, 300.0]
    assert next_attempt(schedule, 0, now) == now
    assert next_attempt(schedule, 1, now) == now + timedelta(seconds=5)
    assert next_attempt(schedule, 2, now) == now + timedelta(minutes=5)
    assert next_attempt(schedule, 3, now) is None
    assert next_attempt(schedule, 4, now) is None
    assert next_attempt([], 0, now) is None


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("ftp://example.org/hook", LOOPBACK),
        ("file:///etc/passwd", LOOPBACK),
        ("example.org/hook", LOOPBACK),
        ("https://user:pass@example.org/hook", LOOPBACK),
        ("https://token@example.org/hook", LOOPBACK),
        ("http://example.org/hook", LOOPBACK),
        ("http://127.0.0.1:8080/hook", NONE),
        ("https://10.0.0.1/hook", LOOPBACK),
        ("https://192.168.1.10/hook", LOOPBACK),
        ("https://169.254.169.254/latest/meta-data", LOOPBACK),
        ("https://127.0.0.1/hook", NONE),
        ("https://[::1]/hook", NONE),
        ("https://[fe80::1]/hook", LOOPBACK),
        ("https://0.0.0.0/hook", LOOPBACK),
        # Embedded IPv4 addresses (NAT64, 6to4, IPv4-compatible) are judged by what they embed.
        ("https://[64:ff9b::a00:1]/hook", NONE),
        ("https://[2002:a9fe:a9fe::1]/hook", NONE),
        ("https://[::7f00:1]/hook", NONE),
        # An allowed host is still held to http(s), a valid port and the port its entry names.
        ("ftp://127.0.0.1/hook", LOOPBACK),
        ("http://127.0.0.1:0/hook", LOOPBACK),
        ("http://127.0.0.1:99999/hook", LOOPBACK),
        ("http://127.0.0.1:port/hook", LOOPBACK),
        ("http://127.0.0.1:8080/hook", HttpAllowList.of(["127.0.0.1:9000"])),
        ("http://127.0.0.1/hook", HttpAllowList.of(["127.0.0.1:8080"])),
        ("http://[::1]:8080/hook", HttpAllowList.of(["[::1]:9000"])),
        # What `urlsplit` cannot read is refused, not a crash.
        ("https://[/hook", LOOPBACK),
        ("https://[::1/hook", LOOPBACK),
    ],
)
def test_url_problem_refuses(url: str, allowed: HttpAllowList) -> None:
    reason = url_problem(url, allowed)
    assert reason is not None
    assert reason


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("https://localhost/hook", id="localhost"),
        pytest.param("https://127.1/hook", id="short-ipv4"),
        pytest.param("https://2130706433/hook", id="decimal-ipv4"),
        pytest.param("https://0x7f000001/hook", id="hex-ipv4"),
    ],
)
def test_url_problem_refuses_loopback_in_other_spellings(url: str) -> None:
    assert url_problem(url, NONE) is not None


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://example.org/hook", NONE),
        ("https://hooks.example.org:8443/treatywatch?x=1", LOOPBACK),
        ("https://8.8.8.8/hook", NONE),
        ("https://[64:ff9b::808:808]/hook", NONE),
        ("http://127.0.0.1:8080/hook", LOOPBACK),
        ("http://localhost:8080/hook", LOOPBACK),
        ("http://[::1]:8080/hook", LOOPBACK),
        ("https://127.0.0.1/hook", LOOPBACK),
        ("http://receiver.internal/hook", HttpAllowList.of(["receiver.internal"])),
        ("http://Receiver.Internal:8080/hook", HttpAllowList.of(["receiver.internal:8080"])),
        ("http://127.0.0.1/hook", HttpAllowList.of(["127.0.0.1:80"])),
        ("http://[::1]:9000/hook", HttpAllowList.of(["[::1]:9000"])),
    ],
)
def test_url_problem_accepts(url: str, allowed: HttpAllowList) -> None:
    assert url_problem(url, allowed) is None


NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
POLICY = Policy(schedule_s=(0.0, 5.0, 300.0), jitter=0.0, retry_after_max_s=3600.0, disable_after_s=86400.0)


def test_next_attempt_spreads_the_delay_by_the_jitter() -> None:
    assert next_attempt([0.0, 100.0], 1, NOW, jitter=0.2, draw=1.0) == NOW + timedelta(seconds=120)
    assert next_attempt([0.0, 100.0], 1, NOW, jitter=0.2, draw=-1.0) == NOW + timedelta(seconds=80)
    assert next_attempt([0.0, 100.0], 0, NOW, jitter=0.2, draw=1.0) == NOW


def test_signatures_sign_with_every_secret_in_order() -> None:
    new, old = new_secret(), new_secret()
    header = signatures([new, old], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    assert header.split() == [
        sign(new, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY),
        sign(old, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY),
    ]
    assert header.split() == [
        reference_signature(new, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY),
        reference_signature(old, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY),
    ]


def test_during_a_rotation_a_receiver_with_either_secret_accepts_the_header() -> None:
    new, old = new_secret(), new_secret()
    now = int(time.time())
    header = signatures([new, old], SPEC_ID, now, SPEC_BODY)
    assert verified(new, SPEC_ID, now, SPEC_BODY, header)
    assert verified(old, SPEC_ID, now, SPEC_BODY, header)
    assert not verified(new_secret(), SPEC_ID, now, SPEC_BODY, header)


def test_signing_secrets_keep_previous_ones_only_during_their_grace_period() -> None:
    sub = {
        "secret": "whsec_new",
        "previous_secrets": [
            {"secret": "whsec_old", "expires_at": NOW + timedelta(hours=1)},
            {"secret": "whsec_older", "expires_at": NOW - timedelta(seconds=1)},
        ],
    }
    assert signing_secrets(sub, NOW) == ["whsec_new", "whsec_old"]
    assert signing_secrets(sub, NOW + timedelta(hours=2)) == ["whsec_new"]
    assert signing_secrets({"secret": "whsec_only"}, NOW) == ["whsec_only"]


def test_a_rotation_keeps_the_old_secret_and_unexpired_ones_for_the_grace_period() -> None:
    sub = {
        "secret": "whsec_current",
        "previous_secrets": [
            {"secret": "whsec_old", "expires_at": NOW + timedelta(hours=1)},
            {"secret": "whsec_older", "expires_at": NOW - timedelta(seconds=1)},
        ],
    }
    assert secrets_after_rotation(sub, 3600, NOW) == [
        {"secret": "whsec_current", "expires_at": NOW + timedelta(hours=1)},
        {"secret": "whsec_old", "expires_at": NOW + timedelta(hours=1)},
    ]
    # No grace period (a leaked secret): none of the earlier secrets signs any more.
    assert secrets_after_rotation(sub, 0, NOW) == []
    assert secrets_after_rotation({"secret": "whsec_only"}, 60, NOW) == [
        {"secret": "whsec_only", "expires_at": NOW + timedelta(minutes=1)}
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Wed, 01 May 2024 12:01:30 GMT", 90.0),
        ("Wed, 01 May 2024 11:00:00 GMT", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        # RFC 9110's obsolete date forms, which recipients must still read; asctime's is UTC.
        ("Wednesday, 01-May-24 12:01:30 GMT", 90.0),
        ("Wed May  1 12:01:30 2024", 90.0),
        # Only ASCII digits are delay-seconds (`str.isdigit` takes these, `float` refuses the first).
        ("²", None),
        ("١٢", None),
        ("1e3", None),
        ("12 34", None),
        # What `email.utils` reads but HTTP does not write.
        ("1 May 2024 12:01:30 GMT", None),
        ("Wed, 01 May 2024 12:01:30 +0000", None),
    ],
)
def test_retry_after_reads_seconds_or_an_http_date(value: str | None, expected: float | None) -> None:
    assert retry_after_s(value, NOW) == expected


def test_judge_a_2xx_succeeds() -> None:
    assert judge(200, None, 1, None, POLICY, NOW).status == "succeeded"
    assert judge(204, None, 3, None, POLICY, NOW).status == "succeeded"


@pytest.mark.parametrize("code", [None, 301, 302, 400, 404, 429, 500, 503])
def test_judge_anything_else_retries_on_schedule_then_fails(code: int | None) -> None:
    assert judge(code, None, 1, NOW, POLICY, NOW).next_attempt_at == NOW + timedelta(seconds=5)
    assert judge(code, None, 2, NOW, POLICY, NOW).next_attempt_at == NOW + timedelta(seconds=300)
    last = judge(code, None, 3, NOW, POLICY, NOW)
    assert (last.status, last.next_attempt_at, last.disable_reason) == ("failed", None, None)


@pytest.mark.parametrize("code", [429, 503])
def test_judge_honours_retry_after_on_429_and_503_up_to_the_cap(code: int) -> None:
    assert judge(code, 60.0, 1, NOW, POLICY, NOW).next_attempt_at == NOW + timedelta(seconds=60)
    assert judge(code, 1.0, 2, NOW, POLICY, NOW).next_attempt_at == NOW + timedelta(seconds=1)
    assert judge(code, 10**9, 1, NOW, POLICY, NOW).next_attempt_at == NOW + timedelta(hours=1)
    # Retry-After does not extend a spent schedule.
    assert judge(code, 60.0, 3, NOW, POLICY, NOW).status == "failed"


def test_judge_ignores_retry_after_on_other_codes() -> None:
    assert judge(500, 60.0, 1, NOW, POLICY, NOW).next_attempt_at == NOW + timedelta(seconds=5)


def test_judge_410_fails_and_disables() -> None:
    verdict = judge(410, None, 1, NOW, POLICY, NOW)
    assert verdict.status == "failed" and verdict.disable_reason is not None and "410" in verdict.disable_reason


def test_judge_disables_a_subscription_failing_for_longer_than_the_policy_allows() -> None:
    assert judge(500, None, 1, NOW - timedelta(hours=23), POLICY, NOW).disable_reason is None
    verdict = judge(500, None, 1, NOW - timedelta(days=1), POLICY, NOW)
    assert verdict.status == "failed" and verdict.disable_reason and "failed since" in verdict.disable_reason
    assert judge(200, None, 1, NOW - timedelta(days=9), POLICY, NOW).status == "succeeded"


def test_rate_slot_spaces_sends_by_the_rate() -> None:
    assert rate_slot(0.0, 100.0, None) == 100.0
    assert rate_slot(0.0, 100.0, 2.0) == 100.0
    assert rate_slot(100.0, 100.1, 2.0) == 100.5
    assert rate_slot(100.0, 107.0, 2.0) == 107.0


@pytest.mark.parametrize(
    ("headers", "problems"),
    [
        ({"X-Office": "treaties", "Authorization": "Bearer abc"}, 0),
        ({"webhook-signature": "v1,forged"}, 1),
        ({"Content-Type": "text/plain"}, 1),
        ({"Host": "elsewhere.example"}, 1),
        ({"X Bad": "v"}, 1),
        ({"X-Split": "a\r\nX-Injected: 1"}, 1),
        ({"X-Big": "v" * 5000}, 1),
        ({"X-Empty": "", "X-Tab": "a\tb", "X-Latin": "caf\xe9"}, 0),
        # `$` matches before a final newline: names and values are matched whole.
        ({"X-Name\n": "v"}, 1),
        ({"X-Value": "v\n"}, 1),
        ({"X-Vtab": "a\x0bb"}, 1),
        ({"X-Del": "a\x7fb"}, 1),
        ({"X-Nul": "a\x00b"}, 1),
        ({"X-Edge": " padded "}, 1),
        ({"X-Wide": "\u2028"}, 1),
        ({"": "v"}, 1),
        ({"X-\u00e9": "v"}, 1),
    ],
)
def test_header_problems(headers: dict[str, str], problems: int) -> None:
    found = header_problems(headers)
    assert len(found) == problems
    bad = [name for name in headers if any(repr(name) in p for p in found)]
    assert len(bad) == problems, "each problem names its header"


def test_subscription_problems_name_each_field_at_fault() -> None:
    assert subscription_problems("https://example.org/hook", ["treaty.*", "webhook.test"], {"X-A": "b"}, NONE) == []
    assert subscription_problems(None, None, None, NONE) == []
    problems = subscription_problems("http://example.org/hook", ["*", "treaty.nothing"], {"Host": "x"}, LOOPBACK)
    assert [(p["path"], p["type"]) for p in problems] == [
        ("url", "url_refused"),
        ("event_types.1", "unknown_type"),
        ("headers", "header_refused"),
    ]


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "100.64.0.1",
        "::1",
        "fe80::1%eth0",
        "fd00:ec2::254",
        "::ffff:10.0.0.1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
        "ff02::1",
        # NAT64 (RFC 6052), 6to4 and IPv4-compatible addresses, which Python counts as global whatever they embed.
        "64:ff9b::a00:1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b::7f00:1",
        "2002:a00:1::1",
        "2002:a9fe:a9fe::",
        "2002:7f00:1::",
        "::a00:1",
        "::7f00:1",
        "::a9fe:a9fe",
        # Local-use NAT64 (RFC 8215): where its IPv4 address sits is the operator's choice.
        "64:ff9b:1::808:808",
        "64:ff9b:1:a00:1::",
    ],
)
def test_address_problem_refuses_private_loopback_link_local_and_metadata(address: str) -> None:
    reason = address_problem(address)
    assert reason
    # Readers see the reason: it never says what a name resolved to.
    assert address.split("%")[0] not in reason


@pytest.mark.parametrize(
    "address",
    [
        "93.184.215.14",
        "8.8.8.8",
        "2001:4860:4860::8888",
        "::ffff:8.8.8.8",
        # An IPv6-only network reaches public IPv4 hosts through NAT64 (DNS64 answers these).
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_address_problem_admits_public_addresses(address: str) -> None:
    assert address_problem(address) is None


@pytest.mark.parametrize("entry", ["", ":80", "host:0", "host:65536", "host:http", "[::1]:x", "[]:80", "host:\u0663"])
def test_an_allow_list_entry_names_a_host_and_perhaps_a_valid_port(entry: str) -> None:
    with pytest.raises(ValueError, match="host"):
        HttpAllowList.of([entry])


def test_nothing_is_allowed_plain_http_unless_the_operator_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TREATYWATCH_WEBHOOK_HTTP_HOSTS", raising=False)
    assert NotifySettings().webhook_http_hosts == []
    monkeypatch.setenv("TREATYWATCH_WEBHOOK_HTTP_HOSTS", '["127.0.0.1:8080", "[::1]"]')
    assert NotifySettings().webhook_http_hosts == ["127.0.0.1:8080", "[::1]"]
    monkeypatch.setenv("TREATYWATCH_WEBHOOK_HTTP_HOSTS", '["127.0.0.1:0"]')
    with pytest.raises(ValueError, match=r"127\.0\.0\.1:0"):
        NotifySettings()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.example.org/t/0a1b2c?key=s3cret#frag", "https://hooks.example.org/…/…"),
        ("https://hooks.example.org:8443/T0KEN/", "https://hooks.example.org:8443/…/"),
        ("https://Hooks.Example.org", "https://hooks.example.org"),
        ("https://hooks.example.org/?key=s3cret", "https://hooks.example.org/"),
        ("http://[::1]:9000/hook", "http://[::1]:9000/…"),
        ("http://127.0.0.1:9000//a", "http://127.0.0.1:9000//…"),
        ("/elsewhere/s3cret", "/…/…"),
        ("https://[", "…"),
    ],
)
def test_a_url_is_shown_as_its_origin_and_masked_path(url: str, shown: str) -> None:
    assert masked_url(url) == shown


@pytest.mark.parametrize(
    ("address", "kind"),
    [("::1", "loopback"), ("::", "private"), ("::7f00:1", "loopback"), ("64:ff9b::a9fe:a9fe", "link-local")],
)
def test_an_embedded_ipv4_address_is_named_by_its_kind(address: str, kind: str) -> None:
    reason = address_problem(address)
    assert reason is not None and kind in reason


def test_header_values_are_never_shown() -> None:
    assert masked_headers({"Authorization": "Bearer s3cret", "X-Office": "treaties"}) == {
        "Authorization": "***",
        "X-Office": "***",
    }


SUBSCRIPTION = {
    "_id": "sub_1",
    "secret": "whsec_current",
    "previous_secrets": [{"secret": "whsec_old", "expires_at": NOW}],
}


def a_key() -> bytes:
    return os.urandom(32)


def test_keys_are_32_bytes_in_base64url() -> None:
    key = a_key()
    assert key_bytes(base64.urlsafe_b64encode(key).decode()) == key
    assert key_bytes(base64.urlsafe_b64encode(key).decode().rstrip("=")) == key
    for bad in ("", "short", base64.urlsafe_b64encode(os.urandom(16)).decode(), "!" * 44):
        with pytest.raises(ValueError, match="32 bytes"):
            key_bytes(bad)


def test_without_keys_secrets_stay_as_they_are() -> None:
    vault = Vault()
    assert vault.sealed(SUBSCRIPTION) == vault.opened(SUBSCRIPTION) == SUBSCRIPTION
    assert not vault.stale(SUBSCRIPTION)


def test_sealed_secrets_hide_the_secret_and_open_to_it() -> None:
    vault = Vault([a_key()])
    sealed = vault.sealed(SUBSCRIPTION)
    assert sealed["secret"].startswith(SEALED) and "whsec" not in str(sealed)
    assert sealed["previous_secrets"][0]["expires_at"] == NOW
    assert vault.opened(sealed) == SUBSCRIPTION
    assert vault.stale(SUBSCRIPTION) and not vault.stale(sealed)
    # A fresh nonce each time: equal secrets do not look equal at rest.
    assert vault.seal("sub_1", "whsec_current") != vault.seal("sub_1", "whsec_current")


def test_a_sealed_secret_opens_only_for_its_subscription_and_untouched() -> None:
    vault = Vault([a_key()])
    sealed = vault.seal("sub_1", "whsec_current")
    with pytest.raises(Unopenable, match="sub_2"):
        vault.open("sub_2", sealed)
    damaged = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(Unopenable):
        vault.open("sub_1", damaged)


def test_the_first_key_seals_and_every_key_opens_so_keys_can_be_rotated() -> None:
    old, new = a_key(), a_key()
    under_old = Vault([old]).sealed(SUBSCRIPTION)
    during = Vault([new, old])
    assert during.opened(under_old) == SUBSCRIPTION
    assert during.stale(under_old)
    resealed = during.sealed(during.opened(under_old))
    assert resealed["secret"].startswith(f"{SEALED}{key_id(new)}:") and not during.stale(resealed)
    after = Vault([new])
    assert after.opened(resealed) == SUBSCRIPTION
    with pytest.raises(Unopenable, match=key_id(old)):
        after.opened(under_old)


def test_the_webhook_test_event_is_a_cloudevent() -> None:
    event = webhook_test_event("sub_1", "test_1", NOW)
    assert event["specversion"] == "1.0" and event["type"] == "webhook.test" and event["id"] == "test_1"
    assert event["time"] == "2024-05-01T12:00:00Z" and event["data"]["subscription_id"] == "sub_1"

"""Notify's pure rules: matching, Standard Webhooks signing, retry timing, verdicts and address checks."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal, assert_never
from urllib.parse import urlsplit

from standardwebhooks import Webhook

from treatywatch.common.events import (
    EVENT_TYPES,
    ActionRecordedEvent,
    Event,
    MeetingRecordedEvent,
    ReportSubmittedEvent,
    ResolutionAdoptedEvent,
    TreatyRegisteredEvent,
)
from treatywatch.common.participants import participant_code

# The type of the event `POST /v1/subscriptions/{id}/test` sends; not part of the event contract.
TEST_EVENT_TYPE = "webhook.test"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64 (the library only reads secrets)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` entry of one secret, `v1,<base64 HMAC-SHA256>`, made by the Standard Webhooks library."""
    return Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body.decode())


def signatures(secrets_: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header for every valid secret, space-separated (during a rotation's grace period)."""
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets_)


def signing_secrets(subscription: dict[str, Any], now: datetime) -> list[str]:
    """The current secret first, then the previous ones whose grace period has not ended."""
    previous = [p["secret"] for p in subscription.get("previous_secrets") or [] if p["expires_at"] > now]
    return [subscription["secret"], *previous]


def secrets_after_rotation(subscription: dict[str, Any], grace_s: float, now: datetime) -> list[dict[str, Any]]:
    """The previous secrets once a new one replaces the current: it and the unexpired ones sign for `grace_s` more.

    A zero grace period is for a leaked secret: every earlier secret stops signing at once.
    """
    if grace_s <= 0:
        return []
    kept = [p for p in subscription.get("previous_secrets") or [] if p["expires_at"] > now]
    return [{"secret": subscription["secret"], "expires_at": now + timedelta(seconds=grace_s)}, *kept]


def delivery_id(subscription_id: str, event_id: str) -> str:
    """The `webhook-id`: one per subscription and event, stable across retries and redeliveries."""
    digest = hashlib.sha256(f"{subscription_id}\x00{event_id}".encode()).hexdigest()[:26]
    return f"msg_{digest}"


def type_matches(patterns: Sequence[str], event_type: str) -> bool:
    """Exact names, `prefix.*` for everything under a prefix, or `*` for all."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def event_treaty(event: Event) -> str | None:
    """The treaty an event concerns, where it names one."""
    match event:
        case (
            ActionRecordedEvent(data=data)
            | ReportSubmittedEvent(data=data)
            | TreatyRegisteredEvent(data=data)
            | MeetingRecordedEvent(data=data)
        ):
            return data.treaty_id
        case ResolutionAdoptedEvent(data=data):
            return data.treaty.treaty_id if data.treaty is not None else None
        case _:
            assert_never(event)


def event_participant(event: Event) -> str | None:
    """The participant an event names, where it names one."""
    match event:
        case ActionRecordedEvent(data=data) | ReportSubmittedEvent(data=data):
            return data.participant
        case TreatyRegisteredEvent() | ResolutionAdoptedEvent() | MeetingRecordedEvent():
            return None
        case _:
            assert_never(event)


def matches(subscription: dict[str, Any], event: Event) -> bool:
    """Whether a subscription wants an event: its type patterns and, where set, its treaty and participant filters.

    A filter on participants admits only events that name a participant.
    """
    if not subscription.get("enabled", True) or not type_matches(subscription["event_types"], event.type):
        return False
    filters = subscription.get("filter") or {}
    treaty_ids = filters.get("treaty_ids") or []
    if treaty_ids and event_treaty(event) not in treaty_ids:
        return False
    participants = filters.get("participants") or []
    if not participants:
        return True
    participant = event_participant(event)
    return participant is not None and participant_code(participant) in {participant_code(p) for p in participants}


def next_attempt(
    schedule_s: Sequence[float], attempts_made: int, now: datetime, jitter: float = 0.0, draw: float = 0.0
) -> datetime | None:
    """When to try again after `attempts_made` failed attempts, or None when the schedule is spent.

    The delay is spread by `jitter` (a fraction) times `draw` (a random number in [-1, 1]).
    """
    if attempts_made >= len(schedule_s):
        return None
    return now + timedelta(seconds=schedule_s[attempts_made] * (1 + jitter * draw))


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """Seconds a `Retry-After` header asks us to wait (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class Policy:
    """How deliveries are retried and when a failing subscription is disabled."""

    schedule_s: tuple[float, ...]
    jitter: float
    retry_after_max_s: float
    disable_after_s: float


@dataclass(frozen=True)
class Verdict:
    """What one attempt means: the delivery's new status, its next attempt, and whether to disable the subscription."""

    status: Literal["succeeded", "pending", "failed"]
    next_attempt_at: datetime | None = None
    disable_reason: str | None = None


def judge(
    status_code: int | None,
    retry_after: float | None,
    cycle_attempts: int,
    failing_since: datetime | None,
    policy: Policy,
    now: datetime,
    draw: float = 0.0,
) -> Verdict:
    """The verdict on an attempt: 2xx succeeds; 410 and long continuous failure disable; else retry per schedule.

    `cycle_attempts` counts the attempts of this retry cycle including this one; `failing_since` is when the
    subscription's current run of failures began (None when this attempt succeeded or began it).
    """
    if status_code is not None and 200 <= status_code < 300:
        return Verdict("succeeded")
    if status_code == 410:
        return Verdict("failed", disable_reason="the endpoint answered 410 Gone")
    if failing_since is not None and now - failing_since >= timedelta(seconds=policy.disable_after_s):
        return Verdict(
            "failed",
            disable_reason=f"every delivery failed since {failing_since.isoformat()} "
            f"(more than {policy.disable_after_s:g} s)",
        )
    at = next_attempt(policy.schedule_s, cycle_attempts, now, policy.jitter, draw)
    if at is None:
        return Verdict("failed")
    if status_code in (429, 503) and retry_after is not None:
        at = now + timedelta(seconds=min(retry_after, policy.retry_after_max_s))
    return Verdict("pending", at)


def rate_slot(previous_slot: float, now: float, per_second: float | None) -> float:
    """When the next send may start under a rate limit of `per_second` (monotonic seconds)."""
    if not per_second:
        return now
    return max(now, previous_slot + 1 / per_second)


RESERVED_HEADERS = frozenset(
    {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "host",
        "connection",
        "traceparent",
    }
)
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def header_problems(headers: dict[str, str]) -> list[str]:
    """Why custom headers are refused: bad names or values, or names notify sets itself."""
    problems = []
    for name, value in headers.items():
        if not _TOKEN.match(name):
            problems.append(f"{name!r} is not a valid header name")
        elif name.lower() in RESERVED_HEADERS:
            problems.append(f"{name!r} is set by notify and cannot be overridden")
        elif any(c in value for c in "\r\n\x00") or len(value) > 4096:
            problems.append(f"the value of {name!r} must be one line of at most 4096 characters")
    return problems


def url_problem(url: str, allowed_http_hosts: Sequence[str]) -> str | None:
    """Why a webhook URL is refused, or None: https anywhere public, http only to allowlisted hosts."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return "the URL must be an absolute http(s) URL"
    if parts.username or parts.password:
        return "the URL must not carry credentials"
    if host in allowed_http_hosts:
        return None
    if parts.scheme == "http":
        return f"plain http is allowed only to the operator's allowlist ({', '.join(allowed_http_hosts) or 'empty'})"
    if host == "localhost" or host.endswith(".localhost"):
        return "the URL points at a loopback address"
    address = ip_literal(host)
    if address is not None and not address.is_global:
        return "the URL points at a private, loopback or link-local address"
    return None


def subscription_problems(
    url: str | None,
    event_types: Sequence[str] | None,
    headers: dict[str, str] | None,
    allowed_http_hosts: Sequence[str],
) -> list[dict[str, str]]:
    """Why a subscription's URL, event types or headers (those given) are refused, as {path, message, type}."""
    errors = []
    if url is not None and (reason := url_problem(url, allowed_http_hosts)):
        errors.append({"path": "url", "message": reason, "type": "url_refused"})
    for i, pattern in enumerate(event_types or []):
        if pattern != TEST_EVENT_TYPE and not any(type_matches([pattern], t) for t in EVENT_TYPES):
            errors.append(
                {"path": f"event_types.{i}", "message": f"{pattern!r} matches no event type", "type": "unknown_type"}
            )
    errors += [{"path": "headers", "message": m, "type": "header_refused"} for m in header_problems(headers or {})]
    return errors


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names literally, in any spelling the resolver accepts (`127.1`, `0x7f000001`)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def address_problem(address: str) -> str | None:
    """Why notify refuses to connect to a resolved address, or None for a public one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_global and not ip.is_multicast:
        return None
    kind = (
        "loopback"
        if ip.is_loopback
        else "link-local (cloud metadata lives there)"
        if ip.is_link_local
        else "private or reserved"
    )
    return f"{address} is a {kind} address"


def webhook_test_event(subscription_id: str, event_id: str, now: datetime) -> dict[str, Any]:
    """The `webhook.test` CloudEvent a subscriber can ask for to check its endpoint and signature code."""
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "/treatywatch/notify",
        "type": TEST_EVENT_TYPE,
        "time": now.isoformat().replace("+00:00", "Z"),
        "subject": subscription_id,
        "datacontenttype": "application/json",
        "data": {"subscription_id": subscription_id, "message": "a test delivery from Treaty Watch"},
    }

"""Notify's pure rules: matching, Standard Webhooks signing, retry timing, verdicts, URL, header and address
checks, and what readers are shown of a subscription."""

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
    TreatyEnteredIntoForceEvent,
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
            | TreatyEnteredIntoForceEvent(data=data)
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
        case (
            TreatyRegisteredEvent() | ResolutionAdoptedEvent() | MeetingRecordedEvent() | TreatyEnteredIntoForceEvent()
        ):
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


# RFC 9110's HTTP-date in its three forms (IMF-fixdate, and the obsolete RFC 850 and asctime ones); ASCII only.
_DAY, _WEEKDAY = "(Mon|Tue|Wed|Thu|Fri|Sat|Sun)", "(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_MONTH, _TIME = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)", "[0-9]{2}:[0-9]{2}:[0-9]{2}"
_HTTP_DATE = re.compile(
    f"{_DAY}, [0-9]{{2}} {_MONTH} [0-9]{{4}} {_TIME} GMT"
    f"|{_WEEKDAY}, [0-9]{{2}}-{_MONTH}-[0-9]{{2}} {_TIME} GMT"
    f"|{_DAY} {_MONTH} ( [0-9]|[0-9]{{2}}) {_TIME} [0-9]{{4}}"
)
_DELAY_SECONDS = re.compile("[0-9]+")


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """Seconds a `Retry-After` header asks us to wait, or None unless it is what RFC 9110 allows.

    That is delay-seconds (ASCII digits: `isdigit` also takes `²`, which `float` refuses) or an HTTP-date.
    """
    value = (value or "").strip(" \t")
    if _DELAY_SECONDS.fullmatch(value):
        return float(value)
    if not _HTTP_DATE.fullmatch(value):
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    # The asctime form names no zone: HTTP dates are always UTC.
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
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
# RFC 9110: a field name is a token; a value is visible ASCII or obs-text, with spaces and tabs inside.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_FIELD_VALUE = re.compile(r"([\x21-\x7e\x80-\xff]([\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?")
MAX_HEADER_VALUE = 4096


def header_problems(headers: dict[str, str]) -> list[str]:
    """Why custom headers are refused, each naming its header: bad names or values, or names notify sets itself."""
    problems = []
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            problems.append(f"{name!r} is not a valid header name (RFC 9110 token characters only)")
        elif name.lower() in RESERVED_HEADERS:
            problems.append(f"{name!r} is set by notify and cannot be overridden")
        elif len(value) > MAX_HEADER_VALUE or not _FIELD_VALUE.fullmatch(value):
            problems.append(
                f"the value of {name!r} must be at most {MAX_HEADER_VALUE} visible characters (spaces and tabs "
                "only between them, no control characters)"
            )
    return problems


@dataclass(frozen=True)
class HttpAllowList:
    """Where plain http and unchecked addresses are allowed: `host` (any port) or `host:port` (`[::1]:8080`)."""

    entries: frozenset[tuple[str, int | None]] = frozenset()

    @classmethod
    def of(cls, entries: Sequence[str]) -> HttpAllowList:
        """The allow-list the operator wrote; ValueError for an entry that names no host or a bad port."""
        return cls(frozenset(_allowed_entry(e) for e in entries))

    def admits(self, host: str, port: int) -> bool:
        """Whether the host may be reached on that port without the address checks (and over http)."""
        host = host.lower()
        return (host, None) in self.entries or (host, port) in self.entries


def _allowed_entry(entry: str) -> tuple[str, int | None]:
    # A bare IPv6 address (`::1`) has colons but no port; one with a port is written in brackets.
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest.removeprefix(":") if rest else None
    elif entry.count(":") == 1:
        host, port = entry.split(":")
    else:
        host, port = entry, None
    if not host or (port is not None and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536)):
        raise ValueError(f"{entry!r} is not a host or host:port")
    return host.lower(), None if port is None else int(port)


def url_port(url: str) -> int | None:
    """The port an http(s) URL reaches (its scheme's default if it names none); None if it names an invalid one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if port == 0:
        return None
    return port or (443 if parts.scheme == "https" else 80)


def url_problem(url: str, allowed: HttpAllowList) -> str | None:
    """Why a webhook URL is refused, or None: https anywhere public; http, and private addresses, only to the
    operator's allow-list, on the port an entry names (if it names one). Checked when subscribing and when sending."""
    try:
        parts = urlsplit(url)
    except ValueError:  # a bracketed host that is no IPv6 address
        return "the URL must be an absolute http(s) URL"
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return "the URL must be an absolute http(s) URL"
    if parts.username or parts.password:
        return "the URL must not carry credentials"
    port = url_port(url)
    if port is None:
        return "the URL's port must be a number from 1 to 65535"
    if allowed.admits(host, port):
        return None
    if parts.scheme == "http":
        # Not naming the entries: they may be internal names, and whoever subscribes reads this.
        return "plain http is allowed only to hosts on the operator's allow-list (TREATYWATCH_WEBHOOK_HTTP_HOSTS)"
    if host == "localhost" or host.endswith(".localhost"):
        return "the URL points at a loopback address"
    address = ip_literal(host)
    if address is not None and address_problem(str(address)):
        return "the URL points at a private, loopback or link-local address"
    return None


def masked_url(url: str) -> str:
    """A URL as readers see it: scheme, host and port kept, each path segment `…`, no query or fragment.

    `https://hooks.example.org:8443/t/0a1b2c?key=s3cret` reads `https://hooks.example.org:8443/…/…`: a path
    token or a query secret never leaves notify again, yet its owner still recognises the endpoint. A relative
    URL (a redirect's `Location`) keeps only its masked path.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "…"
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    try:
        netloc += f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        netloc += ":…"
    origin = f"{parts.scheme}://{netloc}" if parts.scheme or netloc else ""
    return origin + "/".join("…" if segment else "" for segment in parts.path.split("/"))


def masked_headers(headers: dict[str, str]) -> dict[str, str]:
    """Custom headers as readers see them: the names, each value `***`."""
    return dict.fromkeys(headers, "***")


def subscription_problems(
    url: str | None,
    event_types: Sequence[str] | None,
    headers: dict[str, str] | None,
    allowed: HttpAllowList,
) -> list[dict[str, str]]:
    """Why a subscription's URL, event types or headers (those given) are refused, as {path, message, type}."""
    errors = []
    if url is not None and (reason := url_problem(url, allowed)):
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


# NAT64's well-known prefix (RFC 6052) and IPv4-compatible addresses carry an IPv4 address in their last 32 bits.
_LAST_32_BITS = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::/96"))
# Local-use NAT64 (RFC 8215): where the IPv4 address sits depends on the operator's prefix length.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches: IPv4-mapped, IPv4-compatible, NAT64 or 6to4; None for a plain one."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    # `::1` and `::` sit in `::/96` too, but are IPv6's own loopback and unspecified addresses.
    if not (ip.is_loopback or ip.is_unspecified) and any(ip in network for network in _LAST_32_BITS):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(address: str) -> str | None:
    """Why notify refuses to connect to a resolved address, or None for a public one.

    An IPv6 address that carries an IPv4 one (NAT64, 6to4, mapped, compatible) is judged by the IPv4 address,
    which Python's `is_global` does not look at. The reason never repeats the address: readers see it.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _LOCAL_NAT64:
            return "a local-use NAT64 address"
        ip = embedded_ipv4(ip) or ip
    if ip.is_global and not ip.is_multicast:
        return None
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    return "a private or reserved address"


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

"""Notify's pure rules: which subscriptions an event matches, Standard Webhooks signing, retry timing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from treatywatch.common.events import Event
from treatywatch.common.participants import participant_code


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def verify(secret: str, msg_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether any signature in a `webhook-signature` header is valid for this secret (constant time)."""
    expected = sign(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in header.split())


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
    data: Any = event.data
    if hasattr(data, "treaty_id"):
        return str(data.treaty_id)
    treaty = getattr(data, "treaty", None)
    return treaty.treaty_id if treaty is not None else None


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
    participant = getattr(event.data, "participant", None)
    return participant is not None and participant_code(participant) in {participant_code(p) for p in participants}


def next_attempt(schedule_s: Sequence[float], attempts_made: int, now: datetime) -> datetime | None:
    """When to try again after `attempts_made` failed attempts, or None when the schedule is spent."""
    if attempts_made >= len(schedule_s):
        return None
    return now + timedelta(seconds=schedule_s[attempts_made])


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

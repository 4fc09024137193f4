"""What someone without a key, or with a bad input, can do to the running services: found in review, closed here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import services_on
from treatywatch.cli.stack import SERVICES, Stack
from treatywatch.common.settings import hash_key

KEY = "hardening-" + uuid.uuid4().hex
LIMIT = 100_000


@pytest.fixture(scope="module")
def platform(servers: Stack) -> Iterator[Stack]:
    env = {"TREATYWATCH_MAX_BODY_BYTES": str(LIMIT), "TREATYWATCH_MONGO_DB": f"hardening_{uuid.uuid4().hex[:8]}"}
    with services_on(servers, "hardening", SERVICES, KEY, env) as stack:
        yield stack


class Body:
    """A chunked body (no Content-Length) that counts what the server made the client send."""

    def __init__(self, size: int, chunk: int = 64 * 1024) -> None:
        self.size, self.chunk, self.sent = size, chunk, 0

    def __iter__(self) -> Iterator[bytes]:
        while self.sent < self.size:
            self.sent += self.chunk
            yield b"{" + b" " * (self.chunk - 1)


WRITES = [
    ("ingest", "/v1/events", "application/json"),
    ("notify", "/v1/subscriptions", "application/json"),
    ("ingest", "/v1/imports/untc?treaty_id=XXVI-5", "text/csv"),
]


@pytest.mark.parametrize(("service", "path", "media"), WRITES)
def test_a_body_without_a_key_is_refused_before_it_is_read(
    platform: Stack, service: str, path: str, media: str
) -> None:
    body = Body(64 * 1024 * 1024)
    try:
        response = httpx.post(
            f"{platform.url(service)}{path}", content=body, headers={"Content-Type": media}, timeout=30
        )
    except httpx.TransportError:
        response = None  # the server answered and closed while the client was still sending: also a refusal
    if response is not None:
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert body.sent < 16 * 1024 * 1024, f"{body.sent} bytes were taken in before the refusal"


@pytest.mark.parametrize(("service", "path", "media"), WRITES)
def test_a_streamed_body_over_the_limit_is_413_whatever_the_route_reads(
    platform: Stack, service: str, path: str, media: str
) -> None:
    body = Body(4 * LIMIT, chunk=8 * 1024)
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": media}
    response = httpx.post(f"{platform.url(service)}{path}", content=body, headers=headers, timeout=30)
    assert response.status_code == 413, response.text
    assert response.json()["detail"] == f"the body exceeds {LIMIT} bytes"


def test_a_body_within_the_limit_with_a_key_is_read(platform: Stack) -> None:
    event = {"type": "treaty.registered", "source": "/tests/hardening", "data": {"treaty_id": "XXVI-5", "title": "T"}}
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    response = httpx.post(f"{platform.url('ingest')}/v1/events", content=json.dumps(event), headers=headers)
    assert response.status_code == 202, response.text


READER, NO_SCOPES = "reader-" + uuid.uuid4().hex, "noscopes-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def private_registry(servers: Stack) -> Iterator[Stack]:
    keys = [
        {"name": "reader", "sha256": hash_key(READER), "scopes": ["read"]},
        {"name": "nothing", "sha256": hash_key(NO_SCOPES), "scopes": []},
    ]
    env = {"TREATYWATCH_READ_REQUIRES_KEY": "true", "TREATYWATCH_API_KEYS": json.dumps(keys)}
    with services_on(servers, "hardening-reads", ("registry",), KEY, env) as stack:
        yield stack


def test_where_reads_need_a_key_it_is_a_bearer_key_with_the_read_scope(private_registry: Stack) -> None:
    url = f"{private_registry.url('registry')}/v1/treaties"

    def status(authorization: str | None) -> int:
        headers = {"Authorization": authorization} if authorization else {}
        return httpx.get(url, headers=headers, timeout=10).status_code

    assert status(None) == 401
    assert status(f"Basic {READER}") == 401
    assert status(f"Bearer {NO_SCOPES}") == 403
    assert status(f"Bearer {READER}") == 200
    assert status(f"bearer {KEY}") == 200  # the development key holds every scope; the scheme is case-blind


@pytest.mark.parametrize(
    ("service", "target"),
    [
        ("registry", "/v1/participants/" + "1" * 8000 + "x"),
        ("registry", "/v1/search?q=" + "a" * 5000),
        ("ingest", "/v1/imports/untc?treaty_id=XXVI-5&title=" + "t" * 5000),
    ],
)
def test_an_unbounded_path_or_query_is_refused_before_routing(platform: Stack, service: str, target: str) -> None:
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "text/csv"}
    url = f"{platform.url(service)}{target}"
    response = httpx.post(url, headers=headers, content=b"x") if service == "ingest" else httpx.get(url)
    assert response.status_code == 414, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert httpx.get(f"{platform.url('registry')}/v1/participants/AFG").status_code in (200, 404)

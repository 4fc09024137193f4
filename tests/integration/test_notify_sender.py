"""The sender refuses private, loopback, link-local and metadata addresses before connecting, and pins what it checked;
its transport reads little of an answer and says what failed without naming an address.

No request of the sender's leaves the process: a recording transport stands where the network would be. The
transport's own tests talk to a receiver on loopback.
"""

from __future__ import annotations

import socket
import time

import pytest

from tests.receiver import Reply as Answer
from tests.receiver import always, webhook_receiver
from treatywatch.cli.stack import free_port
from treatywatch.notify.domain import HttpAllowList
from treatywatch.notify.sender import (
    MAX_BODY_READ,
    AiohttpTransport,
    Pinned,
    Refused,
    Reply,
    Resolve,
    Sender,
    SendError,
)

LOOPBACK = ["127.0.0.1", "localhost", "::1"]


class Recorder:
    """A transport that records requests instead of sending them."""

    def __init__(self) -> None:
        self.requests: list[Pinned] = []

    async def __call__(self, request: Pinned) -> Reply:
        self.requests.append(request)
        return Reply(204, {})


def fake_dns(answers: dict[str, list[str]]) -> Resolve:
    async def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not known to 10.0.3.53")
        return answers[host]

    return resolve


def sender(recorder: Recorder, allowed: list[str], answers: dict[str, list[str]] | None = None) -> Sender:
    if answers is None:
        return Sender(HttpAllowList.of(allowed), 5, 10, transport=recorder)
    return Sender(HttpAllowList.of(allowed), 5, 10, transport=recorder, resolver=fake_dns(answers))


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/latest/meta-data/",
        "https://[::ffff:10.0.0.1]/hook",
        "https://127.1/hook",
        "https://0.0.0.0/hook",
        "http://192.168.1.1:8080/hook",
    ],
)
async def test_private_addresses_are_refused_before_any_connection(url: str) -> None:
    recorder = Recorder()
    with pytest.raises(Refused):
        await sender(recorder, LOOPBACK).post(url, b"{}", {})
    assert recorder.requests == []


async def test_a_name_resolving_to_loopback_is_refused_unless_allowlisted() -> None:
    recorder = Recorder()
    with pytest.raises(Refused):
        await sender(recorder, []).post("https://localhost/hook", b"{}", {})
    assert recorder.requests == []
    await sender(recorder, ["localhost"]).post("http://localhost:9/hook", b"{}", {})
    assert [str(r.url) for r in recorder.requests] == ["http://localhost:9/hook"]


async def test_a_name_rebound_to_a_private_address_is_refused_without_saying_which() -> None:
    recorder = Recorder()
    dns = {"hooks.example.org": ["93.184.215.14", "169.254.169.254"]}
    with pytest.raises(Refused, match="link-local") as refused:
        await sender(recorder, LOOPBACK, dns).post("https://hooks.example.org/hook", b"{}", {})
    assert "169.254" not in str(refused.value)
    assert recorder.requests == []


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::a00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::808:808", "2002:a00:1::1", "::a9fe:a9fe", "::7f00:1"],
)
async def test_a_name_resolving_to_an_ipv6_address_embedding_a_private_ipv4_one_is_refused(address: str) -> None:
    recorder = Recorder()
    with pytest.raises(Refused) as refused:
        await sender(recorder, [], {"hooks.example.org": [address]}).post("https://hooks.example.org/hook", b"{}", {})
    assert address not in str(refused.value)
    assert recorder.requests == []


async def test_a_name_resolving_through_nat64_to_a_public_address_is_pinned() -> None:
    recorder = Recorder()
    dns = {"hooks.example.org": ["64:ff9b::5db8:d70e"]}
    await sender(recorder, [], dns).post("https://hooks.example.org/hook", b"{}", {})
    assert [r.url for r in recorder.requests] == ["https://[64:ff9b::5db8:d70e]:443/hook"]


async def test_a_name_that_does_not_resolve_fails_without_the_resolvers_words() -> None:
    recorder = Recorder()
    with pytest.raises(SendError) as failed:
        await sender(recorder, [], {}).post("https://nowhere.example.org/hook", b"{}", {})
    assert str(failed.value) == "the host name could not be resolved"
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:27017/hook", ["127.0.0.1:8080"]),
        ("https://localhost:8001/hook", ["localhost:8080"]),
        ("ftp://localhost/hook", ["localhost"]),
        ("http://localhost:0/hook", ["localhost"]),
        ("http://user:pw@localhost:8080/hook", ["localhost"]),
    ],
)
async def test_an_allowed_host_is_still_held_to_its_port_and_scheme_when_sending(url: str, allowed: list[str]) -> None:
    recorder = Recorder()
    with pytest.raises(Refused):
        await sender(recorder, allowed, {"localhost": ["127.0.0.1"], "127.0.0.1": ["127.0.0.1"]}).post(url, b"{}", {})
    assert recorder.requests == []


async def test_an_allowed_host_and_port_is_sent_to_unpinned() -> None:
    recorder = Recorder()
    await sender(recorder, ["localhost:8080"]).post("http://localhost:8080/hook", b"{}", {})
    assert [r.url for r in recorder.requests] == ["http://localhost:8080/hook"]


async def test_a_public_name_is_pinned_to_the_checked_address_with_its_host_and_sni() -> None:
    recorder = Recorder()
    dns = {"hooks.example.org": ["93.184.215.14"]}
    response = await sender(recorder, LOOPBACK, dns).post(
        "https://hooks.example.org:8443/hook?x=1", b"{}", {"webhook-id": "msg_1"}
    )
    assert response.status_code == 204
    [request] = recorder.requests
    assert str(request.url) == "https://93.184.215.14:8443/hook?x=1"
    assert request.headers["host"] == "hooks.example.org:8443"
    assert request.headers["webhook-id"] == "msg_1"
    assert request.server_hostname == "hooks.example.org"


def pinned(url: str) -> Pinned:
    return Pinned(url, {"content-type": "application/json"}, b"{}")


async def test_an_answers_body_is_read_a_little_and_its_connection_dropped_if_it_is_longer() -> None:
    size = 256 * 1024 * 1024
    transport = AiohttpTransport(4)
    try:
        with webhook_receiver(always(Answer(200, body_bytes=size))) as receiver:
            started = time.monotonic()
            replies = [await transport(pinned(receiver.url)) for _ in range(2)]
            took = time.monotonic() - started
    finally:
        await transport.close()
    assert [r.status_code for r in replies] == [200, 200]
    # What the receiver got out before notify hung up is what the sockets' buffers took, not the body.
    assert all(r.body_sent < size // 8 for r in receiver.requests), [r.body_sent for r in receiver.requests]
    assert receiver.connections == 2
    assert took < 5


async def test_a_short_answer_is_read_whole_and_its_connection_kept() -> None:
    transport = AiohttpTransport(4)
    try:
        with webhook_receiver(always(Answer(200, body_bytes=MAX_BODY_READ))) as receiver:
            for _ in range(3):
                assert (await transport(pinned(receiver.url))).status_code == 200
    finally:
        await transport.close()
    assert receiver.connections == 1


async def test_a_failed_connection_is_told_without_its_address() -> None:
    transport = AiohttpTransport(4)
    try:
        with pytest.raises(SendError) as failed:
            await transport(pinned(f"http://127.0.0.1:{free_port()}/hook"))
    finally:
        await transport.close()
    assert str(failed.value) == "could not connect"

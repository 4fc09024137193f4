"""The sender refuses private, loopback, link-local and metadata addresses before connecting, and pins what it checked.

No request here leaves the process: a recording transport stands where the network would be.
"""

from __future__ import annotations

import pytest

from treatywatch.notify.sender import Pinned, Refused, Reply, Resolve, Sender

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
        return answers[host]

    return resolve


def sender(recorder: Recorder, allowed: list[str], answers: dict[str, list[str]] | None = None) -> Sender:
    if answers is None:
        return Sender(allowed, 5, 10, transport=recorder)
    return Sender(allowed, 5, 10, transport=recorder, resolver=fake_dns(answers))


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


async def test_a_name_rebound_to_a_private_address_is_refused() -> None:
    recorder = Recorder()
    dns = {"hooks.example.org": ["93.184.215.14", "169.254.169.254"]}
    with pytest.raises(Refused, match=r"169\.254\.169\.254"):
        await sender(recorder, LOOPBACK, dns).post("https://hooks.example.org/hook", b"{}", {})
    assert recorder.requests == []


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

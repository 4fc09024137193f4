"""Sends one webhook request to an address checked at send time; redirects are never followed."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit, urlunsplit

import httpx

from treatywatch.notify.domain import address_problem

Resolve = Callable[[str, int], Awaitable[list[str]]]


class Refused(Exception):
    """The URL's host resolves to an address notify must not reach."""


async def resolve(host: str, port: int) -> list[str]:
    """The addresses a host name resolves to (IP literals resolve to themselves, without DNS)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class Sender:
    """An HTTP client that pins each request to a vetted address, so DNS cannot re-point it between check and use."""

    def __init__(
        self,
        allowed_hosts: Sequence[str],
        timeout_s: float,
        max_connections: int,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolve = resolve,
    ) -> None:
        self._allowed = set(allowed_hosts)
        self._timeout = timeout_s
        self._resolve = resolver
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._http = httpx.AsyncClient(
            timeout=timeout_s, follow_redirects=False, limits=limits, transport=transport, trust_env=False
        )

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """POST within the timeout; raise Refused before any connection when the address is not allowed."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        extensions = {}
        if host not in self._allowed:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            addresses = await self._resolve(host, port)
            problems = [p for p in map(address_problem, addresses) if p]
            if problems or not addresses:
                raise Refused(f"{host} resolves to a refused address: {'; '.join(problems) or 'none'}")
            address = addresses[0]
            literal = f"[{address}]" if ":" in address else address
            headers = {**headers, "host": parts.netloc.rpartition("@")[2]}
            url = urlunsplit(parts._replace(netloc=f"{literal}:{port}"))
            if parts.scheme == "https":
                extensions["sni_hostname"] = host
        async with asyncio.timeout(self._timeout):
            return await self._http.post(url, content=body, headers=headers, extensions=extensions)

    async def close(self) -> None:
        await self._http.aclose()

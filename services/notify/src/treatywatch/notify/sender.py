"""Sends one webhook request to an address checked at send time; redirects are never followed.

aiohttp, not httpx: httpcore's pool does work per request in proportion to its open connections, which
held notify near 270 requests a second with 40 endpoints' connections open (aiohttp: about 4,000).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from treatywatch.notify.domain import address_problem

Resolve = Callable[[str, int], Awaitable[list[str]]]


class Refused(Exception):
    """The URL's host resolves to an address notify must not reach."""


class SendError(Exception):
    """The request failed before an HTTP answer: connection refused or reset, bad response."""


@dataclass(frozen=True)
class Pinned:
    """A request aimed at a vetted address: the URL names the address, `host` and SNI keep the name."""

    url: str
    headers: dict[str, str]
    body: bytes
    server_hostname: str | None = None


@dataclass(frozen=True)
class Reply:
    """The parts of an answer that delivery judges by."""

    status_code: int
    headers: Mapping[str, str]

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status_code < 400 and "location" in self.headers


Transport = Callable[[Pinned], Awaitable[Reply]]


async def resolve(host: str, port: int) -> list[str]:
    """The addresses a host name resolves to (IP literals resolve to themselves, without DNS)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class AiohttpTransport:
    """Keep-alive connections through one aiohttp session, created on first use inside the event loop."""

    def __init__(self, max_connections: int) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, request: Pinned) -> Reply:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0)
            # No proxy from the environment, no cookies kept between subscribers.
            self._session = aiohttp.ClientSession(
                connector=connector, trust_env=False, cookie_jar=aiohttp.DummyCookieJar()
            )
        try:
            async with self._session.post(
                request.url,
                data=request.body,
                headers=request.headers,
                allow_redirects=False,
                server_hostname=request.server_hostname,
            ) as response:
                await response.read()
                return Reply(response.status, {k.lower(): v for k, v in response.headers.items()})
        except aiohttp.ClientError as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class Sender:
    """Pins each request to a vetted address, so DNS cannot re-point it between check and use."""

    def __init__(
        self,
        allowed_hosts: Sequence[str],
        timeout_s: float,
        max_connections: int,
        transport: Transport | None = None,
        resolver: Resolve = resolve,
    ) -> None:
        self._allowed = set(allowed_hosts)
        self._timeout = timeout_s
        self._resolve = resolver
        self._own = AiohttpTransport(max_connections) if transport is None else None
        self._transport: Transport = transport or self._own  # type: ignore[assignment]

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        """POST within the timeout; raise Refused before any connection when the address is not allowed."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        request = Pinned(url, headers, body)
        if host not in self._allowed:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            addresses = await self._resolve(host, port)
            problems = [p for p in map(address_problem, addresses) if p]
            if problems or not addresses:
                raise Refused(f"{host} resolves to a refused address: {'; '.join(problems) or 'none'}")
            address = addresses[0]
            literal = f"[{address}]" if ":" in address else address
            request = Pinned(
                urlunsplit(parts._replace(netloc=f"{literal}:{port}")),
                {**headers, "host": parts.netloc.rpartition("@")[2]},
                body,
                host if parts.scheme == "https" else None,
            )
        async with asyncio.timeout(self._timeout):
            return await self._transport(request)

    async def close(self) -> None:
        if self._own is not None:
            await self._own.close()

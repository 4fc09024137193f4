"""Sends one webhook request to an address checked at send time; redirects are never followed.

Of an answer, notify reads the status, the headers and at most `MAX_BODY_READ` bytes of the body: a longer
body is left unread and its connection dropped, so a receiver cannot fill notify's memory or hold it reading.
What a failure records never names an address or repeats a resolver's or a socket's words: readers see it.

aiohttp, not httpx: httpcore's pool does work per request in proportion to its open connections, which
held notify near 270 requests a second with 40 endpoints' connections open (aiohttp: about 4,000).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

import aiohttp

from treatywatch.notify.domain import HttpAllowList, address_problem, url_port, url_problem

Resolve = Callable[[str, int], Awaitable[list[str]]]
# Enough for any error page worth keeping the connection for; beyond it the connection is dropped unread.
MAX_BODY_READ = 4096
# URLs whose verdict is remembered: a subscription's URL is checked once, not on every delivery.
CHECKED_URLS = 10_000


class Refused(Exception):
    """The URL is not one notify may send to, or its host resolves to an address notify must not reach."""


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
                if not await read_to_end(response.content, MAX_BODY_READ):
                    response.close()
                return Reply(response.status, {k.lower(): v for k, v in response.headers.items()})
        except aiohttp.ClientError as exc:
            raise SendError(failure(exc)) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


async def read_to_end(content: aiohttp.StreamReader, limit: int) -> bool:
    """Read a body of at most `limit` bytes to its end (its connection can be reused); False once it is longer."""
    read = 0
    while read <= limit:
        chunk = await content.read(limit + 1 - read)
        if not chunk:
            return True
        read += len(chunk)
    return False


def failure(exc: aiohttp.ClientError) -> str:
    """What went wrong, in words that name no address (aiohttp's messages name the pinned one)."""
    if isinstance(exc, aiohttp.ClientSSLError):
        return "the TLS handshake failed"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "could not connect"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection without answering"
    if isinstance(exc, aiohttp.ClientResponseError | aiohttp.ClientPayloadError):
        return "the answer is not valid HTTP"
    return f"the request failed ({type(exc).__name__})"


class Sender:
    """Pins each request to a vetted address, so DNS cannot re-point it between check and use."""

    def __init__(
        self,
        allowed: HttpAllowList,
        timeout_s: float,
        max_connections: int,
        transport: Transport | None = None,
        resolver: Resolve = resolve,
    ) -> None:
        self._allowed = allowed
        self._timeout = timeout_s
        self._resolve = resolver
        self._own = AiohttpTransport(max_connections) if transport is None else None
        self._transport: Transport = transport or self._own  # type: ignore[assignment]
        self._verdicts: dict[str, str | None] = {}

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        """POST within the timeout (name resolution included); raise Refused before any connection when the URL
        or the address it resolves to is not allowed."""
        if (reason := self._url_problem(url)) is not None:
            raise Refused(reason)
        parts = urlsplit(url)
        host, port = parts.hostname or "", url_port(url) or 0
        async with asyncio.timeout(self._timeout):
            if self._allowed.admits(host, port):
                request = Pinned(url, headers, body)
            else:
                request = await self._pinned(parts, host, port, headers, body)
            return await self._transport(request)

    def _url_problem(self, url: str) -> str | None:
        try:
            return self._verdicts[url]
        except KeyError:
            pass
        if len(self._verdicts) >= CHECKED_URLS:
            self._verdicts.clear()
        verdict = self._verdicts[url] = url_problem(url, self._allowed)
        return verdict

    async def _pinned(self, parts: SplitResult, host: str, port: int, headers: dict[str, str], body: bytes) -> Pinned:
        """The request aimed at the host's first address, once every address it resolves to is vetted."""
        try:
            addresses = await self._resolve(host, port)
        except OSError as exc:
            raise SendError("the host name could not be resolved") from exc
        problems = [p for p in map(address_problem, addresses) if p]
        if problems or not addresses:
            raise Refused(f"the host resolves to {problems[0] if problems else 'no address'}")
        address = addresses[0]
        literal = f"[{address}]" if ":" in address else address
        return Pinned(
            urlunsplit(parts._replace(netloc=f"{literal}:{port}")),
            {**headers, "host": parts.netloc.rpartition("@")[2]},
            body,
            host if parts.scheme == "https" else None,
        )

    async def close(self) -> None:
        if self._own is not None:
            await self._own.close()

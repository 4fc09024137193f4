"""Real local HTTP webhook receivers for tests: they record every request and answer as told (fail, stall, redirect,
or a body of any size, streamed)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = 0.0
    status: int = 204
    # Bytes of the answer's body written before the client hung up (or all of them).
    body_sent: int = 0


def valid_signatures(secret: str, request: Received) -> list[str]:
    """The entries of `webhook-signature` that `secret` verifies (Standard Webhooks, written from the spec)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return [s for s in request.headers["webhook-signature"].split() if hmac.compare_digest(s, expected)]


@dataclass(frozen=True)
class Reply:
    """How a receiver answers one request."""

    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    # A body of this many bytes, streamed a chunk at a time (the receiver never holds it).
    body_bytes: int = 0


Responder = Callable[[Received], Reply]


def always(reply: Reply) -> Responder:
    return lambda _: reply


def first_then(count: int, reply: Reply, then: Reply | None = None) -> Responder:
    """`reply` to the first `count` requests, then `then` (a 204 by default)."""
    seen = Counter[str]()
    lock = threading.Lock()

    def respond(_: Received) -> Reply:
        with lock:
            seen["all"] += 1
            return reply if seen["all"] <= count else then or Reply()

    return respond


def per_message(count: int, reply: Reply, which: Callable[[str], bool] = lambda _: True) -> Responder:
    """`reply` to the first `count` attempts of every webhook-id (of those `which` picks), then a 204."""
    seen = Counter[str]()
    lock = threading.Lock()

    def respond(request: Received) -> Reply:
        webhook_id = request.headers["webhook-id"]
        if not which(webhook_id):
            return Reply()
        with lock:
            seen[webhook_id] += 1
            return reply if seen[webhook_id] <= count else Reply()

    return respond


ACCEPT = always(Reply())


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    max_concurrent: int = 0
    connections: int = 0

    def ids(self) -> set[str]:
        return {r.headers["webhook-id"] for r in self.requests}

    def delivered(self) -> list[Received]:
        """The requests answered 2xx."""
        return [r for r in self.requests if 200 <= r.status < 300]


REASONS = {200: "OK", 204: "No Content", 301: "Moved Permanently", 302: "Found", 307: "Temporary Redirect"}
CHUNK = b"x" * (1024 * 1024)


async def stream_body(writer: asyncio.StreamWriter, request: Received, size: int) -> None:
    """Write `size` bytes, counting in `request.body_sent` what went out before the client hung up."""
    while request.body_sent < size:
        chunk = CHUNK[: size - request.body_sent]
        writer.write(chunk)
        await writer.drain()
        request.body_sent += len(chunk)


class _Handler:
    """One receiver's connections: read each request, record it, answer as `respond` says."""

    def __init__(self, receiver: Receiver, respond: Responder) -> None:
        self.receiver, self.respond = receiver, respond
        self.released = asyncio.Event()
        self.active = 0

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.receiver.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines if h)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                received = Received(request_line.split(" ")[1], headers, body, time.monotonic())
                if not await self.answer(reader, writer, received):
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: Received) -> bool:
        """Reply to one request; False if the client hung up first."""
        reply = self.respond(request)
        request.status = reply.status
        self.receiver.requests.append(request)
        self.active += 1
        self.receiver.max_concurrent = max(self.receiver.max_concurrent, self.active)
        try:
            if reply.delay_s and await self.hangs_up(reader, reply.delay_s):
                # The sender gave up (its timeout): the request no longer counts as one it holds open.
                return False
            extra = "".join(f"{k}: {v}\r\n" for k, v in reply.headers.items())
            status = f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Status')}\r\n"
            writer.write(f"{status}{extra}content-length: {reply.body_bytes}\r\n\r\n".encode())
            await writer.drain()
            await stream_body(writer, request, reply.body_bytes)
        finally:
            self.active -= 1
        return True

    async def hangs_up(self, reader: asyncio.StreamReader, delay_s: float) -> bool:
        """Stall until the delay passes or the test's end releases the endpoint; True if the client hangs up first.

        A client sends nothing more on a connection while it waits for the answer, so what ends the read is its
        hanging up.
        """
        hang_up = asyncio.ensure_future(reader.read(1))
        release = asyncio.ensure_future(self.released.wait())
        done, pending = await asyncio.wait({hang_up, release}, timeout=delay_s, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return hang_up in done


@contextmanager
def webhook_receiver(respond: Responder = ACCEPT) -> Iterator[Receiver]:
    """Serve HTTP/1.1 on a free loopback port until the block ends, answering each POST as `respond` says.

    An asyncio server on its own thread: fast enough that benchmarks measure notify, not the receiver.
    """
    receiver = Receiver("")
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stopping = asyncio.Event()
    handle = _Handler(receiver, respond)

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        receiver.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook"
        started.set()
        await stopping.wait()
        server.close()
        handle.released.set()

    async def close_connections() -> None:
        # Connections still open (keep-alive) end with the receiver.
        pending = asyncio.all_tasks() - {asyncio.current_task()}
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def run() -> None:
        loop.run_until_complete(serve())
        loop.run_until_complete(close_connections())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait()
    try:
        yield receiver
    finally:
        loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout=10)

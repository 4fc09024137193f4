"""Real local HTTP webhook receivers for tests: they record every request and answer as told (fail, stall, redirect)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = 0.0
    status: int = 204


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


def per_message(count: int, reply: Reply) -> Responder:
    """`reply` to the first `count` attempts of every webhook-id, then a 204."""
    seen = Counter[str]()
    lock = threading.Lock()

    def respond(request: Received) -> Reply:
        with lock:
            seen[request.headers["webhook-id"]] += 1
            return reply if seen[request.headers["webhook-id"]] <= count else Reply()

    return respond


ACCEPT = always(Reply())


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    max_concurrent: int = 0

    def ids(self) -> set[str]:
        return {r.headers["webhook-id"] for r in self.requests}

    def delivered(self) -> list[Received]:
        """The requests answered 2xx."""
        return [r for r in self.requests if 200 <= r.status < 300]


@contextmanager
def webhook_receiver(respond: Responder = ACCEPT) -> Iterator[Receiver]:
    """Serve on a free loopback port until the block ends, answering each POST as `respond` says."""
    receiver = Receiver("")
    lock = threading.Lock()
    released = threading.Event()
    active = 0

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            nonlocal active
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
            reply = respond(request)
            request.status = reply.status
            with lock:
                receiver.requests.append(request)
                active += 1
                receiver.max_concurrent = max(receiver.max_concurrent, active)
            try:
                # A stalled endpoint; the test's end releases it at once.
                released.wait(reply.delay_s)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                with lock:
                    active -= 1

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield receiver
    finally:
        released.set()
        server.shutdown()
        server.server_close()

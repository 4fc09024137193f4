"""What every HTTP service shares: problem details, auth, body limits, health and metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from treatywatch.common import tracing
from treatywatch.common.events import EVENT_TYPES
from treatywatch.common.settings import Settings, hash_key

PROBLEM = "application/problem+json"
Check = Callable[[], Awaitable[None]]

HTTP_REQUESTS = Counter(
    "treatywatch_http_requests_total", "HTTP requests by route and status", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "treatywatch_http_request_seconds",
    "HTTP request latency by route",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class Problem(Exception):
    """An error answered as RFC 9457 problem details."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.errors, self.headers, self.extra = errors, headers, extra


def problem_response(problem: Problem) -> JSONResponse:
    """The problem+json response for a Problem."""
    body: dict[str, Any] = {
        "type": f"https://treatywatch.org/problems/{problem.title.lower().replace(' ', '-')}",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        **problem.extra,
    }
    if problem.errors is not None:
        body["errors"] = problem.errors
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM, headers=problem.headers)


def validation_errors(
    exc: ValidationError | RequestValidationError, prefix: Sequence[str | int] = ()
) -> list[dict[str, Any]]:
    """Each validation error as {path, message, type}; the path names the field (e.g. `data.treaty_id`)."""
    out = []
    for err in exc.errors():
        # The discriminated event union puts the matched type first in the location; clients want the field.
        inner = err["loc"][1:] if err["loc"] and err["loc"][0] in EVENT_TYPES else err["loc"]
        loc = [*prefix, *inner]
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            # The discriminator's errors carry no location; the field at fault is `type`.
            loc.append("type")
        out.append({"path": ".".join(str(p) for p in loc), "message": err["msg"], "type": err["type"]})
    return out


def invalid(errors: list[dict[str, Any]], detail: str = "the request does not match the contract") -> Problem:
    """A 422 listing every bad field."""
    return Problem(422, "Invalid request", detail, errors=errors)


# Methods that carry a body: every one of them needs a key, checked before a byte of the body is read.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# No id, symbol or name of the contract comes near these: longer paths and queries are refused before routing, so
# no handler, resolver or cache ever sees an unbounded value.
MAX_PATH_CHARS = 1024
MAX_QUERY_BYTES = 4096


def too_large(limit: int) -> HTTPException:
    # Starlette's exception: FastAPI passes it through its body parsing, where anything else becomes a 400.
    return HTTPException(413, f"the body exceeds {limit} bytes")


class Observe:
    """Pure ASGI middleware (BaseHTTPMiddleware costs a task per request): metrics by route, and the gate in front
    of every body: a write without a valid key is refused unread, and no body may exceed the limit, counted as it
    streams whatever its Content-Length says."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.settings = app, settings

    def refusal(self, scope: Scope) -> Problem | None:
        if len(scope["path"]) > MAX_PATH_CHARS or len(scope["query_string"]) > MAX_QUERY_BYTES:
            limits = f"at most {MAX_PATH_CHARS} characters of path and {MAX_QUERY_BYTES} bytes of query"
            return Problem(414, "URI too long", f"the request's URI is longer than this API reads: {limits}")
        headers = dict(scope["headers"])
        if scope["method"] in BODY_METHODS and bearer_scopes(self.settings, headers.get(b"authorization")) is None:
            return unauthorized()
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.settings.max_body_bytes:
            return Problem(413, "Payload too large", f"the body exceeds {self.settings.max_body_bytes} bytes")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        limit = self.settings.max_body_bytes
        received = 0

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large(limit)
            return message

        try:
            refused = self.refusal(scope)
            if refused is None:
                await self.app(scope, counted_receive, observed_send)
            else:
                # Closing the connection stops a client still sending a body nobody will read.
                refused.headers = {**(refused.headers or {}), "Connection": "close"}
                await problem_response(refused)(scope, receive, observed_send)
        finally:
            route = str(getattr(scope.get("route"), "path", "unmatched"))
            HTTP_LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)
            HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()


def create_app(
    *,
    title: str,
    description: str,
    settings: Settings,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    checks: Callable[[FastAPI], dict[str, Check]],
) -> FastAPI:
    """A FastAPI app with the shared error format, body limit, metrics and health endpoints."""
    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=tracing.flushing(lifespan))
    app.state.settings = settings

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(invalid(validation_errors(exc)))

    # Starlette's class, not FastAPI's subclass: routing's own 404 and 405 are problems too.
    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        titles = {401: "Unauthorized", 404: "Not found", 405: "Method not allowed", 413: "Payload too large"}
        title = titles.get(exc.status_code, "Error")
        return problem_response(
            Problem(exc.status_code, title, str(exc.detail), headers=dict(exc.headers) if exc.headers else None)
        )

    app.add_middleware(Observe, settings=settings)
    if tracing.enabled():
        app.add_middleware(tracing.TraceRequests)

    @app.get("/healthz", tags=["health"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Its broker, and its database where it has one, answer")
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks(app).items():
            try:
                await check()
                results[name] = "ok"
            except Exception as exc:
                results[name] = f"unavailable: {type(exc).__name__}"
        ready = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": results},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than `limit` bytes even without a Content-Length."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


# auto_error off: a missing key is answered by the checks below as problem+json, not by FastAPI's own 403.
BEARER = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="treatywatch"'}


def unauthorized(detail: str = "an API key is required: Authorization: Bearer <key>") -> Problem:
    """A 401 with the Bearer challenge."""
    return Problem(401, "Unauthorized", detail, headers=CHALLENGE)


def bearer_scopes(settings: Settings, authorization: bytes | str | None) -> frozenset[str] | None:
    """The scopes of an `Authorization: Bearer <key>` value; None for another scheme or a key not configured."""
    if isinstance(authorization, bytes):
        authorization = authorization.decode("latin-1")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    digest = hash_key(token.strip())
    scopes = settings.key_scopes.get(digest)
    if scopes is not None:
        structlog.contextvars.bind_contextvars(api_key=digest[:8])
    return scopes


def key_scopes(request: Request, credentials: HTTPAuthorizationCredentials | None) -> frozenset[str] | None:
    """The scopes of the request's bearer key (HTTPBearer parsed it, and declares the scheme in OpenAPI)."""
    if credentials is None:
        return None
    return bearer_scopes(request.app.state.settings, f"{credentials.scheme} {credentials.credentials}")


def require_scope(scope: str) -> Any:
    """A dependency that admits a bearer key holding `scope`: 401 without a valid key, 403 without the scope."""

    async def check(request: Request, credentials: Credentials) -> str:
        if credentials is None:
            raise unauthorized()
        scopes = key_scopes(request, credentials)
        if scopes is None:
            raise unauthorized("the API key is not valid")
        if scope not in scopes:
            raise Problem(403, "Forbidden", f"the API key lacks the scope {scope!r}")
        return scope

    return Depends(check)


def require_read() -> Any:
    """A dependency for reads: open unless the operator set TREATYWATCH_READ_REQUIRES_KEY."""

    async def check(request: Request, credentials: Credentials) -> None:
        settings: Settings = request.app.state.settings
        if not settings.read_requires_key:
            return
        scopes = key_scopes(request, credentials)
        if scopes is None:
            raise unauthorized("reads require an API key on this deployment")
        if "read" not in scopes:
            raise Problem(403, "Forbidden", "the API key lacks the scope 'read'")

    return Depends(check)

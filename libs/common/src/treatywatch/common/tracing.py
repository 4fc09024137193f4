"""OpenTelemetry tracing, off unless `TREATYWATCH_OTLP_ENDPOINT` is set: spans continue each event's W3C trace.

Off, no provider exists and every hook is a no-op. On, each service exports its spans in batches over OTLP/HTTP
(protobuf) from a background thread; a span for an event takes its parent from the event's `traceparent`, so the
trace id in a trace viewer is the `trace_id` of the log lines.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import TypeVar

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind as SpanKind
from opentelemetry.trace import StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from treatywatch.common.events import Event

App = TypeVar("App")
# Probes and scrapes every few seconds would drown the traces that matter.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

_propagator = TraceContextTextMapPropagator()
_provider: TracerProvider | None = None
_tracer: trace.Tracer | None = None


class TracingSettings(BaseSettings):
    """Tracing's variables (the exporter also honours the standard `OTEL_EXPORTER_OTLP_*` ones, e.g. headers)."""

    model_config = SettingsConfigDict(env_prefix="TREATYWATCH_", extra="ignore")

    # The collector's base URL, e.g. http://127.0.0.1:4318; spans go to <endpoint>/v1/traces.
    otlp_endpoint: str | None = None


def configure_tracing(
    service: str, settings: TracingSettings | None = None, exporter: SpanExporter | None = None
) -> None:
    """Install this process's tracer provider when an OTLP endpoint is configured; otherwise do nothing."""
    global _provider, _tracer
    settings = settings or TracingSettings()
    if not settings.otlp_endpoint or _provider is not None:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service, "service.namespace": "treatywatch"}))
    endpoint = settings.otlp_endpoint.rstrip("/") + "/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(exporter or OTLPSpanExporter(endpoint=endpoint)))
    _provider, _tracer = provider, provider.get_tracer("treatywatch")


def enabled() -> bool:
    """Whether spans are recorded and exported."""
    return _tracer is not None


async def shutdown_tracing() -> None:
    """Export the spans still queued and stop the provider (off the event loop: the export blocks)."""
    global _provider, _tracer
    provider, _provider, _tracer = _provider, None, None
    if provider is not None:
        await asyncio.to_thread(provider.shutdown)


def flushing(
    lifespan: Callable[[App], AbstractAsyncContextManager[None]],
) -> Callable[[App], AbstractAsyncContextManager[None]]:
    """The lifespan, then the tracer provider's shutdown, so the last spans are exported."""

    @asynccontextmanager
    async def flushed(app: App) -> AsyncIterator[None]:
        try:
            async with lifespan(app):
                yield
        finally:
            await shutdown_tracing()

    return flushed


def _parent(traceparent: str | None) -> Context | None:
    """The context to start a span in: the current span when it is in the same trace, else `traceparent`'s."""
    if traceparent is None:
        return None
    context = _propagator.extract({"traceparent": traceparent})
    current = trace.get_current_span().get_span_context()
    if current.is_valid and current.trace_id == trace.get_current_span(context).get_span_context().trace_id:
        return None
    return context


@contextmanager
def span(
    name: str,
    traceparent: str | None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> Iterator[trace.Span]:
    """A span in `traceparent`'s trace (made current); a non-recording one when tracing is off."""
    if _tracer is None:
        yield trace.INVALID_SPAN
        return
    with _tracer.start_as_current_span(name, _parent(traceparent), kind, attributes) as current:
        yield current


@contextmanager
def span_for_events(name: str, events: Sequence[Event], *, kind: SpanKind = SpanKind.INTERNAL) -> Iterator[None]:
    """One span per trace among `events` (usually one), all covering the block: a batch's work in each trace."""
    if _tracer is None:
        yield
        return
    by_trace: dict[str | None, list[Event]] = {}
    for event in events:
        by_trace.setdefault(event.traceparent, []).append(event)
    spans = [
        _tracer.start_span(name, _parent(traceparent), kind, _event_attributes(group))
        for traceparent, group in by_trace.items()
    ]
    try:
        yield
    except Exception as exc:
        for each in spans:
            each.record_exception(exc)
            each.set_status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        for each in spans:
            each.end()


def _event_attributes(events: list[Event]) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {"messaging.batch.message_count": len(events)}
    if len(events) == 1:
        attributes |= {"cloudevents.event_id": events[0].id, "cloudevents.event_type": events[0].type}
    return attributes


def record_status(span: trace.Span, status_code: int, *, ok: bool) -> None:
    """Note an HTTP response's status on its span, marking the span failed unless `ok`."""
    span.set_attribute("http.response.status_code", status_code)
    if not ok:
        span.set_status(StatusCode.ERROR, f"HTTP {status_code}")


def current_traceparent() -> str | None:
    """The current span's context as a W3C traceparent, or None when tracing is off or no span is current."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def request_traceparent(headers: Mapping[str, str]) -> str | None:
    """The trace an incoming request's events belong to: the caller's `traceparent`, else the request's span's."""
    return headers.get("traceparent") or current_traceparent()


class TraceRequests:
    """Pure ASGI middleware: a server span per HTTP request, continuing the caller's `traceparent`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tracer = _tracer
        if scope["type"] != "http" or tracer is None or scope["path"] in UNTRACED_PATHS:
            await self.app(scope, receive, send)
            return
        carrier = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope["headers"]
            if key in (b"traceparent", b"tracestate")
        }
        method = scope["method"]
        attributes = {"http.request.method": method, "url.path": scope["path"]}
        with tracer.start_as_current_span(method, _propagator.extract(carrier), SpanKind.SERVER, attributes) as current:

            async def traced_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    record_status(current, message["status"], ok=message["status"] < 500)
                await send(message)

            try:
                await self.app(scope, receive, traced_send)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route:
                    current.update_name(f"{method} {route}")
                    current.set_attribute("http.route", route)

"""Tracing: off (no provider, no middleware) without an endpoint; on, spans continue each event's trace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI, Request
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from treatywatch.common import tracing
from treatywatch.common.events import Event, event_from_dict, with_defaults
from treatywatch.common.settings import Settings
from treatywatch.common.web import Observe, create_app

TRACE_A = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACE_B = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def action(participant: str, traceparent: str) -> Event:
    data = {"treaty_id": "XXVI-5", "participant": participant, "action": "accession", "date": "2002-09-11"}
    return with_defaults(
        event_from_dict({"type": "treaty.action.recorded", "source": "/tests", "data": data}), traceparent
    )


def an_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield

    app = create_app(title="t", description="d", settings=Settings(), lifespan=lifespan, checks=lambda _: {})

    @app.get("/things/{thing}")
    async def thing(thing: str, request: Request) -> dict[str, str | None]:
        return {"traceparent": tracing.request_traceparent(request.headers)}

    return app


@pytest.fixture
async def exported() -> AsyncIterator[InMemorySpanExporter]:
    """Tracing on, with spans kept in memory instead of sent over OTLP."""
    exporter = InMemorySpanExporter()
    tracing.configure_tracing("tests", tracing.TracingSettings(otlp_endpoint="http://127.0.0.1:9"), exporter)
    yield exporter
    # Whatever the test did, the next one starts with tracing off.
    await tracing.shutdown_tracing()


def test_without_an_endpoint_no_provider_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TREATYWATCH_OTLP_ENDPOINT", raising=False)
    tracing.configure_tracing("ingest")
    assert not tracing.enabled()
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    with tracing.span("deliver", TRACE_A) as span, tracing.span_for_events("apply", [action("AFG", TRACE_A)]):
        assert not span.is_recording()
        assert tracing.current_traceparent() is None
    assert tracing.request_traceparent({}) is None
    assert tracing.request_traceparent({"traceparent": TRACE_A}) == TRACE_A
    middleware: list[object] = [m.cls for m in an_app().user_middleware]
    assert middleware == [Observe]


async def test_event_spans_continue_each_events_trace_one_span_per_trace(exported: InMemorySpanExporter) -> None:
    events = [action("AFG", TRACE_A), action("ALB", TRACE_A), action("DZA", TRACE_B)]
    with tracing.span_for_events("apply", events, kind=SpanKind.CONSUMER):
        pass
    with pytest.raises(RuntimeError), tracing.span_for_events("apply", events[2:]):
        raise RuntimeError("the transaction failed")
    with tracing.span("deliver", TRACE_B, kind=SpanKind.CLIENT) as span:
        tracing.record_status(span, 503, ok=False)
    await tracing.shutdown_tracing()
    assert not tracing.enabled()

    first_a, first_b, failed, deliver = exported.get_finished_spans()
    assert first_a.parent is not None
    assert (first_a.context.trace_id, first_a.parent.span_id) == (
        0x4BF92F3577B34DA6A3CE929D0E0E4736,
        0x00F067AA0BA902B7,
    )
    assert dict(first_a.attributes or {}) == {"messaging.batch.message_count": 2}
    assert first_a.kind is SpanKind.CONSUMER and first_a.resource.attributes.get("service.name") == "tests"
    assert first_b.context.trace_id == 0x0AF7651916CD43DD8448EB211C80319C
    assert (first_b.attributes or {}).get("cloudevents.event_id") == events[2].id
    assert failed.status.status_code is StatusCode.ERROR and failed.events[0].name == "exception"
    assert (deliver.attributes or {}).get("http.response.status_code") == 503
    assert deliver.status.status_code is StatusCode.ERROR


async def test_a_request_span_continues_the_callers_trace_and_names_the_route(
    exported: InMemorySpanExporter,
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(an_app()), base_url="http://t") as client:
        given = await client.get("/things/1", headers={"traceparent": TRACE_A})
        started = await client.get("/things/2")
        assert (await client.get("/healthz")).status_code == 200
    await tracing.shutdown_tracing()

    continued, new = exported.get_finished_spans()
    assert continued.name == "GET /things/{thing}" and continued.kind is SpanKind.SERVER
    assert continued.parent is not None and continued.parent.span_id == 0x00F067AA0BA902B7
    assert (continued.attributes or {}).get("http.response.status_code") == 200
    assert given.json() == {"traceparent": TRACE_A}
    # Without a caller's context, the request's events join the request's own trace.
    assert new.parent is None
    context = new.get_span_context()
    assert context is not None and context.trace_flags.sampled
    assert (
        started.json()["traceparent"] == f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
    )

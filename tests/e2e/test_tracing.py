"""OpenTelemetry tracing end to end: the three services export their spans for one event to an OTLP/HTTP receiver."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from tests.conftest import OUTPUT
from tests.receiver import Receiver, webhook_receiver
from tests.waiting import wait_until
from treatywatch.cli.stack import SERVICES, Ports, Stack

KEY = "tracing-" + uuid.uuid4().hex


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]


@dataclass
class Collector:
    """What an OTLP/HTTP collector received: every span, decoded."""

    endpoint: str = ""
    spans: list[Span] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def in_trace(self, trace_id: str) -> list[Span]:
        with self.lock:
            return [s for s in self.spans if s.trace_id == trace_id]


def value(any_value: AnyValue) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def decode(body: bytes) -> list[Span]:
    request = ExportTraceServiceRequest.FromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = {a.key: value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    Span(
                        service=resource["service.name"],
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        attributes={a.key: value(a.value) for a in span.attributes},
                    )
                )
    return spans


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    """A minimal OTLP/HTTP (protobuf) trace receiver on a free loopback port, on its own thread."""
    received = Collector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if self.path != "/v1/traces" or self.headers.get("content-type") != "application/x-protobuf":
                self.send_error(404 if self.path != "/v1/traces" else 415)
                return
            spans = decode(body)
            with received.lock:
                received.spans.extend(spans)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def platform(servers: Stack, collector: Collector) -> Iterator[Stack]:
    suffix = uuid.uuid4().hex[:8]
    stack = Stack(
        data_dir=OUTPUT / "e2e-tracing",
        ports=Ports.free(),
        api_key=KEY,
        kafka_bootstrap=servers.kafka_bootstrap,
        mongo_url=servers.mongo_url,
        embedded_kafka=servers.embedded_kafka,
        env={
            "TREATYWATCH_TOPIC": f"tracing-{suffix}",
            "TREATYWATCH_OTLP_ENDPOINT": collector.endpoint,
            # Export every 100 ms rather than every 5 s, so the test waits for the services, not the batching.
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        },
    )
    try:
        for service in SERVICES:
            # Each service its own database and consumer group: the registry and notify must not share them.
            stack.env |= {
                "TREATYWATCH_MONGO_DB": f"tracing_{service}_{suffix}",
                "TREATYWATCH_GROUP_ID": f"tracing-{service}-{suffix}",
            }
            stack.start_service(service)
        stack.wait_ready()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as r:
        yield r


def test_spans_of_all_three_services_continue_the_events_trace(
    platform: Stack, collector: Collector, receiver: Receiver
) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    subscription = {"url": receiver.url, "event_types": ["treaty.*"]}
    created = httpx.post(f"{platform.url('notify')}/v1/subscriptions", json=subscription, headers=auth, timeout=30)
    assert created.status_code == 201, created.text
    trace_id, caller_span_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    action = {
        "type": "treaty.action.recorded",
        "source": "/tests/e2e/tracing",
        "data": {"treaty_id": "XXVI-5", "participant": "NZL", "action": "ratification", "date": "1999-01-27"},
    }
    response = httpx.post(
        f"{platform.url('ingest')}/v1/events",
        json=action,
        headers={**auth, "traceparent": f"00-{trace_id}-{caller_span_id}-01"},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    event_id = response.json()["id"]

    wanted = {("ingest", "POST /v1/events"), ("ingest", "publish"), ("registry", "apply")}
    wanted |= {("notify", "match"), ("notify", "deliver")}

    def spans_by_name() -> dict[tuple[str, str], Span]:
        spans = {(s.service, s.name): s for s in collector.in_trace(trace_id)}
        return spans if wanted <= spans.keys() else {}

    spans = wait_until(spans_by_name, "spans of ingest, registry and notify in the event's trace")
    request, publish = spans["ingest", "POST /v1/events"], spans["ingest", "publish"]
    assert request.parent_span_id == caller_span_id
    assert request.attributes["http.response.status_code"] == 202
    assert publish.parent_span_id == request.span_id
    assert publish.attributes["cloudevents.event_id"] == event_id
    assert spans["registry", "apply"].attributes["cloudevents.event_id"] == event_id
    assert spans["notify", "match"].attributes["cloudevents.event_id"] == event_id
    deliver = spans["notify", "deliver"]
    assert deliver.attributes["cloudevents.event_id"] == event_id
    assert deliver.attributes["http.response.status_code"] == 204
    # The subscriber still sees the event's own trace context.
    assert receiver.requests[0].headers["traceparent"] == f"00-{trace_id}-{caller_span_id}-01"


def test_an_event_without_trace_context_joins_the_trace_of_its_request(platform: Stack, collector: Collector) -> None:
    action = {
        "type": "treaty.action.recorded",
        "source": "/tests/e2e/tracing",
        "data": {"treaty_id": "XXVI-5", "participant": "NOR", "action": "ratification", "date": "1998-07-09"},
    }
    response = httpx.post(
        f"{platform.url('ingest')}/v1/events", json=action, headers={"Authorization": f"Bearer {KEY}"}, timeout=30
    )
    assert response.status_code == 202, response.text
    event_id = response.json()["id"]

    def applied() -> list[Span]:
        with collector.lock:
            return [
                s for s in collector.spans if s.name == "apply" and s.attributes.get("cloudevents.event_id") == event_id
            ]

    apply = wait_until(applied, "the registry's span for the event")[0]
    request = wait_until(
        lambda: [s for s in collector.in_trace(apply.trace_id) if s.name == "POST /v1/events"],
        "ingest's request span in the same trace",
    )[0]
    assert request.service == "ingest" and request.parent_span_id == ""

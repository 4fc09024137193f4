"""Ingest: settings, lifespan and wiring."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import Field

from treatywatch.common.asyncapi import asyncapi_document
from treatywatch.common.events import with_defaults
from treatywatch.common.kafka import Publisher, ensure_topics
from treatywatch.common.logging import configure_logging
from treatywatch.common.service import keep_trying, serve
from treatywatch.common.settings import Settings
from treatywatch.common.tracing import configure_tracing
from treatywatch.common.web import Check, create_app
from treatywatch.ingest.api import router
from treatywatch.ingest.catalog import catalog_events
from treatywatch.ingest.service import Limits
from treatywatch.ingest.workers import ParseWorkers


class IngestSettings(Settings):
    port: int = 8001
    publish_timeout_s: float = 10.0
    # Resolution texts, UNTC files and notifications (a PDF's text too) are read in worker processes; one that takes
    # longer is killed (422). A worker may grow by 200 MB on a document that takes the whole limit: one fits the
    # pod's 512 MiB with room.
    parse_timeout_s: float = Field(default=5.0, gt=0)
    parse_workers: int = Field(default=1, ge=1, le=8)
    # Events one request may publish (a batch, or a UNTC import), and bytes per event: keep it at or under the
    # topic's max.message.bytes (Kafka's default is 1 MiB).
    max_batch_events: int = Field(default=Limits.max_events, ge=1)
    max_event_bytes: int = Field(default=Limits.max_event_bytes, ge=1024)


def build_app(settings: IngestSettings | None = None) -> FastAPI:
    """The ingest app, wired to its broker (it keeps no database)."""
    settings = settings or IngestSettings()
    configure_logging("ingest", settings.log_level)
    configure_tracing("ingest")
    publisher = Publisher(settings, timeout_s=settings.publish_timeout_s)
    workers = ParseWorkers(settings.parse_workers, settings.parse_timeout_s)

    async def register_catalog() -> None:
        # The shipped treaties and their rules; content-hashed ids make this a no-op after the first start.
        await publisher.publish_events([with_defaults(e, None) for e in catalog_events()])

    async def connect() -> None:
        await keep_trying("kafka", lambda: ensure_topics(settings))
        await keep_trying("kafka-producer", publisher.start)
        await keep_trying("catalog", register_catalog)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.publisher = publisher
        app.state.workers = workers
        await workers.start()
        connecting = asyncio.create_task(connect())
        yield
        connecting.cancel()
        workers.close()
        await publisher.stop()

    def checks(_: FastAPI) -> dict[str, Check]:
        return {"kafka": publisher.ping}

    app = create_app(
        title="Treaty Watch ingest",
        description="Accepts events, UN resolution texts, UNTC status files and depositary notifications; publishes "
        "CloudEvents to Kafka.",
        settings=settings,
        lifespan=lifespan,
        checks=checks,
    )
    app.state.limits = Limits(settings.max_batch_events, settings.max_event_bytes)
    app.include_router(router)
    catalogue = asyncapi_document()

    @app.get("/asyncapi.json", tags=["events"], summary="The event catalogue: an AsyncAPI 3.0 document")
    async def asyncapi() -> JSONResponse:
        return JSONResponse(catalogue)

    return app


def main() -> None:
    """Run ingest (port 8001 unless TREATYWATCH_PORT says otherwise)."""
    settings = IngestSettings()
    serve(build_app(settings), settings.host, settings.port, settings.log_level)

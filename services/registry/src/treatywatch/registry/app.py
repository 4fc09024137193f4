"""Registry: settings, lifespan and wiring."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from treatywatch.common import mongo
from treatywatch.common.kafka import Consumer, Publisher, ensure_topics, run_consumer_forever
from treatywatch.common.logging import configure_logging
from treatywatch.common.service import keep_trying, serve
from treatywatch.common.settings import Settings
from treatywatch.common.tracing import configure_tracing
from treatywatch.common.web import Check, Problem, create_app, invalid, problem_response
from treatywatch.registry import ui
from treatywatch.registry.consumer import Applier
from treatywatch.registry.routes import ROUTERS
from treatywatch.registry.service import InvalidCursor, NotFound
from treatywatch.registry.store import TreatyViews, create_indexes, kill_abandoned_sessions


class RegistrySettings(Settings):
    port: int = 8002
    group_id: str = "treatywatch-registry"


def build_app(settings: RegistrySettings | None = None) -> FastAPI:
    """The registry app with its consumer running in the background."""
    settings = settings or RegistrySettings()
    configure_logging("registry", settings.log_level)
    configure_tracing("registry")
    client, db = mongo.connect(settings, "treatywatch_registry")
    publisher = Publisher(settings)
    consumer = Consumer(settings, settings.group_id)

    async def start() -> None:
        # Abandoned transactions first: index builds would otherwise wait on their locks until they expire.
        await keep_trying("mongodb-sessions", lambda: kill_abandoned_sessions(client, db))
        await keep_trying("mongodb", lambda: create_indexes(db))
        await keep_trying("kafka", lambda: ensure_topics(settings))
        await keep_trying("kafka-producer", publisher.start)
        await run_consumer_forever(consumer, Applier(client, db, publisher, settings.dead_letter_topic), "registry")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = db
        app.state.views = TreatyViews(db)
        task = asyncio.create_task(start())
        yield
        consumer.request_stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(task, timeout=10)
        await consumer.stop()
        await publisher.stop()
        await client.close()

    def checks(_: FastAPI) -> dict[str, Check]:
        return {"kafka": consumer.ping, "mongodb": lambda: mongo.ping(db)}

    app = create_app(
        title="Treaty Watch registry",
        description="Who is party to what on any date, what a resolution recalls, and whether its claims hold.",
        settings=settings,
        lifespan=lifespan,
        checks=checks,
    )
    include_routes(app)
    app.include_router(ui.router)
    return app


def include_routes(app: FastAPI) -> None:
    """The registry's API on `app`: its routers, what the use cases did not find answered 404, and a cursor no page
    gave answered 422."""

    async def not_found(_: Request, exc: Exception) -> JSONResponse:
        return problem_response(Problem(404, "Not found", str(exc)))

    async def bad_cursor(_: Request, exc: Exception) -> JSONResponse:
        return problem_response(
            invalid([{"path": "query.after", "message": str(exc), "type": "value_error"}], str(exc))
        )

    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(InvalidCursor, bad_cursor)
    for router in ROUTERS:
        app.include_router(router)


def main() -> None:
    """Run the registry (port 8002 unless TREATYWATCH_PORT says otherwise)."""
    settings = RegistrySettings()
    serve(build_app(settings), settings.host, settings.port, settings.log_level)

"""Notify: settings, lifespan and wiring."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import Field

from treatywatch.common import mongo
from treatywatch.common.kafka import Consumer, ensure_topics, run_consumer_forever
from treatywatch.common.logging import configure_logging
from treatywatch.common.service import keep_trying, serve
from treatywatch.common.settings import Settings
from treatywatch.common.web import Check, create_app
from treatywatch.notify.api import router
from treatywatch.notify.consumer import Matcher
from treatywatch.notify.delivery import Deliverer
from treatywatch.notify.store import create_indexes


class NotifySettings(Settings):
    port: int = 8003
    group_id: str = "treatywatch-notify"
    # Svix's schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    retry_schedule_s: list[float] = Field(
        default_factory=lambda: [0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]
    )
    delivery_timeout_s: float = 15.0
    # Plain http is allowed to these hosts only (the embedded default: loopback, for development).
    webhook_http_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost", "::1"])


def build_app(settings: NotifySettings | None = None) -> FastAPI:
    """The notify app with its consumer and delivery worker running in the background."""
    settings = settings or NotifySettings()
    configure_logging("notify", settings.log_level)
    client, db = mongo.connect(settings, "treatywatch_notify")
    consumer = Consumer(settings, settings.group_id)
    deliverer = Deliverer(db, settings.retry_schedule_s, settings.delivery_timeout_s)

    async def consume() -> None:
        await keep_trying("mongodb", lambda: create_indexes(db))
        await keep_trying("kafka", lambda: ensure_topics(settings))
        await run_consumer_forever(consumer, Matcher(db, deliverer.wake), "notify")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = db
        consuming = asyncio.create_task(consume())
        delivering = asyncio.create_task(deliverer.run())
        yield
        consumer.request_stop()
        delivering.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(consuming, timeout=10)
        await consumer.stop()
        await deliverer.close()
        await client.close()

    def checks(_: FastAPI) -> dict[str, Check]:
        return {"kafka": consumer.ping, "mongodb": lambda: mongo.ping(db)}

    app = create_app(
        title="Treaty Watch notify",
        description="Delivers events to webhook subscribers, signed per the Standard Webhooks spec.",
        settings=settings,
        lifespan=lifespan,
        checks=checks,
    )
    app.include_router(router)
    return app


def main() -> None:
    """Run notify (port 8003 unless TREATYWATCH_PORT says otherwise)."""
    settings = NotifySettings()
    serve(build_app(settings), settings.host, settings.port, settings.log_level)

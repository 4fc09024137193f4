"""Notify: settings, lifespan and wiring."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import Field, SecretStr, field_validator

from treatywatch.common import mongo
from treatywatch.common.kafka import Consumer, ensure_topics, run_consumer_forever
from treatywatch.common.logging import configure_logging, log
from treatywatch.common.service import keep_trying, serve
from treatywatch.common.settings import Settings
from treatywatch.common.tracing import configure_tracing
from treatywatch.common.web import Check, create_app
from treatywatch.notify.api import router
from treatywatch.notify.consumer import Matcher
from treatywatch.notify.delivery import Deliverer, Tuning
from treatywatch.notify.domain import HttpAllowList, Policy
from treatywatch.notify.sender import Sender
from treatywatch.notify.service import Notify
from treatywatch.notify.store import create_indexes
from treatywatch.notify.vault import Vault, key_bytes


class NotifySettings(Settings):
    port: int = 8003
    group_id: str = "treatywatch-notify"
    # Svix's schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    retry_schedule_s: list[float] = Field(
        default_factory=lambda: [0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]
    )
    # Each delay is spread by up to this fraction either way, so failed deliveries do not retry in lockstep.
    retry_jitter: float = Field(default=0.2, ge=0, le=1)
    retry_after_max_s: float = Field(default=86400.0, ge=0)
    delivery_timeout_s: float = Field(default=15.0, gt=0)
    # A subscription whose every delivery failed for this long is disabled, with the reason recorded.
    disable_after_s: float = Field(default=5 * 86400.0, gt=0)
    subscription_concurrency: int = Field(default=4, ge=1)
    # Deliveries a subscription's lane holds in memory, leased to this process, and the characters of their bodies
    # at most (one delivery always fits an empty lane); the rest wait in the database.
    delivery_buffer: int = Field(default=1000, ge=1)
    delivery_buffer_bytes: int = Field(default=16 * 1024 * 1024, ge=1)
    # How long the consumer waits for room in a full lane before it leaves that lane's deliveries in the database.
    delivery_hold_wait_s: float = Field(default=5.0, ge=0)
    # How long the consumer waits for the first attempts of new deliveries, so each is written once with its outcome.
    first_attempt_wait_s: float = Field(default=1.0, ge=0)
    delivery_max_connections: int = Field(default=256, ge=1)
    # A notify process's leases end this long after its last heartbeat (it beats three times per period).
    worker_ttl_s: float = Field(default=30.0, gt=0)
    delivery_idle_poll_s: float = Field(default=5.0, gt=0)
    subscription_refresh_s: float = Field(default=2.0, gt=0)
    gauges_interval_s: float = Field(default=10.0, gt=0)
    secret_grace_s: float = Field(default=86400.0, ge=0)
    # Plain http, and private or loopback addresses, only for these `host` or `host:port` entries (none; the
    # embedded stack sets loopback).
    webhook_http_hosts: list[str] = Field(default_factory=list)
    subscriptions_per_key: int = Field(default=100, ge=1)
    # Keys (32 bytes in base64url) that seal webhook secrets at rest: the first seals, every one opens.
    secret_keys: list[SecretStr] = Field(default_factory=list)

    @field_validator("webhook_http_hosts")
    @classmethod
    def _allow_list(cls, value: list[str]) -> list[str]:
        HttpAllowList.of(value)
        return value

    @field_validator("secret_keys")
    @classmethod
    def _keys(cls, value: list[SecretStr]) -> list[SecretStr]:
        for key in value:
            key_bytes(key.get_secret_value())
        return value


def build_app(settings: NotifySettings | None = None) -> FastAPI:
    """The notify app with its consumer and delivery engine running in the background."""
    settings = settings or NotifySettings()
    configure_logging("notify", settings.log_level)
    configure_tracing("notify")
    client, db = mongo.connect(settings, "treatywatch_notify")
    consumer = Consumer(settings, settings.group_id)
    policy = Policy(
        schedule_s=tuple(settings.retry_schedule_s),
        jitter=settings.retry_jitter,
        retry_after_max_s=settings.retry_after_max_s,
        disable_after_s=settings.disable_after_s,
    )
    tuning = Tuning(
        timeout_s=settings.delivery_timeout_s,
        subscription_concurrency=settings.subscription_concurrency,
        buffer=max(settings.delivery_buffer, settings.subscription_concurrency),
        buffer_bytes=settings.delivery_buffer_bytes,
        hold_wait_s=settings.delivery_hold_wait_s,
        first_attempt_wait_s=settings.first_attempt_wait_s,
        max_connections=settings.delivery_max_connections,
        worker_ttl_s=settings.worker_ttl_s,
        idle_poll_s=settings.delivery_idle_poll_s,
        refresh_s=settings.subscription_refresh_s,
        gauges_s=settings.gauges_interval_s,
    )
    allowed = HttpAllowList.of(settings.webhook_http_hosts)
    vault = Vault([key_bytes(k.get_secret_value()) for k in settings.secret_keys])
    sender = Sender(allowed, settings.delivery_timeout_s, settings.delivery_max_connections)
    deliverer = Deliverer(db, policy, tuning, sender, vault)
    notify = Notify(db, deliverer, vault, allowed, settings.secret_grace_s, settings.subscriptions_per_key)

    async def reseal() -> None:
        if resealed := await notify.reseal_secrets():
            log.info("secrets_resealed", subscriptions=resealed)

    async def consume() -> None:
        await keep_trying("mongodb", lambda: create_indexes(db))
        await keep_trying("mongodb", reseal)
        await keep_trying("mongodb", deliverer.register)
        await keep_trying("kafka", lambda: ensure_topics(settings))
        await run_consumer_forever(consumer, Matcher(db, deliverer), "notify")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.notify = notify
        consuming = asyncio.create_task(consume())
        delivering = asyncio.create_task(deliverer.run())
        yield
        consumer.request_stop()
        delivering.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(consuming, timeout=10)
        await consumer.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await delivering
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
    """Run notify on its configured host and port."""
    settings = NotifySettings()
    serve(build_app(settings), settings.host, settings.port, settings.log_level)

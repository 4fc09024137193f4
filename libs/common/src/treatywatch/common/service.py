"""Start-up plumbing shared by the services: connecting in the background and serving with uvicorn."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import uvicorn
from fastapi import FastAPI

from treatywatch.common.logging import log


async def keep_trying(name: str, connect: Callable[[], Awaitable[None]]) -> None:
    """Retry `connect` with backoff until it succeeds, so a service starts before its broker or database."""
    delay = 0.2
    while True:
        try:
            await connect()
            log.info("connected", to=name)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("connect_failed", to=name, error=repr(exc), retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5)


def serve(app: FastAPI, host: str, port: int, log_level: str) -> None:
    """Serve the app until SIGINT or SIGTERM, then shut down gracefully."""
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False, lifespan="on")

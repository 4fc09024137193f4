"""Start-up plumbing shared by the services: connecting in the background and serving with uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from treatywatch.common.logging import log

GC_YOUNG_THRESHOLD = 20_000
# uvicorn's exit status when the app does not start (its lifespan's start-up failed).
STARTUP_FAILURE = 3


class StartupRefused(Exception):
    """What a start-up check found is wrong with the deployment, which no retry can fix: the service stops."""


@dataclass
class _Serving:
    """The server `serve` runs, which a refused start-up stops, and whether one was refused (the exit status)."""

    server: uvicorn.Server | None = None
    refused: bool = False


_serving = _Serving()


async def keep_trying(name: str, connect: Callable[[], Awaitable[None]]) -> None:
    """Retry `connect` with backoff until it succeeds, so a service starts before its broker or database.

    A `StartupRefused` stops the service instead (exit status 1): it must not look like a broker still starting.
    """
    delay = 0.2
    while True:
        try:
            await connect()
            log.info("connected", to=name)
            return
        except asyncio.CancelledError:
            raise
        except StartupRefused as exc:
            log.error("startup_refused", to=name, reason=str(exc))
            if _serving.server is None:
                raise
            # Shut down as on SIGTERM (the lifespan closes what it opened), then `serve` exits 1. This start-up
            # goes no further: it waits for the shutdown to cancel it.
            _serving.refused = True
            _serving.server.should_exit = True
            await asyncio.Event().wait()
            raise
        except Exception as exc:
            log.warning("connect_failed", to=name, error=repr(exc), retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5)


def tune_gc() -> None:
    """Collect the young generation less often, so full collections come rarely.

    With the default thresholds the registry paused for a full collection (80-100 ms, finding nothing
    to free in its cached records) a few times a second under load; those pauses were its p99.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)


def serve(app: FastAPI, host: str, port: int, log_level: str) -> None:
    """Serve the app until SIGINT or SIGTERM, then shut down gracefully; exit 1 if a start-up check refused."""
    tune_gc()
    # uvicorn.run, with a hold on the server so that a refused start-up can stop it.
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, lifespan="on")
    )
    _serving.server = server
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if _serving.refused:
        raise SystemExit(1)
    if not server.started:
        raise SystemExit(STARTUP_FAILURE)

"""Structured JSON logging: every line carries the service and, where known, event and trace ids."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any, TextIO

import structlog


class LoopFlushedLogger:
    """Writes JSON lines to a stream and flushes once per event-loop turn, not once per line.

    A batch of 500 events logs 500 lines; flushing each (structlog's PrintLogger) cost ingest a fifth of
    its time. Outside a running loop every line is flushed at once.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._flush_scheduled = False

    def msg(self, message: str) -> None:
        self._stream.write(message + "\n")
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._stream.flush()
            return
        self._flush_scheduled = True
        loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        self._stream.flush()

    debug = info = warning = warn = error = err = critical = exception = fatal = failure = log = msg


def configure_logging(service: str, level: str = "info") -> None:
    """Route structlog and the standard library to JSON lines on stdout."""
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*processors, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=_logger_factory,
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=structlog.processors.JSONRenderer(),
            foreign_pre_chain=[*processors, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("treatywatch").setLevel(level.upper())


def _logger_factory(*_: Any) -> LoopFlushedLogger:
    return LoopFlushedLogger(sys.stdout)


log = structlog.get_logger("treatywatch")

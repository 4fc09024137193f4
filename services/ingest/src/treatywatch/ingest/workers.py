"""Documents are parsed in worker processes: off the event loop, and within a time limit that kills an overrun.

A thread could not be stopped, so a parse that ran away would keep a core busy for good; a process can be killed.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

__all__ = ["ParseTimeout", "ParseWorkers", "ParserStopped"]

P = ParamSpec("P")
T = TypeVar("T")

# The fork server imports these once; each worker forked from it starts in milliseconds with the parsers loaded,
# which is what a worker replacing a killed one needs. Forking the server's process, not this one, forks no thread
# of the event loop's.
_PRELOAD = ["treatywatch.ingest.service"]


class ParseTimeout(Exception):
    """A document took longer than the limit to parse; the worker parsing it was killed."""

    def __init__(self, limit_s: float) -> None:
        super().__init__(f"the document took longer than {limit_s:g} s to read")
        self.limit_s = limit_s


class ParserStopped(Exception):
    """The worker parsing a document died before it answered (killed from outside, or out of memory)."""


def _kill(pool: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor has no public way to stop a running task (Python 3.14 adds terminate_workers()).
    processes = list((pool._processes or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()


class ParseWorkers:
    """At most `workers` documents parsed at once, each in a process of its own, each within `timeout_s`.

    Each worker is a pool of one process, so that killing one overrunning parse stops no other document's.
    """

    def __init__(self, workers: int, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(_PRELOAD)
        self._count = workers
        self._idle: asyncio.Queue[ProcessPoolExecutor] = asyncio.Queue()
        self._pools: set[ProcessPoolExecutor] = set()

    def _started(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(max_workers=1, mp_context=self._context)
        # Start the process now rather than on the next document (the first start also starts the fork server).
        pool.submit(int)
        return pool

    async def _new(self) -> ProcessPoolExecutor:
        # In a thread: starting a process waits for the fork server, which imports the parsers when it starts.
        pool = await asyncio.to_thread(self._started)
        self._pools.add(pool)
        return pool

    async def start(self) -> None:
        """Start the worker processes."""
        for _ in range(self._count):
            self._idle.put_nowait(await self._new())

    async def _replace(self, pool: ProcessPoolExecutor) -> ProcessPoolExecutor:
        self._pools.discard(pool)
        _kill(pool)
        return await self._new()

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` in a worker; ParseTimeout when it overruns, ParserStopped when the worker died.

        The arguments, the result and any exception travel by pickle.
        """
        pool = await self._idle.get()
        healthy = False
        try:
            try:
                future = pool.submit(fn, *args, **kwargs)
            except BrokenProcessPool:
                # Its process died while idle: nothing this document did. A fresh one reads it.
                pool = await self._replace(pool)
                future = pool.submit(fn, *args, **kwargs)
            work = asyncio.wrap_future(future)
            done, _ = await asyncio.wait({work}, timeout=self.timeout_s)
            if not done:
                work.cancel()
                raise ParseTimeout(self.timeout_s)
            if isinstance(work.exception(), BrokenProcessPool):
                raise ParserStopped("the process reading the document stopped before it finished")
            healthy = True
            return work.result()
        finally:
            # An overrun, a dead worker or a request cancelled mid-parse: the process is killed and replaced.
            self._idle.put_nowait(pool if healthy else await self._replace(pool))

    def close(self) -> None:
        """Kill every worker, busy or not."""
        for pool in self._pools:
            _kill(pool)
        self._pools.clear()

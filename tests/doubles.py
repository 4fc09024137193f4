"""Stand-ins for ingest's adapters, so that its use cases run in the test's process: nothing sent, nothing forked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ParamSpec, TypeVar

from treatywatch.common.events import Event
from treatywatch.common.kafka import Publisher
from treatywatch.common.settings import Settings
from treatywatch.ingest.workers import ParseWorkers

P = ParamSpec("P")
T = TypeVar("T")


class Recorder(Publisher):
    """A publisher that keeps what it is given instead of sending it to Kafka."""

    def __init__(self) -> None:
        super().__init__(Settings())
        self.published: list[Event] = []

    async def publish_events(self, events: Sequence[Event]) -> None:
        self.published += events


class Inline(ParseWorkers):
    """Workers that read in this process: the use case without worker processes."""

    def __init__(self) -> None:
        super().__init__(1, 5.0)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return fn(*args, **kwargs)

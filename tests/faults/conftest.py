"""Fixtures of the fault tests."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest


@pytest.fixture
def restarts() -> Iterator[ThreadPoolExecutor]:
    """Threads that kill and restart services. A process gets SIGTERM when the thread that started it ends
    (PR_SET_PDEATHSIG), so they end after the platform: a test asks for this fixture before `platform`."""
    with ThreadPoolExecutor(2) as pool:
        yield pool

"""Fixtures of the fault tests. Each module defines its own `platform`; `clean` and `mongo` stand beside it."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from pymongo import MongoClient

from tests.faults.importing import clean_registry, database
from treatywatch.cli.stack import Stack
from treatywatch.common.mongo import Document


@pytest.fixture
def restarts() -> Iterator[ThreadPoolExecutor]:
    """Threads that kill and restart services. A process gets SIGTERM when the thread that started it ends
    (PR_SET_PDEATHSIG), so they end after the platform: a test asks for this fixture before `platform`."""
    with ThreadPoolExecutor(2) as pool:
        yield pool


@pytest.fixture
def clean(platform: Stack) -> Iterator[Stack]:
    with clean_registry(platform) as stack:
        yield stack


@pytest.fixture
def mongo(platform: Stack) -> Iterator[MongoClient[Document]]:
    with database(platform) as client:
        yield client

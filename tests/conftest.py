"""The test session starts its own Kafka-protocol broker and MongoDB-protocol server on free ports."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from treatywatch.cli.stack import Ports, Stack

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
OUTPUT = ROOT / "test-output"


@pytest.fixture(scope="session")
def servers() -> Iterator[Stack]:
    """A fresh embedded broker and database for the whole session, stopped at the end."""
    # noida-db wants a fresh data folder per run, and sessions may run side by side.
    OUTPUT.mkdir(exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(dir=OUTPUT, prefix="servers-"))
    stack = Stack(data_dir=data_dir, ports=Ports.free())
    try:
        stack.start_servers()
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)

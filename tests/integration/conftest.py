"""What the integration tests of the stores share: a client of the session's database server, fresh databases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from treatywatch.cli.stack import Stack
from treatywatch.common.mongo import Document


@pytest.fixture
async def client(servers: Stack) -> AsyncIterator[AsyncMongoClient[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        servers.mongo_url, serverSelectionTimeoutMS=5_000, tz_aware=True
    )
    try:
        yield client
    finally:
        await client.close()


@asynccontextmanager
async def fresh_database(
    client: AsyncMongoClient[Document], create_indexes: Callable[[AsyncDatabase[Document]], Awaitable[object]]
) -> AsyncIterator[AsyncDatabase[Document]]:
    """A database of its own with a store's indexes, dropped at the end."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    database = client[name]
    await create_indexes(database)
    try:
        yield database
    finally:
        await client.drop_database(name)

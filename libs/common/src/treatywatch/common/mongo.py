"""MongoDB plumbing through PyMongo's async API (Motor's official successor)."""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from treatywatch.common.settings import Settings

Document = dict[str, Any]
DUPLICATE_KEY = 11000


def connect(settings: Settings, default_db: str) -> tuple[AsyncMongoClient[Document], AsyncDatabase[Document]]:
    """A client for `TREATYWATCH_MONGO_URL` and the service's database (`TREATYWATCH_MONGO_DB` overrides)."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        settings.mongo_url, serverSelectionTimeoutMS=5_000, tz_aware=True
    )
    return client, client[settings.mongo_db or default_db]


async def ping(db: AsyncDatabase[Document]) -> None:
    """Raise unless the database answers."""
    async with asyncio.timeout(3):
        await db.command("ping")


def is_duplicate_key(exc: Exception) -> bool:
    """Whether a write failed only because documents with those keys exist already."""
    if isinstance(exc, DuplicateKeyError):
        return True
    if isinstance(exc, BulkWriteError):
        errors = exc.details.get("writeErrors", [])
        return bool(errors) and all(e.get("code") == DUPLICATE_KEY for e in errors)
    return False

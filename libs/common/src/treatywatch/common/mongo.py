"""MongoDB plumbing through PyMongo's async API (Motor's official successor)."""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from treatywatch.common.settings import Settings

Document = dict[str, Any]


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

"""What the routes share: the read check, the database and the treaty views the app holds, common parameters."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from pymongo.asynchronous.database import AsyncDatabase

from treatywatch.common.mongo import Document
from treatywatch.common.web import require_read
from treatywatch.registry.store import TreatyViews

# Every router's dependency: reads are open unless the deployment requires a key.
READ = require_read()


async def _db(request: Request) -> AsyncDatabase[Document]:
    db: AsyncDatabase[Document] = request.app.state.db
    return db


async def _views(request: Request) -> TreatyViews:
    views: TreatyViews = request.app.state.views
    return views


Db = Annotated[AsyncDatabase[Document], Depends(_db)]
Views = Annotated[TreatyViews, Depends(_views)]
AsOf = Annotated[date | None, Query(description="YYYY-MM-DD; default today")]
# Every list is paginated: at most `limit` items, the next page `after` the previous page's `next`.
MAX_LIMIT = 1000
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="at most this many items")]
After = Annotated[str | None, Query(min_length=1, max_length=500, description="the `next` of the previous page")]


def today() -> date:
    return datetime.now(UTC).date()

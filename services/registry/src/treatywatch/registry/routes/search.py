"""Search: treaties, participants and resolutions by id, name or title."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from treatywatch.registry import service
from treatywatch.registry.routes import models
from treatywatch.registry.routes.deps import READ, Db

router = APIRouter(prefix="/v1", tags=["search"], dependencies=[READ])


@router.get("/search", summary="Treaties, participants and resolutions whose id, name or title contains the words")
async def search(
    db: Db,
    q: Annotated[str, Query(min_length=1, max_length=200, description="a treaty title or id, participant, or symbol")],
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many of each kind")] = 20,
    after: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,9}$", description="the `next` of the previous page (how many were shown)")
    ] = None,
) -> models.SearchResults:
    found = await service.search(db, q, limit, after)
    return models.SearchResults.model_validate(
        {
            "query": q,
            "treaties": found.treaties,
            "participants": [{"participant": key, "name": name} for key, name in found.participants],
            "resolutions": [{"symbol": d["_id"], **d} for d in found.resolutions],
            "count": found.count,
            "next": found.next,
        }
    )

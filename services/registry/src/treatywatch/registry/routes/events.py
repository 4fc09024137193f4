"""The audit trail of applied events, and the dead letters: messages that failed the contract."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from treatywatch.common.mongo import Document
from treatywatch.registry import service
from treatywatch.registry.routes import models
from treatywatch.registry.routes.deps import READ, Db
from treatywatch.registry.store import INT64_MAX

router = APIRouter(prefix="/v1", tags=["events"], dependencies=[READ])


def _event(record: Document) -> dict[str, Any]:
    return {"seq": record["seq"], "applied_at": record["applied_at"], **record["event"]}


@router.get("/events", summary="The applied events in order (the audit trail), paginated by cursor")
async def get_events(
    db: Db,
    after: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> models.EventPage:
    records = await service.events(db, after, limit)
    return models.EventPage.model_validate(
        {"items": [_event(r) for r in records], "next": str(records[-1]["seq"] if records else after)}
    )


@router.get("/events/latest", summary="The most recently applied events, newest first")
async def get_latest_events(db: Db, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> models.LatestEvents:
    records = await service.latest_events(db, limit)
    return models.LatestEvents.model_validate({"items": [_event(r) for r in records], "count": len(records)})


@router.get("/dead-letters", summary="Messages that failed the contract, with reason and original bytes")
async def get_dead_letters(db: Db, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> models.DeadLetters:
    letters = await service.dead_letters(db, limit)
    return models.DeadLetters.model_validate({"items": [{"id": d["_id"], **d} for d in letters], "count": len(letters)})

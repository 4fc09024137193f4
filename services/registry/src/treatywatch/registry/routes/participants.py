"""Participants: a State's (or organisation's) standing in every treaty it has acted on, and the reports it owes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from treatywatch.registry import service
from treatywatch.registry.routes import models
from treatywatch.registry.routes.deps import READ, AsOf, Db, Views, today

router = APIRouter(prefix="/v1", tags=["participants"], dependencies=[READ])


@router.get(
    "/participants/{participant}",
    summary="Every treaty a participant has acted on, with its status",
    response_model_exclude_unset=True,
)
async def get_participant(participant: str, db: Db, views: Views, as_of: AsOf = None) -> models.ParticipantDetail:
    as_of = as_of or today()
    found = await service.participant(db, views, participant, as_of)
    items = [models.treaty_standing(s) for s in found.standings]
    return models.ParticipantDetail(
        participant=found.participant,
        name=found.name,
        as_of=as_of,
        party=found.count("party"),
        signatory=found.count("signatory"),
        withdrawn=found.count("withdrawn"),
        count=len(items),
        items=items,
    )


@router.get(
    "/participants/{participant}/reports",
    summary="A participant's transparency reports in every treaty: which overdue, or none recorded for the treaty",
)
async def get_participant_reports(
    participant: str,
    db: Db,
    views: Views,
    as_of: AsOf = None,
    overdue: Annotated[bool, Query(description="only treaties where a report is overdue")] = False,
) -> models.ParticipantReports:
    as_of = as_of or today()
    code, reports = await service.participant_reports(db, views, participant, as_of, overdue)
    return models.ParticipantReports(
        participant=code,
        as_of=as_of,
        count=len(reports.items),
        overdue_count=reports.overdue_count,
        due_count=reports.due_count,
        items=[models.owed_in_treaty(o) for o in reports.items],
    )

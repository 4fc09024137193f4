"""Treaties: the registered ones, and each treaty's counts, participants, timeline, meetings and reports.

A treaty id is a UNTC id (`XXVI-5`) or one of the registry's own (`ext:npt`): path parameters take the colon as
it is or percent-encoded. The participants, the timeline and the reports are also CSV downloads (`tables`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from treatywatch.common.web import Problem
from treatywatch.registry import service
from treatywatch.registry.domain import Status, rules_sentence
from treatywatch.registry.routes import models, tables
from treatywatch.registry.routes.deps import READ, After, AsOf, Db, Limit, Views, today
from treatywatch.registry.store import TreatyViews

router = APIRouter(prefix="/v1", tags=["treaties"], dependencies=[READ])


@router.get(
    "/treaties",
    summary="Treaties; with `participant`, those it has acted on and its status in each",
    response_model_exclude_unset=True,
)
async def list_treaties(
    db: Db,
    views: Views,
    participant: Annotated[str | None, Query(description="ISO 3166 alpha-3 code or UN name")] = None,
    status: Status | None = None,
    as_of: AsOf = None,
    after: After = None,
    limit: Annotated[int | None, Query(ge=1, le=1000, description="default 100; with `participant`, 1000")] = None,
) -> models.Treaties | models.ParticipantTreaties:
    if participant is None:
        if status is not None:
            raise Problem(422, "Invalid request", "`status` filters a participant's treaties: give `participant` too")
        page = await service.registered_treaties(db, after, limit or 100)
        return models.Treaties.model_validate({"items": page.items, "count": len(page.items), "next": page.next})
    as_of = as_of or today()
    code, found = await service.participant_treaties(db, views, participant, as_of, status, after, limit or 1000)
    items = [models.treaty_standing(s) for s in found.items]
    return models.ParticipantTreaties(participant=code, as_of=as_of, items=items, count=len(items), next=found.next)


@router.get(
    "/treaties/{treaty_id}", summary="One treaty: titles, references and rules", response_model_exclude_unset=True
)
async def get_treaty(treaty_id: str, views: Views) -> models.TreatyDetail:
    view = await service.treaty(views, treaty_id)
    entry = view.record.entry
    return models.TreatyDetail.model_validate(
        {
            **(view.treaty or {}),
            "treaty_id": treaty_id,
            "registered": view.treaty is not None,
            "entry_into_force": entry.on,
            "entry_into_force_dates": entry,
            "rules_in_words": rules_sentence(view.rules_explained),
            "rules_explained": view.rules_explained,
            "warnings": list(entry.warnings),
            "participants": len(view.record.currents),
            "stated_entry_into_force": view.record.notified,
        }
    )


@router.get("/treaties/{treaty_id}/stats", summary="Counts of parties, in force, signatories and withdrawn on a date")
async def get_stats(treaty_id: str, request: Request, as_of: AsOf = None) -> models.Stats:
    # The hottest read: the views straight from the app, since a dependency costs this route about 8 %.
    views: TreatyViews = request.app.state.views
    as_of = as_of or today()
    stats = (await service.treaty(views, treaty_id)).record.stats(as_of)
    return models.Stats(
        treaty_id=treaty_id,
        as_of=as_of,
        parties=stats.parties,
        in_force=stats.in_force,
        signatories=stats.signatories,
        withdrawn=stats.withdrawn,
        entry_into_force=stats.entry_into_force,
    )


PARTICIPANT_COLUMNS = ("participant", "name", *tables.STATUS_COLUMNS)


@router.get(
    "/treaties/{treaty_id}/participants",
    summary="Each participant's status on a date",
    response_model=models.Participants,
    responses=tables.csv_responses(
        "Each participant's status on a date; as CSV with `?format=csv` or `Accept: text/csv`",
        ",".join(PARTICIPANT_COLUMNS)
        + "\r\nAFG,Afghanistan,party,,accession,2002-09-11,2003-03-01,true,,,,,C.N.869.2002.TREATIES-8,,\r\n",
    ),
)
async def get_participants(
    treaty_id: str,
    request: Request,
    views: Views,
    as_of: AsOf = None,
    status: Status | None = None,
    fmt: tables.Format = None,
    after: After = None,
    limit: Limit = 1000,
) -> models.Participants | Response:
    as_of = as_of or today()
    view = await service.treaty(views, treaty_id)
    listed = service.participants(view, as_of, status, after, limit)
    if tables.wants_csv(request, fmt):
        rows = ([p.participant, p.name, *tables.status_cells(p.status)] for p in listed.items)
        name = tables.filename(treaty_id, "participants", as_of)
        return tables.csv_response(name, PARTICIPANT_COLUMNS, rows, tables.next_url(request, listed.next))
    items = [models.participant(p) for p in listed.items]
    # The entries are built typed (mypy checks them): validating them again would copy every dict of a long list.
    return models.Participants.model_construct(
        treaty_id=treaty_id, as_of=as_of, count=len(items), items=items, next=listed.next
    )


TIMELINE_COLUMNS = ("date", "parties", "in_force")


@router.get(
    "/treaties/{treaty_id}/timeline",
    summary="Parties and in force at each date the counts change",
    response_model=models.Timeline,
    responses=tables.csv_responses(
        "The counts at each date they change; as CSV with `?format=csv` or `Accept: text/csv`",
        "date,parties,in_force\r\n1997-12-03,1,0\r\n",
    ),
)
async def get_timeline(
    treaty_id: str, request: Request, views: Views, fmt: tables.Format = None
) -> models.Timeline | Response:
    view = await service.treaty(views, treaty_id)
    points = view.record.timeline()
    if tables.wants_csv(request, fmt):
        rows = ([p.date, p.parties, p.in_force] for p in points)
        return tables.csv_response(tables.filename(treaty_id, "timeline"), TIMELINE_COLUMNS, rows)
    return models.Timeline.model_validate(
        {"treaty_id": treaty_id, "entry_into_force": view.record.entry_into_force, "points": points}
    )


@router.get("/treaties/{treaty_id}/meetings", summary="Meetings of the States Parties and review conferences")
async def get_meetings(
    treaty_id: str, db: Db, views: Views, after: After = None, limit: Limit = 1000
) -> models.Meetings:
    page = await service.meetings(db, views, treaty_id, after, limit)
    return models.Meetings.model_validate(
        {"treaty_id": treaty_id, "count": len(page.items), "items": page.items, "next": page.next}
    )


TREATY_REPORT_COLUMNS = ("participant", "name", *tables.REPORT_COLUMNS)


@router.get(
    "/treaties/{treaty_id}/reports",
    summary="Each party's transparency reports: when due, which overdue, or none recorded for the treaty",
    response_model=models.TreatyReports,
    responses=tables.csv_responses(
        "Each party's reports; as CSV (one row per report due) with `?format=csv` or `Accept: text/csv`",
        ",".join(TREATY_REPORT_COLUMNS) + "\r\nAFG,Afghanistan,2003-03-01,initial,2003-08-28,,not_recorded\r\n",
    ),
)
async def get_reports(
    treaty_id: str,
    request: Request,
    db: Db,
    views: Views,
    as_of: AsOf = None,
    overdue: Annotated[bool, Query(description="only parties with an overdue report")] = False,
    fmt: tables.Format = None,
    after: After = None,
    limit: Limit = 1000,
) -> models.TreatyReports | Response:
    as_of = as_of or today()
    reports = await service.treaty_reports(db, await service.treaty(views, treaty_id), as_of, overdue, after, limit)
    if tables.wants_csv(request, fmt):
        rows = [row for owed in reports.items for row in tables.report_rows(owed, owed.participant, owed.name)]
        name = tables.filename(treaty_id, "reports", as_of)
        return tables.csv_response(name, TREATY_REPORT_COLUMNS, rows, tables.next_url(request, reports.next))
    answer = {
        "treaty_id": treaty_id,
        "as_of": as_of,
        "reporting": reports.reporting,
        "items": reports.items,
        "next": reports.next,
    }
    if reports.reporting is None:
        return models.TreatyReports.model_validate(answer | {"reason": f"the reporting rule of {treaty_id} is unknown"})
    return models.TreatyReports.model_validate(
        answer
        | {
            "recorded": reports.recorded,
            "count": len(reports.items),
            "overdue_count": reports.overdue_count,
            "due_count": reports.due_count,
        }
    )

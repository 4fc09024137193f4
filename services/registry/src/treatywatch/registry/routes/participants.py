"""Participants: a State's (or organisation's) standing in every treaty it has acted on, and the reports it owes;
both also CSV downloads (`tables`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from treatywatch.common.mongo import Document
from treatywatch.registry import service
from treatywatch.registry.routes import models, tables
from treatywatch.registry.routes.deps import READ, After, AsOf, Db, Limit, Views, today

router = APIRouter(prefix="/v1", tags=["participants"], dependencies=[READ])


STANDING_COLUMNS = ("treaty_id", "title", *tables.STATUS_COLUMNS)


@router.get(
    "/participants/{participant}",
    summary="Every treaty a participant has acted on, with its status",
    response_model=models.ParticipantDetail,
    response_model_exclude_unset=True,
    responses=tables.csv_responses(
        "The participant's standing in each treaty; as CSV with `?format=csv` or `Accept: text/csv`",
        ",".join(STANDING_COLUMNS)
        + "\r\nXXVI-5,Mine Ban Convention,party,,accession,2002-09-11,2003-03-01,true,,,,"
        + ",C.N.869.2002.TREATIES-8,,\r\n",
    ),
)
async def get_participant(
    participant: str,
    request: Request,
    db: Db,
    views: Views,
    as_of: AsOf = None,
    fmt: tables.Format = None,
    after: After = None,
    limit: Limit = 1000,
) -> models.ParticipantDetail | Response:
    as_of = as_of or today()
    found = await service.participant(db, views, participant, as_of, after, limit)
    page = found.page
    if tables.wants_csv(request, fmt):
        rows = ([s.view.treaty_id, _title(s.view.treaty), *tables.status_cells(s.status)] for s in page.items)
        name = tables.filename(found.participant, "treaties", as_of)
        return tables.csv_response(name, STANDING_COLUMNS, rows, tables.next_url(request, page.next))
    items = [models.treaty_standing(s) for s in page.items]
    return models.ParticipantDetail(
        participant=found.participant,
        name=found.name,
        as_of=as_of,
        party=found.count("party"),
        signatory=found.count("signatory"),
        withdrawn=found.count("withdrawn"),
        count=len(items),
        items=items,
        next=page.next,
    )


PARTICIPANT_REPORT_COLUMNS = ("treaty_id", "title", *tables.REPORT_COLUMNS)


@router.get(
    "/participants/{participant}/reports",
    summary="A participant's transparency reports in every treaty: which overdue, or none recorded for the treaty",
    response_model=models.ParticipantReports,
    responses=tables.csv_responses(
        "The reports it owes; as CSV (one row per report due) with `?format=csv` or `Accept: text/csv`",
        ",".join(PARTICIPANT_REPORT_COLUMNS)
        + "\r\nXXVI-5,Mine Ban Convention,2003-03-01,initial,2003-08-28,,not_recorded\r\n",
    ),
)
async def get_participant_reports(
    participant: str,
    request: Request,
    db: Db,
    views: Views,
    as_of: AsOf = None,
    overdue: Annotated[bool, Query(description="only treaties where a report is overdue")] = False,
    fmt: tables.Format = None,
    after: After = None,
    limit: Limit = 1000,
) -> models.ParticipantReports | Response:
    as_of = as_of or today()
    code, reports = await service.participant_reports(db, views, participant, as_of, overdue, after, limit)
    if tables.wants_csv(request, fmt):
        rows = [row for o in reports.items for row in tables.report_rows(o, o.view.treaty_id, _title(o.view.treaty))]
        name = tables.filename(code, "reports", as_of)
        return tables.csv_response(name, PARTICIPANT_REPORT_COLUMNS, rows, tables.next_url(request, reports.next))
    return models.ParticipantReports(
        participant=code,
        as_of=as_of,
        count=len(reports.items),
        overdue_count=reports.overdue_count,
        due_count=reports.due_count,
        items=[models.owed_in_treaty(o) for o in reports.items],
        next=reports.next,
    )


def _title(treaty: Document | None) -> str | None:
    """A treaty's title as a table names it: the short one when it has one."""
    return (treaty or {}).get("short_title") or (treaty or {}).get("title")

"""Resolutions: listed by session, treaty or what they recall; one with its claims checked and citations followed,
its claims also a CSV download (`tables`); and, under a treaty, every claim its resolutions make about it over time,
beside the record, as JSON or CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from treatywatch.registry import service
from treatywatch.registry.routes import models, tables
from treatywatch.registry.routes.deps import READ, After, Db, Limit, Views
from treatywatch.registry.store import INT64_MAX

router = APIRouter(prefix="/v1", tags=["resolutions"], dependencies=[READ])


@router.get(
    "/resolutions",
    summary="Resolutions by session, treaty or the resolution they recall",
    response_model_exclude_unset=True,
)
async def list_resolutions(
    db: Db,
    session: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
    treaty_id: str | None = None,
    recalls: Annotated[str | None, Query(description="a symbol, e.g. 63/42 or A/RES/63/42")] = None,
    after: Annotated[str | None, Query(description="the `next` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> models.Resolutions:
    found = await service.resolutions(
        db, session=session, treaty_id=treaty_id, recalls=recalls, after=after, limit=limit
    )
    return models.Resolutions.model_validate(
        {"items": found, "count": len(found), "next": found[-1]["_id"] if len(found) == limit else None}
    )


CLAIM_COLUMNS = ("kind", "treaty_id", "value", "as_of", "verified", "expected", "found", "reason", "text")


@router.get(
    "/resolutions/{symbol:path}",
    summary="A resolution, its citation chain and its claims checked against the record",
    response_model=models.Resolution,
    response_model_exclude_unset=True,
    responses=tables.csv_responses(
        "The resolution; as CSV (its claims, checked) with `?format=csv` or `Accept: text/csv`",
        ",".join(CLAIM_COLUMNS) + "\r\nparties_count,XXVI-5,156,2009-12-02,true,156,156,,\r\n",
    ),
)
async def get_resolution(
    symbol: str, request: Request, db: Db, views: Views, fmt: tables.Format = None
) -> models.Resolution | Response:
    found = await service.resolution(db, views, symbol)
    claims = [
        claim
        | {
            "verified": check.verified,
            "reason": check.reason,
            "expected": None if check.verified is None else claim["value"],
            "found": check.found,
        }
        for claim, check in found.claims
    ]
    if tables.wants_csv(request, fmt):
        rows = ([c.get(column) for column in CLAIM_COLUMNS] for c in claims)
        return tables.csv_response(tables.filename(found.doc["_id"], "claims"), CLAIM_COLUMNS, rows)
    return models.Resolution.model_validate(
        found.doc | {"claims": claims, "citation_chain": found.citation_chain, "recalled_by": found.recalled_by}
    )


TREATY_CLAIM_COLUMNS = ("symbol", "adopted_on", "kind", "claimed", "as_of", "found", "verified", "reason", "text")


def _treaty_claim(item: service.TreatyClaim) -> models.TreatyClaim:
    claim, check = item.claim, item.check
    return models.TreatyClaim(
        symbol=item.symbol,
        adopted_on=item.adopted_on,
        kind=claim["kind"],
        claimed=claim["value"],
        as_of=item.as_of,
        found=check.found,
        verified=check.verified,
        reason=check.reason or item.differs,
        text=claim.get("text"),
    )


@router.get(
    "/treaties/{treaty_id}/claims",
    summary="Every claim the resolutions about a treaty make about it, oldest first, beside the record on its day",
    response_model=models.TreatyClaims,
    responses=tables.csv_responses(
        "The claims, each checked; as CSV with `?format=csv` or `Accept: text/csv`",
        ",".join(TREATY_CLAIM_COLUMNS)
        + "\r\nA/RES/64/56,2009-12-02,parties_count,156,2009-12-02,156,true,,Noting with satisfaction that ...\r\n",
    ),
)
async def get_treaty_claims(
    treaty_id: str,
    request: Request,
    db: Db,
    views: Views,
    fmt: tables.Format = None,
    after: After = None,
    limit: Limit = 100,
) -> models.TreatyClaims | Response:
    page = await service.treaty_claims(db, views, treaty_id, after, limit)
    items = [_treaty_claim(item) for item in page.items]
    if tables.wants_csv(request, fmt):
        rows = ([getattr(item, column) for column in TREATY_CLAIM_COLUMNS] for item in items)
        name = tables.filename(treaty_id, "claims")
        return tables.csv_response(name, TREATY_CLAIM_COLUMNS, rows, tables.next_url(request, page.next))
    return models.TreatyClaims(treaty_id=treaty_id, count=len(items), items=items, next=page.next)

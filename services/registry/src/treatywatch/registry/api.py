"""The registry's HTTP routes: treaties, participants, resolutions and the audit trail."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from pymongo.asynchronous.database import AsyncDatabase

from treatywatch.common.mongo import Document
from treatywatch.common.rules import TreatyRules
from treatywatch.common.symbols import normalize_resolution_symbol
from treatywatch.common.web import Problem, require_read
from treatywatch.registry import store
from treatywatch.registry.domain import ActionRecord, ParticipantStatus, participant_statuses, treaty_stats

router = APIRouter(prefix="/v1", tags=["registry"], dependencies=[require_read()])
STATUSES = ("party", "signatory", "withdrawn")


def _db(request: Request) -> AsyncDatabase[Document]:
    db: AsyncDatabase[Document] = request.app.state.db
    return db


def _today() -> date:
    return datetime.now(UTC).date()


def _rules(treaty: Document | None) -> TreatyRules | None:
    if treaty is None or not treaty.get("rules"):
        return None
    return TreatyRules.model_validate(treaty["rules"])


async def _treaty_context(
    db: AsyncDatabase[Document], treaty_id: str
) -> tuple[Document | None, TreatyRules | None, dict[str, list[ActionRecord]], dict[str, Document]]:
    treaty = await store.treaty(db, treaty_id)
    docs = await store.participations(db, treaty_id)
    if treaty is None and not docs:
        raise Problem(404, "Not found", f"no treaty {treaty_id!r} is registered or has recorded actions")
    return treaty, _rules(treaty), store.to_records(docs), {d["participant"]: d for d in docs}


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if v is not None or k in ("in_force_on", "consent")}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def status_json(status: ParticipantStatus) -> dict[str, Any]:
    """A participant's status as the contract shows it: consent act, in-force date and actions."""
    return dict(_jsonable(asdict(status)))


@router.get("/treaties", summary="Treaties, optionally those a participant has acted on")
async def list_treaties(request: Request) -> dict[str, Any]:
    db = _db(request)
    items = [store.public(d) | {"treaty_id": d["_id"]} async for d in db.treaties.find({}).sort("_id", 1)]
    return {"items": items, "count": len(items)}


@router.get("/treaties/{treaty_id}", summary="One treaty: titles, references and rules")
async def get_treaty(request: Request, treaty_id: str) -> dict[str, Any]:
    db = _db(request)
    treaty, rules, records, _ = await _treaty_context(db, treaty_id)
    in_force = treaty_stats(records, rules, _today()).entry_into_force
    return {
        **(store.public(treaty) if treaty else {}),
        "treaty_id": treaty_id,
        "registered": treaty is not None,
        "entry_into_force": in_force.isoformat() if in_force else None,
        "participants": len(records),
    }


@router.get("/treaties/{treaty_id}/stats", summary="Counts of parties, in force, signatories and withdrawn on a date")
async def get_stats(request: Request, treaty_id: str, as_of: date | None = None) -> dict[str, Any]:
    as_of = as_of or _today()
    _, rules, records, _ = await _treaty_context(_db(request), treaty_id)
    stats = treaty_stats(records, rules, as_of)
    return {
        "treaty_id": treaty_id,
        "as_of": as_of.isoformat(),
        "parties": stats.parties,
        "in_force": stats.in_force,
        "signatories": stats.signatories,
        "withdrawn": stats.withdrawn,
        "entry_into_force": stats.entry_into_force.isoformat() if stats.entry_into_force else None,
    }


@router.get("/treaties/{treaty_id}/participants", summary="Each participant's status on a date")
async def get_participants(
    request: Request,
    treaty_id: str,
    as_of: date | None = None,
    status: str | None = Query(default=None, pattern="^(party|signatory|withdrawn)$"),
) -> dict[str, Any]:
    as_of = as_of or _today()
    _, rules, records, docs = await _treaty_context(_db(request), treaty_id)
    statuses = participant_statuses(records, rules, as_of)
    items = [
        {"participant": code, "name": docs[code].get("name"), **status_json(result)}
        for code, result in sorted(statuses.items(), key=lambda item: docs[item[0]].get("name") or item[0])
        if status is None or result.status == status
    ]
    return {"treaty_id": treaty_id, "as_of": as_of.isoformat(), "count": len(items), "items": items}


async def _check_claim(db: AsyncDatabase[Document], claim: dict[str, Any], adopted_on: str) -> dict[str, Any]:
    treaty_id = claim.get("treaty_id")
    as_of = date.fromisoformat(claim.get("as_of") or adopted_on)
    if not treaty_id:
        return {**claim, "verified": None, "reason": "the claim names no treaty the registry can resolve"}
    treaty = await store.treaty(db, treaty_id)
    records = store.to_records(await store.participations(db, treaty_id))
    if not records:
        return {**claim, "verified": None, "reason": f"the registry has no actions for {treaty_id} yet"}
    rules = _rules(treaty)
    found: Any
    if claim["kind"] == "parties_count":
        found = treaty_stats(records, rules, as_of).parties
    elif claim["kind"] in ("entry_into_force_year", "entry_into_force_date"):
        in_force = treaty_stats(records, rules, as_of).entry_into_force
        if in_force is None:
            return {
                **claim,
                "verified": None,
                "reason": f"the entry-into-force rule of {treaty_id} is unknown",
            }
        found = in_force.year if claim["kind"] == "entry_into_force_year" else in_force.isoformat()
    else:
        return {**claim, "verified": None, "reason": f"claims of kind {claim['kind']!r} are not checked"}
    return {**claim, "verified": found == claim["value"], "expected": claim["value"], "found": found}


@router.get(
    "/resolutions/{symbol:path}",
    summary="A resolution, its recalls and its claims checked against the record",
)
async def get_resolution(request: Request, symbol: str) -> dict[str, Any]:
    db = _db(request)
    try:
        canonical = normalize_resolution_symbol(symbol)
    except ValueError as exc:
        raise Problem(404, "Not found", str(exc)) from exc
    doc = await db.resolutions.find_one({"_id": canonical})
    if doc is None:
        raise Problem(404, "Not found", f"no resolution {canonical} has been recorded")
    resolution = store.public(doc)
    resolution["claims"] = [await _check_claim(db, c, doc["adopted_on"]) for c in doc.get("claims", [])]
    resolution["recalled_by"] = [d["_id"] async for d in db.resolutions.find({"recalls.symbol": canonical}, {"_id": 1})]
    return resolution


@router.get("/events", summary="The applied events in order (the audit trail), paginated by cursor")
async def get_events(
    request: Request, after: int = Query(default=0, ge=0), limit: int = Query(default=100, ge=1, le=1000)
) -> dict[str, Any]:
    db = _db(request)
    items = [d async for d in db.events.find({"seq": {"$gt": after}}).sort("seq", 1).limit(limit)]
    events = [{"seq": d["seq"], "applied_at": d["applied_at"].isoformat(), **d["event"]} for d in items]
    return {"items": events, "next": str(items[-1]["seq"]) if items else str(after)}


@router.get("/dead-letters", summary="Messages that failed the contract, with reason and original bytes")
async def get_dead_letters(request: Request, limit: int = Query(default=100, ge=1, le=1000)) -> dict[str, Any]:
    db = _db(request)
    items = [
        store.public(d) | {"id": d["_id"]} async for d in db.dead_letters.find({}).sort("received_at", -1).limit(limit)
    ]
    return {"items": items, "count": len(items)}

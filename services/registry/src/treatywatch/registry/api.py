"""The registry's HTTP routes: treaties, participants, resolutions, meetings, reports and the audit trail."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pymongo.asynchronous.database import AsyncDatabase

from treatywatch.common.mongo import Document
from treatywatch.common.participants import participant_code, participant_name, resolve_participant
from treatywatch.common.rules import Reporting
from treatywatch.common.symbols import normalize_resolution_symbol
from treatywatch.common.web import Problem, require_read
from treatywatch.registry import store
from treatywatch.registry.domain import ActionRecord, ParticipantStatus, ReportDue, report_kind_recorded, reports_due
from treatywatch.registry.store import TreatyView, TreatyViews

router = APIRouter(prefix="/v1", tags=["registry"], dependencies=[require_read()])
StatusName = Literal["party", "signatory", "withdrawn"]
AsOf = Query(default=None, description="YYYY-MM-DD; default today")


def _db(request: Request) -> AsyncDatabase[Document]:
    db: AsyncDatabase[Document] = request.app.state.db
    return db


def _views(request: Request) -> TreatyViews:
    views: TreatyViews = request.app.state.views
    return views


def _today() -> date:
    return datetime.now(UTC).date()


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


async def _view(request: Request, treaty_id: str) -> TreatyView:
    view = await _views(request).get(treaty_id)
    if view is None:
        raise Problem(404, "Not found", f"no treaty {treaty_id!r} is registered or has recorded actions")
    return view


def action_json(record: ActionRecord) -> dict[str, Any]:
    """One recorded action as the API shows it (absent optionals left out)."""
    out: dict[str, Any] = {"event_id": record.event_id, "action": record.action, "date": record.date.isoformat()}
    if record.effective_date is not None:
        out["effective_date"] = record.effective_date.isoformat()
    for field in ("notification", "corrects", "text"):
        if (value := getattr(record, field)) is not None:
            out[field] = value
    return out


def status_json(status: ParticipantStatus) -> dict[str, Any]:
    """A participant's status as the contract shows it: consent act, in-force date and actions."""
    out: dict[str, Any] = {
        "status": status.status,
        "consent": {"action": status.consent.action, "date": status.consent.date.isoformat()}
        if status.consent
        else None,
        "in_force_on": _iso(status.in_force_on),
        "in_force": status.in_force,
    }
    if status.signature is not None:
        out["signature"] = status.signature.isoformat()
    if status.withdrawal is not None:
        out["withdrawal"] = {"date": status.withdrawal.date.isoformat()}
        if status.withdrawal.effective_on is not None:
            out["withdrawal"]["effective_on"] = status.withdrawal.effective_on.isoformat()
    out["actions"] = [action_json(a) for a in status.actions]
    return out


def _treaty_summary(view: TreatyView) -> dict[str, Any]:
    return {"treaty_id": view.treaty_id, **_titles(view.treaty or {})}


def _titles(treaty: Document) -> dict[str, Any]:
    return {k: treaty[k] for k in ("title", "short_title") if k in treaty}


def _treaty_summary_doc(treaty: Document) -> dict[str, Any]:
    return {"treaty_id": treaty["_id"], **_titles(treaty)}


@router.get("/treaties", summary="Treaties; with `participant`, those it has acted on and its status in each")
async def list_treaties(
    request: Request,
    participant: str | None = Query(default=None, description="ISO 3166 alpha-3 code or UN name"),
    status: StatusName | None = None,
    as_of: date | None = AsOf,
) -> dict[str, Any]:
    db = _db(request)
    if participant is None:
        if status is not None:
            raise Problem(422, "Invalid request", "`status` filters a participant's treaties: give `participant` too")
        items = [store.public(d) | {"treaty_id": d["_id"]} async for d in store.treaties_query(db)]
        return {"items": items, "count": len(items)}
    as_of = as_of or _today()
    code = participant_code(participant)
    entries = [e for e in await _participant_entries(request, code, as_of) if status is None or e["status"] == status]
    return {"participant": code, "as_of": as_of.isoformat(), "items": entries, "count": len(entries)}


@router.get("/treaties/{treaty_id}", summary="One treaty: titles, references and rules")
async def get_treaty(request: Request, treaty_id: str) -> dict[str, Any]:
    view = await _view(request, treaty_id)
    return {
        **(store.public(view.treaty) if view.treaty else {}),
        "treaty_id": treaty_id,
        "registered": view.treaty is not None,
        "entry_into_force": _iso(view.record.entry_into_force),
        "participants": len(view.record.currents),
    }


@router.get("/treaties/{treaty_id}/stats", summary="Counts of parties, in force, signatories and withdrawn on a date")
async def get_stats(request: Request, treaty_id: str, as_of: date | None = AsOf) -> JSONResponse:
    as_of = as_of or _today()
    stats = (await _view(request, treaty_id)).record.stats(as_of)
    return JSONResponse(
        {
            "treaty_id": treaty_id,
            "as_of": as_of.isoformat(),
            "parties": stats.parties,
            "in_force": stats.in_force,
            "signatories": stats.signatories,
            "withdrawn": stats.withdrawn,
            "entry_into_force": _iso(stats.entry_into_force),
        }
    )


@router.get("/treaties/{treaty_id}/participants", summary="Each participant's status on a date")
async def get_participants(
    request: Request, treaty_id: str, as_of: date | None = AsOf, status: StatusName | None = None
) -> JSONResponse:
    as_of = as_of or _today()
    view = await _view(request, treaty_id)
    named = [(view.name(code), code, result) for code, result in view.record.statuses(as_of).items()]
    items = [
        {"participant": code, "name": name, **status_json(result)}
        for name, code, result in sorted(named, key=lambda item: (item[0], item[1]))
        if status is None or result.status == status
    ]
    return JSONResponse({"treaty_id": treaty_id, "as_of": as_of.isoformat(), "count": len(items), "items": items})


@router.get("/treaties/{treaty_id}/timeline", summary="Parties and in force at each date the counts change")
async def get_timeline(request: Request, treaty_id: str) -> dict[str, Any]:
    view = await _view(request, treaty_id)
    points = [
        {"date": p.date.isoformat(), "parties": p.parties, "in_force": p.in_force} for p in view.record.timeline()
    ]
    return {"treaty_id": treaty_id, "entry_into_force": _iso(view.record.entry_into_force), "points": points}


@router.get("/treaties/{treaty_id}/meetings", summary="Meetings of the States Parties and review conferences")
async def get_meetings(request: Request, treaty_id: str) -> dict[str, Any]:
    await _view(request, treaty_id)
    items = [store.public(d) async for d in store.meetings_query(_db(request), treaty_id)]
    return {"treaty_id": treaty_id, "count": len(items), "items": items}


def _report_json(report: ReportDue) -> dict[str, Any]:
    return {
        "period": report.period,
        "due_on": report.due_on.isoformat(),
        "submitted_on": _iso(report.submitted_on),
        "overdue": report.overdue,
        "status": report.status,
    }


def _reporting_duty(view: TreatyView, status: ParticipantStatus, as_of: date) -> tuple[Reporting, date] | None:
    """(the treaty's reporting rule, in force on) when the participant owes reports under it by `as_of`."""
    reporting = view.record.rules.reporting if view.record.rules else None
    in_force_on = status.in_force_on
    if reporting is None or status.status != "party" or in_force_on is None or in_force_on > as_of:
        return None
    return reporting, in_force_on


def _reports_entry(
    view: TreatyView,
    code: str,
    duty: tuple[Reporting, date],
    as_of: date,
    submitted: list[tuple[str, str, date]],
    recorded_kinds: Collection[str],
) -> dict[str, Any]:
    """A party's reports due by `as_of` under its `_reporting_duty`.

    `recorded` is false when no report of the rule's kind was ever recorded for the treaty: its reports
    are then "not_recorded", none overdue, and `due_count` says how many there are.
    """
    reporting, in_force_on = duty
    reports = reports_due(in_force_on, as_of, reporting, submitted, recorded_kinds)
    return {
        "participant": code,
        "name": view.name(code),
        "in_force_on": in_force_on.isoformat(),
        "reports": [_report_json(r) for r in reports],
        "overdue": [r.period for r in reports if r.overdue],
        "recorded": all(r.status != "not_recorded" for r in reports),
        "due_count": len(reports),
    }


@router.get(
    "/treaties/{treaty_id}/reports",
    summary="Each party's transparency reports: when due, which overdue, or none recorded for the treaty",
)
async def get_reports(
    request: Request,
    treaty_id: str,
    as_of: date | None = AsOf,
    overdue: bool = Query(default=False, description="only parties with an overdue report"),
) -> dict[str, Any]:
    as_of = as_of or _today()
    view = await _view(request, treaty_id)
    reporting = view.record.rules.reporting if view.record.rules else None
    answer: dict[str, Any] = {"treaty_id": treaty_id, "as_of": as_of.isoformat()}
    if reporting is None:
        return answer | {"reporting": None, "reason": f"the reporting rule of {treaty_id} is unknown", "items": []}
    submitted: defaultdict[str, list[tuple[str, str, date]]] = defaultdict(list)
    kinds: set[str] = set()
    async for doc in store.reports_query(_db(request), treaty_id):
        submitted[doc["participant"]].append((doc["kind"], doc["period"], date.fromisoformat(doc["submitted_on"])))
        kinds.add(doc["kind"])
    entries = []
    for code, status in view.record.statuses(as_of).items():
        duty = _reporting_duty(view, status, as_of)
        if duty is not None:
            entries.append(_reports_entry(view, code, duty, as_of, submitted[code], kinds))
    items = [e for e in entries if e["overdue"] or not overdue]
    items.sort(key=lambda item: (item["name"], item["participant"]))
    return answer | {
        "reporting": reporting.model_dump(mode="json"),
        "recorded": report_kind_recorded(reporting, kinds),
        "count": len(items),
        "overdue_count": sum(1 for e in entries if e["overdue"]),
        # Of every party, whatever the filter, as `overdue_count` is.
        "due_count": sum(e["due_count"] for e in entries),
        "items": items,
    }


async def _participant_entries(request: Request, code: str, as_of: date) -> list[dict[str, Any]]:
    """The participant's standing in every treaty it has acted on by `as_of` (status null when it has none)."""
    treaty_ids = await store.treaties_of(_db(request), code)
    entries = []
    for view in await _views(request).many(treaty_ids):
        if view is None:
            continue
        acts = [a for a in view.record.currents.get(code, []) if a.date <= as_of]
        if not acts:
            continue
        status = view.record.status(code, as_of)
        entry = _treaty_summary(view) | {"name": view.name(code)}
        if status is None:
            entry |= {"status": None, "actions": [action_json(a) for a in acts]}
        else:
            entry |= status_json(status)
        superseded = [a for a in view.record.superseded.get(code, []) if a.date <= as_of]
        if superseded:
            entry["superseded"] = [action_json(a) for a in superseded]
        entries.append(entry)
    return entries


@router.get("/participants/{participant}", summary="Every treaty a participant has acted on, with its status")
async def get_participant(request: Request, participant: str, as_of: date | None = AsOf) -> dict[str, Any]:
    as_of = as_of or _today()
    resolved = resolve_participant(participant)
    code = resolved.code or resolved.name
    entries = await _participant_entries(request, code, as_of)
    if not entries and resolved.code is None:
        raise Problem(404, "Not found", f"{participant!r} is no known State and has recorded no action")
    counts = {s: sum(1 for e in entries if e["status"] == s) for s in ("party", "signatory", "withdrawn")}
    name = entries[0]["name"] if entries else resolved.name
    return {
        "participant": code,
        "name": name,
        "as_of": as_of.isoformat(),
        **counts,
        "count": len(entries),
        "items": entries,
    }


@router.get(
    "/participants/{participant}/reports",
    summary="A participant's transparency reports in every treaty: which overdue, or none recorded for the treaty",
)
async def get_participant_reports(
    request: Request,
    participant: str,
    as_of: date | None = AsOf,
    overdue: bool = Query(default=False, description="only treaties where a report is overdue"),
) -> dict[str, Any]:
    as_of = as_of or _today()
    code = participant_code(participant)
    db = _db(request)
    treaty_ids = await store.treaties_of(db, code)
    entries = []
    for view in await _views(request).many(treaty_ids):
        status = view.record.status(code, as_of) if view is not None else None
        if view is None or status is None:
            continue
        duty = _reporting_duty(view, status, as_of)
        if duty is None:
            continue
        submitted = [
            (d["kind"], d["period"], date.fromisoformat(d["submitted_on"]))
            async for d in store.participant_reports_query(db, view.treaty_id, code)
        ]
        kinds = [kind for kind, _, _ in submitted]
        if not report_kind_recorded(duty[0], kinds):
            # None of its own: only then ask whether any participant's report of the kind is recorded.
            kinds = await store.report_kinds(db, view.treaty_id)
        entries.append(_treaty_summary(view) | _reports_entry(view, code, duty, as_of, submitted, kinds))
    items = [e for e in entries if e["overdue"] or not overdue]
    return {
        "participant": code,
        "as_of": as_of.isoformat(),
        "count": len(items),
        "overdue_count": sum(1 for e in entries if e["overdue"]),
        "due_count": sum(e["due_count"] for e in entries),
        "items": items,
    }


@router.get("/search", summary="Treaties, participants and resolutions whose id, name or title contains the words")
async def search(
    request: Request,
    q: str = Query(min_length=1, max_length=200, description="a treaty title or id, participant, or symbol"),
    limit: int = Query(default=20, ge=1, le=100, description="at most this many of each kind"),
) -> dict[str, Any]:
    db = _db(request)
    needle = " ".join(q.split()).casefold()

    def hit(*texts: Any) -> bool:
        return any(isinstance(t, str) and needle in t.casefold() for t in texts)

    treaties = [
        _treaty_summary_doc(d)
        async for d in store.treaties_query(db)
        if hit(d["_id"], d.get("title"), d.get("short_title"))
    ]
    resolved = resolve_participant(q).code
    named = [(participant_name(key) or key, key) for key in await store.participant_keys(db)]
    participants = [
        {"participant": key, "name": name}
        for name, key in sorted(named, key=lambda item: (item[1] != resolved, item[0]))
        if key == resolved or hit(key, name)
    ]
    try:
        exact: str | None = normalize_resolution_symbol(q)
    except ValueError:
        exact = None
    resolutions = [
        {"symbol": d["_id"], **{k: d[k] for k in ("title", "adopted_on") if k in d}}
        async for d in store.resolution_titles_query(db)
        if d["_id"] == exact or hit(d["_id"], d.get("title"))
    ]
    resolutions.sort(key=lambda r: r["symbol"] != exact)
    return {
        "query": q,
        "treaties": treaties[:limit],
        "participants": participants[:limit],
        "resolutions": resolutions[:limit],
        "count": len(treaties) + len(participants) + len(resolutions),
    }


async def _check_claim(views: TreatyViews, claim: dict[str, Any], resolution: Document) -> dict[str, Any]:
    treaty_id = claim.get("treaty_id") or (resolution.get("treaty") or {}).get("treaty_id")
    as_of = date.fromisoformat(claim.get("as_of") or resolution["adopted_on"])
    if not treaty_id:
        return {**claim, "verified": None, "reason": "the claim names no treaty the registry can resolve"}
    view = await views.get(treaty_id)
    if view is None or not view.record.currents:
        return {**claim, "verified": None, "reason": f"the registry has no actions for {treaty_id} yet"}
    stats = view.record.stats(as_of)
    found: Any
    if claim["kind"] == "parties_count":
        found = stats.parties
    elif claim["kind"] in ("entry_into_force_year", "entry_into_force_date"):
        if stats.entry_into_force is None:
            reason = f"the registry cannot tell when {treaty_id} entered into force (rule unknown or not reached)"
            return {**claim, "verified": None, "reason": reason}
        in_force = stats.entry_into_force
        found = in_force.year if claim["kind"] == "entry_into_force_year" else in_force.isoformat()
    else:
        return {**claim, "verified": None, "reason": f"claims of kind {claim['kind']!r} are not checked"}
    return {**claim, "verified": found == claim["value"], "expected": claim["value"], "found": found}


def _resolution_summary(doc: Document) -> dict[str, Any]:
    keys = ("symbol", "session", "title", "adopted_on", "agenda_item", "committee", "treaty", "cites")
    return {k: doc[k] for k in keys if k in doc}


@router.get("/resolutions", summary="Resolutions by session, treaty or the resolution they recall")
async def list_resolutions(
    request: Request,
    session: int | None = Query(default=None, ge=1),
    treaty_id: str | None = None,
    recalls: str | None = Query(default=None, description="a symbol, e.g. 63/42 or A/RES/63/42"),
    after: str | None = Query(default=None, description="the `next` of the previous page"),
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    cited = store.resolution_symbol(recalls) if recalls else None
    cursor = store.resolutions_query(
        _db(request), session=session, treaty_id=treaty_id, recalls=cited, after=after, limit=limit
    )
    items = [_resolution_summary(d) async for d in cursor]
    return {"items": items, "count": len(items), "next": items[-1]["symbol"] if len(items) == limit else None}


async def _citation_chain(db: AsyncDatabase[Document], doc: Document) -> list[dict[str, Any]]:
    """What the resolution recalls and, breadth first, what those recall, as far as the registry knows them."""
    chain: list[dict[str, Any]] = []
    seen = {doc["_id"]}
    cited_dates: dict[str, str] = {}
    frontier: list[Document] = [doc]
    depth = 0
    while frontier:
        depth += 1
        wanted: list[str] = []
        for citing in frontier:
            for recall in citing.get("recalls", []):
                symbol = recall["symbol"]
                if recall.get("date"):
                    cited_dates.setdefault(symbol, recall["date"])
                if symbol not in seen:
                    seen.add(symbol)
                    wanted.append(symbol)
        known = {d["_id"]: d async for d in store.resolutions_by_symbol_query(db, wanted)} if wanted else {}
        for symbol in wanted:
            node: dict[str, Any] = {"symbol": symbol, "depth": depth, "known": symbol in known}
            if symbol in known:
                node |= {k: known[symbol][k] for k in ("title", "adopted_on") if k in known[symbol]}
                node["recalls"] = known[symbol].get("cites", [])
            elif symbol in cited_dates:
                node["date"] = cited_dates[symbol]
            chain.append(node)
        frontier = [known[s] for s in wanted if s in known]
    return chain


@router.get(
    "/resolutions/{symbol:path}",
    summary="A resolution, its citation chain and its claims checked against the record",
)
async def get_resolution(request: Request, symbol: str) -> dict[str, Any]:
    db = _db(request)
    try:
        canonical = normalize_resolution_symbol(symbol)
    except ValueError:
        canonical = symbol.strip()
    doc = await db.resolutions.find_one({"_id": canonical})
    if doc is None:
        raise Problem(404, "Not found", f"no resolution {canonical} has been recorded")
    resolution = store.public(doc)
    views = _views(request)
    resolution["claims"] = [await _check_claim(views, c, doc) for c in doc.get("claims", [])]
    resolution["citation_chain"] = await _citation_chain(db, doc)
    resolution["recalled_by"] = [d["_id"] async for d in store.recalled_by_query(db, canonical)]
    return resolution


def _event_json(doc: Document) -> dict[str, Any]:
    return {"seq": doc["seq"], "applied_at": doc["applied_at"].isoformat(), **doc["event"]}


@router.get("/events", summary="The applied events in order (the audit trail), paginated by cursor")
async def get_events(
    request: Request,
    after: int = Query(default=0, ge=0, le=2**63 - 1),  # a BSON int64: larger would be a 500, not a 422
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    items = [d async for d in store.events_query(_db(request), after, limit)]
    events = [_event_json(d) for d in items]
    return {"items": events, "next": str(items[-1]["seq"]) if items else str(after)}


@router.get("/events/latest", summary="The most recently applied events, newest first")
async def get_latest_events(request: Request, limit: int = Query(default=20, ge=1, le=200)) -> dict[str, Any]:
    items = [_event_json(d) async for d in store.latest_events_query(_db(request), limit)]
    return {"items": items, "count": len(items)}


@router.get("/dead-letters", summary="Messages that failed the contract, with reason and original bytes")
async def get_dead_letters(request: Request, limit: int = Query(default=100, ge=1, le=1000)) -> dict[str, Any]:
    items = [store.public(d) | {"id": d["_id"]} async for d in store.dead_letters_query(_db(request), limit)]
    return {"items": items, "count": len(items)}

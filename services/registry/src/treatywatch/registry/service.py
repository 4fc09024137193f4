"""The registry's use cases: each reads the store (the only module that talks to MongoDB) and the prepared treaty
views, applies the domain's rules, and returns domain values and stored documents for the routes to answer with."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from pymongo.asynchronous.database import AsyncDatabase

from treatywatch.common.mongo import Document
from treatywatch.common.participants import participant_code, participant_name, resolve_participant
from treatywatch.common.rules import Reporting
from treatywatch.common.symbols import normalize_resolution_symbol
from treatywatch.registry import domain, store
from treatywatch.registry.domain import (
    ActionRecord,
    ClaimCheck,
    ParticipantStatus,
    ReportDue,
    Status,
    Submitted,
    report_kind_recorded,
    reports_due,
)
from treatywatch.registry.store import TreatyView, TreatyViews

__all__ = [
    "Citation",
    "Found",
    "Listed",
    "NotFound",
    "Owed",
    "ParticipantRecord",
    "Reports",
    "ResolutionRecord",
    "Standing",
    "TreatyReports",
    "check_claim",
    "citation_chain",
    "dead_letters",
    "events",
    "latest_events",
    "meetings",
    "participant",
    "participant_reports",
    "participant_treaties",
    "participants",
    "registered_treaties",
    "resolution",
    "resolutions",
    "search",
    "treaty",
    "treaty_reports",
]

Db = AsyncDatabase[Document]


class NotFound(LookupError):
    """What was asked for is not in the registry; the message says what."""


async def treaty(views: TreatyViews, treaty_id: str) -> TreatyView:
    """The treaty's prepared view; NotFound when it is neither registered nor acted on."""
    view = await views.get(treaty_id)
    if view is None:
        raise NotFound(f"no treaty {treaty_id!r} is registered or has recorded actions")
    return view


async def registered_treaties(db: Db) -> list[Document]:
    """Every registered treaty, in id order."""
    return await store.treaties(db)


async def meetings(db: Db, views: TreatyViews, treaty_id: str) -> list[Document]:
    """A known treaty's meetings, by start date."""
    await treaty(views, treaty_id)
    return await store.meetings(db, treaty_id)


class Listed(NamedTuple):
    """A participant as a treaty's list shows it."""

    participant: str
    name: str
    status: ParticipantStatus


def participants(view: TreatyView, as_of: date, status: Status | None = None) -> list[Listed]:
    """Every participant with a status on `as_of` (that status, if given), by name then key."""
    listed = []
    for name, key in view.by_name:
        found = view.record.status(key, as_of)
        if found is not None and (status is None or found.status == status):
            listed.append(Listed(key, name, found))
    return listed


@dataclass(frozen=True)
class Standing:
    """A participant's standing in one treaty on a day: `status` is None when it has acted but holds none (e.g. a
    declaration only); `actions` are the acts still true by then, `superseded` those a correction replaced."""

    view: TreatyView
    name: str
    status: ParticipantStatus | None
    actions: Sequence[ActionRecord]
    superseded: list[ActionRecord]


def _standing(view: TreatyView, participant: str, as_of: date) -> Standing | None:
    acts = [a for a in view.record.currents.get(participant, []) if a.date <= as_of]
    if not acts:
        return None
    status = view.record.status(participant, as_of)
    superseded = [a for a in view.record.superseded.get(participant, []) if a.date <= as_of]
    return Standing(view, view.name(participant), status, status.actions if status else acts, superseded)


async def _standings(db: Db, views: TreatyViews, participant: str, as_of: date) -> list[Standing]:
    """The participant's standing in every treaty it has acted on by `as_of`, in treaty order."""
    found = []
    for view in await views.many(await store.treaties_of(db, participant)):
        standing = _standing(view, participant, as_of) if view is not None else None
        if standing is not None:
            found.append(standing)
    return found


async def participant_treaties(
    db: Db, views: TreatyViews, participant: str, as_of: date, status: Status | None = None
) -> tuple[str, list[Standing]]:
    """The participant's key, and its standing in each treaty it has acted on by `as_of` (with `status`, if given)."""
    code = participant_code(participant)
    found = await _standings(db, views, code, as_of)
    return code, [s for s in found if status is None or (s.status is not None and s.status.status == status)]


@dataclass(frozen=True)
class ParticipantRecord:
    """A participant, its name and its standing in every treaty it has acted on."""

    participant: str
    name: str
    standings: list[Standing]

    def count(self, status: Status) -> int:
        """In how many treaties it has `status`."""
        return sum(1 for s in self.standings if s.status is not None and s.status.status == status)


async def participant(db: Db, views: TreatyViews, participant: str, as_of: date) -> ParticipantRecord:
    """A participant by ISO code or UN name; NotFound when it is no known State and has recorded no action."""
    resolved = resolve_participant(participant)
    key = resolved.code or resolved.name
    found = await _standings(db, views, key, as_of)
    if not found and resolved.code is None:
        raise NotFound(f"{participant!r} is no known State and has recorded no action")
    return ParticipantRecord(key, found[0].name if found else resolved.name, found)


@dataclass(frozen=True)
class Owed:
    """The reports a party owes by a day under a treaty's reporting rule."""

    view: TreatyView
    participant: str
    in_force_on: date
    reports: list[ReportDue]

    @property
    def name(self) -> str:
        """The participant's name as the treaty's events spell it."""
        return self.view.name(self.participant)

    @property
    def overdue(self) -> list[str]:
        """The periods of its overdue reports."""
        return [r.period for r in self.reports if r.overdue]

    @property
    def recorded(self) -> bool:
        """False when no report of the rule's kind was ever recorded for the treaty: none is then overdue."""
        return all(r.status != "not_recorded" for r in self.reports)

    @property
    def due_count(self) -> int:
        """How many reports are due, submitted or not."""
        return len(self.reports)


def _reporting_duty(view: TreatyView, status: ParticipantStatus, as_of: date) -> tuple[Reporting, date] | None:
    """(the treaty's reporting rule, in force on) when the participant owes reports under it by `as_of`."""
    reporting = view.record.rules.reporting if view.record.rules else None
    in_force_on = status.in_force_on
    if reporting is None or status.status != "party" or in_force_on is None or in_force_on > as_of:
        return None
    return reporting, in_force_on


def _owed(
    view: TreatyView,
    participant: str,
    duty: tuple[Reporting, date],
    as_of: date,
    submitted: list[Submitted],
    recorded_kinds: Collection[str],
) -> Owed:
    reporting, in_force_on = duty
    return Owed(view, participant, in_force_on, reports_due(in_force_on, as_of, reporting, submitted, recorded_kinds))


@dataclass(frozen=True)
class Reports:
    """Reports owed by a day: `owed` lists every duty to report, `items` those the question asked for."""

    owed: list[Owed]
    items: list[Owed]

    @property
    def overdue_count(self) -> int:
        """Of every duty, whatever the question asked for: how many have a report overdue."""
        return sum(1 for o in self.owed if o.overdue)

    @property
    def due_count(self) -> int:
        """Of every duty, whatever the question asked for: how many reports are due."""
        return sum(o.due_count for o in self.owed)


@dataclass(frozen=True)
class TreatyReports(Reports):
    """A treaty's reports: `reporting` is None when its rule is unknown, `recorded` whether a report of the rule's
    kind was ever recorded for it."""

    reporting: Reporting | None = None
    recorded: bool = False


async def treaty_reports(db: Db, view: TreatyView, as_of: date, overdue_only: bool) -> TreatyReports:
    """Each party's reports due by `as_of`, by name; with `overdue_only`, `items` holds the parties with one overdue."""
    reporting = view.record.rules.reporting if view.record.rules else None
    if reporting is None:
        return TreatyReports([], [])
    submitted = await store.reports(db, view.treaty_id)
    kinds = {kind for reports in submitted.values() for kind, _, _ in reports}
    owed = []
    for code, status in view.record.statuses(as_of).items():
        duty = _reporting_duty(view, status, as_of)
        if duty is not None:
            owed.append(_owed(view, code, duty, as_of, submitted.get(code, []), kinds))
    owed.sort(key=lambda o: (o.name, o.participant))
    items = [o for o in owed if o.overdue or not overdue_only]
    return TreatyReports(owed, items, reporting, report_kind_recorded(reporting, kinds))


async def participant_reports(
    db: Db, views: TreatyViews, participant: str, as_of: date, overdue_only: bool
) -> tuple[str, Reports]:
    """The participant's key, and the reports it owes by `as_of` in each treaty with a reporting rule."""
    code = participant_code(participant)
    owed = []
    for view in await views.many(await store.treaties_of(db, code)):
        status = view.record.status(code, as_of) if view is not None else None
        duty = _reporting_duty(view, status, as_of) if view is not None and status is not None else None
        if view is None or duty is None:
            continue
        submitted = await store.participant_reports(db, view.treaty_id, code)
        kinds: Collection[str] = [kind for kind, _, _ in submitted]
        if not report_kind_recorded(duty[0], kinds):
            # None of its own: only then ask whether any participant's report of the kind is recorded.
            kinds = await store.report_kinds(db, view.treaty_id)
        owed.append(_owed(view, code, duty, as_of, submitted, kinds))
    return code, Reports(owed, [o for o in owed if o.overdue or not overdue_only])


async def check_claim(views: TreatyViews, claim: Document, resolution: Document) -> ClaimCheck:
    """A resolution's claim checked against the record of its treaty (the claim's, else the resolution's) on its
    day (the claim's `as_of`, else the day the resolution was adopted)."""
    treaty_id = claim.get("treaty_id") or (resolution.get("treaty") or {}).get("treaty_id")
    as_of = date.fromisoformat(claim.get("as_of") or resolution["adopted_on"])
    if not treaty_id:
        return ClaimCheck(None, reason="the claim names no treaty the registry can resolve")
    view = await views.get(treaty_id)
    if view is None or not view.record.currents:
        return ClaimCheck(None, reason=f"the registry has no actions for {treaty_id} yet")
    return domain.check_claim(claim["kind"], claim["value"], treaty_id, view.record.stats(as_of))


@dataclass(frozen=True)
class Citation:
    """A resolution in a citation chain, `depth` recalls away; `recalls` and the titles are known only for one
    the registry has recorded, `date` only for one it has not and that a citing resolution dates."""

    symbol: str
    depth: int
    known: bool
    title: str | None = None
    adopted_on: str | None = None
    recalls: list[str] | None = None
    date: str | None = None


def _recalled(frontier: Sequence[Document], seen: set[str], dates: dict[str, str]) -> list[str]:
    """The symbols the frontier's resolutions recall that are not `seen` yet (now added), noting the dates given."""
    wanted = []
    for citing in frontier:
        for recall in citing.get("recalls", []):
            symbol = recall["symbol"]
            if recall.get("date"):
                dates.setdefault(symbol, recall["date"])
            if symbol not in seen:
                seen.add(symbol)
                wanted.append(symbol)
    return wanted


def _citation(symbol: str, depth: int, known: Document | None, dates: dict[str, str]) -> Citation:
    if known is None:
        return Citation(symbol, depth, False, date=dates.get(symbol))
    return Citation(symbol, depth, True, known.get("title"), known.get("adopted_on"), known.get("cites", []))


async def citation_chain(db: Db, doc: Document) -> list[Citation]:
    """What the resolution recalls and, breadth first, what those recall, as far as the registry knows them."""
    chain: list[Citation] = []
    seen = {doc["_id"]}
    dates: dict[str, str] = {}
    frontier = [doc]
    depth = 0
    while frontier:
        depth += 1
        wanted = _recalled(frontier, seen, dates)
        known = await store.resolutions_by_symbol(db, wanted)
        chain += [_citation(symbol, depth, known.get(symbol), dates) for symbol in wanted]
        frontier = [known[s] for s in wanted if s in known]
    return chain


@dataclass(frozen=True)
class ResolutionRecord:
    """A stored resolution with its claims checked, its citation chain and the resolutions that recall it."""

    doc: Document
    claims: list[tuple[Document, ClaimCheck]]
    citation_chain: list[Citation]
    recalled_by: list[str]


async def resolution(db: Db, views: TreatyViews, symbol: str) -> ResolutionRecord:
    """A resolution by its symbol in any usual spelling; NotFound when none is recorded under it."""
    canonical = store.resolution_symbol(symbol)
    doc = await store.resolution(db, canonical)
    if doc is None:
        raise NotFound(f"no resolution {canonical} has been recorded")
    claims = [(claim, await check_claim(views, claim, doc)) for claim in doc.get("claims", [])]
    return ResolutionRecord(doc, claims, await citation_chain(db, doc), await store.recalled_by(db, canonical))


async def resolutions(
    db: Db,
    *,
    session: int | None = None,
    treaty_id: str | None = None,
    recalls: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> list[Document]:
    """A page of resolutions in symbol order: of a session, about a treaty, or recalling a resolution (any spelling)."""
    cited = store.resolution_symbol(recalls) if recalls else None
    return await store.resolutions(db, session=session, treaty_id=treaty_id, recalls=cited, after=after, limit=limit)


@dataclass(frozen=True)
class Found:
    """What a search found, at most its limit of each kind; `count` is of everything found."""

    treaties: list[Document]
    participants: list[tuple[str, str]]
    resolutions: list[Document]
    count: int


def _matcher(q: str) -> Callable[..., bool]:
    """Whether any of the texts given contains the words of `q`, case-blind."""
    needle = " ".join(q.split()).casefold()

    def hit(*texts: Any) -> bool:
        return any(isinstance(t, str) and needle in t.casefold() for t in texts)

    return hit


async def search(db: Db, q: str, limit: int) -> Found:
    """Treaties, participants (key, name) and resolutions whose id, name or title contains the words of `q`; the
    participant `q` names and the resolution whose symbol it is come first."""
    hit = _matcher(q)
    treaties = [d for d in await store.treaties(db) if hit(d["_id"], d.get("title"), d.get("short_title"))]
    resolved = resolve_participant(q).code
    named = [(participant_name(key) or key, key) for key in await store.participant_keys(db)]
    named.sort(key=lambda item: (item[1] != resolved, item[0]))
    participants = [(key, name) for name, key in named if key == resolved or hit(key, name)]
    try:
        exact: str | None = normalize_resolution_symbol(q)
    except ValueError:
        exact = None
    resolutions = [d for d in await store.resolution_titles(db) if d["_id"] == exact or hit(d["_id"], d.get("title"))]
    resolutions.sort(key=lambda d: d["_id"] != exact)
    count = len(treaties) + len(participants) + len(resolutions)
    return Found(treaties[:limit], participants[:limit], resolutions[:limit], count)


async def events(db: Db, after: int, limit: int) -> list[Document]:
    """The records of the events applied after `seq` number `after`, in order (the audit trail)."""
    return await store.events(db, after, limit)


async def latest_events(db: Db, limit: int) -> list[Document]:
    """The records of the events applied last, newest first."""
    return await store.latest_events(db, limit)


async def dead_letters(db: Db, limit: int) -> list[Document]:
    """The messages that failed the contract, newest first."""
    return await store.dead_letters(db, limit)

"""The registry's use cases: each reads the store (the only module that talks to MongoDB) and the prepared treaty
views, applies the domain's rules, and returns domain values and stored documents for the routes to answer with."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any, Generic, NamedTuple, TypeVar

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
from treatywatch.registry.store import TreatyView, TreatyViews, action_record

__all__ = [
    "Citation",
    "Feed",
    "Found",
    "InvalidCursor",
    "Listed",
    "NotFound",
    "Owed",
    "Page",
    "ParticipantRecord",
    "Recorded",
    "Reports",
    "ResolutionRecord",
    "Standing",
    "TreatyClaim",
    "TreatyReports",
    "check_claim",
    "citation_chain",
    "dead_letters",
    "events",
    "latest_events",
    "meetings",
    "participant",
    "participant_feed",
    "participant_reports",
    "participant_treaties",
    "participants",
    "registered_treaties",
    "resolution",
    "resolutions",
    "search",
    "treaty",
    "treaty_claims",
    "treaty_feed",
    "treaty_reports",
]

Db = AsyncDatabase[Document]
T = TypeVar("T")


class NotFound(LookupError):
    """What was asked for is not in the registry; the message says what."""


class InvalidCursor(ValueError):
    """An `after` that no page of the list gave as its `next`; the message says why."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items, and the `after` that asks for the next page (None on the last)."""

    items: list[T]
    next: str | None


def _page(items: Sequence[T], limit: int, cursor: Callable[[T], str]) -> Page[T]:
    """The first `limit` of `items`, given one more than that when there are more."""
    shown = list(items[:limit])
    return Page(shown, cursor(shown[-1]) if len(items) > limit and shown else None)


def _after(items: Sequence[T], key: Callable[[T], Any], after: Any) -> Sequence[T]:
    """The items (in `key` order) whose key is past `after`; all of them when `after` is None."""
    if after is None:
        return items
    return items[bisect_right([key(i) for i in items], after) :]


async def treaty(views: TreatyViews, treaty_id: str) -> TreatyView:
    """The treaty's prepared view; NotFound when it is neither registered nor acted on."""
    view = await views.get(treaty_id)
    if view is None:
        raise NotFound(f"no treaty {treaty_id!r} is registered or has recorded actions")
    return view


async def registered_treaties(db: Db, after: str | None, limit: int) -> Page[Document]:
    """A page of the registered treaties in id order, after the treaty id `after`."""
    return _page(await store.treaties(db, after, limit + 1), limit, lambda d: str(d["_id"]))


def _meeting_key(doc: Document) -> tuple[str, str, int]:
    return doc["start"], doc["kind"], doc["ordinal"]


def _meeting_cursor(doc: Document) -> str:
    """A meeting's place in its treaty's list, as a page's `next` gives it: `<start>|<kind>|<ordinal>`."""
    return "|".join(str(part) for part in _meeting_key(doc))


def _meeting_after(cursor: str) -> tuple[str, str, int]:
    start, _, rest = cursor.partition("|")
    kind, _, ordinal = rest.rpartition("|")
    if not kind or not ordinal.isdigit():
        raise InvalidCursor(f"{cursor!r} is not a meeting's place: <start>|<kind>|<ordinal>")
    return start, kind, int(ordinal)


async def meetings(db: Db, views: TreatyViews, treaty_id: str, after: str | None, limit: int) -> Page[Document]:
    """A page of a known treaty's meetings, by start date (then kind and ordinal), after the `after` one."""
    await treaty(views, treaty_id)
    found = sorted(await store.meetings(db, treaty_id), key=_meeting_key)
    past = _after(found, _meeting_key, _meeting_after(after) if after is not None else None)
    return _page(past, limit, _meeting_cursor)


class Listed(NamedTuple):
    """A participant as a treaty's list shows it."""

    participant: str
    name: str
    status: ParticipantStatus


def participants(
    view: TreatyView, as_of: date, status: Status | None = None, after: str | None = None, limit: int | None = None
) -> Page[Listed]:
    """A page of the participants with a status on `as_of` (that status, if given), by name then key, after the
    participant `after`; every one without a `limit`."""
    ordered = view.by_name
    start = 0 if after is None else bisect_right(ordered, (view.name(after), after))
    listed = []
    for name, key in islice(ordered, start, None):
        found = view.record.status(key, as_of)
        if found is not None and (status is None or found.status == status):
            listed.append(Listed(key, name, found))
            if limit is not None and len(listed) > limit:
                break
    return _page(listed, len(listed) if limit is None else limit, lambda item: item.participant)


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


def _treaty_of(item: Standing | Owed) -> str:
    return item.view.treaty_id


def _treaties_page(items: Sequence[T], key: Callable[[T], str], after: str | None, limit: int) -> Page[T]:
    """A page of a list in treaty order, after the treaty id `after`."""
    return _page(_after(items, key, after), limit, key)


async def participant_treaties(
    db: Db,
    views: TreatyViews,
    participant: str,
    as_of: date,
    status: Status | None = None,
    after: str | None = None,
    limit: int = 1000,
) -> tuple[str, Page[Standing]]:
    """The participant's key, and a page of its standing in each treaty it has acted on by `as_of` (with `status`, if
    given), in treaty order after the treaty id `after`."""
    code = participant_code(participant)
    found = await _standings(db, views, code, as_of)
    wanted = [s for s in found if status is None or (s.status is not None and s.status.status == status)]
    return code, _treaties_page(wanted, _treaty_of, after, limit)


@dataclass(frozen=True)
class ParticipantRecord:
    """A participant, its name, its standing in every treaty it has acted on, and the page of them asked for."""

    participant: str
    name: str
    standings: list[Standing]
    page: Page[Standing]

    def count(self, status: Status) -> int:
        """In how many treaties it has `status`."""
        return sum(1 for s in self.standings if s.status is not None and s.status.status == status)


async def participant(
    db: Db, views: TreatyViews, participant: str, as_of: date, after: str | None = None, limit: int = 1000
) -> ParticipantRecord:
    """A participant by ISO code or UN name, with a page of its treaties after the treaty id `after`; NotFound when
    it is no known State and has recorded no action."""
    resolved = resolve_participant(participant)
    key = resolved.code or resolved.name
    found = await _standings(db, views, key, as_of)
    if not found and resolved.code is None:
        raise NotFound(f"{participant!r} is no known State and has recorded no action")
    page = _treaties_page(found, _treaty_of, after, limit)
    return ParticipantRecord(key, found[0].name if found else resolved.name, found, page)


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
    """Reports owed by a day: `owed` lists every duty to report, `items` the page of those the question asked for,
    `next` the `after` of the page after it."""

    owed: list[Owed]
    items: list[Owed]
    next: str | None = None

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


async def treaty_reports(
    db: Db, view: TreatyView, as_of: date, overdue_only: bool, after: str | None = None, limit: int = 1000
) -> TreatyReports:
    """Each party's reports due by `as_of`, by name; with `overdue_only`, `items` holds the parties with one overdue.
    `items` is the page after the participant `after`."""
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
    wanted = [o for o in owed if o.overdue or not overdue_only]
    start = None if after is None else (view.name(after), after)
    page = _page(_after(wanted, lambda o: (o.name, o.participant), start), limit, lambda o: o.participant)
    return TreatyReports(owed, page.items, page.next, reporting, report_kind_recorded(reporting, kinds))


async def participant_reports(
    db: Db,
    views: TreatyViews,
    participant: str,
    as_of: date,
    overdue_only: bool,
    after: str | None = None,
    limit: int = 1000,
) -> tuple[str, Reports]:
    """The participant's key, and the reports it owes by `as_of` in each treaty with a reporting rule; `items` is the
    page in treaty order after the treaty id `after`."""
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
    page = _treaties_page([o for o in owed if o.overdue or not overdue_only], _treaty_of, after, limit)
    return code, Reports(owed, page.items, page.next)


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
    """What a search found, a page of at most its limit of each kind; `count` is of everything found, `next` the
    `after` of the next page (None on the last)."""

    treaties: list[Document]
    participants: list[tuple[str, str]]
    resolutions: list[Document]
    count: int
    next: str | None = None


def _matcher(q: str) -> Callable[..., bool]:
    """Whether any of the texts given contains the words of `q`, case-blind."""
    needle = " ".join(q.split()).casefold()

    def hit(*texts: Any) -> bool:
        return any(isinstance(t, str) and needle in t.casefold() for t in texts)

    return hit


async def search(db: Db, q: str, limit: int, after: str | None = None) -> Found:
    """Treaties, participants (key, name) and resolutions whose id, name or title contains the words of `q`; the
    participant `q` names and the resolution whose symbol it is come first. A page holds at most `limit` of each kind:
    the next ones follow `after`, how many of each kind the pages before gave."""
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
    start = int(after) if after is not None else 0
    end = start + limit
    more = end < max(len(treaties), len(participants), len(resolutions))
    return Found(
        treaties[start:end], participants[start:end], resolutions[start:end], count, str(end) if more else None
    )


@dataclass(frozen=True)
class Recorded:
    """An action as the registry applied it (`applied_at`), with the names a feed writes it in: the participant's as
    the treaty's events spell it, the treaty's short title (else its title, else its id)."""

    treaty_id: str
    treaty_title: str
    participant: str
    name: str
    act: ActionRecord
    applied_at: datetime
    recorded_at: datetime


@dataclass(frozen=True)
class Feed:
    """The actions applied last about a treaty or a participant (`key`, named `name`), newest first."""

    key: str
    name: str
    entries: list[Recorded]


def _title(view: TreatyView) -> str:
    treaty = view.treaty or {}
    return str(treaty.get("short_title") or treaty.get("title") or view.treaty_id)


def _recorded(doc: Document, view: TreatyView) -> Recorded:
    act = doc["action"]
    participant: str = doc["participant"]
    name = view.name(participant)
    return Recorded(
        view.treaty_id, _title(view), participant, name, action_record(act), doc["applied_at"], act["recorded_at"]
    )


async def treaty_feed(db: Db, views: TreatyViews, treaty_id: str, limit: int) -> Feed:
    """The `limit` actions on a known treaty applied last, newest first."""
    view = await treaty(views, treaty_id)
    docs = await store.latest_actions(db, treaty_id=treaty_id, limit=limit)
    return Feed(treaty_id, _title(view), [_recorded(doc, view) for doc in docs])


async def participant_feed(db: Db, views: TreatyViews, participant: str, limit: int) -> Feed:
    """The `limit` actions of a participant applied last (in any treaty), newest first; NotFound as `participant`."""
    resolved = resolve_participant(participant)
    key = resolved.code or resolved.name
    docs = await store.latest_actions(db, participant=key, limit=limit)
    if not docs and resolved.code is None:
        raise NotFound(f"{participant!r} is no known State and has recorded no action")
    treaty_ids = list(dict.fromkeys(d["treaty_id"] for d in docs))
    by_id = {t: v for t, v in zip(treaty_ids, await views.many(treaty_ids), strict=True) if v is not None}
    entries = [_recorded(doc, by_id[doc["treaty_id"]]) for doc in docs if doc["treaty_id"] in by_id]
    name = entries[0].name if entries else resolved.name
    return Feed(key, name, entries)


async def events(db: Db, after: int, limit: int) -> list[Document]:
    """The records of the events applied after `seq` number `after`, in order (the audit trail)."""
    return await store.events(db, after, limit)


async def latest_events(db: Db, limit: int) -> list[Document]:
    """The records of the events applied last, newest first."""
    return await store.latest_events(db, limit)


async def dead_letters(db: Db, limit: int) -> list[Document]:
    """The messages that failed the contract, newest first."""
    return await store.dead_letters(db, limit)


# --- claims over time -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TreatyClaim:
    """A claim a resolution makes about a treaty, checked against the treaty's record on the claim's day; `differs`
    says what the record shows that may explain a contradiction."""

    symbol: str
    adopted_on: date
    claim: Document
    as_of: date
    check: ClaimCheck
    differs: str | None


class _Place(NamedTuple):
    """A claim's place in its treaty's list: by its resolution's adoption, symbol, and its position among the
    resolution's claims."""

    adopted_on: date
    symbol: str
    position: int


def _place_cursor(item: tuple[_Place, Document, Document]) -> str:
    place = item[0]
    return f"{place.adopted_on.isoformat()}|{place.symbol}|{place.position}"


def _claim_after(cursor: str) -> _Place:
    day, _, rest = cursor.partition("|")
    symbol, _, index = rest.rpartition("|")
    try:
        adopted_on = date.fromisoformat(day)
    except ValueError:
        adopted_on = None
    if adopted_on is None or not symbol or not index.isdigit():
        raise InvalidCursor(f"{cursor!r} is not a claim's place: <adopted on>|<symbol>|<index>")
    return _Place(adopted_on, symbol, int(index))


async def _resolutions_about(db: Db, treaty_id: str) -> list[Document]:
    """Every resolution about the treaty, read a store's page at a time."""
    found: list[Document] = []
    after: str | None = None
    while page := await store.resolutions(db, treaty_id=treaty_id, after=after, limit=1000):
        found += page
        after = page[-1]["_id"]
    return found


async def _checked(views: TreatyViews, view: TreatyView, place: _Place, claim: Document, doc: Document) -> TreatyClaim:
    as_of = date.fromisoformat(claim.get("as_of") or doc["adopted_on"])
    check = await check_claim(views, claim, doc)
    differs = None
    if check.verified is False:
        differs = domain.claim_differs(view.record, claim["kind"], claim["value"], as_of, place.adopted_on)
    return TreatyClaim(place.symbol, place.adopted_on, claim, as_of, check, differs)


async def treaty_claims(db: Db, views: TreatyViews, treaty_id: str, after: str | None, limit: int) -> Page[TreatyClaim]:
    """A page of the claims the resolutions about a known treaty make about it, each checked against its record on
    the claim's day: by the resolution's adoption (then symbol, then the claim's place in it), after `after`
    (a page's `next`, `<adopted on>|<symbol>|<index>`)."""
    view = await treaty(views, treaty_id)
    found = [
        (_Place(date.fromisoformat(doc["adopted_on"]), doc["_id"], index), claim, doc)
        for doc in await _resolutions_about(db, treaty_id)
        for index, claim in enumerate(doc.get("claims", []))
        if (claim.get("treaty_id") or treaty_id) == treaty_id
    ]
    found.sort(key=lambda item: item[0])
    start = _claim_after(after) if after is not None else None
    page = _page(_after(found, lambda item: item[0], start), limit, _place_cursor)
    return Page([await _checked(views, view, *item) for item in page.items], page.next)

"""Pure treaty law: a participant's status, a treaty's counts and timeline, reports due and claims checked. No I/O.

Every result depends only on the set of records given, never on their order, and only on acts
deposited on or before `as_of`: the record as it stood that day. A correction (`corrects`) may name
a record of any participant of the same treaty.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from treatywatch.common.events import ACTIONS as CONTRACT_ACTIONS
from treatywatch.common.events import BINDING_ACTIONS
from treatywatch.common.rules import Reporting, TreatyRules

__all__ = [
    "ACTIONS",
    "BINDING_ACTIONS",
    "ActionRecord",
    "ClaimCheck",
    "Consent",
    "ParticipantStatus",
    "ReportDue",
    "ReportStatus",
    "Status",
    "Submitted",
    "TimelinePoint",
    "TreatyRecord",
    "TreatyStats",
    "Withdrawal",
    "check_claim",
    "current_actions",
    "current_participations",
    "display_name",
    "participant_status",
    "participant_statuses",
    "report_kind_recorded",
    "reports_due",
    "timeline",
    "treaty_entry_into_force",
    "treaty_stats",
]

# The action vocabulary of the contract, in the order acts of the same day are read: a same-day
# withdrawal and re-accession (a denunciation to re-join with a new reservation) must be read in
# that order, and statements attach to the act they follow.
_READ_FIRST = ("signature", "withdrawal")
ACTIONS: tuple[str, ...] = (*_READ_FIRST, *(a for a in CONTRACT_ACTIONS if a not in _READ_FIRST))
_ACTION_RANK = {action: rank for rank, action in enumerate(ACTIONS)}

Status = Literal["party", "signatory", "withdrawn"]
ReportStatus = Literal["submitted", "due", "overdue", "not_recorded"]
# A report a participant submitted: (kind, period, submitted on).
Submitted = tuple[str, str, date]


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """One recorded treaty action (the data of a `treaty.action.recorded` event) of one participant."""

    # `dt.date` because the field named `date` shadows the type inside the class body.
    event_id: str
    action: str
    date: dt.date
    effective_date: dt.date | None = None
    notification: str | None = None
    corrects: str | None = None
    text: str | None = None
    participant_name: str | None = None


@dataclass(frozen=True, slots=True)
class Consent:
    """The binding act a participant's status rests on."""

    action: str
    date: dt.date


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A withdrawal deposited on `date`; `effective_on` is None when neither event nor rules say."""

    date: dt.date
    effective_on: dt.date | None


@dataclass(frozen=True, slots=True)
class ParticipantStatus:
    """A participant's standing in a treaty on a given day.

    For a withdrawn participant, `consent` and `in_force_on` describe the participation the
    withdrawal ended; `withdrawal` is the pending (party) or effective (withdrawn) one.
    """

    status: Status
    consent: Consent | None
    signature: date | None
    in_force_on: date | None
    in_force: bool
    withdrawal: Withdrawal | None
    actions: tuple[ActionRecord, ...]


@dataclass(frozen=True, slots=True)
class TreatyStats:
    """A treaty's counts on a given day; `in_force` is None when it cannot be known from the rules."""

    parties: int
    in_force: int | None
    signatories: int
    withdrawn: int
    entry_into_force: date | None


@dataclass(frozen=True, slots=True)
class TimelinePoint:
    """The counts from `date` until the next point."""

    date: dt.date
    parties: int
    in_force: int | None


@dataclass(frozen=True, slots=True)
class ReportDue:
    """One report a participant owes: `period` is "initial" or the calendar year covered ("2008").

    `status` is "not_recorded" when no report of the kind was ever recorded for the treaty: the registry
    then cannot tell a report never sent from one it was never told of, so it calls none overdue.
    """

    period: str
    due_on: date
    submitted_on: date | None
    status: ReportStatus

    @property
    def overdue(self) -> bool:
        """Due before the day asked about, not submitted by then, and reports of its kind are recorded."""
        return self.status == "overdue"


def _order_key(record: ActionRecord) -> tuple[date, int, str]:
    return record.date, _ACTION_RANK.get(record.action, len(ACTIONS)), record.event_id


def _full_key(record: ActionRecord) -> tuple[date, int, str, str, date, str, str, str, str]:
    return (
        *_order_key(record),
        record.action,
        record.effective_date or date.min,
        record.notification or "",
        record.corrects or "",
        record.text or "",
        record.participant_name or "",
    )


def _distinct(records: Iterable[ActionRecord]) -> list[ActionRecord]:
    """One record per event id: of several, the first in full-key order, whatever the arrival order."""
    by_id: dict[str, ActionRecord] = {}
    for record in records:
        kept = by_id.get(record.event_id)
        if kept is None or _full_key(record) < _full_key(kept):
            by_id[record.event_id] = record
    return sorted(by_id.values(), key=_order_key)


def _corrected(records: Iterable[ActionRecord]) -> set[str]:
    return {r.corrects for r in records if r.corrects is not None and r.corrects != r.event_id}


def current_actions(records: Iterable[ActionRecord], corrected: AbstractSet[str] = frozenset()) -> list[ActionRecord]:
    """The records still true, in (date, action order, event id) order.

    A record named by another record's `corrects` (or listed in `corrected`) is dropped, so a chain
    keeps only its last link; of several records with one event id, the first in that order is kept.
    """
    distinct = _distinct(records)
    gone = corrected | _corrected(distinct)
    return [r for r in distinct if r.event_id not in gone]


def current_participations(participations: Mapping[str, Sequence[ActionRecord]]) -> dict[str, list[ActionRecord]]:
    """Every participant's current actions, with corrections applied across the whole treaty.

    A correction filed under another participant (the depositary named the wrong State) removes the
    record it names wherever that record is.
    """
    distinct = {key: _distinct(records) for key, records in participations.items()}
    corrected = set().union(*(_corrected(records) for records in distinct.values()))
    return {key: [r for r in records if r.event_id not in corrected] for key, records in distinct.items()}


def display_name(records: Iterable[ActionRecord]) -> str | None:
    """The participant's name as the latest dated record that gives one spells it (None if none does)."""
    named = [r for r in _distinct(records) if r.participant_name]
    return named[-1].participant_name if named else None


def treaty_entry_into_force(
    consent_dates: Iterable[date], rules: TreatyRules | None
) -> tuple[date | None, date | None]:
    """(date of the decisive instrument, the treaty's entry into force), or (None, None).

    Pass each participant's first binding instrument only; None when the rule is unknown or too few.
    """
    if rules is None or rules.entry_into_force is None:
        return None, None
    rule = rules.entry_into_force
    ordered = sorted(consent_dates)
    if len(ordered) < rule.instruments:
        return None, None
    decisive = ordered[rule.instruments - 1]
    return decisive, rule.delay.apply(decisive)


def _in_force_on(
    consent_date: date,
    rules: TreatyRules | None,
    treaty_in_force_on: date | None,
    nth_instrument_date: date | None,
) -> date | None:
    if rules is None or treaty_in_force_on is None or nth_instrument_date is None:
        return None
    if consent_date <= nth_instrument_date:
        return treaty_in_force_on
    if rules.later_participants is None:
        return None
    return max(rules.later_participants.apply(consent_date), treaty_in_force_on)


def _withdrawal_effective_on(record: ActionRecord, rules: TreatyRules | None) -> date | None:
    if record.effective_date is not None:
        return record.effective_date
    if rules is None or rules.withdrawal is None:
        return None
    return rules.withdrawal.apply(record.date)


@dataclass(slots=True)
class _Period:
    """One stretch of being bound: from a binding act until its withdrawal takes effect."""

    consent: ActionRecord
    withdrawal: Withdrawal | None = None


def _read_acts(
    acts: Sequence[ActionRecord], rules: TreatyRules | None
) -> tuple[date | None, list[_Period], Withdrawal | None]:
    """(first signature, the periods of being bound, a withdrawal deposited before any binding act), in act order."""
    signature: date | None = None
    periods: list[_Period] = []
    orphan_withdrawal: Withdrawal | None = None
    for act in acts:
        if act.action == "signature":
            signature = signature or act.date
        elif act.action in BINDING_ACTIONS:
            # A further binding act while bound changes nothing; after a withdrawal it re-joins.
            if not periods or periods[-1].withdrawal is not None:
                periods.append(_Period(act))
        elif act.action == "withdrawal":
            withdrawal = Withdrawal(act.date, _withdrawal_effective_on(act, rules))
            if periods and periods[-1].withdrawal is None:
                periods[-1].withdrawal = withdrawal
            elif not periods:
                orphan_withdrawal = withdrawal
    return signature, periods, orphan_withdrawal


def _status(
    acts: Sequence[ActionRecord],
    as_of: date,
    rules: TreatyRules | None,
    treaty_in_force_on: date | None,
    nth_instrument_date: date | None,
) -> ParticipantStatus | None:
    """`participant_status` over acts already reduced by `current_actions`."""
    visible = tuple(a for a in acts if a.date <= as_of)
    signature, periods, orphan_withdrawal = _read_acts(visible, rules)

    def ended(withdrawal: Withdrawal | None) -> bool:
        return withdrawal is not None and withdrawal.effective_on is not None and withdrawal.effective_on <= as_of

    # A re-joining instrument may be deposited before the withdrawal takes effect: the earlier
    # participation stays the one in effect until then.
    active = [p for p in periods if not ended(p.withdrawal)]
    status: Status
    if active:
        status, period = "party", active[0]
    elif periods:
        status, period = "withdrawn", periods[-1]
    elif ended(orphan_withdrawal):
        return ParticipantStatus("withdrawn", None, signature, None, False, orphan_withdrawal, visible)
    elif signature is not None:
        return ParticipantStatus("signatory", None, signature, None, False, None, visible)
    else:
        return None
    in_force_on = _in_force_on(period.consent.date, rules, treaty_in_force_on, nth_instrument_date)
    return ParticipantStatus(
        status=status,
        consent=Consent(period.consent.action, period.consent.date),
        signature=signature,
        in_force_on=in_force_on,
        in_force=status == "party" and in_force_on is not None and in_force_on <= as_of,
        withdrawal=period.withdrawal,
        actions=visible,
    )


def participant_status(
    records: Iterable[ActionRecord],
    as_of: date,
    rules: TreatyRules | None,
    treaty_in_force_on: date | None,
    nth_instrument_date: date | None,
) -> ParticipantStatus | None:
    """A participant's status on `as_of`; None when it had not signed, bound itself or withdrawn by then.

    `in_force_on` needs the rules and the treaty's decisive instrument and entry-into-force dates.
    """
    return _status(current_actions(records), as_of, rules, treaty_in_force_on, nth_instrument_date)


def _first_binding_date(acts: Sequence[ActionRecord], as_of: date) -> date | None:
    return next((a.date for a in acts if a.action in BINDING_ACTIONS and a.date <= as_of), None)


def _entry_into_force(
    currents: Mapping[str, Sequence[ActionRecord]], rules: TreatyRules | None, as_of: date
) -> tuple[date | None, date | None]:
    firsts = (_first_binding_date(acts, as_of) for acts in currents.values())
    return treaty_entry_into_force((d for d in firsts if d is not None), rules)


def participant_statuses(
    participations: Mapping[str, Sequence[ActionRecord]], rules: TreatyRules | None, as_of: date
) -> dict[str, ParticipantStatus]:
    """Every participant's status on `as_of`, keyed as given; participants without a status are left out."""
    currents = current_participations(participations)
    nth, in_force_on = _entry_into_force(currents, rules, as_of)
    statuses = {key: _status(acts, as_of, rules, in_force_on, nth) for key, acts in currents.items()}
    return {key: status for key, status in statuses.items() if status is not None}


def _in_force_flags(status: ParticipantStatus | None, treaty_in_force_on: date | None) -> tuple[int, int]:
    """(in force, in force unknown) for one participant: unknown when party but its date is not known."""
    if status is None or status.status != "party":
        return 0, 0
    if status.in_force_on is None:
        return 0, int(treaty_in_force_on is not None)
    return int(status.in_force), 0


def treaty_stats(
    participations: Mapping[str, Sequence[ActionRecord]], rules: TreatyRules | None, as_of: date
) -> TreatyStats:
    """A treaty's counts on `as_of`; `in_force` is None when the rules cannot tell."""
    currents = current_participations(participations)
    nth, treaty_in_force_on = _entry_into_force(currents, rules, as_of)
    counts = {"party": 0, "signatory": 0, "withdrawn": 0}
    in_force = unknown = 0
    for acts in currents.values():
        status = _status(acts, as_of, rules, treaty_in_force_on, nth)
        if status is not None:
            counts[status.status] += 1
        known, not_known = _in_force_flags(status, treaty_in_force_on)
        in_force += known
        unknown += not_known
    rule_known = rules is not None and rules.entry_into_force is not None
    return TreatyStats(
        parties=counts["party"],
        in_force=in_force if rule_known and not unknown else None,
        signatories=counts["signatory"],
        withdrawn=counts["withdrawn"],
        entry_into_force=treaty_in_force_on,
    )


def _change_dates(
    acts: Sequence[ActionRecord], rules: TreatyRules | None, treaty_in_force_on: date | None, nth: date | None
) -> set[date]:
    dates = {a.date for a in acts}
    for act in acts:
        if act.action == "withdrawal":
            effective_on = _withdrawal_effective_on(act, rules)
            if effective_on is not None:
                dates.add(effective_on)
        elif act.action in BINDING_ACTIONS:
            in_force_on = _in_force_on(act.date, rules, treaty_in_force_on, nth)
            if in_force_on is not None:
                dates.add(in_force_on)
    return dates


def _counts(status: ParticipantStatus | None, treaty_in_force_on: date | None) -> tuple[int, int, int, int, int]:
    """One participant's share of the counts: (party, signatory, withdrawn, in force, in force unknown)."""
    kind = status.status if status is not None else None
    return (
        int(kind == "party"),
        int(kind == "signatory"),
        int(kind == "withdrawn"),
        *_in_force_flags(status, treaty_in_force_on),
    )


class TreatyRecord:
    """A treaty's whole record prepared once, so that any date's status and counts are a lookup.

    Each participant's status is a step function of `as_of` that changes only on its own dates (acts,
    withdrawals taking effect, entry into force for it) and on the day of the decisive instrument;
    it is computed at those dates and looked up by bisection. Every answer equals the one of
    `participant_statuses` and `treaty_stats` for the same records.
    """

    def __init__(self, participations: Mapping[str, Sequence[ActionRecord]], rules: TreatyRules | None) -> None:
        self.rules = rules
        distinct = {key: _distinct(records) for key, records in participations.items()}
        corrected = set().union(*(_corrected(records) for records in distinct.values()))
        self.currents = {key: [r for r in rs if r.event_id not in corrected] for key, rs in distinct.items()}
        # Records a later correction replaced, kept for the history.
        self.superseded = {key: [r for r in rs if r.event_id in corrected] for key, rs in distinct.items()}
        self.names = {key: display_name(rs) for key, rs in distinct.items()}
        self._nth, self._in_force_on = _entry_into_force(self.currents, rules, date.max)
        self._rule_known = rules is not None and rules.entry_into_force is not None
        self._steps = {key: self._participant_steps(acts) for key, acts in self.currents.items()}
        self._history = self._stats_history()

    def _treaty_dates(self, as_of: date) -> tuple[date | None, date | None]:
        """(treaty in force on, decisive instrument) as known on `as_of`: both None before that instrument."""
        if self._nth is None or self._nth > as_of:
            return None, None
        return self._in_force_on, self._nth

    @property
    def entry_into_force(self) -> date | None:
        """The treaty's entry into force on the whole record; None if unknown or not reached."""
        return self._in_force_on

    def _participant_steps(self, acts: Sequence[ActionRecord]) -> tuple[list[date], list[ParticipantStatus | None]]:
        days = _change_dates(acts, self.rules, self._in_force_on, self._nth)
        if self._nth is not None:
            days.add(self._nth)
        ordered = sorted(days)
        return ordered, [_status(acts, day, self.rules, *self._treaty_dates(day)) for day in ordered]

    def _stats_history(self) -> tuple[list[date], list[TreatyStats]]:
        deltas: defaultdict[date, list[int]] = defaultdict(lambda: [0] * 5)
        for days, statuses in self._steps.values():
            before = (0, 0, 0, 0, 0)
            for day, status in zip(days, statuses, strict=True):
                now = _counts(status, self._treaty_dates(day)[0])
                if now != before:
                    for i, (new, old) in enumerate(zip(now, before, strict=True)):
                        deltas[day][i] += new - old
                    before = now
        if self._nth is not None:
            # Entry into force becomes known on the decisive instrument's day, whatever the counts do.
            deltas.setdefault(self._nth, [0] * 5)
        days, points = [], []
        totals = [0] * 5
        for day in sorted(deltas):
            totals = [t + d for t, d in zip(totals, deltas[day], strict=True)]
            days.append(day)
            points.append(self._stats(totals, self._treaty_dates(day)[0]))
        return days, points

    def _stats(self, totals: Sequence[int], treaty_in_force_on: date | None) -> TreatyStats:
        parties, signatories, withdrawn, in_force, unknown = totals
        return TreatyStats(
            parties=parties,
            in_force=in_force if self._rule_known and not unknown else None,
            signatories=signatories,
            withdrawn=withdrawn,
            entry_into_force=treaty_in_force_on,
        )

    def stats(self, as_of: date) -> TreatyStats:
        """The counts on `as_of`, as `treaty_stats` gives them."""
        days, points = self._history
        index = bisect_right(days, as_of)
        return points[index - 1] if index else self._stats((0, 0, 0, 0, 0), None)

    def status(self, participant: str, as_of: date) -> ParticipantStatus | None:
        """One participant's status on `as_of`; None without one (or for an unknown participant)."""
        steps = self._steps.get(participant)
        if steps is None:
            return None
        days, statuses = steps
        index = bisect_right(days, as_of)
        return statuses[index - 1] if index else None

    def statuses(self, as_of: date) -> dict[str, ParticipantStatus]:
        """Every participant's status on `as_of`, as `participant_statuses` gives them."""
        found = {key: self.status(key, as_of) for key in self._steps}
        return {key: status for key, status in found.items() if status is not None}

    def timeline(self) -> list[TimelinePoint]:
        """One point, ascending, per date on which `parties` or `in_force` changes."""
        points: list[TimelinePoint] = []
        last: tuple[int, int | None] = (0, 0 if self._rule_known else None)
        for day, stats in zip(*self._history, strict=True):
            counts = (stats.parties, stats.in_force)
            if counts != last:
                points.append(TimelinePoint(day, *counts))
                last = counts
        return points


def timeline(participations: Mapping[str, Sequence[ActionRecord]], rules: TreatyRules | None) -> list[TimelinePoint]:
    """The counts over time: one point, ascending, per date on which `parties` or `in_force` changes.

    Each point equals `treaty_stats(..., as_of=point.date)`.
    """
    return TreatyRecord(participations, rules).timeline()


def _folded(text: str) -> str:
    """A report's kind or period as matched: trimmed and case-blind."""
    return text.strip().casefold()


def report_kind_recorded(reporting: Reporting, kinds: Iterable[str]) -> bool:
    """Whether the rule's kind of report is among `kinds` (the kinds recorded for a treaty), trimmed and case-blind."""
    wanted = _folded(reporting.kind)
    return any(_folded(kind) == wanted for kind in kinds)


def reports_due(
    in_force_on: date,
    as_of: date,
    reporting: Reporting,
    submitted: Iterable[Submitted] = (),
    recorded_kinds: Iterable[str] = (),
) -> list[ReportDue]:
    """The reports a participant owes by `as_of`, each once its duty has arisen, in due order.

    The initial report once the treaty is in force for it; the update covering year Y once Y is over,
    for every Y from the initial report's due year. `submitted` holds (kind, period, submitted_on);
    a report counts as submitted by the earliest entry of its kind and period (trimmed, case-blind)
    dated on or before `as_of`. `recorded_kinds` are the kinds of report recorded for the treaty by any
    participant on any day: unless the rule's kind is among them (or among `submitted`), every report
    is "not_recorded" rather than overdue.
    """
    if in_force_on > as_of:
        return []
    submitted = list(submitted)
    recorded = report_kind_recorded(reporting, [*recorded_kinds, *(kind for kind, _, _ in submitted)])
    first_submitted: dict[str, date] = {}
    wanted_kind = _folded(reporting.kind)
    for kind, period, submitted_on in submitted:
        key = _folded(period)
        if (
            _folded(kind) == wanted_kind
            and submitted_on <= as_of
            and (key not in first_submitted or submitted_on < first_submitted[key])
        ):
            first_submitted[key] = submitted_on

    def report(period: str, due_on: date) -> ReportDue:
        submitted_on = first_submitted.get(period)
        status: ReportStatus
        if submitted_on is not None:
            status = "submitted"
        elif not recorded:
            status = "not_recorded"
        else:
            status = "overdue" if due_on < as_of else "due"
        return ReportDue(period, due_on, submitted_on, status)

    initial_due = in_force_on + timedelta(days=reporting.initial_within_days)
    reports = [report("initial", initial_due)]
    for year in range(initial_due.year, as_of.year):
        reports.append(report(str(year), reporting.annual_due_on(year + 1)))
    return reports


@dataclass(frozen=True, slots=True)
class ClaimCheck:
    """A claim checked against the record: `verified` is None when it cannot be checked, and `reason` says why."""

    verified: bool | None
    found: int | str | None = None
    reason: str | None = None


def check_claim(kind: str, value: int | str, treaty_id: str, stats: TreatyStats) -> ClaimCheck:
    """Whether the claim that `treaty_id` has `value` (its parties, or the year or date it entered into force) agrees
    with its counts on the claim's day."""
    found: int | str
    if kind == "parties_count":
        found = stats.parties
    elif kind in ("entry_into_force_year", "entry_into_force_date"):
        if stats.entry_into_force is None:
            reason = f"the registry cannot tell when {treaty_id} entered into force (rule unknown or not reached)"
            return ClaimCheck(None, reason=reason)
        in_force = stats.entry_into_force
        found = in_force.year if kind == "entry_into_force_year" else in_force.isoformat()
    else:
        return ClaimCheck(None, reason=f"claims of kind {kind!r} are not checked")
    return ClaimCheck(found == value, found=found)

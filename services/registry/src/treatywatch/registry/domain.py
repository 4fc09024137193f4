"""Pure treaty law: a treaty's entry into force, a participant's status, a treaty's counts and timeline, reports due,
claims checked and the rules in words. No I/O.

Every result depends only on the set of records given, never on their order, and only on acts
deposited on or before `as_of`: the record as it stood that day. A correction (`corrects`) may name
a record of any participant of the same treaty by its event id, or, where no record has that id and it is a
notification's (`cn:<reference>`), the act of its own participant that the notification announced.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

from treatywatch.common.events import ACTIONS as CONTRACT_ACTIONS
from treatywatch.common.events import BINDING_ACTIONS, notification_reference
from treatywatch.common.months import MONTH_NAMES
from treatywatch.common.participants import is_organisation
from treatywatch.common.rules import Delay, EntryIntoForce, Reporting, TreatyRules, WithdrawalTerms

__all__ = [
    "ACTIONS",
    "BINDING_ACTIONS",
    "ActionRecord",
    "ClaimCheck",
    "Consent",
    "EntryIntoForceDates",
    "ParticipantStatus",
    "ReportDue",
    "ReportStatus",
    "RuleInWords",
    "Shown",
    "StatedEntry",
    "Status",
    "Submitted",
    "TimelinePoint",
    "TreatyRecord",
    "TreatyStats",
    "Withdrawal",
    "check_claim",
    "claim_differs",
    "current_actions",
    "current_participations",
    "date_in_words",
    "delay_in_words",
    "display_name",
    "number_in_words",
    "ordinal_in_words",
    "participant_status",
    "participant_statuses",
    "report_kind_recorded",
    "reports_due",
    "rules_in_words",
    "rules_sentence",
    "stated_rules",
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
# Which date a treaty's entry into force is: computed from the deposits, or the one the depositary states.
Shown = Literal["computed", "stated"]
# A report a participant submitted: (kind, period, submitted on).
Submitted = tuple[str, str, date]
# The treaty's dates a participant's in-force date rests on, as known on a day: (the treaty's entry into force, the
# last deposit counted among those that brought it into force); both None while unknown.
_TreatyDates = tuple[date | None, date | None]

_UNKNOWN_RULE = "the registry does not know the treaty's rule of entry into force"
_NOT_IN_FORCE = "the depositary states that the treaty is not yet in force"
_NOT_STATED = "the condition is not a count of instruments and the depositary's date is not recorded"
_NO_WITHDRAWAL = "the treaty provides for no withdrawal"


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
class StatedEntry:
    """The treaty's own entry into force as a depositary notification states it (`treaty.entered_into_force`)."""

    date: dt.date
    notification: str | None = None
    article: str | None = None


@dataclass(frozen=True, slots=True)
class Consent:
    """The binding act a participant's status rests on."""

    action: str
    date: dt.date


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A withdrawal deposited on `date`, taking effect on `effective_on`: the date its event states (`stated_on`),
    else the rules' (`rule_on`); None when neither says. `provided_for` is False when the treaty provides for no
    withdrawal: only a stated date makes it effective then."""

    date: dt.date
    effective_on: dt.date | None
    stated_on: dt.date | None = None
    rule_on: dt.date | None = None
    provided_for: bool = True


@dataclass(frozen=True, slots=True)
class ParticipantStatus:
    """A participant's standing in a treaty on a given day.

    For a withdrawn participant, `consent` and `in_force_on` describe the participation the
    withdrawal ended; `withdrawal` is the pending (party) or effective (withdrawn) one. `in_force_on` is
    always the rules' date; `stated_in_force_on` is the one the consent's event states, and `warnings` say
    where the event and the rules disagree.
    """

    status: Status
    consent: Consent | None
    signature: date | None
    in_force_on: date | None
    in_force: bool
    withdrawal: Withdrawal | None
    actions: tuple[ActionRecord, ...]
    stated_in_force_on: date | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EntryIntoForceDates:
    """A treaty's entry into force and where it comes from.

    `on` is the date the registry uses: `computed` from the deposits when the rule is a count, else the
    depositary's `stated` date; `shown` says which. `decisive` is the instrument the count was reached with,
    `known_from` the first day the record shows the date, `reason` why `on` is None, and `warnings` where the
    record and the depositary disagree.
    """

    on: date | None
    computed: date | None = None
    stated: date | None = None
    shown: Shown | None = None
    decisive: date | None = None
    known_from: date | None = None
    reason: str | None = None
    warnings: tuple[str, ...] = ()


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


def _announced(records: Sequence[ActionRecord], correction: ActionRecord, reference: str) -> set[str]:
    """The ids of the acts among `records` (the correction's participant's) that notification `reference` announced:
    those of the correction's action when there are such, else all."""
    named = [r for r in records if r.notification == reference and r.event_id != correction.event_id]
    same_act = [r for r in named if r.action == correction.action]
    return {r.event_id for r in same_act or named}


def _corrected(groups: Sequence[Sequence[ActionRecord]]) -> set[str]:
    """The event ids the corrections in `groups` (each one participant's records) replace.

    The id a correction's `corrects` names where a record of any group has it; else, for a notification's id
    (`cn:<reference>`), the acts of the correction's own participant recorded with that notification: an act that
    came from elsewhere (a UNTC file, an event sent directly) under an id of its own.
    """
    ids = {r.event_id for records in groups for r in records}
    gone: set[str] = set()
    for records in groups:
        for record in records:
            corrects = record.corrects
            if corrects is None or corrects == record.event_id:
                continue
            reference = notification_reference(corrects)
            if corrects in ids or reference is None:
                gone.add(corrects)
            else:
                gone |= _announced(records, record, reference)
    return gone


def current_actions(records: Iterable[ActionRecord], corrected: AbstractSet[str] = frozenset()) -> list[ActionRecord]:
    """The records still true, in (date, action order, event id) order.

    A record another record's `corrects` names (or listed in `corrected`) is dropped, so a chain
    keeps only its last link; of several records with one event id, the first in that order is kept.
    """
    distinct = _distinct(records)
    gone = corrected | _corrected([distinct])
    return [r for r in distinct if r.event_id not in gone]


def current_participations(participations: Mapping[str, Sequence[ActionRecord]]) -> dict[str, list[ActionRecord]]:
    """Every participant's current actions, with corrections applied across the whole treaty.

    A correction filed under another participant (the depositary named the wrong State) removes the
    record it names wherever that record is.
    """
    distinct = {key: _distinct(records) for key, records in participations.items()}
    corrected = _corrected(list(distinct.values()))
    return {key: [r for r in records if r.event_id not in corrected] for key, records in distinct.items()}


def display_name(records: Iterable[ActionRecord]) -> str | None:
    """The participant's name as the latest dated record that gives one spells it (None if none does)."""
    named = [r for r in _distinct(records) if r.participant_name]
    return named[-1].participant_name if named else None


# The treaty's entry into force


def _with_notified(rule: EntryIntoForce, notified: StatedEntry | None) -> EntryIntoForce:
    """The rule with the date a notification states as its stated date, where it states none (a statement that the
    treaty is not yet in force is then past)."""
    if notified is None or rule.stated_date is not None:
        return rule
    return rule.model_copy(update={"stated_date": notified.date, "in_force": None})


def stated_rules(rules: TreatyRules | None, notified: StatedEntry | None) -> TreatyRules | None:
    """The rules with the date a notification states for the treaty's entry into force as their stated date, where
    their rule of entry into force states none."""
    rule = rules.entry_into_force if rules is not None else None
    if rules is None or rule is None or (stated := _with_notified(rule, notified)) is rule:
        return rules
    return rules.model_copy(update={"entry_into_force": stated})


def _notified_warnings(rule: EntryIntoForce, notified: StatedEntry | None) -> tuple[str, ...]:
    """A notification's date of entry into force that differs from the one the rules already state."""
    if notified is None or rule.stated_date is None or rule.stated_date == notified.date:
        return ()
    by = f"notification {notified.notification}" if notified.notification else "a notification"
    return (f"the rules state {rule.stated_date} for the entry into force, {by} states {notified.date}",)


def treaty_entry_into_force(
    firsts: Mapping[str, date], rules: TreatyRules | None, notified: StatedEntry | None = None
) -> EntryIntoForceDates:
    """The treaty's entry into force from each participant's first binding instrument (keyed by participant).

    Computed from the deposits when the rule is a count, the depositary's date when it is not; with the
    reason when there is none, and a warning wherever the record and the depositary disagree. `notified` is
    the date a depositary notification states: the rules' stated date where they state none, and where the rule is
    unknown the date shown.
    """
    rule = rules.entry_into_force if rules is not None else None
    if rule is None:
        if notified is None:
            return EntryIntoForceDates(None, reason=_UNKNOWN_RULE)
        return EntryIntoForceDates(notified.date, stated=notified.date, shown="stated", known_from=notified.date)
    warnings = _notified_warnings(rule, notified)
    rule = _with_notified(rule, notified)
    entry = _stated_entry(rule) if not rule.computable else _computed_entry(rule, firsts)
    return replace(entry, warnings=(*entry.warnings, *warnings)) if warnings else entry


def _stated_entry(rule: EntryIntoForce) -> EntryIntoForceDates:
    """A condition that is not a count: the depositary's date, from that date on, or why there is none."""
    stated = rule.stated_date
    if stated is not None:
        return EntryIntoForceDates(stated, stated=stated, shown="stated", known_from=stated)
    return EntryIntoForceDates(None, reason=_NOT_IN_FORCE if rule.in_force is False else _NOT_STATED)


def _computed_entry(rule: EntryIntoForce, firsts: Mapping[str, date]) -> EntryIntoForceDates:
    """A count: the date the deposits give, known from the decisive deposit, checked against the depositary's."""
    states: list[date] = []
    organisations: list[date] = []
    for key, day in firsts.items():
        (organisations if is_organisation(key) else states).append(day)
    decisive = rule.decisive_date(states, organisations)
    computed = None if decisive is None else rule.date_from(decisive)
    stated = rule.stated_date
    if decisive is None or computed is None:
        counted = len(states) + (len(organisations) if rule.count_organisations else 0)
        reason = f"{counted} of the {rule.instruments} binding instruments the rule counts are recorded"
        warnings = () if stated is None else (f"the depositary states {stated}, but {reason}",)
        return EntryIntoForceDates(None, stated=stated, reason=reason, warnings=warnings)
    said = f"computed {computed} from the deposits recorded, the depositary states"
    if rule.in_force is False:
        warnings = (f"{said} that the treaty is not yet in force",)
    else:
        warnings = () if stated in (None, computed) else (f"{said} {stated}",)
    return EntryIntoForceDates(computed, computed, stated, "computed", decisive, decisive, warnings=warnings)


def _last_original(entry: EntryIntoForceDates, rules: TreatyRules | None) -> date | None:
    """The last deposit counted among those that brought the treaty into force.

    For a computed date, the decisive instrument. For a stated one there is none on the record: a participant
    counts when the rule's delay from its deposit ends by that date (the Kyoto Protocol's ninety days from the
    Russian Federation's ratification of 18 November 2004).
    """
    rule = rules.entry_into_force if rules is not None else None
    if entry.shown != "stated" or entry.on is None or rule is None:
        return entry.decisive
    return _latest_start(rule.delay or Delay(), entry.on)


def _latest_start(delay: Delay, end: date) -> date:
    """The latest day from which `delay` ends by `end`, found by bisection: a later start never ends earlier."""
    # `low` qualifies (the delay spans at most 31 days a month and a month for an anchor); `high` cannot.
    low = end - timedelta(days=31 * delay.months + delay.days + 62)
    high = end + timedelta(days=31)
    while (high - low).days > 1:
        middle = low + (high - low) // 2
        if delay.apply(middle) <= end:
            low = middle
        else:
            high = middle
    return low


def _known_on(entry: EntryIntoForceDates, last_original: date | None, as_of: date) -> _TreatyDates:
    """The treaty's dates as the record shows them on `as_of`: none before the entry into force is known."""
    if entry.known_from is None or entry.known_from > as_of:
        return None, None
    return entry.on, last_original


def _in_force_knowable(rules: TreatyRules | None) -> bool:
    """Whether the rules can tell how many parties are in force: a count, or a date (or "not in force") stated."""
    rule = rules.entry_into_force if rules is not None else None
    return rule is not None and (rule.computable or rule.stated_date is not None or rule.in_force is False)


def _first_binding_date(acts: Sequence[ActionRecord], as_of: date) -> date | None:
    return next((a.date for a in acts if a.action in BINDING_ACTIONS and a.date <= as_of), None)


def _treaty_dates(
    currents: Mapping[str, Sequence[ActionRecord]], rules: TreatyRules | None, as_of: date, notified: StatedEntry | None
) -> _TreatyDates:
    """The treaty's dates on `as_of`, from the acts deposited by then."""
    firsts = {key: _first_binding_date(acts, as_of) for key, acts in currents.items()}
    entry = treaty_entry_into_force({key: day for key, day in firsts.items() if day is not None}, rules, notified)
    return _known_on(entry, _last_original(entry, stated_rules(rules, notified)), as_of)


# A participant's status


def _in_force_on(
    consent_date: date,
    rules: TreatyRules | None,
    treaty_in_force_on: date | None,
    last_original: date | None,
) -> date | None:
    if rules is None or treaty_in_force_on is None or last_original is None:
        return None
    if consent_date <= last_original:
        return treaty_in_force_on
    if rules.later_participants is None:
        return None
    return max(rules.later_participants.apply(consent_date), treaty_in_force_on)


def _withdrawal(record: ActionRecord, rules: TreatyRules | None) -> Withdrawal:
    """The withdrawal `record` deposits: effective on the date its event states, else on the rules' date."""
    rule_on = rules.withdrawal.apply(record.date) if rules is not None and rules.withdrawal is not None else None
    terms = rules.withdrawal_terms if rules is not None else None
    stated_on = record.effective_date
    effective_on = stated_on if stated_on is not None else rule_on
    return Withdrawal(record.date, effective_on, stated_on, rule_on, terms is None or terms.allowed)


def _stating(record: ActionRecord) -> str:
    """Who states a date: the depositary notification the event cites, or the event itself."""
    return f"notification {record.notification}" if record.notification else "the event"


def _withdrawal_warnings(record: ActionRecord, withdrawal: Withdrawal, rules: TreatyRules | None) -> list[str]:
    """A withdrawal the treaty does not provide for, and a stated date the rules do not give."""
    stated, rule_on = withdrawal.stated_on, withdrawal.rule_on
    terms = rules.withdrawal_terms if rules is not None else None
    if not withdrawal.provided_for and terms is not None:
        flagged = f"{_NO_WITHDRAWAL} ({terms.source}): the withdrawal"
        if stated is None:
            return [f"{flagged} is recorded, not effective"]
        return [f"{flagged} takes effect only because {_stating(record)} states {stated}"]
    if stated is not None and rule_on is not None and stated != rule_on:
        return [f"withdrawal effective on {rule_on} by the rules; {_stating(record)} states {stated}"]
    return []


def _consent_warnings(consent: ActionRecord, in_force_on: date | None) -> list[str]:
    """An in-force date the consent's event states that the rules do not give."""
    stated = consent.effective_date
    if stated is None or in_force_on is None or stated == in_force_on:
        return []
    return [f"in force on {in_force_on} by the rules; {_stating(consent)} states {stated}"]


@dataclass(slots=True)
class _Period:
    """One stretch of being bound: from a binding act until its withdrawal takes effect."""

    consent: ActionRecord
    withdrawal: Withdrawal | None = None
    withdrawn_by: ActionRecord | None = None


def _read_acts(
    acts: Sequence[ActionRecord], rules: TreatyRules | None
) -> tuple[date | None, list[_Period], ActionRecord | None]:
    """(first signature, the periods of being bound, a withdrawal deposited before any binding act), in act order."""
    signature: date | None = None
    periods: list[_Period] = []
    orphan_withdrawal: ActionRecord | None = None
    for act in acts:
        if act.action == "signature":
            signature = signature or act.date
        elif act.action in BINDING_ACTIONS:
            # A further binding act while bound changes nothing; after a withdrawal it re-joins.
            if not periods or periods[-1].withdrawal is not None:
                periods.append(_Period(act))
        elif act.action == "withdrawal":
            if periods and periods[-1].withdrawal is None:
                periods[-1].withdrawal, periods[-1].withdrawn_by = _withdrawal(act, rules), act
            elif not periods:
                orphan_withdrawal = act
    return signature, periods, orphan_withdrawal


def _ended(withdrawal: Withdrawal | None, as_of: date) -> bool:
    return withdrawal is not None and withdrawal.effective_on is not None and withdrawal.effective_on <= as_of


def _bound(
    status: Status,
    period: _Period,
    signature: date | None,
    visible: tuple[ActionRecord, ...],
    as_of: date,
    rules: TreatyRules | None,
    treaty: _TreatyDates,
) -> ParticipantStatus:
    """The status of a participant bound by `period`'s consent (still, or until its withdrawal took effect)."""
    consent = period.consent
    in_force_on = _in_force_on(consent.date, rules, *treaty)
    warnings = _consent_warnings(consent, in_force_on)
    if period.withdrawal is not None and period.withdrawn_by is not None:
        warnings += _withdrawal_warnings(period.withdrawn_by, period.withdrawal, rules)
    return ParticipantStatus(
        status=status,
        consent=Consent(consent.action, consent.date),
        signature=signature,
        in_force_on=in_force_on,
        in_force=status == "party" and in_force_on is not None and in_force_on <= as_of,
        withdrawal=period.withdrawal,
        actions=visible,
        stated_in_force_on=consent.effective_date,
        warnings=tuple(warnings),
    )


def _status(
    acts: Sequence[ActionRecord], as_of: date, rules: TreatyRules | None, treaty: _TreatyDates
) -> ParticipantStatus | None:
    """`participant_status` over acts already reduced by `current_actions`."""
    visible = tuple(a for a in acts if a.date <= as_of)
    signature, periods, orphan = _read_acts(visible, rules)
    # A re-joining instrument may be deposited before the withdrawal takes effect: the earlier
    # participation stays the one in effect until then.
    active = [p for p in periods if not _ended(p.withdrawal, as_of)]
    if active:
        return _bound("party", active[0], signature, visible, as_of, rules, treaty)
    if periods:
        return _bound("withdrawn", periods[-1], signature, visible, as_of, rules, treaty)
    if orphan is not None:
        withdrawal = _withdrawal(orphan, rules)
        if _ended(withdrawal, as_of):
            warnings = tuple(_withdrawal_warnings(orphan, withdrawal, rules))
            return ParticipantStatus("withdrawn", None, signature, None, False, withdrawal, visible, warnings=warnings)
    if signature is not None:
        return ParticipantStatus("signatory", None, signature, None, False, None, visible)
    return None


def participant_status(
    records: Iterable[ActionRecord],
    as_of: date,
    rules: TreatyRules | None,
    treaty_in_force_on: date | None,
    nth_instrument_date: date | None,
) -> ParticipantStatus | None:
    """A participant's status on `as_of`; None when it had not signed, bound itself or withdrawn by then.

    `in_force_on` needs the rules, the treaty's entry into force and the last deposit counted among those that
    brought it into force (the decisive instrument when the date is computed).
    """
    return _status(current_actions(records), as_of, rules, (treaty_in_force_on, nth_instrument_date))


def participant_statuses(
    participations: Mapping[str, Sequence[ActionRecord]],
    rules: TreatyRules | None,
    as_of: date,
    notified: StatedEntry | None = None,
) -> dict[str, ParticipantStatus]:
    """Every participant's status on `as_of`, keyed as given; participants without a status are left out.

    `notified`: the treaty's entry into force as a notification states it (see `treaty_entry_into_force`).
    """
    currents = current_participations(participations)
    treaty = _treaty_dates(currents, rules, as_of, notified)
    statuses = {key: _status(acts, as_of, rules, treaty) for key, acts in currents.items()}
    return {key: status for key, status in statuses.items() if status is not None}


# A treaty's counts


def _in_force_flags(status: ParticipantStatus | None, treaty_in_force_on: date | None) -> tuple[int, int]:
    """(in force, in force unknown) for one participant: unknown when party but its date is not known."""
    if status is None or status.status != "party":
        return 0, 0
    if status.in_force_on is None:
        return 0, int(treaty_in_force_on is not None)
    return int(status.in_force), 0


def treaty_stats(
    participations: Mapping[str, Sequence[ActionRecord]],
    rules: TreatyRules | None,
    as_of: date,
    notified: StatedEntry | None = None,
) -> TreatyStats:
    """A treaty's counts on `as_of`; `in_force` is None when the rules cannot tell."""
    currents = current_participations(participations)
    treaty = _treaty_dates(currents, rules, as_of, notified)
    counts = {"party": 0, "signatory": 0, "withdrawn": 0}
    in_force = unknown = 0
    for acts in currents.values():
        status = _status(acts, as_of, rules, treaty)
        if status is not None:
            counts[status.status] += 1
        known, not_known = _in_force_flags(status, treaty[0])
        in_force += known
        unknown += not_known
    return TreatyStats(
        parties=counts["party"],
        in_force=in_force if _in_force_knowable(stated_rules(rules, notified)) and not unknown else None,
        signatories=counts["signatory"],
        withdrawn=counts["withdrawn"],
        entry_into_force=treaty[0],
    )


def _change_dates(acts: Sequence[ActionRecord], rules: TreatyRules | None, treaty: _TreatyDates) -> set[date]:
    dates = {a.date for a in acts}
    for act in acts:
        if act.action == "withdrawal":
            effective_on = _withdrawal(act, rules).effective_on
            if effective_on is not None:
                dates.add(effective_on)
        elif act.action in BINDING_ACTIONS:
            in_force_on = _in_force_on(act.date, rules, *treaty)
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

    The entry into force and everything else the rules give are derived here, once. Each participant's
    status is a step function of `as_of` that changes only on its own dates (acts, withdrawals taking
    effect, entry into force for it) and on the day the treaty's entry into force becomes known; it is
    computed at those dates and looked up by bisection. Every answer equals the one of
    `participant_statuses` and `treaty_stats` for the same records and `notified` date. `rules` are the rules
    applied: with the notified date as their stated date where they state none.
    """

    def __init__(
        self,
        participations: Mapping[str, Sequence[ActionRecord]],
        rules: TreatyRules | None,
        notified: StatedEntry | None = None,
    ) -> None:
        self.rules = stated_rules(rules, notified)
        self.notified = notified
        distinct = {key: _distinct(records) for key, records in participations.items()}
        corrected = _corrected(list(distinct.values()))
        self.currents = {key: [r for r in rs if r.event_id not in corrected] for key, rs in distinct.items()}
        # Records a later correction replaced, kept for the history.
        self.superseded = {key: [r for r in rs if r.event_id in corrected] for key, rs in distinct.items()}
        self.names = {key: display_name(rs) for key, rs in distinct.items()}
        firsts = {key: _first_binding_date(acts, date.max) for key, acts in self.currents.items()}
        self.entry = treaty_entry_into_force(
            {key: day for key, day in firsts.items() if day is not None}, rules, notified
        )
        self._last_original = _last_original(self.entry, self.rules)
        self._in_force_knowable = _in_force_knowable(self.rules)
        self._steps = {key: self._participant_steps(acts) for key, acts in self.currents.items()}
        self._history = self._stats_history()

    def _treaty_dates(self, as_of: date) -> _TreatyDates:
        """(treaty in force on, last original deposit) as known on `as_of`: both None before it is known."""
        return _known_on(self.entry, self._last_original, as_of)

    @property
    def entry_into_force(self) -> date | None:
        """The treaty's entry into force on the whole record; None if unknown or not reached."""
        return self.entry.on

    def _participant_steps(self, acts: Sequence[ActionRecord]) -> tuple[list[date], list[ParticipantStatus | None]]:
        days = _change_dates(acts, self.rules, (self.entry.on, self._last_original))
        if self.entry.known_from is not None:
            days.add(self.entry.known_from)
        ordered = sorted(days)
        return ordered, [_status(acts, day, self.rules, self._treaty_dates(day)) for day in ordered]

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
        if self.entry.known_from is not None:
            # The entry into force becomes known on its day, whatever the counts do.
            deltas.setdefault(self.entry.known_from, [0] * 5)
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
            in_force=in_force if self._in_force_knowable and not unknown else None,
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
        last: tuple[int, int | None] = (0, 0 if self._in_force_knowable else None)
        for day, stats in zip(*self._history, strict=True):
            counts = (stats.parties, stats.in_force)
            if counts != last:
                points.append(TimelinePoint(day, *counts))
                last = counts
        return points


def timeline(
    participations: Mapping[str, Sequence[ActionRecord]],
    rules: TreatyRules | None,
    notified: StatedEntry | None = None,
) -> list[TimelinePoint]:
    """The counts over time: one point, ascending, per date on which `parties` or `in_force` changes.

    Each point equals `treaty_stats(..., as_of=point.date)`.
    """
    return TreatyRecord(participations, rules, notified).timeline()


# Reports and claims


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


# How far before a claim's day the record is read for why it differs: a resolution's text is drafted in committee
# weeks before the plenary adopts it, so an instrument deposited meanwhile is not counted in it, and a withdrawal
# that took effect in those weeks may still be.
DRAFTING_DAYS = 30
WITHDRAWAL_DAYS = 60


def _counted(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _deposited(statuses: Mapping[str, ParticipantStatus], as_of: date, days: int) -> int:
    """How many parties on `as_of` rest on an instrument deposited in the `days` days up to it."""
    since = as_of - timedelta(days=days)
    return sum(1 for s in statuses.values() if s.status == "party" and s.consent and since < s.consent.date <= as_of)


def _more_parties(statuses: Mapping[str, ParticipantStatus], as_of: date, when: str) -> str:
    """Why the record may count more parties than a claim: instruments deposited after its text was drafted."""
    deposits = _deposited(statuses, as_of, DRAFTING_DAYS)
    if not deposits:
        return f"not deposits between drafting and adoption: none in the {DRAFTING_DAYS} days before {when}"
    found = _counted(deposits, "instrument", "instruments")
    return f"deposits between drafting and adoption: {found} deposited in the {DRAFTING_DAYS} days before {when}"


def _fewer_parties(statuses: Mapping[str, ParticipantStatus], as_of: date, when: str) -> str:
    """Why the record may count fewer parties than a claim: withdrawals its text still counts."""
    since = as_of - timedelta(days=WITHDRAWAL_DAYS)
    withdrawn = [s.withdrawal.effective_on for s in statuses.values() if s.status == "withdrawn" and s.withdrawal]
    recent = sum(1 for day in withdrawn if day is not None and day > since)
    deposited = _counted(_deposited(statuses, as_of, WITHDRAWAL_DAYS), "instrument", "instruments")
    if not withdrawn:
        return (
            f"not withdrawals: none had taken effect by then; {deposited} deposited in the {WITHDRAWAL_DAYS} days "
            f"before {when}"
        )
    return (
        f"withdrawals: {_counted(len(withdrawn), 'withdrawal', 'withdrawals')} had taken effect by then, {recent} of "
        f"them in the {WITHDRAWAL_DAYS} days before {when}; {deposited} deposited in those days"
    )


def _when_counted(record: TreatyRecord, claimed: int, as_of: date) -> str | None:
    """When the record counted `claimed` parties: the last time up to `as_of`, else the first time after it."""
    points = record.timeline()
    runs: list[tuple[date, date | None]] = []
    for index, point in enumerate(points):
        if point.parties == claimed and (index == 0 or points[index - 1].parties != claimed):
            until = next((p.date for p in points[index + 1 :] if p.parties != claimed), None)
            runs.append((point.date, until))
    before = [run for run in runs if run[0] <= as_of]
    if before:
        start, until = before[-1]
        return f"it counted {claimed} from {start}" + (f" until {until}" if until else "")
    return f"it reaches {claimed} on {runs[0][0]}" if runs else None


def _parties_differ(record: TreatyRecord, claimed: int, as_of: date, when: str) -> str:
    statuses = record.statuses(as_of)
    difference = record.stats(as_of).parties - claimed
    cause = (_more_parties if difference > 0 else _fewer_parties)(statuses, as_of, when)
    gap = _counted(abs(difference), "party", "parties") + (" more" if difference > 0 else " fewer")
    counted = _when_counted(record, claimed, as_of)
    return f"{cause}; the record counts {gap} than claimed" + (f", and {counted}" if counted else "")


def claim_differs(record: TreatyRecord, kind: str, claimed: int | str, as_of: date, adopted_on: date) -> str | None:
    """What the record shows around a claim's day that may explain why it contradicts the claim, in words; None
    when it does not contradict it.

    A count of parties below the record's: the instruments deposited in the weeks between drafting and adoption. A
    count above it: the withdrawals that had taken effect (those of the weeks before above all), and the deposits
    of those weeks. Either way, when the record counted the claimed number. An entry into force: the record's date
    and where it comes from.
    """
    stats = record.stats(as_of)
    when = "adoption" if as_of == adopted_on else str(as_of)
    if kind == "parties_count":
        if isinstance(claimed, int) and stats.parties != claimed:
            return _parties_differ(record, claimed, as_of, when)
        return None
    check = check_claim(kind, claimed, "", stats)
    if check.verified is not False or stats.entry_into_force is None:
        return None
    source = "as the depositary states" if record.entry.shown == "stated" else "computed from the deposits recorded"
    return f"the record has the treaty in force from {stats.entry_into_force} ({source})"


# The rules in words

_UNITS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_IRREGULAR_ORDINALS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


@dataclass(frozen=True, slots=True)
class RuleInWords:
    """One rule in words: `rule` names its field in `TreatyRules`, `source` where the treaty says it."""

    rule: str
    words: str
    source: str | None = None


def number_in_words(n: int) -> str:
    """A number as the final clauses write it: words up to 999 ("one hundred and twenty"), digits beyond."""
    if not 0 <= n < 1000:
        return str(n)
    if n < 20:
        return _UNITS[n]
    if n < 100:
        tens, units = divmod(n, 10)
        return _TENS[tens] + (f"-{_UNITS[units]}" if units else "")
    hundreds, rest = divmod(n, 100)
    words = f"{_UNITS[hundreds]} hundred"
    return f"{words} and {number_in_words(rest)}" if rest else words


def ordinal_in_words(n: int) -> str:
    """An ordinal in words up to 999 ("thirty-fifth", "one hundred and twentieth"), digits beyond ("1001st")."""
    if not 0 < n < 1000:
        suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"
    words = number_in_words(n)
    # Only the last word turns ordinal: "twenty-two" gives "twenty-second".
    cut = max(words.rfind(" "), words.rfind("-")) + 1
    last = words[cut:]
    ordinal = _IRREGULAR_ORDINALS.get(last) or (f"{last[:-1]}ieth" if last.endswith("y") else f"{last}th")
    return words[:cut] + ordinal


def date_in_words(day: date) -> str:
    """A date as prose writes it: "23 March 1976"."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def _count(n: int, unit: str) -> str:
    return f"{number_in_words(n)} {unit}{'' if n == 1 else 's'}"


def _period(months: int, days: int) -> str:
    """A length of time: whole years read as years ("one year"), then months, then days."""
    parts = []
    if months:
        parts.append(_count(months // 12, "year") if months % 12 == 0 else _count(months, "month"))
    if days:
        parts.append(_count(days, "day"))
    return " and ".join(parts)


def _after(months: int, days: int, subject: str, on_the_day: bool) -> str:
    """The end of a period from `subject`: a day ("the thirtieth day after X") or a period ("thirty days after X")."""
    if not months and not days:
        return f"the day of {subject}"
    if on_the_day and days and not months:
        return f"the {ordinal_in_words(days)} day after {subject}"
    return f"{_period(months, days)} after {subject}"


def delay_in_words(delay: Delay, subject: str, *, on_the_day: bool = False) -> str:
    """When `delay` counted from `subject` ends, in words ("three months after X").

    With `on_the_day`, a delay in days reads as a treaty's own entry-into-force clause writes it ("on the
    thirtieth day after X"); without, as a period ("thirty days after X").
    """
    if delay.anchor == "first_day_of_month":
        month = f"the {ordinal_in_words(delay.months)} month after the month" if delay.months else "the month"
        phrase = f"the first day of {month} of {subject}"
        if delay.days:
            phrase = _after(0, delay.days, phrase, on_the_day)
    else:
        phrase = _after(delay.months, delay.days, subject, on_the_day)
        if delay.anchor == "first_day_of_next_month":
            phrase = f"the first day of the month following {phrase}"
    # A phrase that names a day takes "on"; a period does not.
    return f"on {phrase}" if phrase.startswith("the ") else phrase


def _clause(text: str) -> str:
    """A description as part of a sentence: no final full stop, its first word lower-cased unless it is an
    acronym or a number."""
    text = text.strip().removesuffix(".")
    first = text.split(" ", 1)[0]
    if first[:1].isupper() and first[1:] == first[1:].lower():
        return text[:1].lower() + text[1:]
    return text


def _entry_words(rule: EntryIntoForce) -> str:
    instruments, delay = rule.instruments, rule.delay
    if not rule.computable or instruments is None or delay is None:
        return f"in force on a condition the registry does not compute: {_clause(rule.description or '')}"
    words = delay_in_words(delay, f"the {ordinal_in_words(instruments)} instrument", on_the_day=True)
    if rule.fixed_date is not None:
        deposited = "is deposited" if instruments == 1 else "are deposited"
        when = date_in_words(rule.fixed_date)
        words = f"on {when} if {_count(instruments, 'instrument')} {deposited} by then, otherwise {words}"
    if not rule.count_organisations:
        words += ", organisations' instruments not counted"
    if rule.not_before is not None:
        words += f", and not before {date_in_words(rule.not_before)}"
    return f"in force {words}"


def _terms_words(terms: WithdrawalTerms) -> str:
    if not terms.allowed:
        return _NO_WITHDRAWAL
    return f"withdrawal on terms the registry does not compute: {_clause(terms.description)}"


def _reporting_words(reporting: Reporting) -> str:
    month, day = (int(part) for part in reporting.annual_due.split("-"))
    return (
        f"an initial report within {_count(reporting.initial_within_days, 'day')} of entry into force for the party, "
        f"then each year by {day} {MONTH_NAMES[month - 1]} a report on the year before"
    )


def rules_in_words(rules: TreatyRules | None) -> list[RuleInWords]:
    """Each rule the registry knows, in words, with its source: entry into force, later participants, withdrawal
    (or its terms), reporting. Empty when none is known."""
    if rules is None:
        return []
    parts: list[RuleInWords] = []
    if (entry := rules.entry_into_force) is not None:
        parts.append(RuleInWords("entry_into_force", _entry_words(entry), entry.source))
    if (later := rules.later_participants) is not None:
        words = f"for later participants {delay_in_words(later, 'their own deposit')}"
        parts.append(RuleInWords("later_participants", words, later.source))
    if (notice := rules.withdrawal) is not None:
        words = f"withdrawal takes effect {delay_in_words(notice, 'notification')}"
        parts.append(RuleInWords("withdrawal", words, notice.source))
    if (terms := rules.withdrawal_terms) is not None:
        parts.append(RuleInWords("withdrawal_terms", _terms_words(terms), terms.source))
    if (reporting := rules.reporting) is not None:
        parts.append(RuleInWords("reporting", _reporting_words(reporting), reporting.source))
    return parts


def rules_sentence(parts: Sequence[RuleInWords]) -> str | None:
    """The rules in words as one sentence, each with its source in brackets; None when there are none."""
    if not parts:
        return None
    text = "; ".join(f"{p.words} ({p.source})" if p.source else p.words for p in parts)
    return text[:1].upper() + text[1:]

"""The registry's answers: pydantic models that are its HTTP contract, each an allow-list of what a route shows.

A field declared `Omitted[...]` is left out of the JSON when it is None. The routes that answer stored documents
also leave out what was never set (`response_model_exclude_unset`): the contract's models nested in a document
(`TreatyRules`, `Recall`, ...) keep no key for an absent value, as the document does not.

A participant's status and actions are TypedDicts, built by the functions at the end: a treaty's list of
participants is long, and plain dicts cost less to build and to collect than model instances, while the
serializer still writes only their declared keys (a key left out of the dict is left out of the JSON).
"""

from __future__ import annotations

import datetime as dt
import operator
from functools import partial
from typing import Annotated, Any, Literal, NotRequired, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from typing_extensions import TypedDict

from treatywatch.common.events import Adopted, Footnote, MeetingRef, Paragraph, Preamble, Recall, TreatyRef, Unts
from treatywatch.common.rules import Reporting, TreatyRules
from treatywatch.registry import domain
from treatywatch.registry.domain import ReportStatus, Status
from treatywatch.registry.service import Listed, Standing
from treatywatch.registry.service import Owed as OwedReports
from treatywatch.registry.store import TreatyView

T = TypeVar("T")
# A C function, not a lambda: it runs for every optional field of every item of a list.
_is_none = partial(operator.is_, None)
Omitted = Annotated[T | None, Field(exclude_if=_is_none)]
# Written by `datetime.isoformat` ("+00:00" rather than pydantic's "Z"), as `applied_at` always was.
Timestamp = Annotated[dt.datetime, PlainSerializer(dt.datetime.isoformat, return_type=str)]
# Every paginated list: pass it as `after` for the next page.
Next = Annotated[str | None, Field(description="The `after` of the next page; null on the last")]


class Answer(BaseModel):
    """Base of the answers: validated from dicts, stored documents or the domain's objects (their attributes)."""

    model_config = ConfigDict(from_attributes=True, extra="ignore")


class TreatyTitles(Answer):
    treaty_id: str
    title: Omitted[str] = None
    short_title: Omitted[str] = None


class Treaty(TreatyTitles):
    """A treaty as its `treaty.registered` event gave it; `registered_by` is that event's id."""

    adopted: Omitted[Adopted] = None
    unts: Omitted[Unts] = None
    depositary: Omitted[str] = None
    url: Omitted[str] = None
    rules: Omitted[TreatyRules] = None
    registered_by: Omitted[str] = None


class Treaties(Answer):
    items: list[Treaty]
    count: int
    next: Next = None


class EntryIntoForceDates(Answer):
    """Where `entry_into_force` comes from: the date `computed` from the deposits recorded and the rule, the date the
    depositary `stated`, which one is `shown`, and the `reason` when none is."""

    computed: dt.date | None
    stated: dt.date | None
    shown: Literal["computed", "stated"] | None
    reason: str | None


class NotifiedEntry(Answer):
    """The treaty's entry into force as a depositary notification states it (`treaty.entered_into_force`)."""

    date: dt.date
    notification: Omitted[str] = None
    article: Omitted[str] = None


class RuleInWords(Answer):
    """One rule in words: `rule` names its field in `rules`, `source` where the treaty says it."""

    rule: str
    words: str
    source: Omitted[str] = None


class TreatyDetail(Treaty):
    """A treaty, registered or only acted on: its entry into force (null if unknown or not reached) and where that
    date comes from, its rules in words, the warnings where the record and the depositary disagree, and how many
    have acted on it."""

    registered: bool
    entry_into_force: dt.date | None
    entry_into_force_dates: EntryIntoForceDates
    rules_in_words: str | None = Field(description="Every rule known, in one sentence with sources; null if none")
    rules_explained: list[RuleInWords]
    warnings: list[str]
    participants: int
    stated_entry_into_force: Omitted[NotifiedEntry] = Field(
        default=None,
        description="The entry into force a depositary notification states; the stated date where the rules state none",
    )


class Stats(Answer):
    """A treaty's counts on a day; `in_force` is null when its rules cannot tell."""

    treaty_id: str
    as_of: dt.date
    parties: int
    in_force: int | None
    signatories: int
    withdrawn: int
    entry_into_force: dt.date | None


class TimelinePoint(Answer):
    date: dt.date
    parties: int
    in_force: int | None


class Timeline(Answer):
    treaty_id: str
    entry_into_force: dt.date | None
    points: list[TimelinePoint]


class Action(TypedDict):
    """A recorded treaty action."""

    event_id: str
    action: str
    date: dt.date
    effective_date: NotRequired[dt.date]
    notification: NotRequired[str]
    corrects: NotRequired[str]
    text: NotRequired[str]


class Consent(TypedDict):
    """The binding act a participant's status rests on."""

    action: str
    date: dt.date


class Withdrawal(TypedDict):
    """A withdrawal: `effective_on` is the date it takes effect on the record (the stated one, else the rule's);
    `stated_effective_on` and `rule_effective_on` are the two when known; `provided_for` is false when the treaty
    provides for no withdrawal."""

    date: dt.date
    effective_on: NotRequired[dt.date]
    stated_effective_on: NotRequired[dt.date]
    rule_effective_on: NotRequired[dt.date]
    provided_for: NotRequired[bool]


class StatusFields(TypedDict):
    """A participant's status in a treaty on a day, and its actions by then: `in_force_on` is the date the rules
    give, `stated_in_force_on` the one its consent's event states; `warnings` where they disagree."""

    status: Status
    consent: Consent | None
    in_force_on: dt.date | None
    in_force: bool
    stated_in_force_on: NotRequired[dt.date]
    signature: NotRequired[dt.date]
    withdrawal: NotRequired[Withdrawal]
    warnings: NotRequired[list[str]]
    actions: list[Action]


class Participant(StatusFields):
    participant: str
    name: str


class Participants(Answer):
    treaty_id: str
    as_of: dt.date
    count: int
    items: list[Participant]
    next: Next = None


class TreatyStanding(TreatyTitles):
    """A participant's standing in one treaty on a day: with a null `status` (it has acted but holds none), the
    fields of a status are absent; `superseded` lists the actions a correction replaced."""

    name: str
    status: Status | None
    consent: Consent | None = None
    in_force_on: dt.date | None = None
    in_force: bool | None = None
    stated_in_force_on: Omitted[dt.date] = None
    signature: Omitted[dt.date] = None
    withdrawal: Omitted[Withdrawal] = None
    warnings: Omitted[list[str]] = None
    actions: list[Action]
    superseded: Omitted[list[Action]] = None


class ParticipantTreaties(Answer):
    participant: str
    as_of: dt.date
    items: list[TreatyStanding]
    count: int
    next: Next = None


class ParticipantDetail(Answer):
    """A participant, in how many treaties it has each status (of all it has acted on), and its standing in each
    treaty of the page."""

    participant: str
    name: str
    as_of: dt.date
    party: int
    signatory: int
    withdrawn: int
    count: int
    items: list[TreatyStanding]
    next: Next = None


class Meeting(Answer):
    treaty_id: str
    kind: str
    ordinal: int
    place: str
    start: dt.date
    end: dt.date
    report_symbol: Omitted[str] = None
    event_id: str


class Meetings(Answer):
    treaty_id: str
    count: int
    items: list[Meeting]
    next: Next = None


class Report(Answer):
    """One report due: `period` is "initial" or the year covered; "not_recorded" when none of its kind is."""

    period: str
    due_on: dt.date
    submitted_on: dt.date | None
    overdue: bool
    status: ReportStatus


class Owed(Answer):
    """The reports a party owes by a day; `recorded` is false when none of the rule's kind was ever recorded."""

    participant: str
    name: str
    in_force_on: dt.date
    reports: list[Report]
    overdue: list[str]
    recorded: bool
    due_count: int


class TreatyReports(Answer):
    """Each party's reports; with an unknown rule, `reporting` is null, `reason` says so and no count is given."""

    treaty_id: str
    as_of: dt.date
    reporting: Reporting | None
    reason: Omitted[str] = None
    recorded: Omitted[bool] = None
    count: Omitted[int] = None
    overdue_count: Omitted[int] = None
    due_count: Omitted[int] = None
    items: list[Owed]
    next: Next = None


class OwedInTreaty(Owed):
    treaty_id: str
    title: Omitted[str] = None
    short_title: Omitted[str] = None


class ParticipantReports(Answer):
    participant: str
    as_of: dt.date
    count: int
    overdue_count: int
    due_count: int
    items: list[OwedInTreaty]
    next: Next = None


class ParticipantName(Answer):
    participant: str
    name: str


class ResolutionTitle(Answer):
    symbol: str
    title: Omitted[str] = None
    adopted_on: Omitted[dt.date] = None


class SearchResults(Answer):
    """At most `limit` of each kind; `count` is of everything found."""

    query: str
    treaties: list[TreatyTitles]
    participants: list[ParticipantName]
    resolutions: list[ResolutionTitle]
    count: int
    next: Next = None


class ResolutionSummary(Answer):
    symbol: str
    session: int
    title: str
    adopted_on: dt.date
    agenda_item: Omitted[str] = None
    committee: Omitted[str] = None
    treaty: Omitted[TreatyRef] = None
    cites: list[str]


class Resolutions(Answer):
    items: list[ResolutionSummary]
    count: int
    next: str | None = Field(description="The `after` of the next page; null on the last")


class CheckedClaim(Answer):
    """A claim as the resolution makes it, checked: `verified` is null when it cannot be, and `reason` says why."""

    kind: str
    treaty_id: Omitted[str] = None
    value: int | str
    as_of: Omitted[dt.date] = None
    text: Omitted[str] = None
    verified: bool | None
    reason: Omitted[str] = None
    expected: Omitted[int | str] = None
    found: Omitted[int | str] = None


class TreatyClaim(Answer):
    """A claim a resolution makes about the treaty, beside the record's value on the claim's day."""

    symbol: str
    adopted_on: dt.date
    kind: str
    claimed: int | str = Field(description="The value the resolution states")
    as_of: dt.date = Field(description="The claim's day: the adoption, unless the claim names another")
    found: int | str | None = Field(description="The record's value on `as_of`; null when it cannot tell")
    verified: bool | None = Field(description="Whether the two agree; null when the claim cannot be checked")
    reason: str | None = Field(
        description="Why not verified: why it cannot be checked, or what the record shows that may explain the "
        "difference (deposits between drafting and adoption, withdrawals); null when verified"
    )
    text: str | None = Field(description="The resolution's words the claim was read from")


class TreatyClaims(Answer):
    treaty_id: str
    count: int
    items: list[TreatyClaim] = Field(description="Oldest resolution first, then by symbol and place in the text")
    next: Next = None


class Citation(Answer):
    """A resolution `depth` recalls away: for one the registry knows, its titles and what it recalls; for another,
    the date a citing resolution gives."""

    symbol: str
    depth: int
    known: bool
    title: Omitted[str] = None
    adopted_on: Omitted[dt.date] = None
    recalls: Omitted[list[str]] = None
    date: Omitted[dt.date] = None


class Resolution(Answer):
    """A resolution as its `resolution.adopted` event gave it (symbols canonical), its claims checked against the
    record, what it recalls as far as known (`citation_chain`) and what recalls it."""

    symbol: str
    session: int
    title: str
    adopted_on: dt.date
    issued_on: Omitted[dt.date] = None
    agenda_item: Omitted[str] = None
    committee: Omitted[str] = None
    report_symbol: Omitted[str] = None
    plenary_meeting: Omitted[int] = None
    plenary_date: Omitted[dt.date] = None
    recalls: list[Recall]
    treaty: Omitted[TreatyRef] = None
    meetings: list[MeetingRef]
    preamble: list[Preamble]
    paragraphs: list[Paragraph]
    footnotes: list[Footnote]
    cites: list[str]
    event_id: str
    claims: list[CheckedClaim]
    citation_chain: list[Citation]
    recalled_by: list[str]


class AuditEvent(Answer):
    """An applied event: its place in the audit trail, when it was applied, and the event as it was published."""

    seq: int
    applied_at: Timestamp
    specversion: str
    id: str
    source: str
    type: str
    time: dt.datetime
    subject: Omitted[str] = None
    datacontenttype: str
    traceparent: Omitted[str] = None
    data: dict[str, Any]


class EventPage(Answer):
    items: list[AuditEvent]
    next: str = Field(description="The `after` of the next page")


class LatestEvents(Answer):
    items: list[AuditEvent]
    count: int


class DeadLetter(Answer):
    """A message that failed the contract: where it was read, why it failed, and its bytes (as UTF-8)."""

    id: str
    topic: str
    partition: int
    offset: int
    reason: str
    value: str
    received_at: dt.datetime


class DeadLetters(Answer):
    items: list[DeadLetter]
    count: int


# Shaping: answers from the service's values.


def treaty_titles(view: TreatyView) -> dict[str, Any]:
    """The treaty's id and, when registered, its titles: how an entry about one of a participant's treaties begins."""
    treaty = view.treaty or {}
    return {"treaty_id": view.treaty_id, "title": treaty.get("title"), "short_title": treaty.get("short_title")}


def action(record: domain.ActionRecord) -> Action:
    """A recorded action, its absent optionals left out."""
    answer: Action = {"event_id": record.event_id, "action": record.action, "date": record.date}
    if record.effective_date is not None:
        answer["effective_date"] = record.effective_date
    if record.notification is not None:
        answer["notification"] = record.notification
    if record.corrects is not None:
        answer["corrects"] = record.corrects
    if record.text is not None:
        answer["text"] = record.text
    return answer


def status_fields(status: domain.ParticipantStatus) -> StatusFields:
    """A status: its consent act, in-force date and actions; `signature` and `withdrawal` only when it has them."""
    consent = status.consent
    answer: StatusFields = {
        "status": status.status,
        "consent": {"action": consent.action, "date": consent.date} if consent is not None else None,
        "in_force_on": status.in_force_on,
        "in_force": status.in_force,
        "actions": [action(a) for a in status.actions],
    }
    if status.stated_in_force_on is not None:
        answer["stated_in_force_on"] = status.stated_in_force_on
    if status.signature is not None:
        answer["signature"] = status.signature
    if status.withdrawal is not None:
        answer["withdrawal"] = withdrawal(status.withdrawal)
    if status.warnings:
        answer["warnings"] = list(status.warnings)
    return answer


def withdrawal(found: domain.Withdrawal) -> Withdrawal:
    """A withdrawal, its unknown dates left out; `provided_for` only when the treaty provides for none."""
    answer: Withdrawal = {"date": found.date}
    if found.effective_on is not None:
        answer["effective_on"] = found.effective_on
    if found.stated_on is not None:
        answer["stated_effective_on"] = found.stated_on
    if found.rule_on is not None:
        answer["rule_effective_on"] = found.rule_on
    if not found.provided_for:
        answer["provided_for"] = False
    return answer


def participant(listed: Listed) -> Participant:
    """A participant in a treaty's list."""
    return {"participant": listed.participant, "name": listed.name, **status_fields(listed.status)}


def treaty_standing(standing: Standing) -> TreatyStanding:
    """The answer for a participant's standing in one treaty (left unset: the fields of a status it lacks)."""
    fields: dict[str, Any] = treaty_titles(standing.view) | {"name": standing.name}
    if standing.status is None:
        fields |= {"status": None, "actions": [action(a) for a in standing.actions]}
    else:
        fields |= status_fields(standing.status)
    if standing.superseded:
        fields["superseded"] = [action(a) for a in standing.superseded]
    return TreatyStanding.model_validate(fields)


def owed_in_treaty(owed: OwedReports) -> OwedInTreaty:
    """The answer for the reports a participant owes in one treaty."""
    fields = {name: getattr(owed, name) for name in Owed.model_fields}
    return OwedInTreaty.model_validate(treaty_titles(owed.view) | fields)

"""The event contract: CloudEvents 1.0 envelopes and the data of every event type (see docs/contract.md)."""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, assert_never, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)

from treatywatch.common.participants import participant_code
from treatywatch.common.rules import TreatyRules

Action = Literal[
    "signature",
    "ratification",
    "acceptance",
    "approval",
    "accession",
    "succession",
    "definitive_signature",
    "formal_confirmation",
    "consent_to_be_bound",
    "provisional_application",
    "declaration",
    "reservation",
    "objection",
    "withdrawal",
]
ACTIONS: tuple[str, ...] = get_args(Action)
# The acts that bind (consent to be bound): a participant is a party from the first of them.
BINDING_ACTIONS: frozenset[str] = frozenset(
    {
        "ratification",
        "acceptance",
        "approval",
        "accession",
        "succession",
        "definitive_signature",
        "formal_confirmation",
        "consent_to_be_bound",
    }
)
# What a resolution may claim that the registry can check against its record.
ClaimKind = Literal["parties_count", "entry_into_force_year", "entry_into_force_date"]
CLAIM_KINDS: tuple[str, ...] = get_args(ClaimKind)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def _iso_date(value: Any) -> Any:
    # Lax pydantic dates accept timestamps and other shapes; the contract says YYYY-MM-DD only.
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    if isinstance(value, int | float):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
# A treaty id is a UNTC reference (chapter in Roman numerals, a dash, the number: "XXVI-5"), or, for a treaty not
# deposited with the Secretary-General, "ext:" and a slug ("ext:npt"). The forms cannot collide: a UNTC id opens
# with an upper-case Roman numeral, an own id with the lower-case "ext:". One alternation, no nested quantifier.
UNTC_TREATY_ID = r"[IVXLC]+-[0-9]+[A-Za-z0-9.-]*"
EXT_TREATY_ID = r"ext:[a-z0-9][a-z0-9-]{0,38}"
TreatyId = Annotated[str, Field(pattern=rf"^(?:{UNTC_TREATY_ID}|{EXT_TREATY_ID})$", max_length=43)]
Text = Annotated[str, Field(min_length=1, max_length=100_000)]
Name = Annotated[str, Field(min_length=1, max_length=500)]


def _web_url(value: str) -> str:
    # Pages link to it: a `javascript:` or `data:` URL would run in the reader's browser.
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http or https URL")
    return value


WebUrl = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_web_url)]


class Data(BaseModel):
    """Base of every event's data: unknown fields are errors, not silently kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Adopted(Data):
    place: Name | None = None
    date: IsoDate | None = None


class Unts(Data):
    volume: int = Field(ge=1)
    number: int = Field(ge=1)


class TreatyRegistered(Data):
    treaty_id: TreatyId
    title: Text
    short_title: Name | None = None
    adopted: Adopted | None = None
    unts: Unts | None = None
    depositary: Name | None = None
    url: WebUrl | None = None
    rules: TreatyRules | None = None


class ActionRecorded(Data):
    treaty_id: TreatyId
    participant: Name
    action: Action
    date: IsoDate
    effective_date: IsoDate | None = None
    notification: Name | None = None
    text: Text | None = None
    corrects: Name | None = None
    participant_name: Name | None = None


class Recall(Data):
    symbol: Name
    date: IsoDate | None = None


class TreatyRef(Data):
    unts_volume: int | None = None
    unts_number: int | None = None
    treaty_id: TreatyId | None = None
    title: Text | None = None


class MeetingRef(Data):
    kind: Name
    ordinal: int | None = None
    place: Name | None = None
    year: int | None = None
    start: IsoDate | None = None
    end: IsoDate | None = None
    report_symbol: Name | None = None


class Preamble(Data):
    verb: Name
    text: Text


class Paragraph(Data):
    number: int = Field(ge=1)
    verb: Name
    text: Text
    footnotes: list[int] = Field(default_factory=list)


class Footnote(Data):
    number: int = Field(ge=1)
    text: Text
    ibid_of: int | None = None


class Claim(Data):
    kind: ClaimKind
    treaty_id: TreatyId | None = None
    value: int | str
    as_of: IsoDate | None = None
    text: Text | None = None


class ResolutionAdopted(Data):
    symbol: Name
    session: int = Field(ge=1)
    title: Text
    adopted_on: IsoDate
    issued_on: IsoDate | None = None
    agenda_item: Name | None = None
    committee: Name | None = None
    report_symbol: Name | None = None
    plenary_meeting: int | None = None
    plenary_date: IsoDate | None = None
    recalls: list[Recall] = Field(default_factory=list)
    treaty: TreatyRef | None = None
    meetings: list[MeetingRef] = Field(default_factory=list)
    preamble: list[Preamble] = Field(default_factory=list)
    paragraphs: list[Paragraph] = Field(default_factory=list)
    footnotes: list[Footnote] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)


class MeetingRecorded(Data):
    treaty_id: TreatyId
    kind: Name
    ordinal: int = Field(ge=1)
    place: Name
    start: IsoDate
    end: IsoDate
    report_symbol: Name | None = None

    @model_validator(mode="after")
    def _ordered(self) -> MeetingRecorded:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class ReportSubmitted(Data):
    treaty_id: TreatyId
    participant: Name
    kind: Name
    period: Name
    submitted_on: IsoDate


class TreatyEnteredIntoForce(Data):
    """The treaty's own entry into force as the depositary states it (a depositary notification)."""

    treaty_id: TreatyId
    date: IsoDate
    notification: Name | None = None
    article: Name | None = None


def new_event_id() -> str:
    """A fresh event id, for events whose client gave none."""
    return str(uuid.uuid4())


# The id of an event a depositary notification announces is its C.N. reference after this prefix.
_NOTIFICATION_ID = "cn:"


def notification_event_id(reference: str) -> str:
    """The id of the event announced by the notification `reference` (`cn:C.N.1.2013.TREATIES-XXVI.5`).

    Fixed by the reference alone, so the same notification sent again, as text or as PDF, publishes nothing new.
    """
    return f"{_NOTIFICATION_ID}{reference}"


def notification_reference(event_id: str) -> str | None:
    """The C.N. reference an id of `notification_event_id` names; None for an id of any other form."""
    reference = event_id.removeprefix(_NOTIFICATION_ID)
    return reference if reference != event_id and reference else None


def new_traceparent() -> str:
    """A new W3C traceparent (sampled) for a trace that starts here.

    Random but not secret, as OpenTelemetry makes its ids: the OS's random source cost ingest 15% of a
    500-event batch.
    """
    return f"00-{random.getrandbits(128):032x}-{random.getrandbits(64):016x}-01"


def _traceparent(value: str | None) -> str | None:
    if value is not None and not _TRACEPARENT.match(value):
        raise ValueError("must be a W3C traceparent: 00-<32 hex>-<16 hex>-<2 hex>")
    return value


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a time zone (RFC 3339)")
    return value.astimezone(UTC)


class Envelope(BaseModel):
    """The CloudEvents 1.0 attributes common to every event (structured mode)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")] = Field(
        default_factory=new_event_id
    )
    source: Annotated[str, Field(min_length=1, max_length=500)] = "/treatywatch/ingest"
    time: Annotated[datetime, AfterValidator(_utc)] = Field(default_factory=lambda: datetime.now(UTC))
    subject: Annotated[str, Field(max_length=500)] | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    traceparent: Annotated[str | None, AfterValidator(_traceparent)] = None

    @property
    def trace_id(self) -> str | None:
        """The trace id inside `traceparent`, for logs."""
        return self.traceparent.split("-")[1] if self.traceparent else None


class TreatyRegisteredEvent(Envelope):
    type: Literal["treaty.registered"]
    data: TreatyRegistered


class ActionRecordedEvent(Envelope):
    type: Literal["treaty.action.recorded"]
    data: ActionRecorded


class ResolutionAdoptedEvent(Envelope):
    type: Literal["resolution.adopted"]
    data: ResolutionAdopted


class MeetingRecordedEvent(Envelope):
    type: Literal["meeting.recorded"]
    data: MeetingRecorded


class ReportSubmittedEvent(Envelope):
    type: Literal["report.submitted"]
    data: ReportSubmitted


class TreatyEnteredIntoForceEvent(Envelope):
    type: Literal["treaty.entered_into_force"]
    data: TreatyEnteredIntoForce


# A new event type: its data and envelope classes above, one member here, then every `match` on events that
# strict mypy names (see CONTRIBUTING.md, "A new event type").
AnyEvent = (
    TreatyRegisteredEvent
    | ActionRecordedEvent
    | ResolutionAdoptedEvent
    | MeetingRecordedEvent
    | ReportSubmittedEvent
    | TreatyEnteredIntoForceEvent
)
Event = Annotated[AnyEvent, Field(discriminator="type")]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
# The types in the union's order, read from each envelope's `type` literal.
EVENT_TYPES: tuple[str, ...] = tuple(get_args(m.model_fields["type"].annotation)[0] for m in get_args(AnyEvent))


def partition_key(event: Event) -> str:
    """The Kafka key: all events of one treaty and participant share a partition, in order."""
    match event:
        case ActionRecordedEvent(data=data) | ReportSubmittedEvent(data=data):
            return f"{data.treaty_id}/{participant_code(data.participant)}"
        case ResolutionAdoptedEvent(data=data):
            return data.symbol
        case (
            TreatyRegisteredEvent(data=data) | MeetingRecordedEvent(data=data) | TreatyEnteredIntoForceEvent(data=data)
        ):
            return data.treaty_id
        case _:
            assert_never(event)


def with_defaults(event: Event, traceparent: str | None) -> Event:
    """The event with its subject and trace context filled in where the client left them out."""
    updates: dict[str, Any] = {}
    if event.subject is None:
        updates["subject"] = partition_key(event)
    if event.traceparent is None:
        updates["traceparent"] = traceparent or new_traceparent()
    return event.model_copy(update=updates) if updates else event


def parse_event(raw: bytes | str) -> Event:
    """Validate one JSON event against the contract; raises pydantic.ValidationError."""
    return EVENT_ADAPTER.validate_json(raw)


def event_from_dict(value: Any) -> Event:
    """Validate one event given as a Python object (e.g. from a batch body)."""
    return EVENT_ADAPTER.validate_python(value)


def to_json(event: Event) -> bytes:
    """Deterministic JSON: fields in contract order, absent optionals left out."""
    return event.model_dump_json(exclude_none=True).encode()

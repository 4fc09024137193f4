"""The event contract (docs/contract.md): every event type's shape, its JSON, and what is refused."""

from __future__ import annotations

import copy
import json
import random
import re
import time
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from treatywatch.common.events import (
    EVENT_TYPES,
    EXT_TREATY_ID,
    UNTC_TREATY_ID,
    ActionRecorded,
    ActionRecordedEvent,
    MeetingRecorded,
    ReportSubmitted,
    ResolutionAdopted,
    TreatyEnteredIntoForce,
    TreatyRegistered,
    TreatyRegisteredEvent,
    event_from_dict,
    notification_event_id,
    notification_reference,
    parse_event,
    partition_key,
    to_json,
    with_defaults,
)
from treatywatch.common.rules import MINE_BAN_RULES, TreatyRules
from treatywatch.common.web import validation_errors

TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
GIVEN_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

# One complete example per type: every optional field the contract names is set, so the round trip covers them.
EXAMPLES: dict[str, dict[str, Any]] = {
    "treaty.registered": {
        "specversion": "1.0",
        "id": "evt-treaty-1",
        "source": "/tests/unit",
        "type": "treaty.registered",
        "time": "2024-05-01T12:00:00Z",
        "subject": "XXVI-5",
        "datacontenttype": "application/json",
        "traceparent": GIVEN_TRACEPARENT,
        "data": {
            "treaty_id": "XXVI-5",
            "title": "Convention on the Prohibition of the Use, Stockpiling, Production and Transfer of Anti-Personnel"
            " Mines and on their Destruction",
            "short_title": "Mine Ban Convention",
            "adopted": {"place": "Oslo", "date": "1997-09-18"},
            "unts": {"volume": 2056, "number": 35597},
            "depositary": "Secretary-General of the United Nations",
            "rules": MINE_BAN_RULES.model_dump(mode="json"),
        },
    },
    "treaty.action.recorded": {
        "id": "evt-action-1",
        "source": "/tests/unit",
        "type": "treaty.action.recorded",
        "time": "2024-05-01T14:00:00+02:00",
        "data": {
            "treaty_id": "XXVI-5",
            "participant": "BOL",
            "action": "ratification",
            "date": "1998-09-09",
            "effective_date": "1999-03-01",
            "notification": "C.N.575.1998.TREATIES-10",
            "text": "With a declaration.",
            "corrects": "evt-action-0",
        },
    },
    "resolution.adopted": {
        "id": "evt-resolution-1",
        "source": "/tests/unit",
        "time": "2024-05-02T09:30:00.250000Z",
        "type": "resolution.adopted",
        "data": {
            "symbol": "A/RES/64/56",
            "session": 64,
            "title": "Implementation of the Convention",
            "adopted_on": "2009-12-02",
            "agenda_item": "96 (p)",
            "committee": "First Committee",
            "report_symbol": "A/64/391",
            "plenary_meeting": 55,
            "recalls": [{"symbol": "A/RES/63/42", "date": "2008-12-02"}],
            "treaty": {"unts_volume": 2056, "unts_number": 35597, "treaty_id": "XXVI-5"},
            "meetings": [{"kind": "review_conference", "ordinal": 2, "place": "Cartagena", "year": 2009}],
            "paragraphs": [{"number": 1, "verb": "Invites", "text": "all States to accede", "footnotes": [1]}],
            "claims": [{"kind": "parties_count", "treaty_id": "XXVI-5", "value": 156, "as_of": "2009-12-02"}],
        },
    },
    "meeting.recorded": {
        "id": "evt-meeting-1",
        "source": "/tests/unit",
        "time": "2024-05-02T09:30:00.250000Z",
        "type": "meeting.recorded",
        "data": {
            "treaty_id": "XXVI-5",
            "kind": "review_conference",
            "ordinal": 2,
            "place": "Cartagena",
            "start": "2009-11-30",
            "end": "2009-12-04",
            "report_symbol": "APLC/CONF/2009/9",
        },
    },
    "report.submitted": {
        "id": "evt-report-1",
        "source": "/tests/unit",
        "time": "2024-05-02T09:30:00.250000Z",
        "type": "report.submitted",
        "data": {
            "treaty_id": "XXVI-5",
            "participant": "NOR",
            "kind": "article7",
            "period": "2023",
            "submitted_on": "2024-04-30",
        },
    },
    "treaty.entered_into_force": {
        "id": "evt-entry-1",
        "source": "/tests/unit",
        "time": "2024-05-02T09:30:00.250000Z",
        "type": "treaty.entered_into_force",
        "data": {
            "treaty_id": "XXVI-5",
            "date": "1999-03-01",
            "notification": "C.N.522.1998.TREATIES-XXVI.5",
            "article": "article 17 (1)",
        },
    },
}

# The required data fields, as docs/contract.md lists them (required fields first in its table).
REQUIRED: dict[str, tuple[str, ...]] = {
    "treaty.registered": ("treaty_id", "title"),
    "treaty.action.recorded": ("treaty_id", "participant", "action", "date"),
    "resolution.adopted": ("symbol", "session", "title", "adopted_on"),
    "meeting.recorded": ("treaty_id", "kind", "ordinal", "place", "start", "end"),
    "report.submitted": ("treaty_id", "participant", "kind", "period", "submitted_on"),
    "treaty.entered_into_force": ("treaty_id", "date"),
}
DATA_MODELS: dict[str, type[BaseModel]] = {
    "treaty.registered": TreatyRegistered,
    "treaty.action.recorded": ActionRecorded,
    "resolution.adopted": ResolutionAdopted,
    "meeting.recorded": MeetingRecorded,
    "report.submitted": ReportSubmitted,
    "treaty.entered_into_force": TreatyEnteredIntoForce,
}


def example(event_type: str) -> dict[str, Any]:
    """A deep copy of the example, free to mutate."""
    return copy.deepcopy(EXAMPLES[event_type])


def action(participant: str, treaty_id: str = "XXVI-5", act: str = "signature") -> dict[str, Any]:
    return {
        "type": "treaty.action.recorded",
        "data": {"treaty_id": treaty_id, "participant": participant, "action": act, "date": "1997-12-03"},
    }


def errors_of(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The validation errors of a raw event; fails the test if it validates."""
    with pytest.raises(ValidationError) as caught:
        parse_event(json.dumps(raw))
    return [dict(e) for e in caught.value.errors()]


def field_errors(raw: dict[str, Any], *path: str) -> list[dict[str, Any]]:
    """The errors whose loc ends with `path` (the discriminated union puts the type first in loc)."""
    return [e for e in errors_of(raw) if tuple(e["loc"])[-len(path) :] == path]


def test_the_examples_cover_every_event_type() -> None:
    assert set(EXAMPLES) == set(EVENT_TYPES) == set(REQUIRED)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_the_required_fields_are_those_of_the_contract(event_type: str) -> None:
    model = DATA_MODELS[event_type]
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    assert required == set(REQUIRED[event_type])


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_type_round_trips_through_json(event_type: str) -> None:
    event = event_from_dict(example(event_type))
    assert event.type == event_type
    again = parse_event(to_json(event))
    assert again == event
    assert to_json(again) == to_json(event)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_the_json_is_deterministic_whatever_the_input_key_order(event_type: str) -> None:
    raw = example(event_type)
    reversed_raw = {key: raw[key] for key in reversed(raw)}
    reversed_raw["data"] = {key: raw["data"][key] for key in reversed(raw["data"])}
    one, other = parse_event(json.dumps(raw)), parse_event(json.dumps(reversed_raw))
    assert to_json(one) == to_json(other)
    assert to_json(one) == to_json(one)
    # Data fields come out in the model's (contract) order, absent optionals left out.
    data_keys = list(json.loads(to_json(one))["data"])
    model_order = [name for name in DATA_MODELS[event_type].model_fields if name in data_keys]
    assert data_keys == model_order
    assert data_keys[: len(REQUIRED[event_type])] == list(REQUIRED[event_type])


def test_the_json_carries_the_cloudevents_attributes_and_leaves_out_absent_optionals() -> None:
    body = json.loads(to_json(event_from_dict(example("report.submitted"))))
    assert body["specversion"] == "1.0"
    assert body["datacontenttype"] == "application/json"
    assert body["type"] == "report.submitted"
    assert "subject" not in body
    assert "traceparent" not in body
    # A time given with an offset is kept as the same instant in UTC.
    assert json.loads(to_json(event_from_dict(example("treaty.action.recorded"))))["time"] == "2024-05-01T12:00:00Z"


@pytest.mark.parametrize(
    ("event_type", "field"),
    [(event_type, field) for event_type, fields in REQUIRED.items() for field in fields],
)
def test_a_missing_required_field_is_an_error_on_that_field(event_type: str, field: str) -> None:
    raw = example(event_type)
    del raw["data"][field]
    errors = errors_of(raw)
    assert [(tuple(e["loc"]), e["type"]) for e in errors] == [((event_type, "data", field), "missing")]


def test_an_unknown_type_is_an_error_naming_type() -> None:
    raw = example("report.submitted")
    raw["type"] = "report.filed"
    errors = errors_of(raw)
    assert len(errors) == 1
    assert errors[0]["type"] == "union_tag_invalid"
    assert errors[0]["ctx"]["discriminator"] == "'type'"
    assert "report.filed" in errors[0]["msg"]


def test_a_missing_type_is_an_error_naming_type() -> None:
    raw = example("report.submitted")
    del raw["type"]
    errors = errors_of(raw)
    assert [e["type"] for e in errors] == ["union_tag_not_found"]
    assert "'type'" in errors[0]["msg"]


@pytest.mark.parametrize("event_type", ["report.filed", None])
def test_an_unknown_or_missing_type_is_reported_at_the_field_path_type(event_type: str | None) -> None:
    raw = example("report.submitted")
    raw["type"] = event_type
    if event_type is None:
        del raw["type"]
    with pytest.raises(ValidationError) as caught:
        parse_event(json.dumps(raw))
    assert [e["path"] for e in validation_errors(caught.value)] == ["type"]


def test_an_unknown_data_field_is_an_error() -> None:
    raw = example("treaty.action.recorded")
    raw["data"]["country"] = "Bolivia"
    errors = field_errors(raw, "data", "country")
    assert [e["type"] for e in errors] == ["extra_forbidden"]


def test_an_unknown_envelope_attribute_is_an_error() -> None:
    raw = example("treaty.action.recorded")
    raw["dataschema"] = "https://example.org/schema"
    assert [e["type"] for e in field_errors(raw, "dataschema")] == ["extra_forbidden"]


@pytest.mark.parametrize("bad", ["2 Dec 2009", 20091202, "2009-12-2", "2009/12/02", "2009-12-02T00:00:00Z"])
def test_a_date_not_written_yyyy_mm_dd_is_an_error_on_that_field(bad: object) -> None:
    raw = example("treaty.action.recorded")
    raw["data"]["date"] = bad
    assert field_errors(raw, "data", "date"), f"{bad!r} was accepted as a date"


@pytest.mark.parametrize(
    ("event_type", "field"),
    [
        ("resolution.adopted", "adopted_on"),
        ("meeting.recorded", "start"),
        ("report.submitted", "submitted_on"),
        ("treaty.action.recorded", "effective_date"),
    ],
)
def test_every_date_field_refuses_other_shapes(event_type: str, field: str) -> None:
    raw = example(event_type)
    raw["data"][field] = "2 Dec 2009"
    assert field_errors(raw, "data", field)


def test_an_impossible_date_is_an_error() -> None:
    raw = example("treaty.action.recorded")
    raw["data"]["date"] = "2009-02-30"
    assert field_errors(raw, "data", "date")


def test_a_time_without_a_time_zone_is_an_error() -> None:
    raw = example("report.submitted")
    raw["time"] = "2024-05-01T12:00:00"
    assert field_errors(raw, "time")


@pytest.mark.parametrize(
    "bad",
    [
        "00-abc",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "",
    ],
)
def test_a_bad_traceparent_is_an_error(bad: str) -> None:
    raw = example("report.submitted")
    raw["traceparent"] = bad
    assert field_errors(raw, "traceparent")


def test_meeting_end_before_start_is_an_error() -> None:
    raw = example("meeting.recorded")
    raw["data"]["end"] = "2009-11-29"
    assert errors_of(raw)


def test_with_defaults_sets_the_subject_to_the_partition_key_and_a_new_traceparent() -> None:
    event = event_from_dict(action("Norway"))
    filled = with_defaults(event, None)
    assert filled.subject == partition_key(event) == "XXVI-5/NOR"
    assert filled.traceparent is not None
    assert TRACEPARENT.match(filled.traceparent)
    assert filled.id == event.id
    assert filled.data == event.data
    # Each new trace is a new trace id.
    other = with_defaults(event, None)
    assert other.trace_id != filled.trace_id


def test_with_defaults_uses_the_callers_traceparent_and_keeps_what_the_client_set() -> None:
    event = event_from_dict(action("Norway"))
    assert with_defaults(event, GIVEN_TRACEPARENT).traceparent == GIVEN_TRACEPARENT
    given = event_from_dict(example("treaty.registered"))
    kept = with_defaults(given, "00-" + "1" * 32 + "-" + "2" * 16 + "-01")
    assert kept.subject == "XXVI-5"
    assert kept.traceparent == GIVEN_TRACEPARENT


def test_partition_key_puts_one_treaty_and_participants_actions_together() -> None:
    signature = event_from_dict(action("NOR", act="signature"))
    ratification = event_from_dict(action("NOR", act="ratification"))
    withdrawal = event_from_dict({**action("NOR", act="withdrawal"), "id": "another-id"})
    assert partition_key(signature) == partition_key(ratification) == partition_key(withdrawal)
    assert partition_key(event_from_dict(action("SWE"))) != partition_key(signature)
    assert partition_key(event_from_dict(action("NOR", treaty_id="XXVI-6"))) != partition_key(signature)


def test_partition_key_of_the_other_types() -> None:
    assert partition_key(event_from_dict(example("treaty.registered"))) == "XXVI-5"
    assert partition_key(event_from_dict(example("resolution.adopted"))) == "A/RES/64/56"
    assert partition_key(event_from_dict(example("meeting.recorded"))) == "XXVI-5"
    assert partition_key(event_from_dict(example("treaty.entered_into_force"))) == "XXVI-5"
    report = event_from_dict(example("report.submitted"))
    assert partition_key(report) == "XXVI-5/NOR" == partition_key(event_from_dict(action("NOR")))


def test_partition_key_is_the_same_for_a_un_name_and_its_iso_code() -> None:
    by_name = event_from_dict(action("Bolivia (Plurinational State of)"))
    by_code = event_from_dict(action("BOL", act="ratification"))
    assert partition_key(by_name) == partition_key(by_code)


def test_treaty_rules_nested_in_treaty_registered_validate() -> None:
    event = event_from_dict(example("treaty.registered"))
    assert isinstance(event, TreatyRegisteredEvent)
    assert event.data.rules == MINE_BAN_RULES
    assert isinstance(event.data.rules, TreatyRules)
    assert event.data.rules.entry_into_force is not None
    assert event.data.rules.entry_into_force.instruments == 40


@pytest.mark.parametrize(
    ("rules", "path"),
    [
        (
            {"entry_into_force": {"instruments": 0, "delay": {"months": 6}}},
            ("rules", "entry_into_force", "instruments"),
        ),
        ({"withdrawal": {"months": -1}}, ("rules", "withdrawal", "months")),
        ({"withdrawal": {"months": 6, "anchor": "end_of_month"}}, ("rules", "withdrawal", "anchor")),
        ({"reporting": {"initial_within_days": 180, "annual_due": "02-29"}}, ("rules", "reporting", "annual_due")),
        ({"notice": {"months": 6}}, ("rules", "notice")),
    ],
)
def test_bad_rules_inside_treaty_registered_are_errors_on_their_path(
    rules: dict[str, Any], path: tuple[str, ...]
) -> None:
    raw = example("treaty.registered")
    raw["data"]["rules"] = rules
    assert field_errors(raw, "data", *path)


def test_an_action_outside_the_contract_list_is_an_error() -> None:
    raw = action("NOR", act="ratified")
    assert field_errors(raw, "data", "action")


def test_an_action_event_is_an_action_recorded_event() -> None:
    event = event_from_dict(action("NOR"))
    assert isinstance(event, ActionRecordedEvent)
    assert event.data.date.isoformat() == "1997-12-03"


def test_a_claim_of_a_kind_the_registry_cannot_check_is_an_error() -> None:
    event = json.loads(json.dumps(EXAMPLES["resolution.adopted"]))
    event["data"]["claims"][0]["kind"] = "parties"
    with pytest.raises(ValidationError) as caught:
        event_from_dict(event)
    assert [e["loc"][-1] for e in caught.value.errors()] == ["kind"]


def test_the_event_types_are_read_from_the_union_in_its_order() -> None:
    assert tuple(EXAMPLES) == EVENT_TYPES


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "//example.org/x", "ftp://example.org/x"])
def test_a_treaty_link_is_an_http_or_https_url(url: str) -> None:
    def registered(link: str) -> dict[str, Any]:
        return {"type": "treaty.registered", "source": "/t", "data": {"treaty_id": "XXVI-5", "title": "T", "url": link}}

    with pytest.raises(ValidationError) as caught:
        event_from_dict(registered(url))
    assert [e["loc"][-1] for e in caught.value.errors()] == ["url"]
    link = "HTTPS://treaties.un.org/Pages/ViewDetails.aspx?mtdsg_no=XXVI-5"
    assert event_from_dict(registered(link)).data.model_dump()["url"] == link


UNTC_IDS = ["XXVI-5", "IV-11", "XXVII-7-a", "X-2-a", "I-1", "XVIII-10-b", "CCC-12.3"]
EXT_IDS = ["ext:npt", "ext:bwc", "ext:0", "ext:a-b", "ext:" + "n" * 39]


@pytest.mark.parametrize("treaty_id", UNTC_IDS + EXT_IDS)
def test_a_treaty_id_is_a_untc_id_or_an_own_ext_id(treaty_id: str) -> None:
    recorded = event_from_dict(action("NOR", treaty_id=treaty_id))
    assert isinstance(recorded.data, ActionRecorded) and recorded.data.treaty_id == treaty_id
    registered = event_from_dict(
        {"type": "treaty.registered", "source": "/t", "data": {"treaty_id": treaty_id, "title": "T"}}
    )
    assert isinstance(registered.data, TreatyRegistered) and registered.data.treaty_id == treaty_id
    assert partition_key(recorded) == f"{treaty_id}/NOR"


@pytest.mark.parametrize(
    "treaty_id",
    [
        "ext:",
        "ext:-npt",
        "ext:NPT",
        "EXT:npt",
        "ext:npt/x",
        "ext:n pt",
        "ext:n_pt",
        "ext:" + "n" * 40,
        "ext:ext:npt",
        "npt",
        "xxvi-5",
        "XXVI",
        "XXVI-5 ",
        "ext:XXVI-5",
        "XXVI-5:ext",
    ],
)
def test_anything_else_is_not_a_treaty_id(treaty_id: str) -> None:
    assert [e["loc"][-1] for e in field_errors(action("NOR", treaty_id=treaty_id), "data", "treaty_id")] == [
        "treaty_id"
    ]


def test_an_ext_id_and_a_untc_id_cannot_collide() -> None:
    # By construction: a UNTC id opens with an upper-case Roman numeral, an own id with "ext:".
    untc, ext = re.compile(UNTC_TREATY_ID), re.compile(EXT_TREATY_ID)
    assert all(untc.fullmatch(t) and not ext.fullmatch(t) for t in UNTC_IDS)
    assert all(ext.fullmatch(t) and not untc.fullmatch(t) for t in EXT_IDS)
    assert UNTC_TREATY_ID.startswith("[IVXLC]") and EXT_TREATY_ID.startswith("ext:")
    # Whatever follows, an id that matches one form does not match the other: their first characters differ.
    rng = random.Random(15)
    alphabet = "IVXLCext:-.0123456789abAB"
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        assert not (untc.fullmatch(text) and ext.fullmatch(text)), text


def test_the_treaty_id_pattern_is_linear() -> None:
    pattern = TreatyRegistered.model_json_schema()["properties"]["treaty_id"]["pattern"]
    assert pattern == f"^(?:{UNTC_TREATY_ID}|{EXT_TREATY_ID})$"
    # No nested quantifier, so no backtracking blow-up in any engine: a long near-miss fails at once, even in `re`.
    assert re.search(r"[*+}]\)[*+{]", pattern) is None
    started = time.perf_counter()
    for near_miss in ("X" * 50_000 + "-", "ext:" + "a" * 50_000 + "!", "XXVI-5" + "-" * 50_000 + " "):
        assert re.fullmatch(pattern, near_miss) is None
        assert field_errors(action("NOR", treaty_id=near_miss), "data", "treaty_id")
    assert time.perf_counter() - started < 0.5


def test_a_notifications_event_id_names_its_reference_and_no_other_id_does() -> None:
    reference = "C.N.1.2013.TREATIES-XXVI.5"
    assert notification_event_id(reference) == f"cn:{reference}"
    assert notification_reference(notification_event_id(reference)) == reference
    for other in ("untc:XXVI-5:POL:ratification:2012-12-27", reference, "cn:", "CN:x", "evt-1"):
        assert notification_reference(other) is None, other

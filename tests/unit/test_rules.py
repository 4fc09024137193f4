"""A treaty's rules as data: validation and date arithmetic."""

from datetime import date

import pytest
from pydantic import ValidationError

from treatywatch.common.rules import MINE_BAN_RULES, Delay, EntryIntoForce, Reporting, TreatyRules


@pytest.mark.parametrize(
    ("delay", "start", "expected"),
    [
        (Delay(months=6), date(2010, 1, 15), date(2010, 7, 15)),
        (Delay(months=6), date(2009, 8, 31), date(2010, 2, 28)),
        (Delay(months=6), date(2011, 8, 31), date(2012, 2, 29)),
        (Delay(months=1), date(2010, 3, 31), date(2010, 4, 30)),
        (Delay(months=12), date(2010, 2, 14), date(2011, 2, 14)),
        (Delay(months=25, days=3), date(2010, 11, 30), date(2013, 1, 2)),
        (Delay(months=1, days=1), date(2011, 1, 31), date(2011, 3, 1)),
        (Delay(days=90), date(2010, 12, 1), date(2011, 3, 1)),
        (Delay(), date(2010, 12, 1), date(2010, 12, 1)),
    ],
)
def test_delay_from_the_date_adds_months_clamped_then_days(delay: Delay, start: date, expected: date) -> None:
    assert delay.apply(start) == expected


@pytest.mark.parametrize(
    ("delay", "start", "expected"),
    [
        (Delay(months=6, anchor="first_day_of_month"), date(1998, 9, 16), date(1999, 3, 1)),
        (Delay(months=6, anchor="first_day_of_month"), date(2002, 9, 11), date(2003, 3, 1)),
        (Delay(months=6, anchor="first_day_of_month"), date(1998, 9, 1), date(1999, 3, 1)),
        (Delay(months=6, anchor="first_day_of_month"), date(1998, 9, 30), date(1999, 3, 1)),
        (Delay(months=1, anchor="first_day_of_month"), date(2001, 12, 31), date(2002, 1, 1)),
        (Delay(months=3, days=29, anchor="first_day_of_month"), date(2004, 11, 5), date(2005, 3, 2)),
    ],
)
def test_delay_from_the_first_day_of_a_later_month(delay: Delay, start: date, expected: date) -> None:
    assert delay.apply(start) == expected


def test_mine_ban_rules_follow_articles_17_20_and_7() -> None:
    rules = MINE_BAN_RULES
    assert rules.entry_into_force is not None
    assert rules.entry_into_force.instruments == 40
    assert rules.entry_into_force.delay.apply(date(1998, 9, 16)) == date(1999, 3, 1)
    assert rules.later_participants is not None
    assert rules.later_participants.apply(date(2002, 9, 11)) == date(2003, 3, 1)
    assert rules.withdrawal is not None
    assert rules.withdrawal.apply(date(2010, 1, 15)) == date(2010, 7, 15)
    assert rules.reporting == Reporting(initial_within_days=180, annual_due="04-30", kind="article7")


def test_rules_round_trip_through_the_event_json() -> None:
    payload = MINE_BAN_RULES.model_dump(mode="json")
    assert payload["entry_into_force"] == {
        "instruments": 40,
        "delay": {"months": 6, "days": 0, "anchor": "first_day_of_month"},
    }
    assert TreatyRules.model_validate(payload) == MINE_BAN_RULES
    assert TreatyRules.model_validate_json(MINE_BAN_RULES.model_dump_json()) == MINE_BAN_RULES


def test_every_rule_is_optional_and_unknown_stays_none() -> None:
    rules = TreatyRules.model_validate({"withdrawal": {"months": 12}})
    assert rules.entry_into_force is None
    assert rules.later_participants is None
    assert rules.reporting is None
    assert rules.withdrawal == Delay(months=12)
    assert TreatyRules() == TreatyRules(entry_into_force=None, later_participants=None, withdrawal=None)


@pytest.mark.parametrize(
    "payload",
    [
        {"withdrawal": {"months": 6, "weeks": 2}},
        {"entry_into_force_rule": None},
        {"withdrawal": {"months": -1}},
        {"withdrawal": {"days": -1}},
        {"withdrawal": {"anchor": "last_day_of_month"}},
        {"entry_into_force": {"instruments": 0, "delay": {}}},
        {"entry_into_force": {"instruments": 40}},
        {"reporting": {"initial_within_days": -5, "annual_due": "04-30"}},
    ],
)
def test_invalid_rules_are_rejected(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        TreatyRules.model_validate(payload)


@pytest.mark.parametrize("annual_due", ["4-30", "04/30", "0430", "13-01", "04-31", "02-29", "aa-bb", "", "04-30-"])
def test_annual_due_must_be_a_day_of_every_year(annual_due: str) -> None:
    with pytest.raises(ValidationError):
        Reporting(initial_within_days=180, annual_due=annual_due)


def test_annual_due_on_a_year() -> None:
    reporting = Reporting(initial_within_days=180, annual_due="04-30")
    assert reporting.annual_due_on(2009) == date(2009, 4, 30)
    assert Reporting(initial_within_days=0, annual_due="12-31").annual_due_on(2000) == date(2000, 12, 31)


def test_rules_are_frozen() -> None:
    delay = Delay(months=6)
    with pytest.raises(ValidationError):
        delay.months = 3  # type: ignore[misc]
    rule = EntryIntoForce(instruments=40, delay=delay)
    assert hash(rule) == hash(EntryIntoForce(instruments=40, delay=Delay(months=6)))

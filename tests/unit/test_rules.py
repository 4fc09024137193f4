"""A treaty's rules as data: validation and date arithmetic."""

from datetime import date

import pytest
from pydantic import ValidationError

from treatywatch.common.rules import MINE_BAN_RULES, Delay, EntryIntoForce, Reporting, TreatyRules, WithdrawalTerms


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
    assert rules.entry_into_force.delay is not None
    assert rules.entry_into_force.delay.apply(date(1998, 9, 16)) == date(1999, 3, 1)
    assert rules.later_participants is not None
    assert rules.later_participants.apply(date(2002, 9, 11)) == date(2003, 3, 1)
    assert rules.withdrawal is not None
    assert rules.withdrawal.apply(date(2010, 1, 15)) == date(2010, 7, 15)
    assert rules.reporting == Reporting(
        initial_within_days=180, annual_due="04-30", kind="article7", source="Article 7(1) and (2)"
    )
    assert rules.entry_into_force.source == "Article 17(1)"
    assert rules.entry_into_force.computed_date([date(1998, 9, 16)] * 40) == rules.entry_into_force.stated_date


def test_rules_round_trip_through_the_event_json() -> None:
    payload = MINE_BAN_RULES.model_dump(mode="json", exclude_none=True)
    assert payload["entry_into_force"] == {
        "instruments": 40,
        "delay": {"months": 6, "days": 0, "anchor": "first_day_of_month"},
        "condition": "count",
        "count_organisations": True,
        "stated_date": "1999-03-01",
        "source": "Article 17(1)",
    }
    assert TreatyRules.model_validate(payload) == MINE_BAN_RULES
    assert TreatyRules.model_validate_json(MINE_BAN_RULES.model_dump_json()) == MINE_BAN_RULES


def test_rules_sent_before_the_new_fields_still_validate_with_the_same_meaning() -> None:
    # The shape every treaty.registered carried until now: no condition, flags, dates or sources.
    old = {
        "entry_into_force": {"instruments": 40, "delay": {"months": 6, "anchor": "first_day_of_month"}},
        "later_participants": {"months": 6, "anchor": "first_day_of_month"},
        "withdrawal": {"months": 6, "anchor": "date"},
        "reporting": {"initial_within_days": 180, "annual_due": "04-30", "kind": "article7"},
    }
    rules = TreatyRules.model_validate(old)
    assert rules.entry_into_force is not None
    assert rules.entry_into_force.computable
    assert rules.entry_into_force.count_organisations
    assert rules.entry_into_force.computed_date([date(1998, 9, 16)] * 40) == date(1999, 3, 1)
    assert rules.withdrawal_terms is None


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
        {"entry_into_force": {"delay": {"days": 30}}},
        {"entry_into_force": {"stated_date": "2002-11-18"}},
        {"entry_into_force": {"instruments": 55, "delay": {}, "condition": "not_a_count"}},
        {"entry_into_force": {"instruments": 55, "delay": {}, "condition": "share"}},
        {"entry_into_force": {"instruments": 44, "delay": {}, "in_force": False, "stated_date": "2000-01-01"}},
        {"entry_into_force": {"instruments": 40, "delay": {}, "source": ""}},
        {"withdrawal": {"months": 6}, "withdrawal_terms": {"allowed": False, "description": "x", "source": "y"}},
        {"withdrawal_terms": {"allowed": False, "description": "no clause"}},
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


@pytest.mark.parametrize(
    ("delay", "start", "expected"),
    [
        # "on the first day of the month following a period of three months after the date of deposit"
        (Delay(months=3, anchor="first_day_of_next_month"), date(2003, 3, 14), date(2003, 7, 1)),
        (Delay(months=3, anchor="first_day_of_next_month"), date(2003, 11, 30), date(2004, 3, 1)),
        (Delay(months=3, anchor="first_day_of_next_month"), date(2003, 1, 1), date(2003, 5, 1)),
        (Delay(months=12, anchor="first_day_of_next_month"), date(2010, 12, 31), date(2012, 1, 1)),
        # "on the first day of the month after the 60th day following the date of deposit" (Rome Statute)
        (Delay(days=60, anchor="first_day_of_next_month"), date(2002, 4, 11), date(2002, 7, 1)),
        (Delay(days=60, anchor="first_day_of_next_month"), date(2000, 1, 1), date(2000, 4, 1)),
        (Delay(days=60, anchor="first_day_of_next_month"), date(2001, 1, 1), date(2001, 4, 1)),
        (Delay(days=60, anchor="first_day_of_next_month"), date(2003, 10, 31), date(2004, 1, 1)),
        # "on the first day of the month following the deposit"
        (Delay(anchor="first_day_of_next_month"), date(2020, 2, 29), date(2020, 3, 1)),
        (Delay(anchor="first_day_of_next_month"), date(2020, 12, 1), date(2021, 1, 1)),
    ],
)
def test_delay_then_the_first_day_of_the_next_month(delay: Delay, start: date, expected: date) -> None:
    assert delay.apply(start) == expected


@pytest.mark.parametrize(
    ("delay", "start", "expected"),
    [
        # "on the thirtieth day after the date of deposit" (CRC): 3 Aug 1990 -> 2 Sep 1990
        (Delay(days=30), date(1990, 8, 3), date(1990, 9, 2)),
        (Delay(days=30), date(2000, 2, 1), date(2000, 3, 2)),
        (Delay(days=30), date(2001, 2, 1), date(2001, 3, 3)),
        # "on the ninetieth day after" (Genocide Convention): 14 Oct 1950 -> 12 Jan 1951
        (Delay(days=90), date(1950, 10, 14), date(1951, 1, 12)),
        (Delay(days=90), date(2004, 11, 18), date(2005, 2, 16)),
        (Delay(days=180), date(1996, 10, 31), date(1997, 4, 29)),
        # "three months after" (ICCPR): a 31st ends on the target month's last day
        (Delay(months=3), date(1975, 12, 23), date(1976, 3, 23)),
        (Delay(months=3), date(2011, 11, 30), date(2012, 2, 29)),
        (Delay(months=3), date(2010, 11, 30), date(2011, 2, 28)),
        # "twelve months after", "one year after receipt"
        (Delay(months=12), date(2016, 10, 27), date(2017, 10, 27)),
        (Delay(months=12), date(2012, 2, 29), date(2013, 2, 28)),
        (Delay(months=12), date(2011, 5, 8), date(2012, 5, 8)),
        # "the first day of the sixth month after the month in which" (Mine Ban, Cluster Munitions)
        (Delay(months=6, anchor="first_day_of_month"), date(2010, 2, 16), date(2010, 8, 1)),
        (Delay(months=6, anchor="first_day_of_month"), date(2012, 8, 31), date(2013, 2, 1)),
        # "upon the deposit"
        (Delay(), date(2024, 2, 29), date(2024, 2, 29)),
    ],
)
def test_delay_patterns_of_final_clauses(delay: Delay, start: date, expected: date) -> None:
    assert delay.apply(start) == expected


def test_every_anchor_gives_a_real_date_across_month_ends_and_a_leap_year() -> None:
    start = date(2023, 12, 1)
    for offset in range(500):
        day = date.fromordinal(start.toordinal() + offset)
        for months, days in ((0, 0), (1, 0), (3, 0), (12, 0), (0, 60), (6, 29)):
            plain = Delay(months=months, days=days).apply(day)
            assert plain >= day
            next_month = Delay(months=months, days=days, anchor="first_day_of_next_month").apply(day)
            assert next_month.day == 1
            assert next_month > plain
            assert next_month.toordinal() - plain.toordinal() <= 31
            month = Delay(months=months, days=days, anchor="first_day_of_month").apply(day)
            assert date.fromordinal(month.toordinal() - days).day == 1


def test_the_decisive_instrument_counts_organisations_only_when_the_treaty_does() -> None:
    rule = EntryIntoForce(instruments=3, delay=Delay(days=90), count_organisations=False, source="Article 38(1)")
    states = [date(2003, 1, 10), date(2003, 6, 1), date(2003, 7, 2)]
    organisations = [date(2003, 2, 1)]
    assert rule.decisive_date(states, organisations) == date(2003, 7, 2)
    assert rule.computed_date(states, organisations) == date(2003, 9, 30)
    counting = rule.model_copy(update={"count_organisations": True})
    assert counting.decisive_date(states, organisations) == date(2003, 6, 1)
    assert rule.decisive_date(states[:2], organisations) is None
    assert rule.computed_date([], []) is None


def test_a_fixed_date_applies_when_the_count_is_reached_by_then() -> None:
    # Copenhagen Amendment, Article 3: 1 January 1994 if twenty instruments by then, else ninety days after.
    rule = EntryIntoForce(instruments=20, delay=Delay(days=90), fixed_date=date(1994, 1, 1), source="Article 3(1)")
    assert rule.date_from(date(1993, 12, 1)) == date(1994, 1, 1)
    assert rule.date_from(date(1994, 1, 1)) == date(1994, 1, 1)
    assert rule.date_from(date(1994, 3, 16)) == date(1994, 6, 14)


def test_a_protocol_never_enters_into_force_before_its_parent() -> None:
    # First Optional Protocol to the ICCPR, Article 9(1): subject to the Covenant's entry into force.
    rule = EntryIntoForce(instruments=10, delay=Delay(months=3), not_before=date(1976, 3, 23), source="Article 9(1)")
    assert rule.date_from(date(1973, 12, 12)) == date(1976, 3, 23)
    assert rule.date_from(date(1976, 1, 1)) == date(1976, 4, 1)


def test_a_condition_that_is_not_a_count_computes_nothing_and_carries_the_stated_date() -> None:
    kyoto = EntryIntoForce(
        instruments=55,
        delay=Delay(days=90),
        condition="not_a_count",
        description="55 Parties with 55 per cent of Annex I emissions",
        stated_date=date(2005, 2, 16),
        source="Article 25(1)",
    )
    assert not kyoto.computable
    assert kyoto.date_from(date(2004, 11, 18)) is None
    assert kyoto.computed_date([date(2002, 1, 1)] * 60) is None
    ctbt = EntryIntoForce.model_validate(
        {
            "instruments": 44,
            "delay": {"days": 180},
            "condition": "not_a_count",
            "description": "Annex 2",
            "in_force": False,
        }
    )
    assert ctbt.in_force is False
    assert ctbt.stated_date is None


def test_a_share_of_the_parties_needs_no_fixed_count_and_computes_nothing() -> None:
    two_thirds = EntryIntoForce.model_validate(
        {
            "condition": "not_a_count",
            "description": "When two thirds of the States parties have accepted it",
            "stated_date": "2002-11-18",
            "source": "Article 50(2)",
        }
    )
    assert two_thirds.instruments is None
    assert two_thirds.delay is None
    assert two_thirds.decisive_date([date(1995, 1, 1)] * 200) is None
    assert two_thirds.computed_date([date(1995, 1, 1)] * 200) is None


def test_withdrawal_terms_say_when_there_is_no_notice_period() -> None:
    rules = TreatyRules(
        withdrawal_terms=WithdrawalTerms(allowed=False, description="No clause on denunciation.", source="Part VI")
    )
    assert rules.withdrawal is None
    assert rules.withdrawal_terms is not None
    assert not rules.withdrawal_terms.allowed

"""The entry-into-force clause parser: the patterns of final clauses, real treaties' clauses (paraphrased in
the final-clause style), number words, refusals with a reason, and bounded work on hostile input."""

from datetime import date

import pytest

from treatywatch.common.clauses import MAX_CLAUSE_CHARS, UnsupportedClause, parse_clause
from treatywatch.common.rules import Delay, EntryIntoForce, TreatyRules


def _rule(text: str, parent_entry_into_force: date | None = None) -> EntryIntoForce:
    rule = parse_clause(text, parent_entry_into_force=parent_entry_into_force).rules.entry_into_force
    assert rule is not None
    return rule


@pytest.mark.parametrize(
    ("text", "instruments", "delay"),
    [
        (
            "This Convention shall enter into force on the thirtieth day after the deposit of the twentieth "
            "instrument of ratification or accession.",
            20,
            Delay(days=30),
        ),
        (
            "The Convention shall enter into force on the ninetieth day following the date of deposit of the "
            "fortieth instrument of ratification, acceptance, approval or accession.",
            40,
            Delay(days=90),
        ),
        (
            "This Treaty enters into force three months after the date of deposit of the tenth instrument.",
            10,
            Delay(months=3),
        ),
        (
            "This Agreement shall enter into force on the first day of the month following the expiration of a "
            "period of three months after the date of deposit of the fifth instrument of ratification.",
            5,
            Delay(months=3, anchor="first_day_of_next_month"),
        ),
        (
            "This Statute shall enter into force on the first day of the month following the sixtieth day after "
            "the deposit of the sixtieth instrument of ratification.",
            60,
            Delay(days=60, anchor="first_day_of_next_month"),
        ),
        (
            "This Convention shall enter into force on the first day of the sixth month after the month in which "
            "the fortieth instrument of ratification has been deposited.",
            40,
            Delay(months=6, anchor="first_day_of_month"),
        ),
        (
            "This Convention shall enter into force twelve months after the deposit of the 25th instrument.",
            25,
            Delay(months=12),
        ),
        (
            "The Agreement shall enter into force one year after the date of deposit of the thirty-fifth "
            "instrument of acceptance.",
            35,
            Delay(months=12),
        ),
        (
            "The present Convention shall enter into force upon the deposit of the twentieth instrument.",
            20,
            Delay(),
        ),
    ],
    ids=[
        "30th-day",
        "90th-day",
        "3-months",
        "first-after-3-months",
        "first-after-60th-day",
        "6th-month",
        "12-months",
        "one-year",
        "upon-deposit",
    ],
)
def test_the_patterns_of_final_clauses(text: str, instruments: int, delay: Delay) -> None:
    rule = _rule(text)
    assert rule.instruments == instruments
    assert rule.delay == delay
    assert rule.count_organisations
    assert rule.computable


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("tenth", 10),
        ("twentieth", 20),
        ("twenty-second", 22),
        ("twenty second", 22),
        ("twenty-seventh", 27),
        ("thirty-fifth", 35),
        ("fortieth", 40),
        ("fiftieth", 50),
        ("sixtieth", 60),
        ("sixty-fifth", 65),
        ("one hundred and twentieth", 120),
        ("one hundredth", 100),
        ("two hundred and first", 201),
        ("40th", 40),
        ("22nd", 22),
        ("3rd", 3),
        ("55", 55),
        ("forty", 40),
        ("fifty-five", 55),
    ],
)
def test_counts_in_words_and_digits(words: str, value: int) -> None:
    text = f"This Convention shall enter into force on the thirtieth day after the deposit of the {words} instrument."
    assert _rule(text).instruments == value


@pytest.mark.parametrize("days", [("thirtieth", 30), ("ninetieth", 90), ("sixtieth", 60), ("180", 180)])
def test_days_in_words_and_digits(days: tuple[str, int]) -> None:
    text = f"This Convention shall enter into force on the {days[0]} day after the deposit of the tenth instrument."
    assert _rule(text).delay == Delay(days=days[1])


def test_late_joiners_usually_get_the_same_delay_and_sometimes_another() -> None:
    same = parse_clause(
        "1. This Convention shall enter into force on the thirtieth day following the date of deposit of the "
        "twentieth instrument of ratification. 2. For each State ratifying the Convention after the deposit of the "
        "twentieth instrument, the Convention shall enter into force on the thirtieth day after the deposit by such "
        "State of its own instrument.",
        source="Article 27",
    )
    assert same.rules.later_participants == Delay(days=30, source="Article 27")
    other = parse_clause(
        "1. The present Protocol shall enter into force three months after the deposit of the tenth instrument of "
        "ratification or accession. 2. For each State ratifying the present Protocol after its entry into force, "
        "it shall enter into force one month after the date of deposit of its own instrument."
    )
    assert other.rules.entry_into_force == EntryIntoForce(instruments=10, delay=Delay(months=3))
    assert other.rules.later_participants == Delay(months=1)
    assert "later participants: 1 month after their own deposit" in other.parts


def test_a_clause_without_late_joiners_leaves_them_unknown() -> None:
    parsed = parse_clause("This Convention shall enter into force ninety days after the tenth instrument is deposited.")
    assert parsed.rules == TreatyRules(entry_into_force=EntryIntoForce(instruments=10, delay=Delay(days=90)))


# Real treaties' clauses, paraphrased in the final-clause style (the numbers, delays and articles are theirs).


def test_convention_on_the_rights_of_the_child_article_49() -> None:
    parsed = parse_clause(
        "1. The Convention shall enter into force on the thirtieth day following the date on which the twentieth "
        "instrument of ratification or accession is deposited with the Secretary-General of the United Nations. "
        "2. For each State ratifying or acceding after the twentieth instrument has been deposited, the Convention "
        "shall enter into force on the thirtieth day after that State deposits its own instrument.",
        source="Article 49",
    )
    rule = parsed.rules.entry_into_force
    assert rule is not None
    assert rule.delay is not None
    assert (rule.instruments, rule.delay.days, rule.source) == (20, 30, "Article 49")
    assert rule.date_from(date(1990, 8, 3)) == date(1990, 9, 2)
    assert parsed.rules.later_participants is not None
    assert parsed.rules.later_participants.days == 30


def test_rome_statute_article_126() -> None:
    parsed = parse_clause(
        "1. The Statute shall enter into force on the first day of the month after the 60th day following the date "
        "on which the 60th instrument of ratification, acceptance, approval or accession is deposited. 2. For each "
        "State joining after the 60th instrument, the Statute shall enter into force on the first day of the month "
        "after the 60th day following the deposit of its instrument."
    )
    rule = parsed.rules.entry_into_force
    assert rule is not None
    assert rule.date_from(date(2002, 4, 11)) == date(2002, 7, 1)
    assert parsed.rules.later_participants == Delay(days=60, anchor="first_day_of_next_month")


def test_mine_ban_convention_article_17() -> None:
    parsed = parse_clause(
        "1. The Convention shall enter into force on the first day of the sixth month after the month in which the "
        "40th instrument of ratification, acceptance, approval or accession is deposited. 2. For any State that "
        "deposits its instrument after that date, the Convention shall enter into force on the first day of the "
        "sixth month after the month of that deposit."
    )
    rule = parsed.rules.entry_into_force
    assert rule is not None
    assert rule.date_from(date(1998, 9, 16)) == date(1999, 3, 1)
    assert parsed.rules.later_participants is not None
    assert parsed.rules.later_participants.apply(date(2012, 12, 27)) == date(2013, 6, 1)


def test_migrant_workers_convention_article_87() -> None:
    rule = _rule(
        "The Convention shall enter into force on the first day of the month following a period of three months "
        "after the date on which the twentieth instrument of ratification or accession is deposited."
    )
    assert rule.date_from(date(2003, 3, 14)) == date(2003, 7, 1)


def test_organized_crime_convention_article_38_does_not_count_organisations() -> None:
    parsed = parse_clause(
        "1. The Convention shall enter into force on the ninetieth day after the date of deposit of the fortieth "
        "instrument of ratification, acceptance, approval or accession. For the purpose of this paragraph, an "
        "instrument deposited by a regional economic integration organization shall not be counted as additional to "
        "those deposited by its member States. 2. For each State or organization joining after the fortieth "
        "instrument, the Convention shall enter into force on the thirtieth day after it deposits its instrument."
    )
    rule = parsed.rules.entry_into_force
    assert rule is not None
    assert (rule.instruments, rule.delay, rule.count_organisations) == (40, Delay(days=90), False)
    assert parsed.rules.later_participants == Delay(days=30)


def test_genocide_convention_article_xiii_says_effective_for_late_joiners() -> None:
    parsed = parse_clause(
        "The Convention shall come into force on the ninetieth day following the date of deposit of the twentieth "
        "instrument of ratification or accession. A ratification or accession effected subsequent to that date shall "
        "become effective on the ninetieth day following the deposit of its instrument."
    )
    rule = parsed.rules.entry_into_force
    assert rule is not None
    assert rule.date_from(date(1950, 10, 14)) == date(1951, 1, 12)
    assert parsed.rules.later_participants == Delay(days=90)


def test_conventional_weapons_protocols_count_states_notifying_consent() -> None:
    rule = _rule(
        "Each Protocol shall enter into force six months after the date by which twenty States have notified their "
        "consent to be bound by it."
    )
    assert (rule.instruments, rule.delay) == (20, Delay(months=6))


def test_copenhagen_amendment_article_3_fixed_date_then_ninety_days() -> None:
    parsed = parse_clause(
        "1. The Amendment shall enter into force on 1 January 1994, provided that at least twenty instruments of "
        "ratification, acceptance or approval of it have been deposited by States or regional economic integration "
        "organizations. If this condition has not been fulfilled by that date, the Amendment shall enter into force "
        "on the ninetieth day following the date on which it is fulfilled. 2. For the purpose of paragraph 1, an "
        "instrument deposited by such an organization shall not be counted as additional to those of its member "
        "States. 3. After that, the Amendment shall enter into force for any other Party on the ninetieth day "
        "following the deposit of its instrument.",
        source="Article 3",
    )
    rule = parsed.rules.entry_into_force
    assert rule is not None
    assert (rule.instruments, rule.fixed_date, rule.delay, rule.count_organisations) == (
        20,
        date(1994, 1, 1),
        Delay(days=90),
        False,
    )
    assert rule.date_from(date(1994, 3, 16)) == date(1994, 6, 14)
    assert parsed.rules.later_participants == Delay(days=90, source="Article 3")


def test_optional_protocol_waits_for_its_covenant() -> None:
    text = (
        "1. Subject to the entry into force of the Covenant, the Protocol shall enter into force three months after "
        "the deposit of the tenth instrument of ratification or accession."
    )
    with pytest.raises(UnsupportedClause, match="another treaty's entry into force"):
        parse_clause(text)
    rule = _rule(text, parent_entry_into_force=date(1976, 3, 23))
    assert rule.not_before == date(1976, 3, 23)
    assert rule.date_from(date(1973, 12, 12)) == date(1976, 3, 23)


def test_arms_trade_treaty_article_22() -> None:
    parsed = parse_clause(
        "1. The Treaty shall enter into force ninety days following the date of deposit of the fiftieth instrument "
        "of ratification, acceptance or approval. 2. For any State depositing its instrument after the Treaty's "
        "entry into force, the Treaty shall enter into force for that State ninety days following that deposit."
    )
    rule = parsed.rules.entry_into_force
    assert rule is not None
    assert rule.date_from(date(2014, 9, 25)) == date(2014, 12, 24)
    assert parsed.rules.later_participants == Delay(days=90)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            # Kyoto Protocol, Article 25(1)
            "The Protocol shall enter into force on the ninetieth day after the date on which not less than 55 "
            "Parties, including Annex I Parties accounting for at least 55 per cent of their total carbon dioxide "
            "emissions for 1990, have deposited their instruments.",
            "a share of emissions is not a count of instruments",
        ),
        (
            # Comprehensive Nuclear-Test-Ban Treaty, Article XIV(1)
            "The Treaty will enter into force 180 days after the date of deposit of the instruments of ratification "
            "by all States listed in Annex 2 to this Treaty.",
            "a named list of States that must all ratify is not a count of instruments",
        ),
        (
            "An amendment shall enter into force when it has been accepted by a two-thirds majority of States Parties.",
            "a share of the parties is not a count of instruments",
        ),
        (
            # Convention on the International Maritime Organization
            "The Convention shall enter into force when 21 States, of which 7 each have a total tonnage of not less "
            "than 1,000,000 gross tons of shipping, have become parties.",
            "a condition on shipping tonnage is not a count of instruments",
        ),
        (
            # Constitution of the World Health Organization, Article 80
            "The Constitution shall come into force when twenty-six Members of the United Nations have become "
            "parties to it.",
            "a count of Members of the United Nations only is not a count of instruments",
        ),
        (
            "The Protocol shall enter into force on 1 January 1989, provided that at least eleven instruments have "
            "been deposited by States representing at least two-thirds of 1986 estimated global consumption.",
            r"a share \(of consumption or the like\) is not a count of instruments",
        ),
        (
            "The Convention shall enter into force 180 days after the deposit of the 65th instrument, but in no case "
            "earlier than two years after its opening for signature.",
            "a floor counted from the opening for signature",
        ),
        ("The Convention shall be open for signature by all States.", "no entry into force on a count"),
        ("This Convention shall enter into force after the tenth instrument.", "no delay after the deposit"),
        ("", "no entry into force on a count"),
    ],
    ids=[
        "emissions",
        "named-list",
        "two-thirds",
        "tonnage",
        "un-members",
        "consumption",
        "floor",
        "no-eif",
        "no-delay",
        "empty",
    ],
)
def test_what_it_cannot_express_it_refuses_naming_the_part(text: str, reason: str) -> None:
    with pytest.raises(UnsupportedClause, match=reason) as refused:
        parse_clause(text)
    assert refused.value.reason == str(refused.value)


def test_the_input_is_capped() -> None:
    with pytest.raises(UnsupportedClause, match="longer than"):
        parse_clause("x" * (MAX_CLAUSE_CHARS + 1))


@pytest.mark.parametrize(
    "text",
    [
        "first day of the " * 250,
        "twenty " * 570,
        "instrument " * 360,
        "1 january 1994 provided " * 160,
        "force. " * 570,
        "a" * MAX_CLAUSE_CHARS,
        "per cen" * 570,
    ],
)
def test_hostile_input_is_refused_or_read(text: str) -> None:
    # Repetitive input up to the cap: the scans are linear, so these end at once (a hang would time out).
    try:
        parsed = parse_clause(text[:MAX_CLAUSE_CHARS])
    except UnsupportedClause as refused:
        assert refused.reason
    else:
        assert parsed.rules.entry_into_force is not None

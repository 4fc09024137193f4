"""Unit tests of why a resolution's claim and the record differ (`claim_differs`): what the record shows around the
claim's day, in words. Pure: a treaty's record built from actions, no database."""

from __future__ import annotations

from datetime import date, timedelta

from treatywatch.common.rules import MINE_BAN_RULES
from treatywatch.registry.domain import ActionRecord, TreatyRecord, claim_differs

ADOPTED = date(2009, 12, 2)
# Forty ratifications a week apart from 3 Dec 1997: the fortieth on 2 Sep 1998, in force on 1 Mar 1999.
ORIGINALS = {f"P{n:02d}": date(1997, 12, 3) + timedelta(weeks=n) for n in range(40)}


def record(*later: tuple[str, str, date]) -> TreatyRecord:
    """The forty original parties, and `later` acts as (participant, action, date)."""
    acts = {code: [ActionRecord(f"{code}-r", "ratification", day)] for code, day in ORIGINALS.items()}
    for code, action, day in later:
        acts.setdefault(code, []).append(ActionRecord(f"{code}-{action}-{day}", action, day))
    return TreatyRecord(acts, MINE_BAN_RULES)


def test_a_claim_the_record_agrees_with_needs_no_explaining() -> None:
    assert claim_differs(record(), "parties_count", 40, ADOPTED, ADOPTED) is None
    assert claim_differs(record(), "entry_into_force_year", 1999, ADOPTED, ADOPTED) is None


def test_a_count_below_the_record_names_the_deposits_between_drafting_and_adoption() -> None:
    three = record(
        ("L1", "accession", date(2009, 11, 10)),
        ("L2", "accession", date(2009, 11, 20)),
        ("L3", "accession", date(2009, 12, 1)),
    )
    assert claim_differs(three, "parties_count", 40, ADOPTED, ADOPTED) == (
        "deposits between drafting and adoption: 3 instruments deposited in the 30 days before adoption; the record "
        "counts 3 parties more than claimed, and it counted 40 from 1998-09-02 until 2009-11-10"
    )
    assert claim_differs(three, "parties_count", 42, ADOPTED, ADOPTED) == (
        "deposits between drafting and adoption: 3 instruments deposited in the 30 days before adoption; the record "
        "counts 1 party more than claimed, and it counted 42 from 2009-11-20 until 2009-12-01"
    )


def test_a_count_below_the_record_without_recent_deposits_says_they_are_not_the_cause() -> None:
    earlier = record(("L1", "accession", date(2009, 6, 1)))
    assert claim_differs(earlier, "parties_count", 40, ADOPTED, date(2009, 12, 4)) == (
        "not deposits between drafting and adoption: none in the 30 days before 2009-12-02; the record counts "
        "1 party more than claimed, and it counted 40 from 1998-09-02 until 2009-06-01"
    )


def test_a_count_above_the_record_names_the_withdrawals_and_the_deposits_before_it() -> None:
    # P05 withdraws on 1 May 2009, effective six months later (Article 20(3)); L1 accedes on 20 Nov 2009.
    changed = record(("P05", "withdrawal", date(2009, 5, 1)), ("L1", "accession", date(2009, 11, 20)))
    assert changed.stats(ADOPTED).parties == 40
    assert claim_differs(changed, "parties_count", 41, ADOPTED, ADOPTED) == (
        "withdrawals: 1 withdrawal had taken effect by then, 1 of them in the 60 days before adoption; "
        "1 instrument deposited in those days; the record counts 1 party fewer than claimed"
    )
    assert claim_differs(changed, "parties_count", 39, ADOPTED, ADOPTED) == (
        "deposits between drafting and adoption: 1 instrument deposited in the 30 days before adoption; the record "
        "counts 1 party more than claimed, and it counted 39 from 2009-11-01 until 2009-11-20"
    )


def test_a_count_above_the_record_without_withdrawals_says_so() -> None:
    assert claim_differs(record(), "parties_count", 45, ADOPTED, ADOPTED) == (
        "not withdrawals: none had taken effect by then; 0 instruments deposited in the 60 days before adoption; "
        "the record counts 5 parties fewer than claimed"
    )


def test_an_entry_into_force_the_record_contradicts_gives_the_records_date_and_its_source() -> None:
    expected = "the record has the treaty in force from 1999-03-01 (computed from the deposits recorded)"
    assert claim_differs(record(), "entry_into_force_year", 1998, ADOPTED, ADOPTED) == expected
    assert claim_differs(record(), "entry_into_force_date", "1999-01-01", ADOPTED, ADOPTED) == expected

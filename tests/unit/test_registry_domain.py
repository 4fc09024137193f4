"""Status derivation for the Mine Ban Convention (XXVI-5), for rules of other shapes (organisations not counted, a
floor, a fixed date, a condition not a count, no withdrawal), for treaties whose rules are unknown; the rules in
words."""

import itertools
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta

import pytest

from treatywatch.common.rules import MINE_BAN_RULES, Delay, EntryIntoForce, Reporting, TreatyRules, WithdrawalTerms
from treatywatch.registry.domain import (
    ACTIONS,
    BINDING_ACTIONS,
    ActionRecord,
    ClaimCheck,
    Consent,
    ParticipantStatus,
    ReportDue,
    StatedEntry,
    TreatyRecord,
    TreatyStats,
    Withdrawal,
    check_claim,
    current_actions,
    date_in_words,
    delay_in_words,
    number_in_words,
    ordinal_in_words,
    participant_status,
    participant_statuses,
    report_kind_recorded,
    reports_due,
    rules_in_words,
    rules_sentence,
    timeline,
    treaty_entry_into_force,
    treaty_stats,
)

Participations = dict[str, list[ActionRecord]]

OTTAWA = date(1997, 12, 3)
FORTIETH = date(1998, 9, 16)
IN_FORCE = date(1999, 3, 1)
WITHDRAWN_PARTY = "P07"


def act(
    event_id: str,
    action: str,
    day: date,
    *,
    effective_date: date | None = None,
    notification: str | None = None,
    corrects: str | None = None,
    text: str | None = None,
) -> ActionRecord:
    return ActionRecord(event_id, action, day, effective_date, notification, corrects, text)


def mine_ban() -> Participations:
    """45 States bound (the 40th, Burkina Faso, on 16 Sep 1998), plus signatories and bystanders.

    P01..P39 sign at Ottawa and ratify weekly from 3 Dec 1997; BFA ratifies 16 Sep 1998; five join
    later, Afghanistan by accession on 11 Sep 2002; P07 withdraws on 15 Jan 2010.
    """
    p: Participations = {}
    for i in range(1, 40):
        code = f"P{i:02d}"
        p[code] = [
            act(f"{code}-s", "signature", OTTAWA),
            act(f"{code}-r", "ratification", OTTAWA + timedelta(weeks=i - 1)),
        ]
    p["BFA"] = [act("BFA-s", "signature", OTTAWA), act("BFA-r", "ratification", FORTIETH)]
    p["L41"] = [act("L41-s", "signature", OTTAWA), act("L41-r", "ratification", date(1998, 10, 1))]
    p["L42"] = [act("L42-a", "accession", date(1999, 1, 5))]
    p["L43"] = [act("L43-s", "signature", OTTAWA), act("L43-r", "acceptance", date(1999, 5, 20))]
    p["L44"] = [act("L44-d", "succession", date(2001, 2, 14))]
    p["AFG"] = [act("AFG-a", "accession", date(2002, 9, 11), notification="C.N.869.2002.TREATIES-8")]
    p[WITHDRAWN_PARTY].append(act("P07-w", "withdrawal", date(2010, 1, 15)))
    p["P03"].append(act("P03-decl", "declaration", date(1998, 1, 20), text="Article 2 understanding"))
    p["S01"] = [act("S01-s", "signature", OTTAWA)]
    p["S02"] = [act("S02-s", "signature", date(1997, 12, 4))]
    p["S03"] = [act("S03-s", "signature", OTTAWA), act("S03-n", "provisional_application", date(1998, 2, 1))]
    p["X01"] = [act("X01-n", "provisional_application", date(1999, 6, 1))]
    p["X02"] = [act("X02-o", "objection", date(2000, 6, 1))]
    return p


def first_consents(participations: Mapping[str, Sequence[ActionRecord]]) -> dict[str, date]:
    firsts = {}
    for key, records in participations.items():
        binding = [r.date for r in current_actions(records) if r.action in BINDING_ACTIONS]
        if binding:
            firsts[key] = binding[0]
    return firsts


def status_of(
    code: str,
    as_of: date,
    participations: Participations | None = None,
    rules: TreatyRules | None = MINE_BAN_RULES,
) -> ParticipantStatus | None:
    participations = participations if participations is not None else mine_ban()
    return participant_statuses(participations, rules, as_of).get(code)


# The treaty's entry into force


def test_the_fortieth_instrument_brings_the_convention_into_force_on_1_march_1999() -> None:
    entry = treaty_entry_into_force(first_consents(mine_ban()), MINE_BAN_RULES)
    assert (entry.decisive, entry.on, entry.computed, entry.stated, entry.shown) == (
        FORTIETH,
        IN_FORCE,
        IN_FORCE,
        IN_FORCE,
        "computed",
    )
    assert (entry.known_from, entry.reason, entry.warnings) == (FORTIETH, None, ())
    assert treaty_stats(mine_ban(), MINE_BAN_RULES, date(2000, 1, 1)).entry_into_force == IN_FORCE


def test_too_few_instruments_or_no_rule_means_no_entry_into_force() -> None:
    firsts = first_consents(mine_ban())
    ordered = sorted(firsts, key=lambda key: firsts[key])
    too_few = treaty_entry_into_force({key: firsts[key] for key in ordered[:39]}, MINE_BAN_RULES)
    assert (too_few.on, too_few.computed, too_few.stated, too_few.shown) == (None, None, IN_FORCE, None)
    assert too_few.reason == "39 of the 40 binding instruments the rule counts are recorded"
    assert too_few.warnings == (
        "the depositary states 1999-03-01, but 39 of the 40 binding instruments the rule counts are recorded",
    )
    for rules in (None, TreatyRules(withdrawal=Delay(months=6))):
        unknown = treaty_entry_into_force(firsts, rules)
        assert (unknown.on, unknown.known_from, unknown.warnings) == (None, None, ())
        assert unknown.reason == "the registry does not know the treaty's rule of entry into force"
    shuffled = dict(reversed(list(firsts.items())))
    assert treaty_entry_into_force(shuffled, MINE_BAN_RULES) == treaty_entry_into_force(firsts, MINE_BAN_RULES)


def test_only_each_participants_first_binding_instrument_counts() -> None:
    p = mine_ban()
    # A second binding act by a party already bound must not become "the 40th instrument".
    p["P01"].append(act("P01-again", "acceptance", date(1998, 3, 1)))
    assert treaty_stats(p, MINE_BAN_RULES, date(1998, 9, 15)) == TreatyStats(39, 0, 6, 0, None)
    assert treaty_stats(p, MINE_BAN_RULES, FORTIETH).entry_into_force == IN_FORCE


def test_stats_before_on_and_after_entry_into_force() -> None:
    p = mine_ban()
    # Signatories: S01, S02, S03, and BFA, L41, L43 before they ratify; X01 and X02 are no one's count.
    assert treaty_stats(p, MINE_BAN_RULES, date(1998, 9, 15)) == TreatyStats(39, 0, 6, 0, None)
    assert treaty_stats(p, MINE_BAN_RULES, FORTIETH) == TreatyStats(40, 0, 5, 0, IN_FORCE)
    assert treaty_stats(p, MINE_BAN_RULES, date(1999, 2, 28)) == TreatyStats(42, 0, 4, 0, IN_FORCE)
    assert treaty_stats(p, MINE_BAN_RULES, IN_FORCE) == TreatyStats(42, 40, 4, 0, IN_FORCE)
    assert treaty_stats(p, MINE_BAN_RULES, date(1999, 4, 1)) == TreatyStats(42, 41, 4, 0, IN_FORCE)
    assert treaty_stats(p, MINE_BAN_RULES, date(2009, 12, 2)) == TreatyStats(45, 45, 3, 0, IN_FORCE)
    assert treaty_stats(p, MINE_BAN_RULES, date(1997, 12, 2)) == TreatyStats(0, 0, 0, 0, None)


def test_instruments_on_the_day_of_the_fortieth_take_the_treatys_date() -> None:
    p = mine_ban()
    p["SAME"] = [act("SAME-r", "ratification", FORTIETH)]
    status = status_of("SAME", date(2000, 1, 1), p)
    assert status is not None
    assert status.in_force_on == IN_FORCE


# A participant's status


def test_afghanistan_acceded_in_2002_and_the_convention_entered_into_force_for_it_on_1_march_2003() -> None:
    before = status_of("AFG", date(2003, 2, 28))
    assert before is not None
    assert (before.status, before.consent, before.in_force_on, before.in_force) == (
        "party",
        Consent("accession", date(2002, 9, 11)),
        date(2003, 3, 1),
        False,
    )
    after = status_of("AFG", date(2003, 3, 1))
    assert after is not None
    assert after.in_force
    assert after.signature is None
    assert [a.event_id for a in after.actions] == ["AFG-a"]


def test_participant_status_takes_the_treatys_dates_from_the_caller() -> None:
    status = participant_status(mine_ban()["AFG"], date(2004, 1, 1), MINE_BAN_RULES, IN_FORCE, FORTIETH)
    assert status == status_of("AFG", date(2004, 1, 1))
    assert participant_status(mine_ban()["AFG"], date(2002, 9, 10), MINE_BAN_RULES, IN_FORCE, FORTIETH) is None


def test_an_original_party_is_bound_from_the_treatys_entry_into_force() -> None:
    status = status_of("P01", date(1999, 1, 1))
    assert status is not None
    assert status.status == "party"
    assert status.consent == Consent("ratification", OTTAWA)
    assert status.signature == OTTAWA
    assert status.in_force_on == IN_FORCE
    assert not status.in_force


def test_a_later_participant_is_never_in_force_before_the_treaty() -> None:
    rules = TreatyRules(
        entry_into_force=EntryIntoForce(instruments=2, delay=Delay(months=6)),
        later_participants=Delay(days=30),
    )
    p = {
        "A": [act("a", "ratification", date(2000, 1, 10))],
        "B": [act("b", "ratification", date(2000, 2, 10))],
        "C": [act("c", "accession", date(2000, 3, 1))],
        "D": [act("d", "accession", date(2000, 7, 20))],
    }
    statuses = participant_statuses(p, rules, date(2001, 1, 1))
    assert {code: s.in_force_on for code, s in statuses.items()} == {
        "A": date(2000, 8, 10),
        "B": date(2000, 8, 10),
        "C": date(2000, 8, 10),
        "D": date(2000, 8, 19),
    }


def test_a_signatory_who_later_ratifies_is_a_party_not_a_signatory() -> None:
    signed = status_of("BFA", date(1998, 1, 1))
    assert signed is not None
    assert (signed.status, signed.consent, signed.in_force_on, signed.in_force) == (
        "signatory",
        None,
        None,
        False,
    )
    ratified = status_of("BFA", date(1998, 9, 16))
    assert ratified is not None
    assert ratified.status == "party"
    assert ratified.signature == OTTAWA
    assert ratified.consent == Consent("ratification", FORTIETH)


def test_provisional_application_and_declarations_do_not_make_a_party() -> None:
    as_of = date(2005, 1, 1)
    signatory = status_of("S03", as_of)
    assert signatory is not None
    assert signatory.status == "signatory"
    assert [a.action for a in signatory.actions] == ["signature", "provisional_application"]
    assert status_of("X01", as_of) is None
    assert status_of("X02", as_of) is None
    p = {
        "Z": [
            act("z-n", "provisional_application", date(1998, 1, 1)),
            act("z-d", "declaration", date(1998, 1, 1)),
        ]
    }
    assert treaty_stats(p, MINE_BAN_RULES, as_of) == TreatyStats(0, 0, 0, 0, None)


def test_no_status_before_the_first_act() -> None:
    assert status_of("AFG", date(2002, 9, 10)) is None
    assert status_of("P01", date(1997, 12, 2)) is None


def test_a_declaration_after_ratification_changes_nothing() -> None:
    status = status_of("P03", date(2000, 1, 1))
    assert status is not None
    assert status.status == "party"
    assert status.consent == Consent("ratification", date(1997, 12, 17))
    assert [a.action for a in status.actions] == ["signature", "ratification", "declaration"]


# Withdrawal


def test_a_withdrawal_takes_effect_six_months_after_deposit() -> None:
    pending = status_of(WITHDRAWN_PARTY, date(2010, 3, 1))
    assert pending is not None
    assert pending.status == "party"
    assert pending.in_force
    assert pending.withdrawal == Withdrawal(date(2010, 1, 15), date(2010, 7, 15), rule_on=date(2010, 7, 15))
    assert pending.warnings == ()
    eve = status_of(WITHDRAWN_PARTY, date(2010, 7, 14))
    assert eve is not None
    assert eve.status == "party"
    for as_of in (date(2010, 7, 15), date(2010, 8, 1)):
        withdrawn = status_of(WITHDRAWN_PARTY, as_of)
        assert withdrawn is not None
        assert withdrawn.status == "withdrawn"
        assert not withdrawn.in_force
        assert withdrawn.withdrawal == Withdrawal(date(2010, 1, 15), date(2010, 7, 15), rule_on=date(2010, 7, 15))
    assert treaty_stats(mine_ban(), MINE_BAN_RULES, date(2010, 3, 1)) == TreatyStats(45, 45, 3, 0, IN_FORCE)
    assert treaty_stats(mine_ban(), MINE_BAN_RULES, date(2010, 8, 1)) == TreatyStats(44, 44, 3, 1, IN_FORCE)


def test_the_events_effective_date_decides_the_withdrawal_and_the_rules_date_is_kept_beside_it() -> None:
    p = mine_ban()
    # Article 20(3): a State engaged in an armed conflict waits for its end.
    p[WITHDRAWN_PARTY][-1] = act(
        "P07-w", "withdrawal", date(2010, 1, 15), effective_date=date(2011, 5, 1), notification="C.N.7.2010"
    )
    still = status_of(WITHDRAWN_PARTY, date(2010, 8, 1), p)
    assert still is not None
    assert still.status == "party"
    assert still.withdrawal == Withdrawal(
        date(2010, 1, 15), date(2011, 5, 1), stated_on=date(2011, 5, 1), rule_on=date(2010, 7, 15)
    )
    assert still.warnings == (
        "withdrawal effective on 2010-07-15 by the rules; notification C.N.7.2010 states 2011-05-01",
    )
    gone = status_of(WITHDRAWN_PARTY, date(2011, 5, 1), p)
    assert gone is not None
    assert gone.status == "withdrawn"


def test_rejoining_after_withdrawal_makes_a_party_again() -> None:
    p = mine_ban()
    p[WITHDRAWN_PARTY].append(act("P07-a", "accession", date(2012, 3, 5)))
    back = status_of(WITHDRAWN_PARTY, date(2012, 6, 1), p)
    assert back is not None
    assert back.status == "party"
    assert back.consent == Consent("accession", date(2012, 3, 5))
    assert back.in_force_on == date(2012, 9, 1)
    assert not back.in_force
    assert back.withdrawal is None
    later = status_of(WITHDRAWN_PARTY, date(2012, 9, 1), p)
    assert later is not None
    assert later.in_force
    assert treaty_stats(p, MINE_BAN_RULES, date(2012, 6, 1)) == TreatyStats(45, 44, 3, 0, IN_FORCE)
    assert treaty_stats(p, MINE_BAN_RULES, date(2011, 1, 1)) == TreatyStats(44, 44, 3, 1, IN_FORCE)


def test_denouncing_and_reacceding_the_same_day_keeps_a_party_throughout() -> None:
    p = mine_ban()
    p[WITHDRAWN_PARTY] = [
        *p[WITHDRAWN_PARTY][:2],
        act("P07-a", "accession", date(2010, 1, 15)),
        act("P07-w", "withdrawal", date(2010, 1, 15)),
    ]
    for as_of, consent in [
        (date(2010, 3, 1), Consent("ratification", date(1998, 1, 14))),
        (date(2010, 7, 15), Consent("accession", date(2010, 1, 15))),
    ]:
        status = status_of(WITHDRAWN_PARTY, as_of, p)
        assert status is not None
        assert (status.status, status.consent, status.in_force) == ("party", consent, True)
    assert [pt for pt in timeline(p, MINE_BAN_RULES) if pt.date >= date(2010, 1, 1)] == []


def test_a_withdrawal_without_a_known_instrument_is_withdrawn_once_effective() -> None:
    p = {"Q": [act("q-w", "withdrawal", date(2010, 1, 15))]}
    assert status_of("Q", date(2010, 2, 1), p) is None
    status = status_of("Q", date(2010, 8, 1), p)
    assert status is not None
    assert (status.status, status.consent) == ("withdrawn", None)


# Corrections, order and duplicates


def test_a_correction_replaces_the_named_record_and_changes_the_count() -> None:
    p = mine_ban()
    p["BFA"].append(act("BFA-r2", "ratification", date(1998, 9, 20), corrects="BFA-r"))
    assert [a.event_id for a in current_actions(p["BFA"])] == ["BFA-s", "BFA-r2"]
    assert treaty_stats(p, MINE_BAN_RULES, FORTIETH) == TreatyStats(39, 0, 6, 0, None)
    assert treaty_stats(p, MINE_BAN_RULES, date(1998, 9, 20)) == TreatyStats(40, 0, 5, 0, IN_FORCE)


def test_a_correction_can_move_the_fortieth_instrument_into_another_month() -> None:
    p = mine_ban()
    p["BFA"].append(act("BFA-r2", "ratification", date(1998, 10, 2), corrects="BFA-r"))
    # L41 (1 Oct 1998) is now the 40th instrument.
    assert treaty_stats(p, MINE_BAN_RULES, date(1999, 6, 1)).entry_into_force == date(1999, 4, 1)


def test_corrections_chain_and_only_the_last_link_remains() -> None:
    records = [
        act("r1", "ratification", date(1999, 1, 1)),
        act("r2", "ratification", date(1999, 1, 2), corrects="r1"),
        act("r3", "accession", date(1999, 1, 3), corrects="r2"),
        act("s", "signature", OTTAWA),
    ]
    assert [r.event_id for r in current_actions(records)] == ["s", "r3"]
    assert [r.event_id for r in current_actions(reversed(records))] == ["s", "r3"]


def test_a_correction_of_an_unknown_record_stands_on_its_own() -> None:
    records = [act("r9", "ratification", date(1999, 1, 1), corrects="elsewhere")]
    assert current_actions(records) == records


def test_current_actions_sort_by_date_then_action_then_event_id() -> None:
    day = date(2000, 1, 1)
    records = [
        act("b", "declaration", day),
        act("z", "ratification", day),
        act("a", "ratification", day),
        act("c", "signature", day),
        act("d", "withdrawal", day),
        act("y", "signature", day - timedelta(days=1)),
        act("x", "unheard_of", day),
    ]
    assert [r.event_id for r in current_actions(records)] == ["y", "c", "d", "a", "z", "b", "x"]


def test_duplicated_event_ids_are_kept_once_whatever_their_order() -> None:
    one = act("e1", "ratification", date(1999, 1, 1), notification="C.N.1.1999")
    other = act("e1", "ratification", date(1999, 1, 1), notification="C.N.2.1999")
    assert current_actions([one, one, one]) == [one]
    assert current_actions([one, other]) == current_actions([other, one]) == [one]


def test_shuffled_and_duplicated_records_give_identical_results() -> None:
    base = mine_ban()
    base["BFA"].append(act("BFA-r2", "ratification", date(1998, 9, 18), corrects="BFA-r"))
    base[WITHDRAWN_PARTY].append(act("P07-a", "accession", date(2012, 3, 5)))
    dates = [date(1998, 9, 17), date(1999, 3, 1), date(2003, 3, 1), date(2010, 8, 1), date(2013, 1, 1)]
    expected_stats = [treaty_stats(base, MINE_BAN_RULES, d) for d in dates]
    expected_statuses = [participant_statuses(base, MINE_BAN_RULES, d) for d in dates]
    expected_timeline = timeline(base, MINE_BAN_RULES)
    rng = random.Random(20091202)
    for _ in range(8):
        shuffled: Participations = {}
        codes = list(base)
        rng.shuffle(codes)
        for code in codes:
            records = base[code] + rng.sample(base[code], k=rng.randint(0, len(base[code])))
            rng.shuffle(records)
            shuffled[code] = records
        assert [treaty_stats(shuffled, MINE_BAN_RULES, d) for d in dates] == expected_stats
        assert [participant_statuses(shuffled, MINE_BAN_RULES, d) for d in dates] == expected_statuses
        assert timeline(shuffled, MINE_BAN_RULES) == expected_timeline
        for code in base:
            assert current_actions(shuffled[code]) == current_actions(base[code])


# Rules beyond the Mine Ban Convention's shape


def bound(*days: date, prefix: str = "S") -> Participations:
    """One participant per date, each bound by ratification that day."""
    return {f"{prefix}{i:02d}": [act(f"{prefix}{i:02d}-r", "ratification", day)] for i, day in enumerate(days)}


def test_an_organisations_instrument_counts_only_when_the_rule_counts_it() -> None:
    counting = EntryIntoForce(instruments=3, delay=Delay(days=30))
    p = bound(date(2000, 1, 10), date(2000, 2, 10), date(2000, 5, 10))
    p["European Union"] = [act("eu-c", "formal_confirmation", date(2000, 3, 10))]
    entry = treaty_entry_into_force(first_consents(p), TreatyRules(entry_into_force=counting))
    assert (entry.decisive, entry.on) == (date(2000, 3, 10), date(2000, 4, 9))
    states_only = TreatyRules(
        entry_into_force=counting.model_copy(update={"count_organisations": False}), later_participants=Delay(days=30)
    )
    entry = treaty_entry_into_force(first_consents(p), states_only)
    assert (entry.decisive, entry.on) == (date(2000, 5, 10), date(2000, 6, 9))
    # The organisation is a party all the same, bound from the treaty's entry into force.
    union = status_of("European Union", date(2001, 1, 1), p, states_only)
    assert union is not None
    assert (union.status, union.in_force_on) == ("party", date(2000, 6, 9))
    # A name without a code that is no organisation's counts as a State's.
    p["Atlantis"] = [act("atl-r", "ratification", date(2000, 4, 1))]
    assert treaty_entry_into_force(first_consents(p), states_only).decisive == date(2000, 4, 1)


def test_a_treaty_never_enters_into_force_before_its_not_before_date() -> None:
    # The first Optional Protocol to the ICCPR (IV-5): ten instruments, three months, not before the Covenant.
    rules = TreatyRules(
        entry_into_force=EntryIntoForce(instruments=2, delay=Delay(months=3), not_before=date(1976, 3, 23)),
        later_participants=Delay(months=3),
    )
    p = bound(date(1969, 6, 1), date(1970, 1, 5), date(1976, 1, 10), date(1976, 2, 1), date(1975, 11, 1))
    assert treaty_entry_into_force(first_consents(p), rules).on == date(1976, 3, 23)
    statuses = participant_statuses(p, rules, date(1977, 1, 1))
    # Bound after the decisive (second) instrument: three months after its own deposit, yet never before the floor.
    assert [s.in_force_on for s in statuses.values()] == [
        date(1976, 3, 23),
        date(1976, 3, 23),
        date(1976, 4, 10),
        date(1976, 5, 1),
        date(1976, 3, 23),
    ]


def test_a_fixed_date_applies_when_the_count_is_reached_by_then() -> None:
    # The Montreal Protocol's amendments (XXVII-2-b): 1 January 1992 if twenty instruments by then, else 90 days.
    rule = EntryIntoForce(instruments=2, delay=Delay(days=90), fixed_date=date(1992, 1, 1))
    rules = TreatyRules(entry_into_force=rule)
    assert treaty_entry_into_force(first_consents(bound(date(1991, 3, 1), date(1991, 12, 31))), rules).on == date(
        1992, 1, 1
    )
    late = treaty_entry_into_force(first_consents(bound(date(1991, 3, 1), date(1992, 5, 12))), rules)
    assert (late.decisive, late.on) == (date(1992, 5, 12), date(1992, 8, 10))


KYOTO = TreatyRules(
    entry_into_force=EntryIntoForce(
        instruments=55,
        delay=Delay(days=90),
        condition="not_a_count",
        description="55 Parties with 55 per cent of the emissions",
        stated_date=date(2005, 2, 16),
    ),
    later_participants=Delay(days=90),
)


def test_a_condition_not_a_count_takes_the_depositarys_date() -> None:
    # Two instruments only: the count is not what decides, the stated date is.
    p = bound(date(2002, 5, 31), date(2004, 11, 18), date(2004, 12, 1), date(2005, 3, 1))
    entry = treaty_entry_into_force(first_consents(p), KYOTO)
    assert (entry.on, entry.computed, entry.stated, entry.shown, entry.known_from, entry.decisive) == (
        date(2005, 2, 16),
        None,
        date(2005, 2, 16),
        "stated",
        date(2005, 2, 16),
        None,
    )
    statuses = participant_statuses(p, KYOTO, date(2006, 1, 1))
    # Whoever deposited by the ninetieth day before joined the treaty's own date; later ones count their own 90 days.
    assert [s.in_force_on for s in statuses.values()] == [
        date(2005, 2, 16),
        date(2005, 2, 16),
        date(2005, 3, 1),
        date(2005, 5, 30),
    ]
    assert treaty_stats(p, KYOTO, date(2005, 2, 15)) == TreatyStats(3, 0, 0, 0, None)
    assert treaty_stats(p, KYOTO, date(2005, 2, 16)) == TreatyStats(3, 2, 0, 0, date(2005, 2, 16))
    assert treaty_stats(p, KYOTO, date(2006, 1, 1)) == TreatyStats(4, 4, 0, 0, date(2005, 2, 16))


def test_a_treaty_the_depositary_states_not_in_force_has_none_in_force() -> None:
    ctbt = TreatyRules(
        entry_into_force=EntryIntoForce(
            instruments=44,
            delay=Delay(days=180),
            condition="not_a_count",
            description="All 44 Annex 2 States",
            in_force=False,
        )
    )
    p = bound(date(1997, 1, 1), date(1998, 1, 1))
    entry = treaty_entry_into_force(first_consents(p), ctbt)
    assert (entry.on, entry.reason) == (None, "the depositary states that the treaty is not yet in force")
    assert treaty_stats(p, ctbt, date(2020, 1, 1)) == TreatyStats(2, 0, 0, 0, None)
    assert ctbt.entry_into_force is not None
    unstated = TreatyRules(entry_into_force=ctbt.entry_into_force.model_copy(update={"in_force": None}))
    assert treaty_stats(p, unstated, date(2020, 1, 1)).in_force is None
    assert "depositary's date is not recorded" in (treaty_entry_into_force(first_consents(p), unstated).reason or "")


def test_a_computed_date_the_depositary_contradicts_is_kept_with_a_warning() -> None:
    # The ICCPR (IV-4): the snapshot lacks instruments of States that no longer exist, so the count comes late.
    rules = TreatyRules(
        entry_into_force=EntryIntoForce(instruments=2, delay=Delay(months=3), stated_date=date(1976, 3, 23))
    )
    p = bound(date(1970, 1, 1), date(1976, 6, 11))
    entry = treaty_entry_into_force(first_consents(p), rules)
    assert (entry.on, entry.computed, entry.stated, entry.shown) == (
        date(1976, 9, 11),
        date(1976, 9, 11),
        date(1976, 3, 23),
        "computed",
    )
    assert entry.warnings == ("computed 1976-09-11 from the deposits recorded, the depositary states 1976-03-23",)
    assert TreatyRecord(p, rules).entry == entry


# A treaty's own entry into force as a depositary notification states it (`treaty.entered_into_force`)

ENTRY_NOTICE = "C.N.522.1998.TREATIES-XXVI.5"
UNSTATED_MINE_BAN = MINE_BAN_RULES.model_copy(
    update={"entry_into_force": EntryIntoForce(instruments=40, delay=Delay(months=6, anchor="first_day_of_month"))}
)


def test_a_notified_entry_into_force_is_the_stated_date_where_the_rules_state_none() -> None:
    firsts = first_consents(mine_ban())
    assert treaty_entry_into_force(firsts, UNSTATED_MINE_BAN).stated is None
    agreeing = treaty_entry_into_force(firsts, UNSTATED_MINE_BAN, StatedEntry(IN_FORCE, ENTRY_NOTICE))
    assert (agreeing.on, agreeing.computed, agreeing.stated, agreeing.shown, agreeing.warnings) == (
        IN_FORCE,
        IN_FORCE,
        IN_FORCE,
        "computed",
        (),
    )
    # Beside the computed date, never instead of it.
    late = treaty_entry_into_force(firsts, UNSTATED_MINE_BAN, StatedEntry(date(1999, 4, 1), ENTRY_NOTICE))
    assert (late.on, late.stated, late.shown) == (IN_FORCE, date(1999, 4, 1), "computed")
    assert late.warnings == ("computed 1999-03-01 from the deposits recorded, the depositary states 1999-04-01",)


def test_the_rules_stated_date_stays_and_a_notification_that_differs_is_a_warning() -> None:
    firsts = first_consents(mine_ban())
    same = treaty_entry_into_force(firsts, MINE_BAN_RULES, StatedEntry(IN_FORCE, ENTRY_NOTICE))
    assert same == treaty_entry_into_force(firsts, MINE_BAN_RULES)
    other = treaty_entry_into_force(firsts, MINE_BAN_RULES, StatedEntry(date(1999, 4, 1), ENTRY_NOTICE))
    assert (other.on, other.stated) == (IN_FORCE, IN_FORCE)
    assert other.warnings == (f"the rules state 1999-03-01 for the entry into force, notification {ENTRY_NOTICE} "
                              "states 1999-04-01",)  # fmt: skip


def test_a_condition_not_a_count_takes_the_notified_date() -> None:
    assert KYOTO.entry_into_force is not None
    unstated = TreatyRules(
        entry_into_force=KYOTO.entry_into_force.model_copy(update={"stated_date": None, "in_force": False}),
        later_participants=KYOTO.later_participants,
    )
    p = bound(date(2002, 5, 31), date(2004, 11, 18), date(2004, 12, 1), date(2005, 3, 1))
    notified = StatedEntry(date(2005, 2, 16), "C.N.1.2005.TREATIES-XXVII.7.a")
    assert treaty_stats(p, unstated, date(2006, 1, 1)) == TreatyStats(4, 0, 0, 0, None)
    # Notified, it reads as the catalogue's stated date would: the "not in force" of the rules is past.
    for day in (date(2005, 2, 15), date(2005, 2, 16), date(2006, 1, 1)):
        assert treaty_stats(p, unstated, day, notified) == treaty_stats(p, KYOTO, day), day
        assert participant_statuses(p, unstated, day, notified) == participant_statuses(p, KYOTO, day), day
    record = TreatyRecord(p, unstated, notified)
    assert (record.entry.on, record.entry.shown, record.notified) == (date(2005, 2, 16), "stated", notified)


def test_with_no_rule_the_notified_date_is_shown_and_nothing_else_is_computed() -> None:
    p = bound(date(1998, 1, 1), date(1999, 1, 1))
    notified = StatedEntry(date(1998, 7, 1), "C.N.9.1998.TREATIES-1")
    entry = treaty_entry_into_force(first_consents(p), None, notified)
    assert (entry.on, entry.stated, entry.shown, entry.known_from, entry.reason) == (
        date(1998, 7, 1),
        date(1998, 7, 1),
        "stated",
        date(1998, 7, 1),
        None,
    )
    assert treaty_stats(p, None, date(1998, 6, 30), notified) == TreatyStats(1, None, 0, 0, None)
    assert treaty_stats(p, None, date(2000, 1, 1), notified) == TreatyStats(2, None, 0, 0, date(1998, 7, 1))
    assert all(s.in_force_on is None for s in participant_statuses(p, None, date(2000, 1, 1), notified).values())


# A correction names an act by its event id, or by the notification that announced it

CORRECTED = "C.N.1.2013.TREATIES-XXVI.5"
CORRECTING = "C.N.45.2013.TREATIES-XXVI.5"


def correction(corrects: str = f"cn:{CORRECTED}") -> ActionRecord:
    """Poland's ratification as the correcting notification gives it."""
    day, effective = date(2012, 12, 27), date(2013, 6, 1)
    return act(
        f"cn:{CORRECTING}", "ratification", day, effective_date=effective, notification=CORRECTING, corrects=corrects
    )


def test_a_correction_applies_to_an_act_from_elsewhere_recorded_with_the_notification_it_names() -> None:
    elsewhere = act("untc:XXVI-5:POL:1", "ratification", date(2012, 12, 28), notification=CORRECTED)
    declaration = act("untc:XXVI-5:POL:2", "declaration", date(2012, 12, 28), notification=CORRECTED)
    signature = act("untc:XXVI-5:POL:0", "signature", OTTAWA)
    fix = correction()
    records = [signature, elsewhere, declaration, fix]
    assert current_actions(records) == current_actions(reversed(records)) == [signature, fix, declaration]
    p = mine_ban() | {"POL": records, "FIN": [act("FIN-r", "ratification", date(2012, 12, 28), notification=CORRECTED)]}
    record = TreatyRecord(p, MINE_BAN_RULES)
    assert record.superseded["POL"] == [elsewhere]
    # Only the correction's own participant: another's act under the same reference is none of its business.
    assert record.superseded["FIN"] == []
    poland = record.status("POL", date(2014, 1, 1))
    assert poland is not None and poland.consent == Consent("ratification", date(2012, 12, 27))
    assert participant_statuses(p, MINE_BAN_RULES, date(2014, 1, 1))["POL"] == poland


def test_the_event_id_a_correction_names_comes_first() -> None:
    ingested = act(f"cn:{CORRECTED}", "ratification", date(2012, 12, 28), notification=CORRECTED)
    elsewhere = act("untc:XXVI-5:POL:1", "ratification", date(2012, 12, 28), notification=CORRECTED)
    fix = correction()
    assert current_actions([ingested, elsewhere, fix]) == [fix, elsewhere]
    # Of the acts a notification announced, the one of the correction's action; else whatever it announced.
    accession = replace(elsewhere, action="accession")
    assert current_actions([accession, fix]) == [fix]
    # An id of another form is matched by id only.
    assert current_actions([elsewhere, correction(corrects=CORRECTED)]) == [
        correction(corrects=CORRECTED),
        elsewhere,
    ]


def test_a_stated_in_force_date_for_a_participant_is_shown_beside_the_rules() -> None:
    p = mine_ban()
    p["AFG"] = [act("AFG-a", "accession", date(2002, 9, 11), effective_date=date(2003, 4, 1), notification="C.N.8")]
    p["L42"] = [act("L42-a", "accession", date(1999, 1, 5), effective_date=date(1999, 7, 1))]
    afg = status_of("AFG", date(2004, 1, 1), p)
    assert afg is not None
    assert (afg.in_force_on, afg.stated_in_force_on) == (date(2003, 3, 1), date(2003, 4, 1))
    assert afg.warnings == ("in force on 2003-03-01 by the rules; notification C.N.8 states 2003-04-01",)
    agreeing = status_of("L42", date(2004, 1, 1), p)
    assert agreeing is not None
    assert (agreeing.in_force_on, agreeing.stated_in_force_on, agreeing.warnings) == (
        date(1999, 7, 1),
        date(1999, 7, 1),
        (),
    )
    # Without a rule nothing is computed: the stated date alone, no disagreement.
    unknown = status_of("AFG", date(2004, 1, 1), p, rules=None)
    assert unknown is not None
    assert (unknown.in_force_on, unknown.stated_in_force_on, unknown.warnings) == (None, date(2003, 4, 1), ())


COVENANT = TreatyRules(
    entry_into_force=EntryIntoForce(instruments=2, delay=Delay(months=3)),
    later_participants=Delay(months=3),
    withdrawal_terms=WithdrawalTerms(allowed=False, description="No clause provides for withdrawal.", source="Part VI"),
)


def test_a_withdrawal_the_treaty_does_not_provide_for_is_recorded_flagged_and_not_effective() -> None:
    p = bound(date(1970, 1, 1), date(1971, 1, 1))
    p["S01"].append(act("S01-w", "withdrawal", date(1997, 8, 25)))
    status = status_of("S01", date(2020, 1, 1), p, COVENANT)
    assert status is not None
    assert status.status == "party" and status.in_force
    assert status.withdrawal == Withdrawal(date(1997, 8, 25), None, provided_for=False)
    assert status.warnings == (
        "the treaty provides for no withdrawal (Part VI): the withdrawal is recorded, not effective",
    )
    assert treaty_stats(p, COVENANT, date(2020, 1, 1)) == TreatyStats(2, 2, 0, 0, date(1971, 4, 1))
    p["S01"][-1] = act("S01-w", "withdrawal", date(1997, 8, 25), effective_date=date(1998, 8, 25))
    gone = status_of("S01", date(2020, 1, 1), p, COVENANT)
    assert gone is not None
    assert gone.status == "withdrawn"
    assert gone.warnings == (
        "the treaty provides for no withdrawal (Part VI): the withdrawal takes effect only because the event "
        "states 1998-08-25",
    )


def test_withdrawal_terms_the_arithmetic_cannot_carry_give_no_date() -> None:
    terms = WithdrawalTerms(allowed=True, description="Five-year periods.", source="Article XIV")
    rules = COVENANT.model_copy(update={"withdrawal_terms": terms})
    p = bound(date(1970, 1, 1), date(1971, 1, 1))
    p["S01"].append(act("S01-w", "withdrawal", date(1997, 8, 25)))
    status = status_of("S01", date(2020, 1, 1), p, rules)
    assert status is not None
    assert (status.status, status.withdrawal, status.warnings) == (
        "party",
        Withdrawal(date(1997, 8, 25), None),
        (),
    )


# Rules in words


def test_numbers_and_ordinals_in_words() -> None:
    assert [number_in_words(n) for n in (0, 7, 13, 20, 22, 90, 100, 120, 180, 365, 1000)] == [
        "zero",
        "seven",
        "thirteen",
        "twenty",
        "twenty-two",
        "ninety",
        "one hundred",
        "one hundred and twenty",
        "one hundred and eighty",
        "three hundred and sixty-five",
        "1000",
    ]
    assert [ordinal_in_words(n) for n in (1, 2, 3, 5, 8, 9, 12, 20, 22, 35, 40, 100, 120, 1001, 1012)] == [
        "first",
        "second",
        "third",
        "fifth",
        "eighth",
        "ninth",
        "twelfth",
        "twentieth",
        "twenty-second",
        "thirty-fifth",
        "fortieth",
        "one hundredth",
        "one hundred and twentieth",
        "1001st",
        "1012th",
    ]
    assert date_in_words(date(1976, 3, 23)) == "23 March 1976"


@pytest.mark.parametrize(
    ("delay", "on_the_day", "words"),
    [
        (Delay(days=30), True, "on the thirtieth day after X"),
        (Delay(days=30), False, "thirty days after X"),
        (Delay(months=3), True, "three months after X"),
        (Delay(months=12), False, "one year after X"),
        (Delay(months=24), False, "two years after X"),
        (Delay(months=3, days=10), True, "three months and ten days after X"),
        (Delay(), True, "on the day of X"),
        (
            Delay(months=6, anchor="first_day_of_month"),
            True,
            "on the first day of the sixth month after the month of X",
        ),
        (
            Delay(months=1, days=2, anchor="first_day_of_month"),
            False,
            "two days after the first day of the first month after the month of X",
        ),
        (
            Delay(months=3, anchor="first_day_of_next_month"),
            True,
            "on the first day of the month following three months after X",
        ),
        (
            Delay(days=60, anchor="first_day_of_next_month"),
            True,
            "on the first day of the month following the sixtieth day after X",
        ),
        (
            Delay(days=60, anchor="first_day_of_next_month"),
            False,
            "on the first day of the month following sixty days after X",
        ),
    ],
)
def test_a_delay_in_words(delay: Delay, on_the_day: bool, words: str) -> None:
    assert delay_in_words(delay, "X", on_the_day=on_the_day) == words


def test_the_rules_in_words_with_their_sources() -> None:
    rules = TreatyRules(
        entry_into_force=EntryIntoForce(instruments=20, delay=Delay(days=30), source="Article 49(1)"),
        later_participants=Delay(days=30, source="Article 49(2)"),
        withdrawal=Delay(months=12, source="Article 52"),
    )
    assert rules_sentence(rules_in_words(rules)) == (
        "In force on the thirtieth day after the twentieth instrument (Article 49(1)); for later participants thirty "
        "days after their own deposit (Article 49(2)); withdrawal takes effect one year after notification "
        "(Article 52)"
    )
    assert [(p.rule, p.source) for p in rules_in_words(MINE_BAN_RULES)] == [
        ("entry_into_force", "Article 17(1)"),
        ("later_participants", "Article 17(2)"),
        ("withdrawal", "Article 20(3)"),
        ("reporting", "Article 7(1) and (2)"),
    ]
    assert rules_sentence(rules_in_words(MINE_BAN_RULES)) == (
        "In force on the first day of the sixth month after the month of the fortieth instrument (Article 17(1)); "
        "for later participants on the first day of the sixth month after the month of their own deposit "
        "(Article 17(2)); withdrawal takes effect six months after notification (Article 20(3)); an initial report "
        "within one hundred and eighty days of entry into force for the party, then each year by 30 April a report "
        "on the year before (Article 7(1) and (2))"
    )
    assert rules_in_words(None) == [] and rules_sentence([]) is None


def test_the_conditions_beyond_a_plain_count_in_words() -> None:
    montreal = EntryIntoForce(
        instruments=20, delay=Delay(days=90), fixed_date=date(1992, 1, 1), count_organisations=False
    )
    protocol = EntryIntoForce(instruments=10, delay=Delay(months=3), not_before=date(1976, 3, 23))
    words = [
        p.words
        for p in rules_in_words(TreatyRules(entry_into_force=montreal, withdrawal_terms=COVENANT.withdrawal_terms))
    ]
    assert words == [
        "in force on 1 January 1992 if twenty instruments are deposited by then, otherwise on the ninetieth day "
        "after the twentieth instrument, organisations' instruments not counted",
        "the treaty provides for no withdrawal",
    ]
    assert rules_sentence(rules_in_words(TreatyRules(entry_into_force=protocol))) == (
        "In force three months after the tenth instrument, and not before 23 March 1976"
    )
    assert rules_in_words(KYOTO)[0].words == (
        "in force on a condition the registry does not compute: 55 Parties with 55 per cent of the emissions"
    )
    genocide = WithdrawalTerms(allowed=True, description="Five-year periods.", source="Article XIV")
    assert rules_sentence(rules_in_words(TreatyRules(withdrawal_terms=genocide))) == (
        "Withdrawal on terms the registry does not compute: five-year periods (Article XIV)"
    )


# Unknown rules


def test_unknown_rules_say_unknown_rather_than_guess() -> None:
    p = mine_ban()
    assert treaty_stats(p, None, date(2009, 12, 2)) == TreatyStats(45, None, 3, 0, None)
    afg = status_of("AFG", date(2009, 12, 2), p, rules=None)
    assert afg is not None
    assert (afg.status, afg.in_force_on, afg.in_force) == ("party", None, False)
    assert all(point.in_force is None for point in timeline(p, None))


def test_a_withdrawal_of_unknown_effect_leaves_a_party() -> None:
    status = status_of(WITHDRAWN_PARTY, date(2015, 1, 1), rules=None)
    assert status is not None
    assert status.status == "party"
    assert status.withdrawal == Withdrawal(date(2010, 1, 15), None)
    assert status.warnings == ()
    p = mine_ban()
    p[WITHDRAWN_PARTY][-1] = act("P07-w", "withdrawal", date(2010, 1, 15), effective_date=date(2011, 1, 15))
    given = status_of(WITHDRAWN_PARTY, date(2015, 1, 1), p, rules=None)
    assert given is not None
    assert given.status == "withdrawn"


def test_in_force_is_unknown_once_a_later_participants_date_is_unknown() -> None:
    rules = TreatyRules(entry_into_force=MINE_BAN_RULES.entry_into_force)
    p = mine_ban()
    assert treaty_stats(p, rules, date(1998, 9, 1)).in_force == 0
    assert treaty_stats(p, rules, FORTIETH).in_force == 0
    assert treaty_stats(p, rules, date(1998, 9, 30)).in_force == 0
    assert treaty_stats(p, rules, date(1998, 10, 1)).in_force is None
    l41 = status_of("L41", date(2000, 1, 1), p, rules)
    assert l41 is not None
    assert l41.in_force_on is None


# Timeline


def test_the_timeline_has_a_point_per_change_that_matches_the_stats() -> None:
    p = mine_ban()
    points = timeline(p, MINE_BAN_RULES)
    assert [pt.date for pt in points] == sorted({pt.date for pt in points})
    assert points[0].date == OTTAWA
    assert (points[0].parties, points[0].in_force) == (1, 0)
    by_date = {pt.date: (pt.parties, pt.in_force) for pt in points}
    assert by_date[FORTIETH] == (40, 0)
    assert by_date[IN_FORCE] == (42, 40)
    assert by_date[date(2003, 3, 1)] == (45, 45)
    assert by_date[date(2010, 7, 15)] == (44, 44)
    assert points[-1].date == date(2010, 7, 15)
    for pt in points:
        stats = treaty_stats(p, MINE_BAN_RULES, pt.date)
        assert (stats.parties, stats.in_force) == (pt.parties, pt.in_force)
    # Between points nothing changes.
    for earlier, later in itertools.pairwise(points):
        stats = treaty_stats(p, MINE_BAN_RULES, later.date - timedelta(days=1))
        assert (stats.parties, stats.in_force) == (earlier.parties, earlier.in_force)


def test_the_timeline_of_a_treaty_with_unknown_rules_counts_parties_only() -> None:
    points = timeline(
        {"A": [act("a", "ratification", date(2000, 1, 1)), act("w", "withdrawal", date(2001, 1, 1))]}, None
    )
    assert [(pt.date, pt.parties, pt.in_force) for pt in points] == [(date(2000, 1, 1), 1, None)]
    assert timeline({}, MINE_BAN_RULES) == []


# Reports


ARTICLE_7 = Reporting(initial_within_days=180, annual_due="04-30")
# Some State's report of the rule's kind is recorded for the treaty: a missing one is then overdue.
RECORDED = ("article7",)


def test_reports_due_from_afghanistan_initial_then_annual_updates() -> None:
    submitted = [
        ("article7", "Initial", date(2003, 9, 1)),
        ("article7", "2003", date(2004, 4, 20)),
        ("article7", "2003", date(2004, 4, 2)),
        ("article7", "2005", date(2006, 7, 1)),
        ("other", "2004", date(2005, 1, 1)),
    ]
    assert reports_due(date(2003, 3, 1), date(2006, 6, 1), ARTICLE_7, submitted) == [
        ReportDue("initial", date(2003, 8, 28), date(2003, 9, 1), "submitted"),
        ReportDue("2003", date(2004, 4, 30), date(2004, 4, 2), "submitted"),
        ReportDue("2004", date(2005, 4, 30), None, "overdue"),
        ReportDue("2005", date(2006, 4, 30), None, "overdue"),
    ]


def test_a_report_is_listed_once_due_and_overdue_only_after_its_day() -> None:
    in_force_on = date(2003, 3, 1)
    assert reports_due(in_force_on, date(2003, 2, 28), ARTICLE_7, (), RECORDED) == []
    assert reports_due(in_force_on, in_force_on, ARTICLE_7, (), RECORDED) == [
        ReportDue("initial", date(2003, 8, 28), None, "due")
    ]
    on_the_day = reports_due(in_force_on, date(2003, 8, 28), ARTICLE_7, (), RECORDED)
    assert [(r.status, r.overdue) for r in on_the_day] == [("due", False)]
    day_after = reports_due(in_force_on, date(2003, 8, 29), ARTICLE_7, (), RECORDED)
    assert [(r.status, r.overdue) for r in day_after] == [("overdue", True)]
    new_year = reports_due(in_force_on, date(2004, 1, 1), ARTICLE_7, (), RECORDED)
    assert new_year[-1] == ReportDue("2003", date(2004, 4, 30), None, "due")


def test_no_report_is_overdue_when_none_of_its_kind_was_ever_recorded_for_the_treaty() -> None:
    # Afghanistan on 2 Dec 2009 with no Article 7 report in the registry: seven are due, none is called overdue.
    for recorded_kinds in ((), ("other",), ("article 7",)):
        reports = reports_due(date(2003, 3, 1), date(2009, 12, 2), ARTICLE_7, (), recorded_kinds)
        assert [r.period for r in reports] == ["initial", "2003", "2004", "2005", "2006", "2007", "2008"]
        assert {(r.status, r.overdue, r.submitted_on) for r in reports} == {("not_recorded", False, None)}
    # Another State's report of the kind (spelt as the events spell it) or one of its own makes them overdue.
    for submitted, recorded_kinds in (((), (" Article7 ",)), ((("ARTICLE7", "2008", date(2010, 1, 1)),), ())):
        reports = reports_due(date(2003, 3, 1), date(2009, 12, 2), ARTICLE_7, submitted, recorded_kinds)
        assert [r.status for r in reports] == ["overdue"] * 7
    assert report_kind_recorded(ARTICLE_7, ["other", "Article7"])
    assert not report_kind_recorded(ARTICLE_7, ["other"])
    assert not report_kind_recorded(ARTICLE_7, [])


def test_the_first_annual_update_covers_the_year_the_initial_report_falls_due() -> None:
    # In force 1 Nov 2003: initial due 29 Apr 2004, so the first update covers 2004.
    reports = reports_due(date(2003, 11, 1), date(2005, 5, 1), ARTICLE_7)
    assert [(r.period, r.due_on) for r in reports] == [
        ("initial", date(2004, 4, 29)),
        ("2004", date(2005, 4, 30)),
    ]


# Vocabulary and speed


def test_a_claim_is_checked_against_the_counts_on_its_day() -> None:
    stats = treaty_stats(mine_ban(), MINE_BAN_RULES, date(2009, 12, 2))
    assert check_claim("parties_count", stats.parties, "XXVI-5", stats) == ClaimCheck(True, stats.parties)
    assert check_claim("parties_count", 200, "XXVI-5", stats) == ClaimCheck(False, stats.parties)
    assert check_claim("entry_into_force_year", 1999, "XXVI-5", stats) == ClaimCheck(True, 1999)
    assert check_claim("entry_into_force_date", "1999-03-01", "XXVI-5", stats) == ClaimCheck(True, "1999-03-01")
    assert check_claim("entry_into_force_date", "1999-03-02", "XXVI-5", stats).verified is False


def test_a_claim_the_record_cannot_settle_is_unverified_with_the_reason() -> None:
    unknown = treaty_stats(mine_ban(), None, date(2009, 12, 2))
    check = check_claim("entry_into_force_year", 1999, "XXVI-5", unknown)
    assert check.verified is None and check.found is None
    assert check.reason is not None and "cannot tell when XXVI-5 entered into force" in check.reason
    other = check_claim("signatories_count", 3, "XXVI-5", unknown)
    assert other.verified is None and other.reason == "claims of kind 'signatories_count' are not checked"


def test_the_action_vocabulary_is_the_contracts() -> None:
    assert set(ACTIONS) == BINDING_ACTIONS | {
        "signature",
        "provisional_application",
        "declaration",
        "reservation",
        "objection",
        "withdrawal",
    }
    assert len(ACTIONS) == 14
    assert len(BINDING_ACTIONS) == 8


@pytest.fixture
def large_treaty() -> Participations:
    rng = random.Random(7)
    start = date(1997, 12, 3)
    p: Participations = {}
    for i in range(200):
        code = f"Z{i:03d}"
        signed = start + timedelta(days=rng.randint(0, 400))
        bound = signed + timedelta(days=rng.randint(30, 4000))
        records = [act(f"{code}-s", "signature", signed), act(f"{code}-r", "ratification", bound)]
        records += [act(f"{code}-d{j}", "declaration", bound + timedelta(days=j)) for j in range(6)]
        records.append(act(f"{code}-w", "withdrawal", bound + timedelta(days=3000)))
        records.append(act(f"{code}-a", "accession", bound + timedelta(days=4000)))
        p[code] = records
    return p


def test_stats_for_200_participants_and_2000_actions_are_fast(large_treaty: Participations) -> None:
    assert sum(len(r) for r in large_treaty.values()) == 2000
    best = min(_elapsed(lambda: treaty_stats(large_treaty, MINE_BAN_RULES, date(2010, 1, 1))) for _ in range(5))
    assert best < 0.2 * 200 / 1000  # well under a millisecond per participant
    assert min(_elapsed(lambda: timeline(large_treaty, MINE_BAN_RULES)) for _ in range(3)) < 0.5


def _elapsed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started

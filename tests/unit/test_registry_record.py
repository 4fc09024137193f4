"""`TreatyRecord`, the prepared record the registry answers from, agrees with the reference rules on every date."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

import pytest

from tests.unit.test_registry_domain import Participations, act, mine_ban
from treatywatch.common.rules import MINE_BAN_RULES, Delay, EntryIntoForce, TreatyRules
from treatywatch.registry.domain import (
    ACTIONS,
    TreatyRecord,
    current_participations,
    display_name,
    participant_statuses,
    timeline,
    treaty_stats,
)

NO_LATE_RULE = TreatyRules(entry_into_force=EntryIntoForce(instruments=3, delay=Delay(days=30)))


def random_treaty(seed: int) -> Participations:
    """Random acts of every kind, duplicates and corrections (some across participants)."""
    rng = random.Random(seed)
    start = date(1990, 1, 1)
    p: Participations = {}
    for i in range(25):
        code = f"R{i:02d}"
        p[code] = [
            act(f"{code}-{j}", rng.choice(ACTIONS), start + timedelta(days=rng.randint(0, 9000)))
            for j in range(rng.randint(1, 6))
        ]
    every = [r for records in p.values() for r in records]
    for n, target in enumerate(rng.sample(every, 8)):
        owner = rng.choice(sorted(p))
        p[owner].append(act(f"fix-{n}", target.action, target.date + timedelta(days=400), corrects=target.event_id))
    for records in p.values():
        records.extend(rng.sample(records, min(2, len(records))))
        rng.shuffle(records)
    return p


def days_to_check(p: Participations) -> list[date]:
    days = {date(1985, 1, 1), date(2040, 1, 1)}
    for records in p.values():
        for r in records:
            for shift in (-1, 0, 1, 183, 184):
                days.add(r.date + timedelta(days=shift))
    for point in timeline(p, MINE_BAN_RULES):
        days |= {point.date - timedelta(days=1), point.date}
    return sorted(days)


@pytest.mark.parametrize("rules", [MINE_BAN_RULES, NO_LATE_RULE, None], ids=["mine-ban", "no-late-rule", "unknown"])
@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_the_prepared_record_equals_the_reference_rules_on_every_date(
    rules: TreatyRules | None, seed: int | None
) -> None:
    p = mine_ban() if seed is None else random_treaty(seed)
    record = TreatyRecord(p, rules)
    for day in days_to_check(p):
        assert record.stats(day) == treaty_stats(p, rules, day), day
        assert record.statuses(day) == participant_statuses(p, rules, day), day


def test_a_correction_filed_under_another_participant_moves_the_act() -> None:
    p: Participations = {
        "NER": [act("wrong", "ratification", date(1999, 3, 23))],
        "NGA": [act("right", "ratification", date(1999, 3, 23), corrects="wrong")],
    }
    record = TreatyRecord(p, MINE_BAN_RULES)
    statuses = record.statuses(date(2000, 1, 1))
    assert set(statuses) == {"NGA"}
    assert record.superseded["NER"] == p["NER"]
    assert current_participations(p) == {"NER": [], "NGA": p["NGA"]}
    assert treaty_stats(p, MINE_BAN_RULES, date(2000, 1, 1)).parties == 1


def test_the_name_is_the_latest_dated_spelling_whatever_the_arrival_order() -> None:
    older = replace(act("a", "signature", date(1997, 12, 3)), participant_name="Zaire")
    newer = replace(act("b", "ratification", date(2001, 1, 1)), participant_name="Congo (DR)")
    assert display_name([newer, older]) == display_name([older, newer]) == "Congo (DR)"
    assert display_name([act("c", "signature", date(2000, 1, 1))]) is None

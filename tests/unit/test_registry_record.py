"""`TreatyRecord`, the prepared record the registry answers from, agrees with the reference rules on every date, and
from the UNTC snapshot computes every catalogued treaty's entry into force as the reviewed table has it."""

from __future__ import annotations

import csv
import random
from dataclasses import replace
from datetime import date, timedelta

import pytest

from tests.conftest import DATA, ROOT
from tests.unit.test_registry_domain import COVENANT, KYOTO, Participations, act, mine_ban
from treatywatch.common.participants import participant_code
from treatywatch.common.rules import MINE_BAN_RULES, Delay, EntryIntoForce, TreatyRules
from treatywatch.ingest.catalog import catalog
from treatywatch.ingest.untc import parse_status_file, untc_treaty_id
from treatywatch.registry.domain import (
    ACTIONS,
    ActionRecord,
    StatedEntry,
    TreatyRecord,
    current_participations,
    display_name,
    participant_statuses,
    timeline,
    treaty_stats,
)

NO_LATE_RULE = TreatyRules(entry_into_force=EntryIntoForce(instruments=3, delay=Delay(days=30)))
STATES_ONLY = TreatyRules(
    entry_into_force=EntryIntoForce(
        instruments=4, delay=Delay(days=90), count_organisations=False, not_before=date(1995, 6, 1)
    ),
    later_participants=Delay(days=30),
    withdrawal=Delay(months=12),
)
FIXED_DATE = TreatyRules(
    entry_into_force=EntryIntoForce(instruments=3, delay=Delay(months=2), fixed_date=date(1999, 1, 1)),
    later_participants=Delay(months=1, anchor="first_day_of_next_month"),
)
RULES = {
    "mine-ban": MINE_BAN_RULES,
    "no-late-rule": NO_LATE_RULE,
    "states-only": STATES_ONLY,
    "fixed-date": FIXED_DATE,
    "stated": KYOTO,
    "no-withdrawal": COVENANT,
    "unknown": None,
}


def random_treaty(seed: int) -> Participations:
    """Random acts of every kind, some with a notification, duplicates and corrections (some across participants, some
    naming a notification rather than an event)."""
    rng = random.Random(seed)
    start = date(1990, 1, 1)
    p: Participations = {}
    for i in range(25):
        # Every fifth participant an organisation: one the count may leave out.
        code = f"R{i:02d}" if i % 5 else f"Union R{i:02d}"
        p[code] = [
            act(
                f"{code}-{j}",
                rng.choice(ACTIONS),
                start + timedelta(days=rng.randint(0, 9000)),
                effective_date=start + timedelta(days=rng.randint(0, 9500)) if rng.random() < 0.2 else None,
                notification=f"C.N.{rng.randint(1, 9)}" if rng.random() < 0.3 else None,
            )
            for j in range(rng.randint(1, 6))
        ]
    every = [r for records in p.values() for r in records]
    for n, target in enumerate(rng.sample(every, 8)):
        owner = rng.choice(sorted(p))
        p[owner].append(act(f"fix-{n}", target.action, target.date + timedelta(days=400), corrects=target.event_id))
    for n in range(4):
        owner = rng.choice(sorted(p))
        p[owner].append(act(f"cn-fix-{n}", rng.choice(ACTIONS), start, corrects=f"cn:C.N.{rng.randint(1, 9)}"))
    for records in p.values():
        records.extend(rng.sample(records, min(2, len(records))))
        rng.shuffle(records)
    return p


def days_to_check(p: Participations, rules: TreatyRules | None, notified: StatedEntry | None = None) -> list[date]:
    days = {date(1985, 1, 1), date(2040, 1, 1)}
    for records in p.values():
        for r in records:
            for shift in (-1, 0, 1, 183, 184):
                days.add(r.date + timedelta(days=shift))
            if r.effective_date is not None:
                days |= {r.effective_date - timedelta(days=1), r.effective_date}
    for point in timeline(p, MINE_BAN_RULES) + timeline(p, rules, notified):
        days |= {point.date - timedelta(days=1), point.date}
    known_from = TreatyRecord(p, rules, notified).entry.known_from
    if known_from is not None:
        days |= {known_from - timedelta(days=1), known_from}
    return sorted(days)


NOTIFIED = {"none": None, "notified": StatedEntry(date(1999, 5, 1), "C.N.1.1999.TREATIES-1")}


@pytest.mark.parametrize("notified", NOTIFIED.values(), ids=NOTIFIED.keys())
@pytest.mark.parametrize("rules", RULES.values(), ids=RULES.keys())
@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_the_prepared_record_equals_the_reference_rules_on_every_date(
    rules: TreatyRules | None, seed: int | None, notified: StatedEntry | None
) -> None:
    p = mine_ban() if seed is None else random_treaty(seed)
    record = TreatyRecord(p, rules, notified)
    for day in days_to_check(p, rules, notified):
        assert record.stats(day) == treaty_stats(p, rules, day, notified), day
        assert record.statuses(day) == participant_statuses(p, rules, day, notified), day


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


# The reviewed table of entry-into-force dates: computed from the snapshot, and the public record's.
REVIEWED = ROOT / "tests" / "fixtures" / "entry_into_force.csv"
STATUS_FILES = {untc_treaty_id(path.stem): path for path in DATA.treaties.glob("*.csv")}


def snapshot_record(treaty_id: str, rules: TreatyRules | None) -> TreatyRecord:
    """The treaty's record from the UNTC snapshot's status file, keyed as the store keys it."""
    text = STATUS_FILES[treaty_id].read_text(encoding="utf-8")
    participations: dict[str, list[ActionRecord]] = {}
    for imported in parse_status_file(text, treaty_id).actions:
        data = imported.data
        record = ActionRecord(
            imported.event_id,
            data["action"],
            date.fromisoformat(data["date"]),
            participant_name=data.get("participant_name"),
        )
        participations.setdefault(participant_code(data["participant"]), []).append(record)
    return TreatyRecord(participations, rules)


def test_the_mine_ban_conventions_numbers_from_the_snapshot() -> None:
    record = snapshot_record("XXVI-5", MINE_BAN_RULES)
    assert (record.entry.on, record.entry.shown, record.entry.warnings) == (date(1999, 3, 1), "computed", ())
    stats = record.stats(date(2009, 12, 2))
    assert (stats.parties, stats.in_force, stats.entry_into_force) == (156, 156, date(1999, 3, 1))
    afghanistan = record.status("AFG", date(2009, 12, 2))
    assert afghanistan is not None and afghanistan.in_force_on == date(2003, 3, 1)


@pytest.mark.parametrize(("treaty_id", "rules"), [(t.treaty_id, t.rules) for t in catalog() if t.rules is not None])
def test_the_registry_computes_each_catalogued_treatys_entry_into_force_as_reviewed(
    treaty_id: str, rules: TreatyRules
) -> None:
    record = snapshot_record(treaty_id, rules)
    entry = record.entry
    rule = rules.entry_into_force
    if rule is None:
        assert (entry.on, entry.shown, entry.warnings) == (None, None, ())
        assert record.stats(date(2020, 1, 1)).in_force is None
        return
    if not rule.computable:
        assert (entry.on, entry.stated, entry.computed, entry.warnings) == (
            rule.stated_date,
            rule.stated_date,
            None,
            (),
        )
        assert entry.shown == ("stated" if rule.stated_date else None)
        return
    with REVIEWED.open(encoding="utf-8", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["treaty_id"] == treaty_id)
    assert (entry.computed.isoformat() if entry.computed else "") == row["computed"]
    assert entry.stated == rule.stated_date
    # For a count the date used is the computed one, never replaced by the depositary's, which stands beside it.
    assert entry.on == entry.computed
    # Where the record and the depositary disagree, the answer says so.
    assert bool(entry.warnings) == (row["computed"] != row["public_record"])

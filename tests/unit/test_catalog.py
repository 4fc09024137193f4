"""The shipped catalogue: every treaty valid and sourced, and its rules checked against the UNTC snapshot.

For each catalogued treaty whose entry into force is a count of instruments, the date the rules compute from
the snapshot's binding deposits is compared with a reviewed table (tests/fixtures/entry_into_force.csv):
the computed date, the date the public record states, and a note on why they differ where they do. A change
in a rule, in the arithmetic or in the importer that moves a computed date fails here until the table is
reviewed again.
"""

import csv
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from treatywatch.common.events import BINDING_ACTIONS, TreatyRegistered
from treatywatch.common.participants import is_organisation
from treatywatch.common.rules import EntryIntoForce
from treatywatch.ingest.catalog import catalog, catalog_events, treaties_by_unts
from treatywatch.ingest.untc import parse_status_file, read_index, untc_treaty_id

ROOT = Path(__file__).resolve().parents[2]
TREATIES = ROOT / "data" / "untc" / "treaties"
FIXTURE = ROOT / "tests" / "fixtures" / "entry_into_force.csv"
# Chapters whose every treaty the catalogue covers: human rights, penal matters, disarmament, environment.
CHAPTERS = {"IV", "XVIII", "XXVI", "XXVII"}
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def _arabic(roman: str) -> int:
    values = [_ROMAN[c] for c in roman]
    return sum(-v if v < nxt else v for v, nxt in zip(values, [*values[1:], 0], strict=True))


def _sort_key(treaty_id: str) -> tuple[int, ...]:
    chapter, *rest = treaty_id.split("-")
    return (_arabic(chapter), *(int(p) if p.isdigit() else 1000 + ord(p[0]) for p in rest))


def _stem(treaty_id: str) -> str:
    chapter, _, rest = treaty_id.partition("-")
    return f"{_arabic(chapter)}-{rest}"


def first_binding_dates(treaty_id: str) -> tuple[list[date], list[date]]:
    """Each participant's first binding instrument in the snapshot: (States', organisations')."""
    text = (TREATIES / f"{_stem(treaty_id)}.csv").read_text(encoding="utf-8")
    first: dict[str, tuple[date, bool]] = {}
    for action in parse_status_file(text, treaty_id).actions:
        data = action.data
        if data["action"] not in BINDING_ACTIONS:
            continue
        day = date.fromisoformat(data["date"])
        if data["participant"] not in first or day < first[data["participant"]][0]:
            first[data["participant"]] = (day, is_organisation(data["participant_name"]))
    states = [day for day, organisation in first.values() if not organisation]
    organisations = [day for day, organisation in first.values() if organisation]
    return states, organisations


def counted_rules() -> Iterator[tuple[str, EntryIntoForce]]:
    """The catalogued treaties whose entry into force the deposits alone decide."""
    for treaty in catalog():
        rule = treaty.rules.entry_into_force if treaty.rules else None
        if rule is not None and rule.computable:
            yield treaty.treaty_id, rule


def computed(treaty_id: str, rule: EntryIntoForce) -> date | None:
    """The entry into force the rule gives from the snapshot's deposits (None: too few deposits)."""
    return rule.computed_date(*first_binding_dates(treaty_id))


def _fixture() -> dict[str, dict[str, str]]:
    with FIXTURE.open(encoding="utf-8", newline="") as handle:
        return {row["treaty_id"]: row for row in csv.DictReader(handle)}


def test_the_catalogue_holds_every_treaty_of_its_chapters_and_ten_others() -> None:
    index = read_index((ROOT / "data" / "untc" / "index.csv").read_text(encoding="utf-8"))
    in_snapshot = {untc_treaty_id(p.stem) for p in TREATIES.glob("*.csv")}
    ids = {t.treaty_id for t in catalog()}
    assert {tid for tid in in_snapshot if tid.split("-")[0] in CHAPTERS} <= ids
    assert len({tid for tid in ids if tid.split("-")[0] not in CHAPTERS}) == 10
    assert ids <= in_snapshot
    assert all(t.url == index[t.treaty_id].url for t in catalog())


def test_the_ten_others_are_the_most_joined_outside_those_chapters() -> None:
    in_snapshot = [untc_treaty_id(p.stem) for p in TREATIES.glob("*.csv")]
    outside = [tid for tid in in_snapshot if tid.split("-")[0] not in CHAPTERS]
    participants = {tid: sum(map(len, first_binding_dates(tid))) for tid in outside}
    ranked = sorted(outside, key=lambda tid: -participants[tid])
    tenth = participants[ranked[9]]
    catalogued = {t.treaty_id for t in catalog()} - {tid for tid in in_snapshot if tid.split("-")[0] in CHAPTERS}
    assert all(participants[tid] >= tenth for tid in catalogued)
    assert {tid for tid in outside if participants[tid] > tenth} <= catalogued


def test_the_catalogue_is_sorted_by_treaty_id_and_unique() -> None:
    ids = [t.treaty_id for t in catalog()]
    assert ids == sorted(ids, key=_sort_key)
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("treaty", catalog(), ids=lambda t: t.treaty_id)
def test_each_treaty_is_described_and_each_rule_sourced(treaty: TreatyRegistered) -> None:
    assert treaty.depositary == "Secretary-General of the United Nations"
    assert treaty.url is not None
    assert re.match(r"https?://", treaty.url)
    assert treaty.adopted is not None
    assert treaty.adopted.place
    assert treaty.adopted.date
    rules = treaty.rules
    if rules is None:
        return
    for rule in (rules.entry_into_force, rules.later_participants, rules.withdrawal, rules.reporting):
        assert rule is None or rule.source, f"{treaty.treaty_id}: a rule without its source"
    assert rules.withdrawal_terms is None or rules.withdrawal_terms.source
    eif = rules.entry_into_force
    if eif is not None and not eif.computable:
        assert eif.stated_date is not None or eif.in_force is False, "a condition not a count needs the stated date"


def test_every_catalogued_treaty_carries_its_entry_into_force() -> None:
    assert [t.treaty_id for t in catalog() if t.rules is None or t.rules.entry_into_force is None] == []


def test_catalogue_events_are_stable_and_the_unts_lookup_is_unambiguous() -> None:
    assert [e.id for e in catalog_events()] == [e.id for e in catalog_events()]
    with_unts = [t for t in catalog() if t.unts is not None]
    assert len(treaties_by_unts()) == len(with_unts)
    assert treaties_by_unts()[(2056, 35597)] == "XXVI-5"


def test_the_reviewed_table_covers_exactly_the_treaties_with_a_count_rule() -> None:
    assert set(_fixture()) == {tid for tid, _ in counted_rules()}


@pytest.mark.parametrize(("treaty_id", "rule"), list(counted_rules()), ids=lambda v: v if isinstance(v, str) else "")
def test_the_computed_entry_into_force_matches_the_reviewed_table(treaty_id: str, rule: EntryIntoForce) -> None:
    row = _fixture()[treaty_id]
    found = computed(treaty_id, rule)
    assert (found.isoformat() if found else "") == row["computed"], f"{treaty_id}: the computed date changed"
    assert row["public_record"] == (rule.stated_date.isoformat() if rule.stated_date else "")
    if row["computed"] != row["public_record"]:
        assert row["note"], f"{treaty_id}: a disagreement with the public record needs a note"
    else:
        assert not row["note"]

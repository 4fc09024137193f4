"""Property tests: the resolution parser and the UNTC importer never crash, and every rejection says why."""

from __future__ import annotations

import csv
import io
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DATA
from treatywatch.ingest.resolution import NotAResolution, parse_resolution
from treatywatch.ingest.untc import NotAStatusFile, parse_status_file

SEED = DATA.resolution.read_text(encoding="utf-8")
SEED_LINES = SEED.splitlines()
MINE_BAN = DATA.mine_ban.read_text(encoding="utf-8")
MINE_BAN_ROWS = list(csv.reader(io.StringIO(MINE_BAN)))
TREATIES = {(2056, 35597): "XXVI-5"}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_refuse(text: str) -> None:
    try:
        parsed = parse_resolution(text, TREATIES)
    except NotAResolution as refused:
        assert refused.missing and str(refused)
        return
    assert all(isinstance(w, str) and w for w in parsed.warnings)


@FUZZ
@given(st.text(max_size=3000))
def test_the_parser_survives_any_text(text: str) -> None:
    parse_or_refuse(text)


@FUZZ
@given(
    st.lists(st.integers(min_value=0, max_value=len(SEED_LINES) - 1), max_size=40),
    st.lists(st.tuples(st.integers(min_value=0, max_value=len(SEED_LINES) - 1), st.text(max_size=80)), max_size=10),
)
def test_the_parser_survives_a_damaged_seed(dropped: list[int], replaced: list[tuple[int, str]]) -> None:
    lines = list(SEED_LINES)
    for index, text in replaced:
        lines[index] = text
    parse_or_refuse("\n".join(line for i, line in enumerate(lines) if i not in set(dropped)))


def import_or_refuse(text: str) -> None:
    try:
        result = parse_status_file(text, "XXVI-5")
    except NotAStatusFile as refused:
        assert refused.reason
        return
    # Universal newlines, as the importer reads them: CR, LF and CRLF each end a line.
    lines = len(re.split(r"\r\n|\r|\n", text))
    for rejection in result.rejected:
        assert 1 <= rejection.line <= lines and rejection.reason.strip()


@FUZZ
@given(st.text(max_size=2000))
def test_the_importer_survives_any_text(text: str) -> None:
    import_or_refuse(text)


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=len(MINE_BAN_ROWS) - 1),
            st.integers(min_value=0, max_value=2),
            st.one_of(st.text(max_size=30), st.from_regex(r"[0-9]{1,2} [A-Z][a-z]{2} [0-9]{4}( [a-zA-Z]{1,2})?")),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_the_importer_reads_or_explains_every_damaged_cell(damage: list[tuple[int, int, str]]) -> None:
    rows = [list(row) for row in MINE_BAN_ROWS]
    for row, column, text in damage:
        rows[row][column] = text
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    import_or_refuse(out.getvalue())

"""Property tests: the resolution parser, the UNTC importer and ingest's reading of depositary notifications never
crash, every rejection says why, and no shape of input makes them do more than a bounded multiple of the work
ordinary text of its length takes."""

from __future__ import annotations

import contextlib
import csv
import io
import re
import textwrap
import time
from collections.abc import Callable
from functools import cache

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import DATA, ROOT
from tests.pdfs import write_pdf
from treatywatch.common.events import ResolutionAdopted, to_json
from treatywatch.ingest.notification import NotANotification, NotificationTooLarge
from treatywatch.ingest.pdf import NoText
from treatywatch.ingest.resolution import (
    REQUIRED_FIELDS,
    LineTooLong,
    NotAResolution,
    ParsedResolution,
    parse_resolution,
)
from treatywatch.ingest.service import ContractError, EventTooLarge, read_notification
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
    assert_missing_is_named(parsed)


def assert_missing_is_named(parsed: ParsedResolution) -> None:
    """A parse names exactly the required fields it lacks, each with a reason; a complete one is publishable."""
    absent = [name for name in REQUIRED_FIELDS if parsed.data[name] is None]
    assert [name for name, _reason in parsed.missing] == absent
    assert all(reason.startswith("no ") and reason in parsed.warnings for _name, reason in parsed.missing)
    assert parsed.complete == (not absent)
    if parsed.complete:
        ResolutionAdopted.model_validate(parsed.data)


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


# --- the seed as other copies give it --------------------------------------------------------------------

SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
SEED_DATA = parse_resolution(SEED, TREATIES).data


def rewrapped(text: str, width: int, brackets: bool, blank_lines: bool) -> str:
    """The text wrapped at `width` columns, its marks in brackets or not, with or without its blank lines."""
    if brackets:
        digits = str.maketrans(SUPERSCRIPTS, "0123456789")
        text = re.sub(f"[{SUPERSCRIPTS}]+", lambda mark: "[" + mark[0].translate(digits) + "]", text)
    lines: list[str] = []
    for line in text.split("\n"):
        lines.extend(textwrap.wrap(line, width) if line else [""] if blank_lines else [])
    return "\n".join(lines)


@FUZZ
@given(st.integers(min_value=40, max_value=120), st.booleans(), st.booleans())
@example(40, False, False)
@example(120, True, True)
def test_the_seed_rewrapped_reads_the_same(width: int, brackets: bool, blank_lines: bool) -> None:
    """A web copy's wrapping, its bracketed marks and its lost blank lines change nothing the parser reads."""
    parsed = parse_resolution(rewrapped(SEED, width, brackets, blank_lines), TREATIES)
    assert parsed.data == SEED_DATA
    assert parsed.complete and parsed.warnings == []


# The header's lines, and the plenary lines that give the date when the adoption line does not.
OPENING_LINE = SEED_LINES.index("The General Assembly,")
HEADER_LINES = [index for index, line in enumerate(SEED_LINES[: OPENING_LINE + 1]) if line.strip()]
ADOPTION_LINE = next(index for index, line in enumerate(SEED_LINES) if line.startswith("Resolution adopted"))
PLENARY_LINES = [len(SEED_LINES) - 2, len(SEED_LINES) - 1]


@FUZZ
@given(st.sets(st.sampled_from(HEADER_LINES + PLENARY_LINES), min_size=1), st.integers(min_value=40, max_value=120))
@example({ADOPTION_LINE, *PLENARY_LINES}, 80)
def test_a_partial_parse_names_what_it_could_not_find(dropped: set[int], width: int) -> None:
    text = "\n".join(line for index, line in enumerate(SEED_LINES) if index not in dropped)
    try:
        parsed = parse_resolution(rewrapped(text, width, brackets=False, blank_lines=True), TREATIES)
    except NotAResolution:
        return
    assert_missing_is_named(parsed)
    # Whatever else was found is still there for a dry run to show.
    assert [paragraph["number"] for paragraph in parsed.data["paragraphs"]] == list(range(1, 11))


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


# --- depositary notifications: what POST /v1/notifications runs in its worker ----------------------------
#
# Every exception but these refusals would be a 500: any text, any bytes sent as a PDF, a damaged real PDF.

NOTIFICATION_REFUSALS = (NotANotification, NotificationTooLarge, NoText, ContractError, EventTooLarge)
POLAND = (ROOT / "tests" / "fixtures" / "notifications" / "POL-2012-ratification-XXVI-5.txt").read_text(
    encoding="utf-8"
)
POLAND_PDF = write_pdf([line for line in POLAND.splitlines() if line.strip()])


def read_or_refuse(document: str | bytes) -> None:
    try:
        read = read_notification(document)
    except NOTIFICATION_REFUSALS as refused:
        assert str(refused)
        return
    assert all(isinstance(w, str) and w for w in read.warnings)
    for event in read.events:
        assert event.id.startswith("cn:C.N.") and to_json(event)


@FUZZ
@given(st.text(max_size=3000))
def test_a_notification_is_read_or_refused_whatever_the_text(text: str) -> None:
    read_or_refuse(text)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 40), st.text(max_size=80)), max_size=12))
def test_a_damaged_notification_is_read_or_refused(edits: list[tuple[int, str]]) -> None:
    lines = POLAND.splitlines()
    for position, text in edits:
        lines.insert(position % (len(lines) + 1), text)
    read_or_refuse("\n".join(lines))


@FUZZ
@given(st.one_of(st.binary(max_size=2000), st.binary(max_size=2000).map(lambda tail: b"%PDF-1.4\n" + tail)))
def test_any_bytes_sent_as_a_pdf_are_read_or_refused(data: bytes) -> None:
    read_or_refuse(data)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(POLAND_PDF) - 1), st.integers(0, 255)), min_size=1, max_size=20))
def test_a_damaged_pdf_is_read_or_refused(flips: list[tuple[int, int]]) -> None:
    data = bytearray(POLAND_PDF)
    for index, value in flips:
        data[index] = value
    read_or_refuse(bytes(data))


# --- adversarial shapes ---------------------------------------------------------------------------------
#
# Long runs of one thing (spaces, digits, brackets, footnote marks, a keyword) where a date, a mark, a verb or a
# footnote could start: the shapes on which a pattern that backtracks does work quadratic in the run. Each parse
# must stay within WORK_FACTOR times the CPU time ordinary text of the same length takes (and a small constant):
# a linear parse does a few times that at most; the old patterns did hundreds to thousands of times it.

WORK_FACTOR = 50
CONSTANT_S = 0.05
ADVERSARIAL = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEADER = MINE_BAN.partition("\n")[0]
# No cap: these tests are about the patterns themselves; the caps are tested with the parsers.
UNCAPPED = 10**6


def cpu_seconds(parse: Callable[[], object]) -> float:
    started = time.process_time()
    with contextlib.suppress(NotAResolution, NotAStatusFile, LineTooLong):
        parse()
    return time.process_time() - started


def ordinary_resolution(length: int) -> str:
    """The seed with its paragraphs repeated until it is `length` characters long."""
    head, opening, rest = SEED.partition("The General Assembly,\n")
    body, plenary, tail = rest.partition("*55th plenary meeting")
    return head + opening + body * (length // len(body) + 1) + plenary + tail


def ordinary_status_file(length: int) -> str:
    """The Mine Ban Convention's table with its rows repeated until it is `length` characters long."""
    rows = MINE_BAN.partition("\n")[2]
    return HEADER + "\n" + rows * (length // len(rows) + 1)


@cache
def seconds_per_char(kind: str) -> float:
    """CPU seconds per character that ordinary text takes to read: the yardstick of the bounds below."""
    size = 100_000
    if kind == "resolution":
        text = ordinary_resolution(size)
        return min(cpu_seconds(lambda: parse_resolution(text, TREATIES)) for _ in range(3)) / len(text)
    table = ordinary_status_file(size)
    return min(cpu_seconds(lambda: parse_status_file(table, "XXVI-5")) for _ in range(3)) / len(table)


def assert_linear_work(kind: str, text: str, parse: Callable[[], object]) -> None:
    budget = WORK_FACTOR * seconds_per_char(kind) * len(text) + CONSTANT_S
    used = cpu_seconds(parse)
    assert used <= budget, f"{used:.3f} s of CPU for {len(text):,} characters (budget {budget:.3f} s): {text[:80]!r}"


def runs(units: list[str]) -> st.SearchStrategy[str]:
    """One unit repeated into a run of 10,000 to 30,000 characters."""
    return st.builds(
        lambda unit, length: (unit * (length // len(unit) + 1))[:length],
        st.sampled_from(units),
        st.integers(min_value=10_000, max_value=30_000),
    )


CELL_RUNS = [" ", "1", "12 ", "(", ")", "(1)", "[2]", "¹", "†", "*", ",", ".", "-", "/", " and", "a", "Dec ", "3 Dec "]
CELL_BEFORE = ["", "3", "3 Dec", "3 Dec 1997", "Dec 3,", "1997-12-05", "3 Dec 1997 a", "Signature article 7 "]
CELL_AFTER = ["", "x", "1x", "a", "(a)", " d", "3 Dec 1997", " (withdrawn)", "Participant"]


@st.composite
def adversarial_tables(draw: st.DrawFn) -> str:
    """A status file with one long adversarial cell: a participant, a date cell or a legend in the header."""
    cell = draw(st.sampled_from(CELL_BEFORE)) + draw(runs(CELL_RUNS)) + draw(st.sampled_from(CELL_AFTER))
    quoted = '"' + cell.replace('"', '""') + '"'
    where = draw(st.sampled_from(["participant", "signature", "ratification", "legend"]))
    if where == "legend":
        return f"Participant,Signature,{quoted}\nFrance,3 Dec 1997,4 Dec 1998 a\n"
    row = {"participant": [quoted, "3 Dec 1997", ""], "signature": ["France", quoted, ""]}
    return HEADER + "\n" + ",".join(row.get(where, ["France", "", quoted])) + "\n"


@ADVERSARIAL
@given(adversarial_tables())
@example('Participant,Signature,"Ratification, Accession(a)"\nFrance,3 Dec 1997' + " " * 20_000 + "1x,\n")
@example('Participant,Signature\n"' + "1" * 20_000 + 'x",3 Dec 1997\n')
def test_no_status_file_takes_more_than_linear_work(table: str) -> None:
    assert_linear_work("status file", table, lambda: parse_status_file(table, "XXVI-5", max_cell_chars=UNCAPPED))


RESOLUTION_RUNS = [
    " ",
    " also",
    " one",
    " and",
    " first",
    " 1",
    " (",
    "¹",
    "¹ x",
    "*",
    " entered into force",
    " Geneva (2000),¹",
    " 54/54 B of",
    " Treaty Series,",
    "\n\na",
    "\n¹ x",
    "\n\n1. a",
]
RESOLUTION_BEFORE = [
    "",
    "Recalling",
    "The General Assembly",
    "Agenda item 96",
    "87th plenary meeting",
    "A/RES/64/56\n\nThe General Assembly,\n\nRecalling its resolutions",
    "The General Assembly,\n\nNoting that",
    "The General Assembly,\n\nRecalling the first meeting of the States parties, held in",
    "The General Assembly,\n\n1. Urges\n\n¹ United Nations, Treaty Series",
]
RESOLUTION_AFTER = ["", "x", ",", " States parties", "\n\n¹ United Nations, Treaty Series, vol. 2056, No. 35597.\n"]


@ADVERSARIAL
@given(st.sampled_from(RESOLUTION_BEFORE), runs(RESOLUTION_RUNS), st.sampled_from(RESOLUTION_AFTER))
@example("The General Assembly,\n\n", "Recalling" + " " * 20_000, "x")
@example("", "The General Assembly" + " " * 20_000, "x")
@example("", "Agenda item 96" + " " * 20_000, "x")
def test_no_resolution_takes_more_than_linear_work(before: str, run: str, after: str) -> None:
    text = before + run + after
    assert_linear_work("resolution", text, lambda: parse_resolution(text, TREATIES, max_line_chars=UNCAPPED))

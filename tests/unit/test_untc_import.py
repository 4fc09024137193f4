"""The UNTC status-file importer, on the real snapshot and on small constructed tables."""

from __future__ import annotations

import itertools
import pickle
import re
import string
from functools import cache

import pytest

from tests.conftest import DATA
from treatywatch.ingest.untc import (
    BINDING_ACTIONS,
    MAX_CELL_CHARS,
    MAX_REJECTIONS,
    NotAStatusFile,
    Rejection,
    StatusImport,
    TooManyActions,
    parse_status_file,
    read_index,
    untc_treaty_id,
)

UNTC = DATA.root / "untc"
STATUS_FILES = sorted((UNTC / "treaties").glob("*.csv"))

CONTRACT_ACTIONS = {
    "signature",
    "ratification",
    "acceptance",
    "approval",
    "accession",
    "succession",
    "definitive_signature",
    "formal_confirmation",
    "consent_to_be_bound",
    "provisional_application",
    "declaration",
    "reservation",
    "objection",
    "withdrawal",
}

HEADER = 'Participant,Signature,"Ratification, Acceptance(A), Approval(AA), Accession(a), Succession(d)"\n'


@cache
def parsed(stem: str) -> StatusImport:
    path = UNTC / "treaties" / f"{stem}.csv"
    return parse_status_file(path.read_text(encoding="utf-8"), untc_treaty_id(stem))


def rows_of(result: StatusImport) -> list[tuple[str, str, str]]:
    return [(a.data["participant"], a.data["action"], a.data["date"]) for a in result.actions]


# --- treaty ids and the index ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stem", "treaty_id"),
    [
        ("26-5", "XXVI-5"),
        ("4-11-a", "IV-11-a"),
        ("10-2-b", "X-2-b"),
        ("3-2-12a", "III-2-12a"),
        ("1-1", "I-1"),
        ("19-39", "XIX-39"),
        ("29-1", "XXIX-1"),
    ],
)
def test_file_stems_become_untc_ids(stem: str, treaty_id: str) -> None:
    assert untc_treaty_id(stem) == treaty_id


@pytest.mark.parametrize("stem", ["XXVI-5", "26", "26-5.csv", "0-1", "index", "26-", "-5"])
def test_stems_that_are_not_chapter_number_raise(stem: str) -> None:
    with pytest.raises(ValueError, match="chapter-number"):
        untc_treaty_id(stem)


def test_index_maps_every_status_file_to_its_title_and_url() -> None:
    index = read_index((UNTC / "index.csv").read_text(encoding="utf-8"))
    assert len(index) == 401
    mine_ban = index["XXVI-5"]
    assert mine_ban.title.startswith("Convention on the Prohibition of the Use, Stockpiling")
    assert "mtdsg_no=XXVI-5&" in mine_ban.url
    assert mine_ban.chapter_name == "Disarmament"
    assert "Annex XII" in index["III-2-12a"].title
    assert {untc_treaty_id(path.stem) for path in STATUS_FILES} <= index.keys()


def test_index_ids_agree_with_the_untc_urls_except_chapter_xi_a() -> None:
    index = read_index((UNTC / "index.csv").read_text(encoding="utf-8"))
    differing = {key for key, entry in index.items() if f"mtdsg_no={key}&" not in entry.url}
    # UNTC numbers road traffic as XI-A-n; the snapshot's file names and index drop the `A`.
    assert differing == {f"XI-{n}" for n in range(1, 19)}


def test_index_without_its_columns_is_refused() -> None:
    with pytest.raises(ValueError, match="treaty_no"):
        read_index("chapter_no,title\n1,x\n")


# --- the real snapshot -----------------------------------------------------------------------------


def test_mine_ban_convention_has_156_parties_on_2_december_2009() -> None:
    result = parsed("26-5")
    bound = {
        a.data["participant"]
        for a in result.actions
        if a.data["action"] in BINDING_ACTIONS and a.data["date"] <= "2009-12-02"
    }
    assert len(bound) == 156
    assert result.rejected == []


def test_afghanistan_acceded_to_the_mine_ban_convention_on_11_september_2002() -> None:
    afghanistan = [a.data for a in parsed("26-5").actions if a.data["participant_name"] == "Afghanistan"]
    assert afghanistan == [
        {
            "treaty_id": "XXVI-5",
            "participant": "AFG",
            "participant_name": "Afghanistan",
            "action": "accession",
            "date": "2002-09-11",
        }
    ]


def test_mine_ban_columns_explain_the_legend() -> None:
    columns = parsed("26-5").columns
    assert columns[0] == "column 2 'Signature': no mark = signature"
    assert "no mark = ratification" in columns[1]
    assert "(a) = accession" in columns[1]
    assert "(d) = succession" in columns[1]


def test_every_snapshot_file_parses_with_stable_unique_ids() -> None:
    assert len(STATUS_FILES) == 324
    for path in STATUS_FILES:
        result = parsed(path.stem)
        again = parse_status_file(path.read_text(encoding="utf-8"), untc_treaty_id(path.stem))
        ids = [action.event_id for action in result.actions]
        assert len(ids) == len(set(ids)), path.name
        assert ids == [action.event_id for action in again.actions], path.name
        assert all(re.fullmatch(r"untc-[0-9a-f-]{36}", event_id) for event_id in ids), path.name


def test_snapshot_has_no_rejections_and_only_contract_actions() -> None:
    rows = actions = 0
    for path in STATUS_FILES:
        result = parsed(path.stem)
        assert result.rejected == [], path.name
        rows += result.rows
        actions += len(result.actions)
        for action in result.actions:
            assert action.data["action"] in CONTRACT_ACTIONS
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", action.data["date"])
            assert action.data["treaty_id"] == untc_treaty_id(path.stem)
    assert rows == 23757
    assert actions == 30969


def test_only_the_tables_without_dates_of_acts_yield_no_actions() -> None:
    empty = {path.stem for path in STATUS_FILES if not parsed(path.stem).actions}
    assert empty == {"1-2", "1-4"}
    assert any("'Resolution': ignored" in column for column in parsed("1-2").columns)
    assert any("UNTS Volume" in column for column in parsed("1-2").columns)
    assert parsed("1-4").rows > 0


def test_organisations_are_kept_by_name_and_listed_as_unresolved() -> None:
    result = parsed("27-7")
    union = [a.data for a in result.actions if a.data["participant_name"] == "European Union"]
    assert union
    assert all(data["participant"] == "European Union" for data in union)
    assert "European Union" in result.unresolved


def test_legends_are_read_per_file() -> None:
    # 26-2-a: `Consent to be bound(P), Succession(d)`; 12-7: `Signature, Succession to signature(d)`.
    consent = {action for _, action, _ in rows_of(parsed("26-2-a"))}
    assert consent == {"consent_to_be_bound", "succession"}
    # The Czech Republic succeeded to Czechoslovakia's signature only: it signed, it is not bound.
    czech = [(action, date) for code, action, date in rows_of(parsed("12-7")) if code == "CZE"]
    assert czech == [("signature", "1993-06-02")]
    assert "(d) = 'Succession to signature' = signature" in parsed("12-7").columns[0]
    assert "(p) = 'Simplified procedure' = consent_to_be_bound" in parsed("21-6-a").columns[3]


def test_annex_application_and_ignored_notifications_are_explained() -> None:
    assert "no mark = consent_to_be_bound" in parsed("3-2-1").columns[0]
    notification = [column for column in parsed("10-9").columns if "Notification under article 25" in column]
    assert notification
    assert "ignored" in notification[0]


# --- constructed tables ----------------------------------------------------------------------------


def test_suffixes_footnotes_and_several_dates_are_read() -> None:
    text = HEADER + (
        'Germany2,3 Dec 19971,11 Sep 2002 a3\nChina*,"3 Dec 1997\n5 Jan 1998",12 Feb 2000 AA¹\nItaly,,1997-12-05 d\n'
    )
    result = parse_status_file(text, "XXVI-5")
    assert rows_of(result) == [
        ("DEU", "signature", "1997-12-03"),
        ("DEU", "accession", "2002-09-11"),
        ("CHN", "signature", "1997-12-03"),
        ("CHN", "signature", "1998-01-05"),
        ("CHN", "approval", "2000-02-12"),
        ("ITA", "succession", "1997-12-05"),
    ]
    assert result.rejected == []
    assert result.rows == 3


@pytest.mark.parametrize(
    ("cell", "date"),
    [
        ("3 Dec. 1997", "1997-12-03"),
        ("3 December 1997", "1997-12-03"),
        ("03 dec 1997", "1997-12-03"),
        ("3-Dec-1997", "1997-12-03"),
        ('"Dec 3, 1997"', "1997-12-03"),
        ("3 Sept 1997", "1997-09-03"),
        ("3 Spe 1997", "1997-09-03"),
        ("3 Dex 1997", "1997-12-03"),
        ("3 Febuary 1998", "1998-02-03"),
        ("3 Dec 1997 [2]", "1997-12-03"),
    ],
)
def test_dates_a_careful_reader_would_read(cell: str, date: str) -> None:
    result = parse_status_file(HEADER + f"France,{cell},\n", "X-1")
    assert rows_of(result) == [("FRA", "signature", date)]


def test_a_capital_slip_in_a_mark_is_read_but_a_mixed_one_is_not() -> None:
    result = parse_status_file(HEADER + "France,,3 Dec 1997 D\nSpain,,3 Dec 1997 aA\n", "X-1")
    assert rows_of(result) == [("FRA", "succession", "1997-12-03")]
    assert [r.line for r in result.rejected] == [3]


@pytest.mark.parametrize(
    ("cell", "why"),
    [
        ("see note", "holds no date"),
        ("31 Feb 1998", "does not exist"),
        ("3 Jum 1997", "'Jum' is not a month"),
        ("3 Dec 97", "holds no date"),
        ("3 Dec 1997 x", "mark 'x' is not in the header's legend"),
        ("3 Dec 1997 (withdrawn)", "text besides dates: '(withdrawn)'"),
        ("3 Dec 1197", "out of range"),
    ],
)
def test_unreadable_cells_are_rejected_and_the_rest_of_the_row_kept(cell: str, why: str) -> None:
    result = parse_status_file(HEADER + f"Peru,{cell},4 Sep 1999 a\n", "X-1")
    assert rows_of(result) == [("PER", "accession", "1999-09-04")]
    assert len(result.rejected) == 1
    rejection = result.rejected[0]
    assert rejection.line == 2
    assert "column 'Signature'" in rejection.reason
    assert cell in rejection.reason
    assert why in rejection.reason


def test_rejections_carry_the_physical_line_after_multiline_cells() -> None:
    text = HEADER + 'China,"3 Dec 1997\n5 Jan 1998",\n\nChile,,3 Dex\n'
    result = parse_status_file(text, "X-1")
    assert result.rejected == [
        Rejection(
            5,
            "column 'Ratification, Acceptance(A), Approval(AA), Accession(a), ...', Chile: '3 Dex' "
            "cannot be read: it holds no date",
        )
    ]


def test_empty_cells_and_blank_lines_are_not_rejections() -> None:
    result = parse_status_file(HEADER + "Chile,,\n\n,,\nPeru\n", "X-1")
    assert result.rejected == []
    assert result.actions == []
    assert result.rows == 2


def test_rows_without_a_participant_or_with_extra_cells_are_rejected() -> None:
    result = parse_status_file(HEADER + ",3 Dec 1997,\nPeru,3 Dec 1997,,stray\n", "X-1")
    assert [r.line for r in result.rejected] == [2, 3]
    assert "no participant" in result.rejected[0].reason
    assert "'stray' lies beyond the header's 3 columns" in result.rejected[1].reason
    assert rows_of(result) == [("PER", "signature", "1997-12-03")]


def test_a_bare_date_is_rejected_where_the_legend_gives_it_no_meaning() -> None:
    result = parse_status_file('Participant,"Accession(a), Succession(d)"\nChile,3 Dec 1997\nPeru,3 Dec 1997 d\n', "X")
    assert rows_of(result) == [("PER", "succession", "1997-12-03")]
    assert result.rejected[0].line == 2
    assert "without a mark" in result.rejected[0].reason


def test_an_ambiguous_binding_legend_records_consent_to_be_bound() -> None:
    header = 'Participant,"Definitive signature of the Protocol, Acceptance of the Protocol"\n'
    result = parse_status_file(header + "Chile,3 Dec 1997\n", "VI-11")
    assert rows_of(result) == [("CHL", "consent_to_be_bound", "1997-12-03")]
    assert "all binding" in result.columns[0]


def test_act_columns_of_other_kinds_are_read_from_their_headers() -> None:
    header = (
        "Participant,Signature,Provisional application(n),Denunciation,"
        '"Ratification, Consent to be bound(P), Formal confirmation(c)",Notification under article 9\n'
    )
    result = parse_status_file(header + "Chile,1 Jan 2000,2 Jan 2000 n,5 May 2010,3 Jan 2001 P,4 Apr 2004\n", "X")
    assert rows_of(result) == [
        ("CHL", "signature", "2000-01-01"),
        ("CHL", "provisional_application", "2000-01-02"),
        ("CHL", "withdrawal", "2010-05-05"),
        ("CHL", "consent_to_be_bound", "2001-01-03"),
    ]
    assert result.rejected == []
    assert "ignored" in result.columns[-1]


def test_unresolved_names_are_kept_and_listed_once() -> None:
    result = parse_status_file(HEADER + "Narnia,3 Dec 1997,4 Dec 1998\nEuropean Union,,5 Dec 1999 AA\n", "X")
    assert result.unresolved == ["Narnia", "European Union"]
    assert {a.data["participant"] for a in result.actions} == {"Narnia", "European Union"}


def test_event_ids_are_deterministic_and_distinct_for_repeated_rows() -> None:
    text = HEADER + "Chile,3 Dec 1997,\nChile,3 Dec 1997,\n"
    first = parse_status_file(text, "X")
    ids = [a.event_id for a in first.actions]
    assert len(set(ids)) == 2
    assert ids == [a.event_id for a in parse_status_file(text, "X").actions]
    # Another treaty, or a corrected date, is another event.
    assert ids[0] not in {a.event_id for a in parse_status_file(text, "Y").actions}
    moved = parse_status_file(HEADER + "Chile,4 Dec 1997,\n", "X")
    assert moved.actions[0].event_id != ids[0]


def test_event_ids_do_not_depend_on_line_numbers() -> None:
    before = parse_status_file(HEADER + "Chile,3 Dec 1997,\n", "X")
    after = parse_status_file(HEADER + "Peru,1 Jan 2000,\nChile,3 Dec 1997,\n", "X")
    assert before.actions[0].event_id == after.actions[1].event_id


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("Name,Signature\nChile,3 Dec 1997\n", "not 'Participant'"),
        ("Participant,Email,Phone\nChile,a@b,1\n", "no column carries dates of acts"),
    ],
)
def test_text_that_is_not_a_status_file_raises(text: str, why: str) -> None:
    with pytest.raises(NotAStatusFile, match=why):
        parse_status_file(text, "X")


def test_a_byte_order_mark_and_crlf_are_tolerated() -> None:
    result = parse_status_file("\ufeff" + HEADER.replace("\n", "\r\n") + "Chile,3 Dec 1997,\r\n", "X")
    assert rows_of(result) == [("CHL", "signature", "1997-12-03")]


# --- hostile input: long cells ---------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_the_review_cells_are_read_in_linear_time() -> None:
    # The old patterns took 19 s for the participant and 10 s for the date cell at 20,000 characters; minutes here.
    spaces = parse_status_file(HEADER + "Peru,3 Dec 1997" + " " * 100_000 + "1x,\n", "X-1", max_cell_chars=10**6)
    assert len(spaces.rejected) == 1
    assert "the mark 'x' is not in the header's legend" in spaces.rejected[0].reason
    digits = parse_status_file(HEADER + "1" * 100_000 + "x,3 Dec 1997,\n", "X-1", max_cell_chars=10**6)
    assert [a.data["action"] for a in digits.actions] == ["signature"]
    assert digits.unresolved == ["1" * 100_000 + "x"]


def test_a_cell_over_the_cap_is_refused_naming_its_line_and_column() -> None:
    text = HEADER + "Chile,3 Dec 1997,\nPeru,3 Dec 1997" + " " * MAX_CELL_CHARS + ",\n"
    with pytest.raises(
        NotAStatusFile, match=r"^line 3, column 2: the cell holds 2,010 characters, more than the 2,000 "
    ):
        parse_status_file(text, "X-1")
    with pytest.raises(NotAStatusFile, match=r"^line 1, column 2: the cell holds 20,000 characters"):
        parse_status_file("Participant," + "x" * 20_000 + "\n", "X-1")


def test_a_cell_at_the_cap_is_read_with_its_spaces_as_one() -> None:
    cell = "3 Dec" + " " * (MAX_CELL_CHARS - 11) + "1997 a"
    assert len(cell) == MAX_CELL_CHARS
    result = parse_status_file(HEADER + f"Peru,,{cell}\n", "X-1")
    assert rows_of(result) == [("PER", "accession", "1997-12-03")]


def test_the_result_and_the_refusal_survive_pickling() -> None:
    # Status files are parsed in a worker process: what it returns or raises comes back pickled.
    result = parsed("26-5")
    assert pickle.loads(pickle.dumps(result)) == result
    refusal = pickle.loads(pickle.dumps(NotAStatusFile("line 3: no")))
    assert refusal.reason == "line 3: no"


@pytest.mark.timeout(60)
def test_many_unresolved_names_are_listed_in_linear_time() -> None:
    # Each name used to be looked for in the list of those before it: 12 s for 40,000 names, over a minute here.
    names = ["Narnia " + "".join(letters) for letters in itertools.product(string.ascii_lowercase, repeat=4)]
    text = HEADER + "".join(f"{name},3 Dec 1997,\n" for name in names[:100_000])
    assert parse_status_file(text, "X-1").unresolved == names[:100_000]


def test_a_file_of_unreadable_cells_lists_the_first_thousand_and_counts_the_rest() -> None:
    text = HEADER + "Peru,see note,\n" * (MAX_REJECTIONS + 500)
    rejected = parse_status_file(text, "X-1").rejected
    assert len(rejected) == MAX_REJECTIONS + 1
    assert rejected[-1] == Rejection(
        1_002, "500 more cells or rows cannot be read, from line 1002 on; only the first 1,000 are listed"
    )


def test_rejections_quote_long_names_and_cells_shortened() -> None:
    name, cell = "Narnia " + "n" * 1_900, "see " + "x" * 1_900
    result = parse_status_file(HEADER + f"{name},{cell},{cell}," + ",".join([cell] * 50) + "\n", "X-1")
    assert len(result.rejected) == 52
    assert all(len(r.reason) < 500 for r in result.rejected)


def test_reading_stops_at_the_most_actions_asked_for() -> None:
    text = HEADER + "Chile,3 Dec 1997,4 Dec 1998\nPeru,3 Dec 1997,\n"
    assert len(parse_status_file(text, "X-1", max_actions=3).actions) == 3
    with pytest.raises(TooManyActions, match="more than 2 actions"):
        parse_status_file(text, "X-1", max_actions=2)

"""Unit tests of the General Assembly resolution parser and the resolution symbol helpers."""

from __future__ import annotations

import json
import pickle
import random
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.conftest import DATA
from treatywatch.common.events import BINDING_ACTIONS, ResolutionAdopted
from treatywatch.common.symbols import normalize_resolution_symbol, session_of
from treatywatch.ingest.resolution import (
    MAX_LINE_CHARS,
    LineTooLong,
    NotAResolution,
    ParsedResolution,
    parse_resolution,
)
from treatywatch.ingest.untc import parse_status_file

SEED = DATA.resolution
TREATIES = {(2056, 35597): "XXVI-5"}
CONVENTION = (
    "Convention on the Prohibition of the Use, Stockpiling, Production and Transfer of Anti-personnel Mines "
    "and on Their Destruction"
)
DATA_KEYS = [
    "symbol",
    "session",
    "title",
    "adopted_on",
    "issued_on",
    "agenda_item",
    "committee",
    "report_symbol",
    "plenary_meeting",
    "plenary_date",
    "recalls",
    "treaty",
    "meetings",
    "preamble",
    "paragraphs",
    "footnotes",
    "claims",
]


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed(seed_text: str) -> ParsedResolution:
    return parse_resolution(seed_text, TREATIES)


def replaced(text: str, *pairs: tuple[str, str]) -> str:
    """Edit a copy of the seed, failing loudly if the seed no longer has the text being replaced."""
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text


def claim_values(result: ParsedResolution, kind: str) -> list[Any]:
    return [claim["value"] for claim in result.data["claims"] if claim["kind"] == kind]


# --- symbols ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("64/56", "A/RES/64/56"),
        ("A/RES/64/56", "A/RES/64/56"),
        ("RES/58/53", "A/RES/58/53"),
        ("54/54 B", "A/RES/54/54 B"),
        ("54/54B", "A/RES/54/54 B"),
        ("A/RES/54/54 B", "A/RES/54/54 B"),
        ("  a/res/54/54 b ", "A/RES/54/54 B"),
        ("A / RES / 64 / 56", "A/RES/64/56"),
        ("res/55/33v", "A/RES/55/33 V"),
    ],
)
def test_normalize_resolution_symbol(text: str, expected: str) -> None:
    assert normalize_resolution_symbol(text) == expected


@pytest.mark.parametrize(
    "text", ["", "A/64/391", "APLC/MSP.1/1999/1", "64-56", "64/56 BB", "2222 (XXI)", "S/RES/1325", "64/0"]
)
def test_normalize_resolution_symbol_rejects_other_symbols(text: str) -> None:
    with pytest.raises(ValueError, match="not a General Assembly resolution symbol"):
        normalize_resolution_symbol(text)


def test_session_of() -> None:
    assert session_of("A/RES/64/56") == 64
    assert session_of("54/54 B") == 54
    with pytest.raises(ValueError):
        session_of("A/64/391")


# --- the seed -----------------------------------------------------------------------------------


def test_seed_header(seed: ParsedResolution) -> None:
    data = seed.data
    assert list(data) == DATA_KEYS
    assert data["symbol"] == "A/RES/64/56"
    assert data["session"] == 64
    assert data["title"] == f"Implementation of the {CONVENTION}"
    assert data["adopted_on"] == "2009-12-02"
    assert data["issued_on"] == "2010-01-12"
    assert data["agenda_item"] == "96"
    assert data["committee"] == "First Committee"
    assert data["report_symbol"] == "A/64/391"
    assert data["plenary_meeting"] == 55
    assert data["plenary_date"] == "2009-12-02"


def test_seed_parses_without_warnings_and_is_json_ready(seed: ParsedResolution) -> None:
    assert seed.warnings == []
    assert json.loads(json.dumps(seed.data)) == seed.data


def test_seed_satisfies_the_event_contract(seed: ParsedResolution) -> None:
    event = ResolutionAdopted.model_validate(seed.data)
    assert event.model_dump(mode="json") == seed.data


def test_seed_recalls_ten_resolutions_in_order(seed: ParsedResolution) -> None:
    recalls = seed.data["recalls"]
    assert [r["symbol"] for r in recalls] == [
        "A/RES/54/54 B",
        "A/RES/55/33 V",
        "A/RES/56/24 M",
        "A/RES/57/74",
        "A/RES/58/53",
        "A/RES/59/84",
        "A/RES/60/80",
        "A/RES/61/84",
        "A/RES/62/41",
        "A/RES/63/42",
    ]
    assert recalls[0]["date"] == "1999-12-01"
    assert recalls[1]["date"] == "2000-11-20"
    assert recalls[-1]["date"] == "2008-12-02"


def test_seed_treaty(seed: ParsedResolution) -> None:
    assert seed.data["treaty"] == {
        "unts_volume": 2056,
        "unts_number": 35597,
        "treaty_id": "XXVI-5",
        "title": CONVENTION,
    }


def test_seed_meetings(seed: ParsedResolution) -> None:
    meetings = seed.data["meetings"]
    summary = [(m["kind"], m["ordinal"], m["place"], m["year"]) for m in meetings]
    assert summary == [
        ("msp", 1, "Maputo", 1999),
        ("msp", 2, "Geneva", 2000),
        ("msp", 3, "Managua", 2001),
        ("msp", 4, "Geneva", 2002),
        ("msp", 5, "Bangkok", 2003),
        ("msp", 6, "Zagreb", 2005),
        ("msp", 7, "Geneva", 2006),
        ("msp", 8, "the Dead Sea", 2007),
        ("msp", 9, "Geneva", 2008),
        ("review_conference", 1, "Nairobi", 2004),
        ("review_conference", 2, "Cartagena", 2009),
    ]
    assert [m["report_symbol"] for m in meetings[:9]] == [
        "APLC/MSP.1/1999/1",
        "APLC/MSP.2/2000/1",
        "APLC/MSP.3/2001/1",
        "APLC/MSP.4/2002/1",
        "APLC/MSP.5/2003/5",
        "APLC/MSP.6/2005/5",
        "APLC/MSP.7/2006/5",
        "APLC/MSP.8/2007/6",
        "APLC/MSP.9/2008/5",
    ]
    ninth, nairobi, cartagena = meetings[8], meetings[9], meetings[10]
    assert (ninth["start"], ninth["end"]) == ("2008-11-24", "2008-11-28")
    assert nairobi["report_symbol"] == "APLC/CONF/2004/5"
    assert (nairobi["start"], nairobi["end"]) == (None, None)
    assert cartagena == {
        "kind": "review_conference",
        "ordinal": 2,
        "place": "Cartagena",
        "year": 2009,
        "start": "2009-11-29",
        "end": "2009-12-04",
        "report_symbol": None,
    }


def test_seed_preamble(seed: ParsedResolution) -> None:
    preamble = seed.data["preamble"]
    assert [p["verb"] for p in preamble] == [
        "Recalling",
        "Reaffirming",
        "Believing",
        "Wishing",
        "Recalling",
        "Noting with satisfaction",
        "Recalling",
        "Recalling also",
        "Recalling further",
        "Noting with satisfaction",
        "Emphasizing",
        "Noting with regret",
    ]
    # Footnote marks are gone, the paragraph that spans the first page break is whole.
    assert preamble[4]["text"].endswith("on Their Destruction,")
    assert preamble[6]["text"].startswith("Recalling the first to ninth meetings")
    assert "Maputo (1999), Geneva (2000)," in preamble[6]["text"]


def test_seed_operative_paragraphs(seed: ParsedResolution) -> None:
    paragraphs = seed.data["paragraphs"]
    assert [p["number"] for p in paragraphs] == list(range(1, 11))
    assert [p["verb"] for p in paragraphs] == [
        "Invites",
        "Urges",
        "Stresses",
        "Urges",
        "Invites",
        "Renews its call",
        "Urges",
        "Reiterates its invitation and encouragement",
        "Requests",
        "Decides",
    ]
    assert paragraphs[0]["footnotes"] == [1]
    assert paragraphs[0]["text"] == (
        f"Invites all States that have not signed the {CONVENTION} to accede to it without delay;"
    )
    assert paragraphs[2]["footnotes"] == [12]
    assert paragraphs[2]["text"].endswith("Nairobi Action Plan 2005–2009;")
    assert paragraphs[9] == {
        "number": 10,
        "verb": "Decides",
        "text": "Decides to remain seized of the matter.",
        "footnotes": [],
    }


def test_seed_footnotes(seed: ParsedResolution) -> None:
    footnotes = seed.data["footnotes"]
    assert [f["number"] for f in footnotes] == list(range(1, 13))
    assert footnotes[0]["text"] == "United Nations, Treaty Series, vol. 2056, No. 35597."
    assert footnotes[10]["text"] == "See APLC/CONF/2004/5 and Corr.1."
    assert footnotes[11] == {"number": 12, "text": "Ibid., part III.", "ibid_of": 11}
    assert all(f["ibid_of"] is None for f in footnotes[:11])


def test_seed_claims(seed: ParsedResolution) -> None:
    claims = seed.data["claims"]
    assert [(c["kind"], c["treaty_id"], c["value"], c["as_of"]) for c in claims] == [
        ("entry_into_force_year", "XXVI-5", 1999, "2009-12-02"),
        ("parties_count", "XXVI-5", 156, "2009-12-02"),
    ]
    assert "one hundred and fifty-six States have ratified or acceded" in claims[1]["text"]


def test_unknown_treaty_is_a_warning(seed_text: str) -> None:
    result = parse_resolution(seed_text, {})
    assert result.data["treaty"]["treaty_id"] is None
    assert result.data["treaty"]["unts_volume"] == 2056
    assert all(claim["treaty_id"] is None for claim in result.data["claims"])
    assert any("vol. 2056, No. 35597 is not known" in w for w in result.warnings)


# --- variants from other years ------------------------------------------------------------------


def test_older_heading_with_letter_line(seed_text: str) -> None:
    text = replaced(
        seed_text,
        ("General Assembly\n", "General Assembly\n\nA/RES/54/54\n"),
        ("Sixty-fourth session\nAgenda item 96", "Fifty-fourth session\nAgenda item 73 (p)"),
        ("First Committee", "Second Committee"),
        (
            "64/56. Implementation of the Convention",
            "54/54. General and complete disarmament\n\nB\n\nImplementation of the Convention",
        ),
    )
    result = parse_resolution(text, TREATIES)
    data = result.data
    assert data["symbol"] == "A/RES/54/54 B"
    assert data["session"] == 54
    assert data["title"] == f"Implementation of the {CONVENTION}"
    assert data["agenda_item"] == "73 (p)"
    assert data["committee"] == "Second Committee"
    assert data["preamble"][0]["verb"] == "Recalling"
    assert not any("symbol" in w for w in result.warnings)


@pytest.mark.parametrize("number_line", ["54/54 B. Implementation", "54/54B. Implementation"])
def test_letter_on_the_number_line(seed_text: str, number_line: str) -> None:
    text = replaced(seed_text, ("64/56. Implementation", number_line))
    data = parse_resolution(text, TREATIES).data
    assert data["symbol"] == "A/RES/54/54 B"
    assert data["title"] == f"Implementation of the {CONVENTION}"


def test_symbol_line_without_number_line(seed_text: str) -> None:
    text = replaced(
        seed_text,
        ("General Assembly\n", "General Assembly\n\nRES/58/53\n"),
        ("64/56. Implementation", "Implementation"),
    )
    result = parse_resolution(text, TREATIES)
    assert result.data["symbol"] == "A/RES/58/53"
    assert result.data["session"] == 58
    assert not result.complete
    assert [name for name, _reason in result.missing] == ["title"]
    assert "neither" in result.missing[0][1] and result.missing[0][1] in result.warnings
    assert len(result.data["paragraphs"]) == 10


def test_conflicting_symbols_are_reported(seed_text: str) -> None:
    text = replaced(seed_text, ("General Assembly\n", "General Assembly\n\nA/RES/63/42\n"))
    result = parse_resolution(text, TREATIES)
    assert result.data["symbol"] == "A/RES/64/56"
    assert any("disagrees" in w for w in result.warnings)


def test_title_in_capitals(seed_text: str) -> None:
    capitals = f"IMPLEMENTATION OF THE {CONVENTION.upper()}"
    text = replaced(seed_text, (f"64/56. Implementation of the {CONVENTION}", f"64/56. {capitals}"))
    data = parse_resolution(text, TREATIES).data
    assert data["title"] == capitals
    assert data["treaty"]["title"] == CONVENTION


def test_welcoming_the_entry_into_force_with_a_date(seed_text: str) -> None:
    text = replaced(
        seed_text,
        (
            "Recalling that 2009 marks the tenth anniversary of the entry into force of the Convention",
            "Welcoming the entry into force on 1 March 1999 of the Convention",
        ),
    )
    result = parse_resolution(text, TREATIES)
    assert claim_values(result, "entry_into_force_year") == [1999]
    assert claim_values(result, "entry_into_force_date") == ["1999-03-01"]
    assert result.data["preamble"][4]["verb"] == "Welcoming"
    assert result.data["treaty"]["title"] == CONVENTION


def test_entry_into_force_with_date_after_the_title() -> None:
    text = (
        "The General Assembly,\n\nWelcoming the entry into force of the Convention on Cluster Munitions "
        "on 1 August 2010,\n\n1. *Decides* to remain seized of the matter.\n"
    )
    result = parse_resolution(text, {})
    assert claim_values(result, "entry_into_force_date") == ["2010-08-01"]
    assert claim_values(result, "entry_into_force_year") == [2010]


@pytest.mark.parametrize(
    ("phrase", "count"),
    [
        ("156 States have ratified", 156),
        ("forty States have ratified", 40),
        ("one hundred and sixty-four States have ratified", 164),
        ("one thousand two hundred and three States have ratified", 1203),
        ("Ninety-nine States have now ratified", 99),
    ],
)
def test_parties_count_in_words_and_digits(seed_text: str, phrase: str, count: int) -> None:
    text = replaced(seed_text, ("one hundred and fifty-six States have ratified", phrase))
    assert claim_values(parse_resolution(text, TREATIES), "parties_count") == [count]


def test_no_report_line_is_a_warning(seed_text: str) -> None:
    text = replaced(seed_text, ("[on the report of the First Committee (A/64/391)]\n", ""))
    result = parse_resolution(text, TREATIES)
    assert result.data["committee"] is None
    assert result.data["report_symbol"] is None
    assert any("no committee" in w for w in result.warnings)
    assert result.data["paragraphs"][0]["verb"] == "Invites"


def test_adoption_date_falls_back_to_the_plenary_line(seed_text: str) -> None:
    text = replaced(
        seed_text,
        ("Resolution adopted by the General Assembly on 2 December 2009", "Resolution adopted by the General Assembly"),
    )
    data = parse_resolution(text, TREATIES).data
    assert data["adopted_on"] == "2009-12-02"
    assert data["issued_on"] == "2010-01-12"
    assert data["claims"][0]["as_of"] == "2009-12-02"


def test_adoption_and_plenary_dates_that_differ_are_reported(seed_text: str) -> None:
    text = replaced(seed_text, ("2 December 2009*", "3 December 2009*"))
    result = parse_resolution(text, TREATIES)
    assert result.data["adopted_on"] == "2009-12-02"
    assert result.data["plenary_date"] == "2009-12-03"
    assert any("differs from the plenary meeting date" in w for w in result.warnings)


def test_paragraphs_continue_after_a_footnote_block(seed_text: str) -> None:
    text = replaced(
        seed_text,
        # An operative paragraph broken mid-sentence by a page's footnotes.
        (
            "5. *Invites* all States that have not ratified the Convention or acceded to it to provide,",
            "5. *Invites* all States that have not ratified the Convention\n\n"
            "¹³ See A/64/1.\n\n\n\nor acceded to it to provide,",
        ),
        # A preambular list broken after a comma: the next page starts with a place, not a verb.
        ("Managua (2001),⁴ Geneva (2002),", "Managua (2001),⁴\n\n¹⁴ See A/64/2.\n\nGeneva (2002),"),
    )
    result = parse_resolution(text, TREATIES)
    data = result.data
    assert [p["number"] for p in data["paragraphs"]] == list(range(1, 11))
    assert data["paragraphs"][4]["text"].startswith(
        "Invites all States that have not ratified the Convention or acceded to it to provide, on a"
    )
    assert len(data["preamble"]) == 12
    assert [m["place"] for m in data["meetings"][:4]] == ["Maputo", "Geneva", "Managua", "Geneva"]
    assert [f["number"] for f in data["footnotes"]][-2:] == [13, 14]


def test_footnote_continued_on_the_next_page(seed_text: str) -> None:
    text = replaced(
        seed_text,
        (
            "¹ United Nations, *Treaty Series*, vol. 2056, No. 35597.",
            "¹ United Nations, *Treaty Series*,\n\n\n\nvol. 2056, No. 35597.",
        ),
    )
    result = parse_resolution(text, TREATIES)
    assert result.data["footnotes"][0]["text"] == "United Nations, Treaty Series, vol. 2056, No. 35597."
    assert result.data["treaty"]["treaty_id"] == "XXVI-5"
    assert len(result.data["preamble"]) == 12


def test_page_furniture_is_skipped(seed_text: str) -> None:
    text = replaced(
        seed_text, ("\n\n\n\nRecalling the first", "\n\n2\n\nA/RES/64/56\n\n09-46543\n\nRecalling the first")
    )
    result = parse_resolution(text, TREATIES)
    assert result.data == parse_resolution(seed_text, TREATIES).data


def test_hard_wrapped_lines_and_crlf_give_the_same_data(seed_text: str, seed: ParsedResolution) -> None:
    wrapped = "\n".join(textwrap.fill(line, 60) if line else "" for line in seed_text.split("\n"))
    assert wrapped.count("\n") > seed_text.count("\n") + 50
    assert parse_resolution(wrapped, TREATIES).data == seed.data
    assert parse_resolution(seed_text.replace("\n", "\r\n"), TREATIES).data == seed.data


def test_subparagraphs_join_their_paragraph_and_an_annex_is_ignored(seed_text: str) -> None:
    text = replaced(
        seed_text,
        ("10. *Decides* to remain seized of the matter.", "10. *Decides*:\n\n(a) To act;\n\n(b) To report."),
        ("2 December 2009*", "2 December 2009*\n\nAnnex\n\n1. *Something* else entirely."),
    )
    paragraphs = parse_resolution(text, TREATIES).data["paragraphs"]
    assert len(paragraphs) == 10
    assert paragraphs[-1]["text"] == "Decides: (a) To act; (b) To report."


def test_adopted_without_reference_to_a_main_committee(seed_text: str) -> None:
    text = replaced(
        seed_text, ("[on the report of the First Committee (A/64/391)]", "[without reference to a Main Committee]")
    )
    result = parse_resolution(text, TREATIES)
    assert result.data["committee"] is None
    assert any("without reference to a Main Committee" in w for w in result.warnings)


def test_more_meetings_than_places_is_reported(seed_text: str) -> None:
    text = replaced(seed_text, ("first to ninth meetings", "first to tenth meetings"))
    result = parse_resolution(text, TREATIES)
    assert [m["ordinal"] for m in result.data["meetings"] if m["kind"] == "msp"] == list(range(1, 10))
    assert any("lists 9 places for 10 meetings" in w for w in result.warnings)


def test_later_meetings_with_dates_and_report() -> None:
    text = (
        "Resolution adopted by the General Assembly on 8 December 2010\n\n65/48. Implementation\n\n"
        "The General Assembly,\n\n"
        "Recalling the Tenth Meeting of the States Parties to the Convention, held in Geneva from "
        "29 November to 3 December 2010,¹ and the Second Review Conference, held in Cartagena, Colombia, "
        "from 30 November 2009 to 4 December 2009,²\n\n"
        "1. *Decides* to remain seized of the matter.\n\n¹ See APLC/MSP.10/2010/7.\n\n² See APLC/CONF/2009/9.\n"
    )
    meetings = parse_resolution(text, {}).data["meetings"]
    assert meetings == [
        {
            "kind": "msp",
            "ordinal": 10,
            "place": "Geneva",
            "year": 2010,
            "start": "2010-11-29",
            "end": "2010-12-03",
            "report_symbol": "APLC/MSP.10/2010/7",
        },
        {
            "kind": "review_conference",
            "ordinal": 2,
            "place": "Cartagena",
            "year": 2009,
            "start": "2009-11-30",
            "end": "2009-12-04",
            "report_symbol": "APLC/CONF/2009/9",
        },
    ]


def test_recalls_skip_decisions_and_reports() -> None:
    text = (
        "The General Assembly,\n\n"
        "Recalling its resolution 63/42 of 2 December 2008 and its decision 63/519 of 2 December 2008,\n\n"
        "Recalling also its resolutions 62/41 of 5 December 2007 and 63/42 of 2 December 2008,\n\n"
        "Taking note of the report of the Secretary-General (A/64/100),\n\n"
        "1. *Decides* to remain seized of the matter.\n"
    )
    recalls = parse_resolution(text, {}).data["recalls"]
    assert recalls == [
        {"symbol": "A/RES/63/42", "date": "2008-12-02"},
        {"symbol": "A/RES/62/41", "date": "2007-12-05"},
    ]


def test_verbs_without_italics() -> None:
    text = (
        "The General Assembly,\n\nDeeply concerned about the casualties,\n\nBearing in mind the Convention,\n\n"
        "Taking note of the report,\n\n1. Calls upon all States to join;\n\n2. Also urges all States to act;\n\n"
        "3. *Decides* to remain seized of the matter.\n"
    )
    data = parse_resolution(text, {}).data
    assert [p["verb"] for p in data["preamble"]] == ["Deeply concerned", "Bearing in mind", "Taking note"]
    assert [p["verb"] for p in data["paragraphs"]] == ["Calls upon", "Also urges", "Decides"]


def test_a_sparse_resolution_lists_what_is_missing() -> None:
    result = parse_resolution("The General Assembly,\n\n1. *Decides* to remain seized of the matter.\n", {})
    assert result.data["paragraphs"][0]["verb"] == "Decides"
    assert result.data["symbol"] is None
    assert not result.complete
    assert [name for name, _reason in result.missing] == ["symbol", "session", "title", "adopted_on"]
    assert all(reason in result.warnings for _name, reason in result.missing)
    assert "no agenda item found" in result.warnings
    assert any("Treaty Series" in w for w in result.warnings)


def test_gaps_in_operative_numbering_and_missing_footnotes_are_reported(seed_text: str) -> None:
    text = replaced(seed_text, ("\n7. *Urges*", "\n8. *Urges*"), ("Destruction¹ to", "Destruction¹³ to"))
    result = parse_resolution(text, TREATIES)
    assert any("not numbered 1 to 10" in w for w in result.warnings)
    assert "footnote 13 is referenced but its text was not found" in result.warnings


# --- resolutions as they are found: one reader for every layout ----------------------------------------

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "resolutions"
# What a reader compares between a layout and its plain original: everything the parser reads.
COMPARED = [key for key in DATA_KEYS if key != "title"]
PLAIN_54_54_B = "A-RES-54-54B"
PLAIN_58_53 = "A-RES-58-53"
# Each fixture, the plain text it was composed from (None: the seed), and whether it prints the title in capitals,
# the one thing those layouts do not carry as the plain text does: the parser keeps a title as it is written.
LAYOUTS = [
    pytest.param("A-RES-64-56.pdf", None, False, id="pdf-extracted"),
    pytest.param("A-RES-64-56.web", None, False, id="web-copy"),
    pytest.param("A-RES-64-56.footnotes-after-plenary", None, False, id="footnotes-without-blank-lines"),
    pytest.param("A-RES-64-56.glued-marks", None, False, id="glued-marks"),
    pytest.param("A-RES-64-56.bracketed-marks", None, False, id="meeting-list-with-glued-marks"),
    pytest.param("A-RES-54-54B.omnibus-letter", PLAIN_54_54_B, True, id="omnibus-with-a-letter"),
    pytest.param("A-RES-54-54B.section-heading", PLAIN_54_54_B, False, id="old-section-heading"),
    pytest.param("A-RES-58-53.web", PLAIN_58_53, True, id="omnibus-web-copy"),
]


def fixture(name: str) -> str:
    return (FIXTURES / f"{name}.txt").read_text(encoding="utf-8")


def test_every_fixture_is_tested() -> None:
    named = {PLAIN_54_54_B, PLAIN_58_53, *(layout.values[0] for layout in LAYOUTS)}
    assert {path.stem for path in FIXTURES.glob("*.txt")} == named


@pytest.mark.parametrize(("name", "original", "capitals"), LAYOUTS)
def test_a_layout_reads_as_its_plain_original(seed_text: str, name: str, original: str | None, capitals: bool) -> None:
    expected = parse_resolution(seed_text if original is None else fixture(original), TREATIES)
    result = parse_resolution(fixture(name), TREATIES)
    assert result.complete, result.missing
    assert result.warnings == expected.warnings
    for key in COMPARED:
        assert result.data[key] == expected.data[key], key
    if capitals:
        assert result.data["title"] == expected.data["title"].upper()
    else:
        assert result.data["title"] == expected.data["title"]
    ResolutionAdopted.model_validate(result.data)


def test_the_pdf_layout_is_what_the_issue_describes() -> None:
    text = fixture("A-RES-64-56.pdf")
    # Page furniture, a two-line title, footnotes at the pages' feet in plain digits, hyphenated line ends.
    for shape in (
        "A/RES/64/56\n2/4\n",
        "09-46543 4/4",
        "the Use,\nStockpiling",
        "\n1 United Nations",
        "infor-\nmation",
    ):
        assert shape in text
    data = parse_resolution(text, TREATIES).data
    # A word the typesetter broke loses its hyphen; a hyphenated word broken at its hyphen keeps it.
    assert "complete and timely information as required" in data["paragraphs"][3]["text"]
    assert data["treaty"]["title"] == CONVENTION
    assert data["footnotes"][0]["text"] == "United Nations, Treaty Series, vol. 2056, No. 35597."


def test_footnotes_under_the_plenary_lines_identify_the_treaty() -> None:
    # Issue 14: "1 United Nations, Treaty Series, ..." right under the plenary lines was not found.
    text = fixture("A-RES-64-56.footnotes-after-plenary")
    assert "2 December 2009*\n1 United Nations, *Treaty Series*, vol. 2056, No. 35597.\n2 See" in text
    data = parse_resolution(text, TREATIES).data
    assert data["treaty"]["treaty_id"] == "XXVI-5"
    assert [note["number"] for note in data["footnotes"]] == list(range(1, 13))


def test_a_glued_mark_ends_its_paragraph_and_every_meeting_is_read() -> None:
    # Issue 14: "Nairobi (2004),11" swallowed the next paragraph, and "(1999),2 Geneva" lost two meetings in three.
    text = fixture("A-RES-64-56.glued-marks")
    assert "Maputo (1999),2 Geneva (2000),3" in text and "Nairobi (2004),11\nRecalling also" in text
    data = parse_resolution(text, TREATIES).data
    assert len(data["preamble"]) == 12
    assert data["preamble"][6]["text"].endswith("held in Nairobi (2004),")
    msp = [meeting for meeting in data["meetings"] if meeting["kind"] == "msp"]
    assert [meeting["ordinal"] for meeting in msp] == list(range(1, 10))
    assert [meeting["report_symbol"].split("/")[1] for meeting in msp] == [f"MSP.{n}" for n in range(1, 10)]


def test_a_web_copy_is_read_whole() -> None:
    # Issue 14: the web copy was answered "adopted_on: Input should be a valid date" and nothing else.
    text = fixture("A-RES-64-56.web")
    for shape in ("Skip to main content", "Home > Documents", "Destruction,[1]", "© United Nations 2010"):
        assert shape in text
    result = parse_resolution(text, TREATIES)
    assert result.complete
    assert result.data["adopted_on"] == "2009-12-02"
    assert not any("Skip" in p["text"] or "©" in p["text"] for p in result.data["paragraphs"])
    assert result.data["footnotes"][-1]["text"] == "Ibid., part III."


# --- other years of the family, composed from public facts ---------------------------------------------
#
# Resolution 54/54 B of 1 December 1999 (A/RES/54/54, issued 10 January 2000, agenda item 76, report A/54/563,
# recalling 53/77 N of 4 December 1998, the First Meeting of the States Parties at Maputo, 3 to 7 May 1999) and
# resolution 58/53 of 8 December 2003 (RES/58/53, issued 8 January 2004, agenda item 73 (p), report A/58/462, the
# 71st plenary meeting, the meetings at Maputo, Geneva, Managua, Geneva and Bangkok (15 to 19 September 2003), the
# First Review Conference to be held at Nairobi from 29 November to 3 December 2004). The wording is ours. The
# numbers of States they claim are the record's on those days (the status file, below); the plenary meeting that
# adopted 54/54 B is not among the facts found, so its text has no plenary line and its adoption line is dated.


def parties_on(day: str) -> int:
    """The number of States the status file shows as having ratified or acceded by `day`."""
    imported = parse_status_file(DATA.mine_ban.read_text(encoding="utf-8"), "XXVI-5")
    return len(
        {
            action.data["participant"]
            for action in imported.actions
            if action.data["action"] in BINDING_ACTIONS and action.data["date"] <= day
        }
    )


def test_resolution_54_54_b() -> None:
    result = parse_resolution(fixture(PLAIN_54_54_B), TREATIES)
    data = result.data
    assert result.complete
    assert (data["symbol"], data["session"], data["agenda_item"]) == ("A/RES/54/54 B", 54, "76")
    assert (data["adopted_on"], data["issued_on"]) == ("1999-12-01", "2000-01-10")
    assert (data["committee"], data["report_symbol"]) == ("First Committee", "A/54/563")
    assert data["recalls"] == [{"symbol": "A/RES/53/77 N", "date": "1998-12-04"}]
    assert data["plenary_meeting"] is None and "no plenary meeting line found" in result.warnings
    assert data["meetings"] == [
        {
            "kind": "msp",
            "ordinal": 1,
            "place": "Maputo",
            "year": 1999,
            "start": "1999-05-03",
            "end": "1999-05-07",
            "report_symbol": "APLC/MSP.1/1999/1",
        }
    ]
    assert claim_values(result, "parties_count") == [89] == [parties_on("1999-12-01")]
    assert claim_values(result, "entry_into_force_date") == ["1999-03-01"]


def test_resolution_58_53() -> None:
    result = parse_resolution(fixture(PLAIN_58_53), TREATIES)
    data = result.data
    assert result.complete and result.warnings == []
    assert (data["symbol"], data["session"], data["agenda_item"]) == ("A/RES/58/53", 58, "73 (p)")
    assert data["title"] == f"Implementation of the {CONVENTION}"
    assert (data["adopted_on"], data["issued_on"], data["plenary_meeting"]) == ("2003-12-08", "2004-01-08", 71)
    assert [r["symbol"] for r in data["recalls"]] == ["A/RES/54/54 B", "A/RES/55/33 V", "A/RES/56/24 M", "A/RES/57/74"]
    summary = [(m["kind"], m["ordinal"], m["place"], m["year"], m["start"], m["end"]) for m in data["meetings"]]
    assert summary == [
        ("msp", 1, "Maputo", 1999, None, None),
        ("msp", 2, "Geneva", 2000, None, None),
        ("msp", 3, "Managua", 2001, None, None),
        ("msp", 4, "Geneva", 2002, None, None),
        ("msp", 5, "Bangkok", 2003, "2003-09-15", "2003-09-19"),
        ("review_conference", 1, "Nairobi", 2004, "2004-11-29", "2004-12-03"),
    ]
    assert claim_values(result, "parties_count") == [141] == [parties_on("2003-12-08")]
    assert data["paragraphs"][3]["verb"] == "Renews its call"


def test_the_years_chain_into_the_seed(seed: ParsedResolution) -> None:
    """The seed recalls both composed resolutions with the dates they were adopted on."""
    recalled = {recall["symbol"]: recall["date"] for recall in seed.data["recalls"]}
    for name in (PLAIN_54_54_B, PLAIN_58_53):
        data = parse_resolution(fixture(name), TREATIES).data
        assert recalled[data["symbol"]] == data["adopted_on"]


# --- layouts of the header ---------------------------------------------------------------------------


def test_an_excerpt_with_only_a_section_heading() -> None:
    """An older excerpt: the symbol at the top, the plenary line above the section heading, no number line."""
    text = (
        "ARCHIVES HOME PAGE\nTable of Contents\n\nUNITED NATIONS\n\nGeneral Assembly\n\nDistr.\nGENERAL\n\n"
        "A/RES/51/45\n10 January 1997\n\nFifty-first session\n\nAgenda items 71 and 72\n\n"
        "RESOLUTIONS ADOPTED BY THE GENERAL ASSEMBLY\n\n[on the report of the First Committee (A/51/566/Add.11)]\n\n"
        "79th plenary meeting\n\n10 December 1996\n\n"
        "S. An international agreement to ban anti-personnel landmines\n\nThe General Assembly,\n\n"
        "Recalling with satisfaction its resolutions 48/75 K of 16 December 1993 and 49/75 D of 15 December 1994,\n\n"
        "1. Urges States to pursue an international agreement to ban anti-personnel landmines;\n\n"
        "2. Decides to remain seized of the matter.\n"
    )
    result = parse_resolution(text, {})
    data = result.data
    assert result.complete
    assert (data["symbol"], data["title"]) == (
        "A/RES/51/45 S",
        "An international agreement to ban anti-personnel landmines",
    )
    assert (data["agenda_item"], data["issued_on"]) == ("71 and 72", "1997-01-10")
    assert (data["adopted_on"], data["plenary_meeting"]) == ("1996-12-10", 79)
    assert [r["symbol"] for r in data["recalls"]] == ["A/RES/48/75 K", "A/RES/49/75 D"]
    assert [p["verb"] for p in data["paragraphs"]] == ["Urges", "Decides"]


@pytest.mark.parametrize(
    ("lines", "item"),
    [
        ("Sixty-fourth session\nAgenda item 73 (p)", "73 (p)"),
        ("Sixty-fourth session\nAgenda item 65 (b)", "65 (b)"),
        ("Sixty-fourth session\nAgenda items 65 and 66", "65 and 66"),
        ("Sixty-fourth session\nAgenda item\n65", "65"),
        ("Sixty-fourth session Agenda item 96.", "96"),
    ],
)
def test_agenda_items_as_written(seed_text: str, lines: str, item: str) -> None:
    data = parse_resolution(replaced(seed_text, ("Sixty-fourth session\nAgenda item 96", lines)), TREATIES).data
    assert (data["agenda_item"], data["session"]) == (item, 64)


@pytest.mark.parametrize("symbol_line", ["RES/64/56", "A/RES/64/56", "United Nations A/RES/64/56", "A / RES / 64 / 56"])
def test_symbol_forms_at_the_top(seed_text: str, symbol_line: str) -> None:
    text = replaced(seed_text, ("General Assembly\n", f"{symbol_line}\nGeneral Assembly\n"))
    result = parse_resolution(text, TREATIES)
    assert result.data["symbol"] == "A/RES/64/56" and result.warnings == []


@pytest.mark.parametrize(
    ("top", "number_line", "symbol"),
    [
        ("A/RES/54/54 B", "54/54. General and complete disarmament\n\nB", "A/RES/54/54 B"),
        ("A/RES/54/54B", "54/54. General and complete disarmament\nB. Implementation", "A/RES/54/54 B"),
        ("RES/54/54", "54/54 B. Implementation", "A/RES/54/54 B"),
    ],
)
def test_letters_of_omnibus_resolutions(seed_text: str, top: str, number_line: str, symbol: str) -> None:
    if not number_line.endswith("Implementation"):
        number_line += "\n\nImplementation"
    text = replaced(
        seed_text,
        ("General Assembly\n", f"General Assembly\n{top}\n"),
        ("Sixty-fourth session", "Fifty-fourth session"),
        ("64/56. Implementation", number_line),
    )
    data = parse_resolution(text, TREATIES).data
    assert (data["symbol"], data["session"], data["title"]) == (symbol, 54, f"Implementation of the {CONVENTION}")


# --- marks and claims in every form ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "note"),
    [
        ("Destruction¹ to accede", "¹ United Nations"),
        ("Destruction ¹ to accede", "¹ United Nations"),
        ("Destruction[1]to accede", "[1] United Nations"),
        ("Destruction [1] to accede", "[1]United Nations"),
    ],
)
def test_marks_superscript_bracketed_glued_or_spaced(
    seed_text: str, seed: ParsedResolution, written: str, note: str
) -> None:
    text = replaced(seed_text, ("Destruction¹ to accede", written), ("¹ United Nations", note))
    assert parse_resolution(text, TREATIES).data == seed.data


def test_plain_digit_marks_need_their_footnote(seed_text: str) -> None:
    """Plain digits are marks only where the text has no other marks and the footnote they point to exists."""
    plain = replaced(
        seed_text,
        ("Destruction,¹\n", "Destruction,1\n"),
        ("Destruction¹ to", "Destruction1 to"),
        ("¹ United Nations", "1 United Nations"),
    )
    mixed = parse_resolution(plain, TREATIES)  # the other marks are still superscripts: "1" stays text
    assert "Destruction1 to" in mixed.data["paragraphs"][0]["text"]
    assert "footnote 1 is referenced but its text was not found" not in mixed.warnings
    digits = plain.translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789"))
    assert parse_resolution(digits, TREATIES).data["paragraphs"][0]["footnotes"] == [1]
    # Numbers that look like marks are left alone: a thousands separator, a corrigendum, a date.
    kept = replaced(digits, ("without delay;", "without delay, 2,000 Corr.1 and (A/64/391), 2 December 2009;"))
    assert parse_resolution(kept, TREATIES).data["paragraphs"][1]["footnotes"] == []


@pytest.mark.parametrize(
    ("phrase", "count"),
    [
        ("143 States have ratified or acceded", 143),
        ("one hundred and forty-three States have ratified or acceded", 143),
        ("143 States had ratified the Convention or acceded to it", 143),
        ("the Convention has been ratified or acceded to by 143 States", 143),
        ("the Convention has been ratified by one hundred and forty-three States", 143),
    ],
)
def test_claims_in_words_or_digits(seed_text: str, phrase: str, count: int) -> None:
    text = replaced(seed_text, ("one hundred and fifty-six States have ratified or acceded", phrase))
    assert claim_values(parse_resolution(text, TREATIES), "parties_count") == [count]


def test_a_soft_hyphen_is_mended_and_a_real_one_kept(seed_text: str, seed: ParsedResolution) -> None:
    text = replaced(
        seed_text,
        ("rehabilitation and social", "rehabili-\ntation and social"),
        ("impeding post-conflict", "impeding post-\nconflict"),
        ("caused by anti-personnel mines, which", "caused by anti-\npersonnel mines, which"),
        ("its universalization", "its universali-\nzation"),
    )
    assert parse_resolution(text, TREATIES).data == seed.data


def test_navigation_around_the_text_is_dropped(seed_text: str, seed: ParsedResolution) -> None:
    text = (
        "Skip to main content\nHome > Documents > Resolutions\nMain menu | Search | Print this page\n"
        + replaced(seed_text, ("\n\n\n\nRecalling the first", "\n\nBack to top\n\nRecalling the first"))
        + "\n\nPrint this page\nCopyright © United Nations\nTerms of use | Privacy notice | Contact us\n"
    )
    assert parse_resolution(text, TREATIES).data == seed.data


# --- a partial parse says what is missing and why ----------------------------------------------------------


def test_a_partial_parse_keeps_what_it_found_and_names_what_it_did_not(seed_text: str) -> None:
    text = replaced(
        seed_text,
        ("Resolution adopted by the General Assembly on 2 December 2009", "Resolution adopted by the General Assembly"),
        ("*55th plenary meeting\n2 December 2009*", ""),
    )
    result = parse_resolution(text, TREATIES)
    assert not result.complete
    assert result.missing == [
        (
            "adopted_on",
            "no adoption date: the adoption line has no date, and no '<n>th plenary meeting' line with a date "
            "closes the text",
        )
    ]
    assert result.missing[0][1] in result.warnings
    # Everything else is there, for a dry run to show; the data does not satisfy the contract until it is complete.
    assert result.data["symbol"] == "A/RES/64/56" and len(result.data["paragraphs"]) == 10
    assert result.data["adopted_on"] is None and all(claim["as_of"] is None for claim in result.data["claims"])
    with pytest.raises(ValidationError, match="adopted_on"):
        ResolutionAdopted.model_validate(result.data)
    assert pickle.loads(pickle.dumps(result)) == result


@pytest.mark.parametrize(
    ("edits", "reason"),
    [
        (
            [("on 2 December 2009", "on 31 February 2009"), ("2 December 2009*", "*")],
            "no adoption date: the adoption line gives '31 February 2009', which is not a date",
        ),
        (
            [("on 2 December 2009", ""), ("2 December 2009*", "*")],
            "no adoption date: the adoption line has no date, and the plenary meeting line has no date",
        ),
        (
            [("Resolution adopted by the General Assembly on 2 December 2009", ""), ("2 December 2009*", "*")],
            "no adoption date: no line 'Resolution adopted by the General Assembly on <date>' was found, and the "
            "plenary meeting line has no date",
        ),
    ],
)
def test_why_the_adoption_date_is_missing(seed_text: str, edits: list[tuple[str, str]], reason: str) -> None:
    result = parse_resolution(replaced(seed_text, *edits), TREATIES)
    assert result.missing == [("adopted_on", reason)]


def test_a_date_that_is_not_one_falls_back_to_the_plenary_date_with_a_warning(seed_text: str) -> None:
    result = parse_resolution(replaced(seed_text, ("on 2 December 2009", "on 31 February 2009")), TREATIES)
    assert result.complete and result.data["adopted_on"] == "2009-12-02"
    assert "the adoption line gives '31 February 2009', which is not a date; using 2009-12-02" in result.warnings


def test_an_excerpt_without_its_date_is_a_partial_parse() -> None:
    """54/54 B as an annual report reprints it: no "The General Assembly,", no adoption date, no plenary line."""
    lines = fixture("A-RES-54-54B.omnibus-letter").splitlines()
    text = "\n".join(
        "RESOLUTIONS ADOPTED BY THE GENERAL ASSEMBLY" if line.startswith("RESOLUTION ADOPTED") else line
        for line in lines
        if line != "The General Assembly,"
    )
    result = parse_resolution(text, TREATIES)
    assert [name for name, _reason in result.missing] == ["adopted_on"]
    assert result.data["symbol"] == "A/RES/54/54 B" and result.data["title"].startswith("IMPLEMENTATION OF")
    assert result.data["recalls"] == [{"symbol": "A/RES/53/77 N", "date": "1998-12-04"}]
    assert 'no "The General Assembly," line found; reading the text after the title' in result.warnings


# --- not a resolution ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n \f ",
        "hello world",
        "Participant,Signature,Ratification\nFrance,3 Dec 1997,23 Jul 1998\n",
        "¹²³ ⁴⁵\n\n¹\n\n*Ibid.*",
        "\x00\x01\ufffd" * 50,
        "The General Assembly of the United Nations met on a Tuesday.",
        "1. *Urges*\n\n2.\n\n" * 2000,
    ],
)
def test_garbage_is_not_a_resolution(text: str) -> None:
    with pytest.raises(NotAResolution) as raised:
        parse_resolution(text, TREATIES)
    assert raised.value.missing
    assert "The General Assembly," in str(raised.value)
    assert "adoption date" in str(raised.value)


def test_shuffled_fragments_never_crash(seed_text: str) -> None:
    """Shuffled and truncated pieces of the seed either parse or raise NotAResolution, nothing else.

    Whatever parses with the contract's required fields must also satisfy the event contract.
    """
    rng = random.Random(6456)
    lines = seed_text.splitlines()
    words = seed_text.split()
    outcomes = {"parsed": 0, "rejected": 0}
    for _ in range(300):
        if rng.random() < 0.5:
            pieces = rng.sample(lines, rng.randint(1, len(lines)))
            text = "\n".join(pieces)
        else:
            pieces = rng.sample(words, rng.randint(1, 80))
            text = " ".join(pieces)
        cut = rng.randint(0, len(text))
        try:
            result = parse_resolution(text[:cut], TREATIES)
        except NotAResolution:
            outcomes["rejected"] += 1
        else:
            json.dumps(result.data)
            if all(result.data[key] for key in ("symbol", "session", "title", "adopted_on")):
                ResolutionAdopted.model_validate(result.data)
            outcomes["parsed"] += 1
    assert outcomes["parsed"] > 0
    assert outcomes["rejected"] > 0


# --- hostile input: long runs and long lines ----------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("anchor", "run"),
    [
        ("Recalling its resolutions", "Recalling" + " " * 100_000 + "its resolutions"),
        ("The General Assembly,", "The General Assembly" + " " * 100_000 + ","),
        ("Agenda item 96", "Agenda item 96" + " " * 100_000),
        ("Treaty Series*, vol.", "Treaty Series*," + "\t " * 50_000 + "vol."),
        ("55th plenary meeting", "55th plenary meeting" + " " * 100_000),
        ("the States parties to", "the States parties" + "\u00a0" * 100_000 + "to"),
    ],
)
def test_a_long_run_of_spaces_reads_as_one_space_in_linear_time(
    seed_text: str, seed: ParsedResolution, anchor: str, run: str
) -> None:
    # The old patterns searched such a run from each of its spaces: 6 s for 20,000 spaces, minutes for these.
    padded = replaced(seed_text, (anchor, run))
    assert parse_resolution(padded, TREATIES, max_line_chars=10**6) == seed


def test_a_line_over_the_cap_is_refused_naming_it(seed_text: str) -> None:
    long_line = "Noting " + "x" * MAX_LINE_CHARS
    text = replaced(seed_text, ("Agenda item 96", f"Agenda item 96\n{long_line}"))
    with pytest.raises(LineTooLong, match=r"^line 12 holds 50,007 characters, more than the 50,000 ") as refused:
        parse_resolution(text, TREATIES)
    assert refused.value.line == 12
    one_megabyte = ("Recalling its resolutions 54/54 B of 1 December 1999, " * 19_000)[:1_000_000]
    with pytest.raises(LineTooLong, match=r"^line 1 holds 1,000,000 characters"):
        parse_resolution(one_megabyte, TREATIES)


def test_a_line_at_the_cap_is_read(seed_text: str) -> None:
    paragraph = "Noting" + " word" * 9_998 + " ab,"
    assert len(paragraph) == MAX_LINE_CHARS
    text = replaced(seed_text, ("Noting with regret", f"{paragraph}\n\nNoting with regret"))
    assert paragraph in [p["text"] for p in parse_resolution(text, TREATIES).data["preamble"]]


def test_the_parse_and_its_refusals_survive_pickling(seed: ParsedResolution) -> None:
    # Documents are parsed in a worker process: what it returns or raises comes back pickled.
    assert pickle.loads(pickle.dumps(seed)) == seed
    missing = pickle.loads(pickle.dumps(NotAResolution(["a title", "a date"])))
    assert missing.missing == ["a title", "a date"] and str(missing) == str(NotAResolution(["a title", "a date"]))
    too_long = pickle.loads(pickle.dumps(LineTooLong(3, 60_000, 50_000)))
    assert (too_long.line, str(too_long)) == (3, str(LineTooLong(3, 60_000, 50_000)))

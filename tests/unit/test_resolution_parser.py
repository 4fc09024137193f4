"""Unit tests of the General Assembly resolution parser and the resolution symbol helpers."""

from __future__ import annotations

import json
import pickle
import random
import textwrap
from typing import Any

import pytest

from tests.conftest import DATA
from treatywatch.common.events import ResolutionAdopted
from treatywatch.common.symbols import normalize_resolution_symbol, session_of
from treatywatch.ingest.resolution import (
    MAX_LINE_CHARS,
    LineTooLong,
    NotAResolution,
    ParsedResolution,
    parse_resolution,
)

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
    assert "no title found" in result.warnings
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
    for expected in ("no resolution symbol found", "no agenda item found", "no adoption date found"):
        assert expected in result.warnings
    assert any("Treaty Series" in w for w in result.warnings)


def test_gaps_in_operative_numbering_and_missing_footnotes_are_reported(seed_text: str) -> None:
    text = replaced(seed_text, ("\n7. *Urges*", "\n8. *Urges*"), ("Destruction¹ to", "Destruction¹³ to"))
    result = parse_resolution(text, TREATIES)
    assert any("not numbered 1 to 10" in w for w in result.warnings)
    assert "footnote 13 is referenced but its text was not found" in result.warnings


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

"""Unit tests of ingest reading a resolution (the work a worker does): text or PDF, complete or not.

A complete parse becomes the event's data; an incomplete one keeps every field it found, names what is missing
and why, and is refused for publishing with one error per missing field. The PDFs are written by the tests
(tests/pdfs.py) in the layout of the UN's: the symbol atop each page, page numbers, marks in plain digits.
"""

from __future__ import annotations

import pytest

from tests.conftest import DATA
from tests.doubles import Inline, Recorder
from tests.pdfs import image_only_pdf, resolution_pdf, write_pdf
from treatywatch.common.events import ResolutionAdopted
from treatywatch.ingest.pdf import NoText
from treatywatch.ingest.resolution import REQUIRED_FIELDS
from treatywatch.ingest.service import (
    RESOLUTION_MAX_PAGES,
    ContractError,
    IncompleteResolution,
    Limits,
    publish_resolution,
    read_resolution,
)

SEED = DATA.resolution.read_text(encoding="utf-8")
# Resolution 64/56 as its opening and one paragraph: no title line, no adoption line, no plenary line.
HEADLESS = "A/RES/64/56\n\nThe General Assembly,\n\n1. *Urges* all States to act.\n"


def test_a_complete_parse_is_the_events_data_with_every_field() -> None:
    read = read_resolution(SEED)
    assert read.missing == [] and read.data is not None
    assert read.fields == read.data.model_dump(mode="json")
    assert set(read.fields) == set(ResolutionAdopted.model_fields)
    assert (read.fields["symbol"], read.fields["adopted_on"], read.fields["committee"]) == (
        "A/RES/64/56",
        "2009-12-02",
        "First Committee",
    )


def test_an_incomplete_parse_keeps_what_it_found_and_says_why_each_field_is_missing() -> None:
    read = read_resolution(HEADLESS)
    assert read.data is None
    assert [name for name, _ in read.missing] == ["title", "adopted_on"]
    reasons = dict(read.missing)
    assert reasons["adopted_on"].startswith("no adoption date")
    assert reasons["title"].startswith("no title")
    assert set(read.fields) == set(ResolutionAdopted.model_fields)
    assert (read.fields["symbol"], read.fields["session"], read.fields["title"], read.fields["adopted_on"]) == (
        "A/RES/64/56",
        64,
        None,
        None,
    )
    assert [p["verb"] for p in read.fields["paragraphs"]] == ["Urges"]


async def test_an_incomplete_parse_is_answered_on_a_dry_run_and_refused_for_publishing() -> None:
    publisher = Recorder()
    dry = await publish_resolution(publisher, Inline(), HEADLESS, None, Limits(), dry_run=True)
    assert [name for name, _ in dry.missing] == ["title", "adopted_on"] and dry.event_id is None
    with pytest.raises(IncompleteResolution) as refused:
        await publish_resolution(publisher, Inline(), HEADLESS, None, Limits())
    assert isinstance(refused.value, ContractError) and publisher.published == []
    errors = refused.value.errors
    assert [(e["path"], e["message"], e["type"]) for e in errors] == [(f, r, "missing") for f, r in dry.missing]
    assert set(REQUIRED_FIELDS) >= {e["path"] for e in errors}
    assert refused.value.detail.startswith("not found: title, adopted_on, which the contract requires")


async def test_a_pdf_is_published_under_an_id_of_its_own_bytes() -> None:
    publisher = Recorder()
    pdf = resolution_pdf(SEED, "A/RES/64/56")
    read = await publish_resolution(publisher, Inline(), pdf, None, Limits())
    again = await publish_resolution(publisher, Inline(), pdf, None, Limits())
    text = await publish_resolution(publisher, Inline(), SEED, None, Limits())
    assert read.event_id == again.event_id and read.event_id != text.event_id
    assert read.event_id is not None and read.event_id.startswith("resolution:A/RES/64/56:")
    assert [e.id for e in publisher.published] == [read.event_id, read.event_id, text.event_id]


def test_a_complete_parse_that_breaks_another_limit_of_the_contract_is_a_contract_error() -> None:
    # A report symbol longer than the 500 characters a name may have, everything else complete.
    text = SEED.replace("(A/64/391)", f"(A/64/{'3' * 600})")
    with pytest.raises(ContractError, match="does not satisfy the contract") as refused:
        read_resolution(text)
    assert not isinstance(refused.value, IncompleteResolution)
    assert [e["path"] for e in refused.value.errors] == ["report_symbol"]


def test_a_resolutions_pdf_reads_as_its_text() -> None:
    pdf = resolution_pdf(SEED, "A/RES/64/56")
    from_pdf, from_text = read_resolution(pdf), read_resolution(SEED)
    assert from_pdf.missing == [] and from_pdf.fields == from_text.fields
    assert [(c["kind"], c["value"]) for c in from_pdf.fields["claims"]] == [
        ("entry_into_force_year", 1999),
        ("parties_count", 156),
    ]


def test_a_pdf_without_text_or_over_the_page_cap_is_refused_with_the_reason() -> None:
    with pytest.raises(NoText, match="only images"):
        read_resolution(image_only_pdf())
    pages = write_pdf(["x"] * (RESOLUTION_MAX_PAGES + 1), lines_per_page=1)
    with pytest.raises(NoText, match=f"{RESOLUTION_MAX_PAGES + 1} pages, more than the {RESOLUTION_MAX_PAGES}"):
        read_resolution(pages)

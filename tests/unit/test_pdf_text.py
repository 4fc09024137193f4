"""Unit tests of reading a depositary notification's PDF: text extraction with pypdf, refusals with a reason.

The PDFs are written by the tests (tests/pdfs.py) in the layouts the UN publishes: letterhead, page headers,
footers, page numbers, several pages. Each is read back and parsed; the result must equal the plain text's.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfWriter

from tests.pdfs import PAGE_BREAK, encrypted, image_only_pdf, write_pdf
from treatywatch.common.events import ActionRecorded
from treatywatch.ingest.notification import action_data, parse_notification
from treatywatch.ingest.pdf import MAX_PAGES, NoText, pdf_text
from treatywatch.ingest.service import read_notification

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "notifications"
LETTERHEAD = ("UNITED NATIONS\tNATIONS UNIES", "THE SECRETARY-GENERAL OF THE UNITED NATIONS")
FOOTER = "Attention: Treaty Services of Ministries of Foreign Affairs and of international organizations concerned."
# Texts that already are a PDF's extraction or hold the French version: the rest are laid out here.
PLAIN = sorted(path.stem for path in FIXTURES.glob("*.txt") if not path.stem.endswith(("-extracted", "-bilingual")))


def lines_of(name: str) -> list[str]:
    """The fixture's lines without its own letterhead and footer: the PDF draws those itself."""
    text = (FIXTURES / f"{name}.txt").read_text(encoding="utf-8")
    return [
        line
        for line in text.splitlines()
        if line.strip() and not line.startswith(("UNITED NATIONS", "THE SECRETARY-GENERAL", "Attention:"))
    ]


def wrapped(lines: list[str], width: int) -> list[str]:
    """Lines wrapped at `width` characters, long lower-case words hyphenated as justified text does."""
    out: list[str] = []
    for line in lines:
        current = ""
        for word in line.split(" "):
            if len(current) + 1 + len(word) <= width or not current:
                current = f"{current} {word}".strip()
            elif word.isalpha() and word.islower() and len(word) >= 8:
                cut = max(width - len(current) - 2, 3)
                out.append(f"{current} {word[:cut]}-")
                current = word[cut:]
            else:
                out.append(current)
                current = word
        out.append(current)
    return out


def test_every_plain_fixture_is_laid_out() -> None:
    assert len(PLAIN) >= 12


@pytest.mark.parametrize("name", PLAIN)
def test_a_one_page_pdf_reads_as_its_text(name: str) -> None:
    plain = parse_notification((FIXTURES / f"{name}.txt").read_text(encoding="utf-8"))
    pdf = write_pdf(lines_of(name), letterhead=LETTERHEAD, footer=FOOTER)
    assert pdf.startswith(b"%PDF-")
    assert parse_notification(pdf_text(pdf)) == plain


@pytest.mark.parametrize("name", PLAIN)
@pytest.mark.parametrize("page_numbers", ["dash", "of"])
def test_a_wrapped_multi_page_pdf_reads_as_its_text(name: str, page_numbers: str) -> None:
    plain = parse_notification((FIXTURES / f"{name}.txt").read_text(encoding="utf-8"))
    lines = wrapped(lines_of(name), width=58)
    pdf = write_pdf(
        lines,
        letterhead=LETTERHEAD,
        page_header=plain.reference,
        footer=FOOTER,
        page_numbers="dash" if page_numbers == "dash" else "of",
        lines_per_page=5,
    )
    text = pdf_text(pdf)
    assert text.count(FOOTER) >= 2, "the layout has several pages"
    parsed = parse_notification(text)
    assert parsed == plain
    if parsed.action is not None:
        assert ActionRecorded.model_validate(action_data(parsed)).notification == plain.reference


def test_a_page_break_inside_a_hyphenated_word_and_a_sentence() -> None:
    plain = parse_notification((FIXTURES / "POL-2012-ratification-XXVI-5.txt").read_text(encoding="utf-8"))
    lines = [
        "Reference: C.N.1.2013.TREATIES-XXVI.5 (Depositary Notification)",
        "CONVENTION ON THE PROHIBITION OF THE USE, STOCKPILING,",
        "PRODUCTION AND TRANSFER OF ANTI-PERSONNEL MINES AND ON",
        "THEIR DESTRUCTION",
        "OSLO, 18 SEPTEMBER 1997",
        "POLAND: RATIFICATION",
        "The Secretary-General of the United Nations, acting in his capacity as depositary,",
        "communicates the following:",
        "The above action was effected on 27 December 2012.",
        "The Convention will enter into force for Poland on 1 June 2013 in accor-",
        PAGE_BREAK,
        "dance with its article 17 (2) which reads as follows:",
        '"For any State which deposits its instrument of ratification, acceptance, approval or',
        "accession after the date of the deposit of the 40th instrument of ratification, acceptance,",
        "approval or accession, this Convention shall enter into force on the first day of the",
        "sixth month after the date on which that State has deposited its instrument of ratifica-",
        'tion, acceptance, approval or accession."',
        "2 January 2013",
    ]
    pdf = write_pdf(lines, letterhead=LETTERHEAD, page_header=plain.reference, footer=FOOTER, page_numbers="dash")
    text = pdf_text(pdf)
    assert "accor-\n" in text and "- 1 -" in text
    assert parse_notification(text) == plain


def test_pages_are_joined_with_newlines_in_order() -> None:
    pdf = write_pdf(["first page", PAGE_BREAK, "second page", PAGE_BREAK, "third page"])
    text = pdf_text(pdf)
    assert [line.strip() for line in text.splitlines() if line.strip()] == ["first page", "second page", "third page"]


def test_an_encrypted_pdf_is_refused() -> None:
    pdf = encrypted(write_pdf(lines_of("POL-2012-ratification-XXVI-5")))
    with pytest.raises(NoText) as refused:
        pdf_text(pdf)
    assert refused.value.reason == "the PDF is encrypted"
    assert "encrypted" in str(refused.value)


@pytest.mark.parametrize("pdf", [image_only_pdf(), image_only_pdf(pages=3)], ids=["one page", "three pages"])
def test_an_image_only_pdf_is_refused(pdf: bytes) -> None:
    with pytest.raises(NoText) as refused:
        pdf_text(pdf)
    assert refused.value.reason == "the pages hold only images or nothing (a scan needs OCR first)"
    assert str(refused.value).startswith("no extractable text: ")


def test_a_pdf_of_blank_pages_is_refused() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(NoText, match="no extractable text"):
        pdf_text(buffer.getvalue())


def test_a_pdf_without_pages_is_refused() -> None:
    buffer = io.BytesIO()
    PdfWriter().write(buffer)
    with pytest.raises(NoText) as refused:
        pdf_text(buffer.getvalue())
    assert refused.value.reason == "the PDF has no pages"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not a PDF"),
        (b"Reference: C.N.1.2013.TREATIES-XXVI.5", "not a PDF"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "not a PDF"),
        (b"%PDF-1.4\n" + b"\x00\xff" * 500, "corrupt PDF"),
        (
            b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
            "corrupt PDF",
        ),
    ],
    ids=["empty", "text", "png", "garbage after the header", "no page tree"],
)
def test_corrupt_data_is_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(NoText) as refused:
        pdf_text(data)
    assert refused.value.reason.startswith(reason)


def test_a_truncated_pdf_is_refused() -> None:
    pdf = write_pdf(lines_of("POL-2012-ratification-XXVI-5"))
    with pytest.raises(NoText, match="corrupt PDF"):
        pdf_text(pdf[: len(pdf) // 2])


def test_too_many_pages_are_refused_before_reading_them() -> None:
    pdf = write_pdf([f"line {number}" for number in range(12)], lines_per_page=2)
    assert "line 11" in pdf_text(pdf, max_pages=6)
    with pytest.raises(NoText) as refused:
        pdf_text(pdf, max_pages=5)
    assert refused.value.reason == "the PDF has 6 pages, more than the 5 accepted"
    long_pdf = write_pdf(["x"] * (MAX_PAGES + 1), lines_per_page=1)
    with pytest.raises(NoText, match=f"{MAX_PAGES + 1} pages"):
        pdf_text(long_pdf)


@pytest.mark.parametrize("name", PLAIN)
def test_ingest_reads_the_pdf_into_the_events_of_its_text(name: str) -> None:
    text = (FIXTURES / f"{name}.txt").read_text(encoding="utf-8")
    pdf = write_pdf(wrapped(lines_of(name), width=58), letterhead=LETTERHEAD, footer=FOOTER, page_numbers="of")
    from_pdf, from_text = read_notification(pdf), read_notification(text)
    # The same acts under the same ids: a notification sent as text and again as PDF publishes nothing new.
    assert [(e.id, e.data) for e in from_pdf.events] == [(e.id, e.data) for e in from_text.events]
    assert from_pdf.warnings == from_text.warnings


def test_ingest_refuses_a_pdf_without_text_before_parsing() -> None:
    with pytest.raises(NoText, match=r"^no extractable text: the PDF is encrypted$"):
        read_notification(encrypted(write_pdf(lines_of("POL-2012-ratification-XXVI-5"))))
    with pytest.raises(NoText, match="only images"):
        read_notification(image_only_pdf())


def test_no_text_survives_pickling() -> None:
    import pickle

    refused = pickle.loads(pickle.dumps(NoText("the PDF is encrypted")))
    assert isinstance(refused, NoText) and refused.reason == "the PDF is encrypted"

"""PDFs written for the tests with reportlab, so that no binary is committed.

`write_pdf` lays out lines of text as the UN publishes a depositary notification: an optional letterhead on the
first page, a page header repeated from the second page on, a footer and a page number on every page. Lines are
drawn as given (the test composes its own wrapping and hyphenation); a line holding only a form feed starts a
new page. `resolution_pdf` lays out a resolution's text as the UN's documents system publishes it.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from typing import Literal

from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject

# reportlab ships no type information (and the project pins no stubs for a test-only dependency).
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

PAGE_BREAK = "\f"
_WIDTH, _HEIGHT = A4
_MARGIN = 56
_LEADING = 14


def write_pdf(
    lines: Sequence[str],
    *,
    letterhead: Sequence[str] = (),
    page_header: str | None = None,
    footer: str | None = None,
    page_numbers: Literal["dash", "of"] | None = None,
    lines_per_page: int = 45,
    font_size: int = 10,
) -> bytes:
    """A PDF of `lines`; a letterhead line `left\\tright` puts two columns on one line (`UNITED NATIONS`...)."""
    pages = _paginate(lines, lines_per_page)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    for number, page in enumerate(pages, start=1):
        y = _HEIGHT - _MARGIN
        if number == 1:
            y = _letterhead(canvas, letterhead, y)
        elif page_header:
            canvas.setFont("Helvetica", font_size - 1)
            canvas.drawString(_MARGIN, y, page_header)
            y -= 2 * _LEADING
        canvas.setFont("Helvetica", font_size)
        for line in page:
            canvas.drawString(_MARGIN, y, line)
            y -= _LEADING
        _bottom(canvas, footer, _page_number(page_numbers, number, len(pages)))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _paginate(lines: Sequence[str], lines_per_page: int) -> list[list[str]]:
    pages: list[list[str]] = [[]]
    for line in lines:
        if line == PAGE_BREAK or len(pages[-1]) == lines_per_page:
            pages.append([])
        if line != PAGE_BREAK:
            pages[-1].append(line)
    return pages


def _letterhead(canvas: Canvas, letterhead: Sequence[str], y: float) -> float:
    canvas.setFont("Helvetica-Bold", 11)
    for line in letterhead:
        left, _, right = line.partition("\t")
        if right:
            canvas.drawString(_MARGIN, y, left)
            canvas.drawRightString(_WIDTH - _MARGIN, y, right)
        else:
            canvas.drawCentredString(_WIDTH / 2, y, left)
        y -= _LEADING
    return y - _LEADING if letterhead else y


def _page_number(style: Literal["dash", "of"] | None, number: int, total: int) -> str | None:
    if style == "dash":
        return f"- {number} -"
    if style == "of":
        return f"Page {number} of {total}"
    return None


def _bottom(canvas: Canvas, footer: str | None, page_number: str | None) -> None:
    canvas.setFont("Helvetica", 8)
    if footer:
        canvas.drawString(_MARGIN, _MARGIN, footer)
    if page_number:
        canvas.drawCentredString(_WIDTH / 2, _MARGIN - _LEADING, page_number)


def image_only_pdf(pages: int = 1) -> bytes:
    """A PDF whose pages hold only drawn shapes (what a scan looks like to a text extractor)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    for _ in range(pages):
        canvas.setFillGray(0.2)
        canvas.rect(_MARGIN, _MARGIN, _WIDTH - 2 * _MARGIN, _HEIGHT / 3, fill=1)
        canvas.circle(_WIDTH / 2, _HEIGHT * 0.7, 80, fill=1)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def content_bomb(inflated_bytes: int) -> bytes:
    """A one-page PDF of a few kilobytes whose compressed content stream inflates to `inflated_bytes` of text
    operators: small to send, and many seconds of work to extract."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(write_pdf(["27 December 2012 C.N.1.2013.TREATIES-XXVI.5"]))))
    page = writer.pages[0]
    drawn = page.get_contents()
    assert drawn is not None
    operators = drawn.get_data()
    stream = DecodedStreamObject()
    stream.set_data(operators * (inflated_bytes // len(operators) + 1))
    page.replace_contents(stream.flate_encode(level=9))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def encrypted(pdf: bytes, password: str = "secret") -> bytes:
    """The same PDF encrypted with a user password (RC4, which pypdf writes without extra packages)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


def resolution_pdf(text: str, symbol: str, *, width: int = 88, lines_per_page: int = 42) -> bytes:
    """A resolution's text laid out as its official PDF is: lines wrapped at `width` characters, the symbol atop
    every page after the first, `Page n of m` at each foot, footnote marks in plain digits and no italics (the
    standard PDF fonts have neither superscripts past ³ nor the text's asterisks)."""
    plain = text.translate(_SUPERSCRIPT_DIGITS).replace("*", "")
    lines = [wrapped for line in plain.splitlines() for wrapped in (textwrap.wrap(line, width) or [""])]
    return write_pdf(lines, page_header=symbol, page_numbers="of", lines_per_page=lines_per_page)

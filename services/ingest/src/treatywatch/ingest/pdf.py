"""The text of a PDF (a depositary notification as the UN Treaty Collection publishes it, a General Assembly
resolution as the UN's documents system does), read with pypdf.

Pure code, no I/O beyond the bytes given. Work is bounded: the file's size and page count are capped before
any page is read, and extraction stops once the text is longer than a document can be. A PDF that yields
no text is refused with the reason, never answered with an empty string.
"""

from __future__ import annotations

import io

from pypdf import PdfReader

from treatywatch.ingest.notification import MAX_CHARS

__all__ = ["MAX_PAGES", "MAX_PDF_BYTES", "NoText", "pdf_text"]

# A notification is a page or two, a long reservation a few more; a resolution a few pages, an omnibus one a few
# dozen: fifty pages is neither.
MAX_PAGES = 50
MAX_PDF_BYTES = 20_000_000
# The `%PDF-` header may follow some bytes of junk; readers look for it in the first kilobyte.
_HEADER_WINDOW = 1024


class NoText(ValueError):
    """No text can be read from the PDF; `reason` says why (encrypted, image-only, corrupt, too large)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"no extractable text: {reason}")
        self.reason = reason

    def __reduce__(self) -> tuple[type[NoText], tuple[str]]:
        return type(self), (self.reason,)


def pdf_text(data: bytes, *, max_pages: int = MAX_PAGES) -> str:
    """The text of every page, pages joined with newlines. Raises NoText with the reason it cannot be read."""
    if len(data) > MAX_PDF_BYTES:
        raise NoText(f"the file holds {len(data):,} bytes, more than the {MAX_PDF_BYTES:,} accepted")
    if b"%PDF-" not in data[:_HEADER_WINDOW]:
        raise NoText("not a PDF (no %PDF- header)")
    reader = _reader(data)
    if reader.is_encrypted:
        raise NoText("the PDF is encrypted")
    pages = _page_count(reader)
    if pages == 0:
        raise NoText("the PDF has no pages")
    if pages > max_pages:
        raise NoText(f"the PDF has {pages} pages, more than the {max_pages} accepted")
    texts: list[str] = []
    size = 0
    for number in range(pages):
        text = _page_text(reader, number)
        size += len(text) + 1
        if size > MAX_CHARS:
            raise NoText(f"the text runs past {MAX_CHARS:,} characters by page {number + 1}")
        texts.append(text)
    if not any(text.strip() for text in texts):
        raise NoText("the pages hold only images or nothing (a scan needs OCR first)")
    return "\n".join(texts)


# pypdf raises many kinds of exception on damaged input (its own, but also KeyError, TypeError, zlib and
# struct errors...): every one of them means the same to the caller, a PDF that cannot be read.
def _reader(data: bytes) -> PdfReader:
    try:
        return PdfReader(io.BytesIO(data), strict=False)
    except Exception as error:
        raise NoText(f"corrupt PDF ({type(error).__name__}: {error})") from error


def _page_count(reader: PdfReader) -> int:
    try:
        return len(reader.pages)
    except Exception as error:
        raise NoText(f"corrupt PDF: its pages cannot be listed ({type(error).__name__})") from error


def _page_text(reader: PdfReader, number: int) -> str:
    try:
        return reader.pages[number].extract_text()
    except Exception as error:
        raise NoText(f"corrupt PDF: page {number + 1} cannot be read ({type(error).__name__})") from error

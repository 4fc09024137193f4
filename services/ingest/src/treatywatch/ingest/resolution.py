"""Parse the plain text of a General Assembly resolution into `resolution.adopted` event data.

Pure code, no I/O. The layout it expects is described in docs/domain.md ("General Assembly
resolution"); anything it cannot find becomes a warning, never an exception, except for text that is
not a resolution at all or has a line too long for one. Every pattern reads lines whose whitespace is collapsed,
and none can split a run of characters two ways, so the work grows with the text's length, not its square.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from treatywatch.common.symbols import normalize_resolution_symbol

__all__ = ["MAX_LINE_CHARS", "LineTooLong", "NotAResolution", "ParsedResolution", "parse_resolution"]

# A paragraph of a resolution is one line in its text, a few thousand characters at most; one of tens of
# thousands is not a resolution's.
MAX_LINE_CHARS = 50_000


class NotAResolution(Exception):
    """The text has none of the marks of a General Assembly resolution."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = list(missing)
        super().__init__("not a General Assembly resolution: no " + ", no ".join(self.missing) + " found")

    def __reduce__(self) -> tuple[type[NotAResolution], tuple[list[str]]]:
        # Raised in a worker process and pickled back: rebuild it from `missing`, not from the message.
        return type(self), (self.missing,)


class LineTooLong(ValueError):
    """A line of the text is longer than a resolution's line may be; the text is refused, not read."""

    def __init__(self, line: int, length: int, limit: int) -> None:
        super().__init__(
            f"line {line} holds {length:,} characters, more than the {limit:,} a resolution's line may hold"
        )
        self.line, self.length, self.limit = line, length, limit

    def __reduce__(self) -> tuple[type[LineTooLong], tuple[int, int, int]]:
        return type(self), (self.line, self.length, self.limit)


@dataclass(frozen=True)
class ParsedResolution:
    """The `resolution.adopted` event data (JSON-ready) and what the parser could not find."""

    data: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


# --- words and numbers --------------------------------------------------------------------------

_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTHS = {name.lower(): index for index, name in enumerate(_MONTH_NAMES, start=1)}
_MONTH = "(?:" + "|".join(_MONTH_NAMES) + ")"
_DATE = rf"\d{{1,2}}\s+{_MONTH}\s+\d{{4}}"

_UNITS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = {"thousand": 1_000, "million": 1_000_000}
_CARDINALS: dict[str, int] = {word: value for value, word in enumerate(_UNITS)}
_CARDINALS.update({word: 20 + 10 * index for index, word in enumerate(_TENS)})

# Ordinals whose spelling is not simply cardinal + "th".
_IRREGULAR_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fifth": 5,
    "eighth": 8,
    "ninth": 9,
    "twelfth": 12,
}
_ORDINALS: dict[str, int] = {
    word + "th": value for word, value in _CARDINALS.items() if 3 < value < 20 and value not in (5, 8, 9, 12)
}
_ORDINALS.update({word[:-1] + "ieth": _CARDINALS[word] for word in _TENS})
_ORDINALS.update(_IRREGULAR_ORDINALS)

_NUMBER_WORD = "(?:" + "|".join(sorted([*_CARDINALS, "hundred", *_SCALES], key=len, reverse=True)) + ")"
# Bounded so that a long run of number words cannot make the search quadratic.
_NUMBER_WORDS = rf"{_NUMBER_WORD}(?:(?:\s+and\s+|\s+|-){_NUMBER_WORD}){{0,15}}"
_ORDINAL_WORD = "(?:" + "|".join(sorted(_ORDINALS, key=len, reverse=True)) + ")"
_ORDINAL = rf"(?:(?:{'|'.join(_TENS)})-)?{_ORDINAL_WORD}|\d{{1,3}}(?:st|nd|rd|th)"


def _words_to_int(words: str) -> int | None:
    """Read an English cardinal ("one hundred and fifty-six", "forty") or digits ("1,234")."""
    compact = words.replace(",", "").strip()
    if compact.isdecimal():
        return int(compact)
    total = current = 0
    seen = False
    for word in re.split(r"[\s-]+", words.lower().strip()):
        if word == "and" or not word:
            continue
        if word in _CARDINALS:
            current += _CARDINALS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALES:
            total += max(current, 1) * _SCALES[word]
            current = 0
        else:
            return None
        seen = True
    return total + current if seen else None


def _ordinal_to_int(word: str) -> int | None:
    """Read an English ordinal ("ninth", "Sixty-fourth", "10th")."""
    word = word.strip().lower()
    digits = re.fullmatch(r"(\d+)(?:st|nd|rd|th)", word)
    if digits:
        return int(digits[1])
    *tens, last = word.split("-")
    if last not in _ORDINALS or len(tens) > 1:
        return None
    value = _ORDINALS[last]
    if tens:
        if tens[0] not in _TENS or value >= 10:
            return None
        value += _CARDINALS[tens[0]]
    return value


def _parse_date(text: str) -> str | None:
    """Turn "2 December 2009" into "2009-12-02"; None when it is not a real date."""
    match = re.fullmatch(rf"\s*(\d{{1,2}})\s+({_MONTH})\s+(\d{{4}})\s*", text, re.IGNORECASE)
    if match is None:
        return None
    try:
        return date(int(match[3]), _MONTHS[match[2].lower()], int(match[1])).isoformat()
    except ValueError:
        return None


# --- footnote marks and page layout -------------------------------------------------------------

_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUP = f"[{_SUPERSCRIPTS}]"
_SUP_TO_DIGIT = str.maketrans(_SUPERSCRIPTS, "0123456789")
# Resolutions have tens of footnotes, not thousands: a bounded run keeps int() safe on odd input.
_MARK_RUN = f"{_SUP}{{1,3}}"
_MARK = re.compile(_MARK_RUN)
# Matched at a line's start; the footnote's text is the rest of the line.
_FOOTNOTE_LINE = re.compile(rf"\s*({_MARK_RUN})\s*")
_TERMINAL = (",", ";", ".", ":")
_SPACE_BEFORE_PUNCTUATION = re.compile(r" ([,;:.])")

# Page furniture repeated on every page of a UN document: the symbol, a page number, the job number.
_FURNITURE = re.compile(
    r"(?:A\s*/\s*)?RES\s*/\s*\d+\s*/\s*\d+(?:\s*[A-Z])?|\d{1,3}|\d{1,2}/\d{1,2}|\d{2}-\d{5}(?:\s*\(E\))?",
    re.IGNORECASE,
)


def _marks(text: str) -> list[int]:
    """Footnote numbers referenced in `text`, in order, each once."""
    return list(dict.fromkeys(int(match[0].translate(_SUP_TO_DIGIT)) for match in _MARK.finditer(text)))


def _plain(text: str) -> str:
    """Text without footnote marks and italic asterisks, on one line."""
    # Collapsed first: `\s+(?=,)` searched along a long run of spaces would rescan the run from each of them.
    text = " ".join(_MARK.sub("", text).replace("*", "").split())
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)


def _blocks(text: str, max_line_chars: int) -> list[list[str]]:
    """Split the text into blocks of non-empty lines separated by blank lines, each line's whitespace collapsed.

    Raises LineTooLong. Every pattern below reads collapsed lines: a run of spaces is never longer than one.
    """
    blocks: list[list[str]] = []
    current: list[str] = []
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        if len(raw) > max_line_chars:
            raise LineTooLong(number, len(raw), max_line_chars)
        # A form feed (a page break) ends a block as a blank line does.
        for page, piece in enumerate(raw.split("\f")):
            line = " ".join(piece.split())
            if line and not page:
                current.append(line)
                continue
            if current:
                blocks.append(current)
                current = []
            if line:
                current.append(line)
    if current:
        blocks.append(current)
    return blocks


def _join(lines: Iterable[str]) -> str:
    """Join wrapped lines into one, mending words hyphenated at a line end."""
    parts: list[str] = []
    tail = ""  # the last two characters joined so far
    for line in lines:
        mended = tail.endswith("-") and tail != " -"
        piece = line if not parts or mended else " " + line
        parts.append(piece)
        tail = (tail + piece)[-2:]
    return "".join(parts)


# --- the header ---------------------------------------------------------------------------------

_OPENING = re.compile(r"^\*?The General Assembly\*?\s*(?:,\s*)?$", re.IGNORECASE)
_NUMBER_LINE = re.compile(
    r"^(?P<symbol>\d{1,3}\s*/\s*\d{1,4}(?:\s*[A-Z](?![A-Za-z]))?)\s*\.\s*(?P<title>.*)$", re.ASCII
)
_LETTER_LINE = re.compile(r"^(?P<letter>[A-Z])\.?$")
_SYMBOL_LINE = re.compile(r"^(?:A\s*/\s*)?RES\s*/\s*\d{1,3}\s*/\s*\d{1,4}(?:\s*[A-Z])?$", re.IGNORECASE)
_SESSION_LINE = re.compile(rf"^(?P<ordinal>{_ORDINAL})\s+session$", re.IGNORECASE)
# The item is the rest of the line (see _agenda_item), not a lazy `.*?` before `\s*[.;,]?$` tried at every length.
_AGENDA_LINE = re.compile(r"Agenda\s+items?\s+(?=\S)", re.IGNORECASE)
_ADOPTED = re.compile(
    rf"Resolution\s+adopted\s+by\s+the\s+General\s+Assembly(?:\s+on\s+(?P<date>{_DATE}))?",
    re.IGNORECASE,
)
_REPORT = re.compile(
    r"on\s+the\s+report\s+of\s+the\s+(?P<committee>[^()\[\]]{1,80}?Committee(?:\s*\([^()]{1,40}\))?)"
    r"\s*\(\s*(?P<report>A\s*/\s*[^()\s]+)",
    re.IGNORECASE,
)
_NO_COMMITTEE = re.compile(r"without\s+reference\s+to\s+a\s+Main\s+Committee", re.IGNORECASE)
_PLENARY = re.compile(
    rf"^\*?\s*(?P<meeting>\d{{1,4}})\s*(?:st|nd|rd|th)\s+plenary\s+meeting\s*(?:,\s*)?(?P<date>{_DATE})?",
    re.IGNORECASE,
)


@dataclass
class _Header:
    symbol: str | None = None
    heading_symbol: str | None = None
    title: str | None = None
    session: int | None = None
    issued_on: str | None = None
    agenda_item: str | None = None
    adopted_on: str | None = None
    committee: str | None = None
    report_symbol: str | None = None
    opened: bool = False  # whether "The General Assembly," was found
    body_start: int | None = None
    warnings: list[str] = field(default_factory=list)


def _agenda_item(line: str) -> str | None:
    """The item of an `Agenda item 96.` line, without the full stop (or semicolon, or comma) that ends it."""
    match = _AGENDA_LINE.match(line)
    if match is None:
        return None
    item = line[match.end() :]
    return item[:-1].rstrip() if len(item) > 1 and item[-1] in ".;," else item


def _symbol_or_none(text: str) -> str | None:
    try:
        return normalize_resolution_symbol(text)
    except ValueError:
        return None


def _read_header(blocks: list[list[str]]) -> _Header:
    """Read everything above the preamble: dates, session, agenda item, committee, symbol, title."""
    header = _Header()
    opening = next(
        (index for index, block in enumerate(blocks) if _OPENING.match(_join(block))),
        None,
    )
    top = blocks if opening is None else blocks[:opening]
    title_end: int | None = None
    lines = [line for block in top for line in block]
    for index, block in enumerate(top):
        match = _NUMBER_LINE.match(block[0])
        symbol = _symbol_or_none(match["symbol"]) if match else None
        if match is None or symbol is None:
            continue
        title_lines = [match["title"], *block[1:]] if match["title"] else block[1:]
        title_end = index + 1
        if not title_lines and title_end < len(top):
            title_lines, title_end = top[title_end], title_end + 1
        letter = _LETTER_LINE.match(top[title_end][0]) if title_end < len(top) else None
        if letter and not symbol.endswith(f" {letter['letter']}"):
            # An older layout: `54/54. General and complete disarmament`, then `B`, then the title.
            symbol += f" {letter['letter']}"
            title_lines = top[title_end][1:]
            title_end += 1
            if not title_lines and title_end < len(top):
                title_lines, title_end = top[title_end], title_end + 1
        header.symbol = symbol
        header.title = _plain(_join(title_lines)) or None
        break
    for line in lines:
        if _SYMBOL_LINE.match(line):
            header.heading_symbol = _symbol_or_none(line)
            break
    _reconcile_symbols(header)

    adoption_line: int | None = None
    for index, line in enumerate(lines):
        if header.session is None and (session := _SESSION_LINE.match(line)):
            header.session = _ordinal_to_int(session["ordinal"])
        if header.agenda_item is None:
            header.agenda_item = _agenda_item(line)
        if adoption_line is None and _ADOPTED.search(line):
            adoption_line = index
        if header.issued_on is None and adoption_line is None:
            header.issued_on = _parse_date(line.strip("*"))

    flat = " ".join(lines)
    if adopted := _ADOPTED.search(flat):
        header.adopted_on = _parse_date(adopted["date"]) if adopted["date"] else None
    if report := _REPORT.search(flat):
        header.committee = re.sub(r"\s+", " ", report["committee"]).strip()
        header.report_symbol = re.sub(r"\s+", "", report["report"]).rstrip(".,;]")
    elif _NO_COMMITTEE.search(flat):
        header.warnings.append("adopted without reference to a Main Committee: no committee report")

    if opening is not None:
        header.opened = True
        header.body_start = opening + 1
    elif title_end is not None:
        header.warnings.append('no "The General Assembly," line found; reading the text after the title')
        header.body_start = title_end
    return header


def _reconcile_symbols(header: _Header) -> None:
    """Prefer the number line, fall back to the symbol line near the top, and flag a real conflict."""
    number, top = header.symbol, header.heading_symbol
    if number is None or top is None:
        header.symbol = number or top
        return
    if number == top:
        return
    # One may carry the letter and the other not (`A/RES/54/54` above `54/54. ...` + `B`).
    if number.split(" ")[0] == top.split(" ")[0]:
        header.symbol = max(number, top, key=len)
        return
    header.warnings.append(f"the symbol line {top} disagrees with the number line {number}; using {number}")


# --- the body -----------------------------------------------------------------------------------

# Matched at a paragraph's start; the paragraph's text is what follows.
_OPERATIVE = re.compile(r"(?P<number>\d{1,3})\.\s+")
# Preambular paragraphs open with a participle or an adjective, sometimes after an adverb.
_ADVERB = r"(?:Also|Further|Deeply|Gravely|Fully|Seriously|Strongly|Firmly|Particularly|Greatly|Profoundly)"
_OPENER = r"(?:[A-Za-z][a-z]+(?:ing|ed)|[Aa]ware|[Mm]indful|[Cc]onscious|[Cc]ognizant|[Dd]esirous|[Cc]onfident)"
_PREAMBLE_START = re.compile(rf"^\*?(?:{_ADVERB}\s+{_OPENER}|(?!United\b)(?=[A-Z]){_OPENER})\b")
_PREAMBLE_VERB = re.compile(
    rf"^(?:{_ADVERB}\s+[a-z]+|[A-Z][a-z]+)"
    r"(?:\s+(?:also|further|moreover|furthermore|in\s+mind|note|with\s+(?:(?:deep|grave|serious|great|"
    r"particular|profound)\s+)?(?:satisfaction|regret|concern|appreciation|interest|alarm|approval)))*"
)
_OPERATIVE_VERB = re.compile(
    r"^(?:(?:Also|Further|Again|Once\s+again|Strongly|Firmly)\s+[a-z]+|[A-Z][a-z]+)"
    r"(?:\s+(?:also|further|again))*(?:\s+(?:upon|note)|(?<=Calls)\s+on)?"
)


def _tail(parts: list[str], size: int = 100) -> str:
    """The last `size` characters of `" ".join(parts)`, without joining all of them."""
    taken: list[str] = []
    length = 0
    for part in reversed(parts):
        taken.append(part)
        length += len(part) + 1
        if length > size:
            break
    return " ".join(reversed(taken))[-size:]


@dataclass
class _Paragraph:
    number: int | None  # None for a preambular paragraph
    # Its blocks, joined once the body is read: adding to one string per block would copy it every time.
    parts: list[str]

    @property
    def operative(self) -> bool:
        return self.number is not None

    @cached_property
    def raw(self) -> str:
        return " ".join(self.parts)


@dataclass
class _Body:
    paragraphs: list[_Paragraph] = field(default_factory=list)
    footnotes: dict[int, list[str]] = field(default_factory=dict)  # each footnote's lines, as paragraphs' parts
    plenary_meeting: int | None = None
    plenary_date: str | None = None
    warnings: list[str] = field(default_factory=list)


def _footnote_block(block: list[str]) -> list[tuple[int | None, str]]:
    """Split a block of footnote lines into (number, text); None continues the previous footnote."""
    parts: list[tuple[int | None, str]] = []
    for line in block:
        match = _FOOTNOTE_LINE.match(line)
        if match:
            parts.append((int(match[1].translate(_SUP_TO_DIGIT)), line[match.end() :]))
        else:
            parts.append((None, line))
    return parts


def _is_footnote_block(block: list[str]) -> bool:
    match = _FOOTNOTE_LINE.match(block[0])
    return match is not None and match.end() < len(block[0])


def _read_body(blocks: list[list[str]], start: int | None) -> _Body:
    """Collect preambular and operative paragraphs, footnotes and the closing plenary line."""
    body = _Body()
    if start is None:
        return body
    last_footnote: int | None = None
    after_footnote = False
    index = start
    while index < len(blocks):
        block = blocks[index]
        text = _join(block)
        index += 1
        if _FURNITURE.fullmatch(text) or _OPENING.match(text):
            continue
        if _is_footnote_block(block):
            for number, part in _footnote_block(block):
                if number is None and last_footnote is not None:
                    body.footnotes[last_footnote].append(part)
                elif number is not None:
                    if number in body.footnotes:
                        body.warnings.append(f"footnote {number} appears twice; keeping the first")
                        last_footnote = None
                        continue
                    body.footnotes[number] = [part]
                    last_footnote = number
            after_footnote = True
            continue
        if body.plenary_meeting is None and (plenary := _PLENARY.match(text)):
            body.plenary_meeting = int(plenary["meeting"])
            body.plenary_date = _parse_date(plenary["date"]) if plenary["date"] else None
            continue
        if body.plenary_meeting is not None:
            # Only footnotes count after the plenary line: anything else (an annex) is another text.
            continue
        previous = body.paragraphs[-1] if body.paragraphs else None
        if (
            after_footnote
            and last_footnote is not None
            and _continues_footnote(body.footnotes[last_footnote], previous, text)
        ):
            # A footnote that runs over a page break continues, unmarked, under the next page's text.
            body.footnotes[last_footnote].append(text)
            continue
        after_footnote = False
        operative = _OPERATIVE.match(text)
        if operative:
            body.paragraphs.append(_Paragraph(int(operative["number"]), [text[operative.end() :]]))
        elif previous is not None and _continues_paragraph(previous, text):
            previous.parts.append(text)
        else:
            body.paragraphs.append(_Paragraph(None, [text]))
    return body


def _continues_footnote(last: list[str], previous: _Paragraph | None, text: str) -> bool:
    """Whether an unmarked block after a footnote block is the rest of the last footnote."""
    paragraph_done = previous is None or _ends_sentence_part(previous)
    return (
        not _plain(_tail(last)).endswith(".")
        and paragraph_done
        and not _OPERATIVE.match(text)
        and not _PREAMBLE_START.match(text)
    )


def _ends_sentence_part(paragraph: _Paragraph) -> bool:
    """Whether a paragraph so far ends with a comma, semicolon, colon or full stop."""
    # Only the tail matters; looking at all of a growing paragraph would be quadratic.
    return _plain(_tail(paragraph.parts)).endswith(_TERMINAL)


def _continues_paragraph(previous: _Paragraph, text: str) -> bool:
    """Whether a block is the rest of the previous paragraph, split by a page break or footnotes."""
    # Among operative paragraphs only a number starts a new one; (a), (b) ... belong to the last.
    if previous.operative:
        return True
    if not _ends_sentence_part(previous):
        return True
    return not _PREAMBLE_START.match(text)


def _verb_and_text(paragraph: _Paragraph) -> tuple[str, str]:
    """The italic (or, failing that, the leading) verb phrase and the paragraph's plain text."""
    raw = paragraph.raw.strip()
    italic = re.match(r"^\*(?P<verb>[^*]{1,120})\*", raw)
    text = _plain(raw)
    if italic:
        return _plain(italic["verb"]), text
    pattern = _OPERATIVE_VERB if paragraph.operative else _PREAMBLE_VERB
    verb = pattern.match(text)
    # Every paragraph gets a verb, even an odd one: its first word is the best guess left.
    return (re.sub(r"\s+", " ", verb[0]) if verb else text.split(" ", 1)[0]), text


# --- what the paragraphs say --------------------------------------------------------------------

_DOC_SYMBOL = re.compile(r"\b[A-Z][A-Za-z]*(?:\.\d+)?(?:/[A-Za-z0-9.\-]+)+")
_UNTS = re.compile(
    r"Treaty\s+Series\s*(?:,\s*)?vol\.?\s*(?P<volume>\d{1,6})\s*(?:,\s*)?No\.?\s*(?P<number>\d{1,7})\b", re.I
)
_RECALLS_LEAD = re.compile(
    r"^(?:(?:Also|Further)\s+)?Recalling(?:\s+(?:also|further|moreover|in\s+particular))*\s+"
    r"(?:its\s+|General\s+Assembly\s+)?resolutions?\b",
    re.IGNORECASE,
)
_RECALLS_STOP = re.compile(r"\b(?:decisions?|Security\s+Council|report|Economic\s+and\s+Social)\b", re.I)
_RECALLED = re.compile(rf"\b(?P<symbol>\d{{1,3}}/\d{{1,4}}(?:\s?[A-Z](?![A-Za-z]))?)(?:\s+of\s+(?P<date>{_DATE}))?")
_TREATY_WORDS = (
    "Convention",
    "Treaty",
    "Protocol",
    "Agreement",
    "Covenant",
    "Charter",
    "Statute",
    "Amendment",
)
# A treaty's title runs to a few hundred characters: the mark after it is looked for in a paragraph's first
# few marks of that number, and the title within this many characters before the mark.
_TITLE_TRIES = 5
_TITLE_WINDOW = 2_000
_TREATY_WORD = re.compile(rf"\b(?:{'|'.join(_TREATY_WORDS)})\b")
# Lower-case words that occur inside treaty titles ("... of Anti-personnel Mines and on Their Destruction").
_TITLE_CONNECTORS = frozenset(
    {
        "of",
        "the",
        "on",
        "and",
        "to",
        "for",
        "in",
        "against",
        "their",
        "its",
        "at",
        "by",
        "with",
        "from",
        "or",
        "concerning",
        "relating",
        "a",
        "an",
    }
)
_MEETING = re.compile(
    rf"\b(?P<first>{_ORDINAL})(?:\s+to\s+(?P<last>{_ORDINAL}))?\s+"
    r"(?P<kind>meetings?\s+of\s+the\s+States\s+parties|Review\s+Conferences?)\b",
    re.IGNORECASE,
)
_HELD = re.compile(r"\b(?:to\s+be\s+)?held\s+(?:in|at)\s+", re.IGNORECASE)
_PLACE_YEAR = re.compile(
    rf"\s*(?:,\s*)?(?:and\s+)?(?P<place>(?:the\s+)?[A-Z][^,();]{{0,60}}?)\s*\((?P<year>\d{{4}})\)\s*(?:,\s*)?"
    rf"(?P<mark>{_SUP}*)"
)
_PLACE = re.compile(
    rf"(?P<place>(?:the\s+)?[A-Z][^,();{_SUPERSCRIPTS}]{{0,60}}?)(?=\s*(?:,|;|\(|{_SUP}|\bfrom\b|\bon\b|$))"
)
_RANGES = [
    # from 24 to 28 November 2008
    re.compile(rf"\bfrom\s+(?P<d1>\d{{1,2}})\s+to\s+(?P<d2>\d{{1,2}})\s+(?P<m2>{_MONTH})\s+(?P<y2>\d{{4}})"),
    # from 29 November to 4 December 2009
    re.compile(
        rf"\bfrom\s+(?P<d1>\d{{1,2}})\s+(?P<m1>{_MONTH})\s+to\s+(?P<d2>\d{{1,2}})\s+(?P<m2>{_MONTH})"
        rf"\s+(?P<y2>\d{{4}})"
    ),
    # from 30 December 2009 to 2 January 2010
    re.compile(
        rf"\bfrom\s+(?P<d1>\d{{1,2}})\s+(?P<m1>{_MONTH})\s+(?P<y1>\d{{4}})\s+to\s+(?P<d2>\d{{1,2}})\s+"
        rf"(?P<m2>{_MONTH})\s+(?P<y2>\d{{4}})"
    ),
    # on 3 December 2004
    re.compile(rf"\bon\s+(?P<d2>\d{{1,2}})\s+(?P<m2>{_MONTH})\s+(?P<y2>\d{{4}})"),
]
_PARTIES = [
    re.compile(
        rf"\b(?P<n>{_NUMBER_WORDS}|\d{{1,3}}(?:,\d{{3}}){{1,2}}|\d{{1,7}})\s+States\s+(?:have|had)\s+(?:now\s+|already\s+)?"
        r"(?:ratified|acceded|become\s+part|formally\s+accepted)",
        re.IGNORECASE,
    ),
    re.compile(rf"\b(?P<n>{_NUMBER_WORDS}|\d{{1,3}}(?:,\d{{3}}){{1,2}}|\d{{1,7}})\s+States\s+parties\b", re.IGNORECASE),
]
_ANNIVERSARY = re.compile(
    rf"\b(?P<year>\d{{4}})\s+(?:marks|marked|will\s+mark|marking)\s+the\s+(?P<ordinal>{_ORDINAL})\s+"
    r"anniversary\s+of\s+the\s+entry\s+into\s+force",
    re.IGNORECASE,
)
_ENTRY_INTO_FORCE = re.compile(
    rf"\b(?:entry|entered)\s+into\s+force\b[^;]{{0,300}}?"
    rf"\b(?:on\s+(?P<date>{_DATE})|(?<!held\s)in\s+(?P<year>\d{{4}})\b)",
    re.IGNORECASE,
)


@dataclass
class _Meeting:
    kind: str
    ordinal: int
    place: str
    year: int | None = None
    start: str | None = None
    end: str | None = None
    report_symbol: str | None = None

    def as_data(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ordinal": self.ordinal,
            "place": self.place,
            "year": self.year,
            "start": self.start,
            "end": self.end,
            "report_symbol": self.report_symbol,
        }


def _footnote_data(footnotes: Mapping[int, str]) -> list[dict[str, Any]]:
    """Footnotes in number order; an `Ibid.` points at the last earlier footnote with a citation."""
    result: list[dict[str, Any]] = []
    cited: int | None = None
    for number in sorted(footnotes):
        text = _plain(footnotes[number])
        if not text:
            continue
        ibid = re.match(r"ibid\b", text, re.IGNORECASE) is not None
        result.append({"number": number, "text": text, "ibid_of": cited if ibid else None})
        if not ibid:
            cited = number
    return result


def _cited_symbols(footnotes: list[dict[str, Any]]) -> dict[int, str | None]:
    """The document symbol each footnote cites (following `Ibid.` to its source), each footnote read once."""
    own: dict[int, str | None] = {}
    for note in footnotes:
        symbol = _DOC_SYMBOL.search(note["text"])
        own[note["number"]] = symbol[0].rstrip(".,;") if symbol else None
    return {
        note["number"]: own[note["number"]] if note["ibid_of"] is None else own.get(note["ibid_of"])
        for note in footnotes
    }


def _recalls(preamble: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Resolutions recalled in "Recalling its resolutions ..." paragraphs, in text order, each once."""
    recalls: list[dict[str, Any]] = []
    seen: set[str] = set()
    for _verb, text in preamble:
        lead = _RECALLS_LEAD.match(text)
        if lead is None:
            continue
        scope = text[lead.end() :]
        # The list ends where decisions, reports or other organs' resolutions begin.
        if stop := _RECALLS_STOP.search(scope):
            scope = scope[: stop.start()]
        for match in _RECALLED.finditer(scope):
            symbol = _symbol_or_none(match["symbol"])
            if symbol is None or symbol in seen:
                continue
            seen.add(symbol)
            recalls.append({"symbol": symbol, "date": _parse_date(match["date"]) if match["date"] else None})
    return recalls


def _treaty_title(raw: str, mark: int) -> str | None:
    """The treaty title written just before footnote `mark` in a paragraph, if any."""
    marked = (found for found in _MARK.finditer(raw) if int(found[0].translate(_SUP_TO_DIGIT)) == mark)
    # Each try reads a bounded stretch, so a paragraph of thousands of marks costs no more than its length.
    for found in itertools.islice(marked, _TITLE_TRIES):
        start = max(0, found.start() - _TITLE_WINDOW)
        tokens = _plain(raw[start : found.start()]).split()
        if start:
            tokens = tokens[1:]  # the window may have cut its first word
        kept: list[str] = []  # from the mark backwards
        for token in reversed(tokens):
            core = token.strip(",;:.“”\"'()")
            # A comma followed by a lower-case word ends a clause, not a list inside a title.
            if not core or (token.endswith(",") and kept and kept[-1][:1].islower()):
                break
            if not (core[:1].isupper() or core in _TITLE_CONNECTORS):
                break
            kept.append(token)
        kept.reverse()
        starts = [i for i, token in enumerate(kept) if token.strip(",;:.") in _TREATY_WORDS]
        if starts:
            return " ".join(kept[starts[0] :]).rstrip(",;:.")
    return None


def _treaty(
    paragraphs: list[_Paragraph],
    footnotes: list[dict[str, Any]],
    title: str | None,
    treaties_by_unts: Mapping[tuple[int, int], str],
    warnings: list[str],
) -> dict[str, Any] | None:
    """The treaty the resolution concerns, from its United Nations Treaty Series footnote."""
    reference: tuple[int, int] | None = None
    mark: int | None = None
    for note in footnotes:
        if unts := _UNTS.search(note["text"]):
            reference, mark = (int(unts["volume"]), int(unts["number"])), note["number"]
            break
    if reference is None:
        for paragraph in paragraphs:
            if unts := _UNTS.search(_plain(paragraph.raw)):
                reference = (int(unts["volume"]), int(unts["number"]))
                break
    if reference is None:
        warnings.append("no treaty reference (United Nations, Treaty Series, vol., No.) found")
        return None
    treaty_title = None
    if mark is not None:
        treaty_title = next((found for p in paragraphs if (found := _treaty_title(p.raw, mark)) is not None), None)
    if treaty_title is None and title:
        # Resolutions about a treaty usually name it in their title.
        named = _TREATY_WORD.search(title)
        treaty_title = title[named.start() :] if named else None
    if treaty_title is None:
        warnings.append("the treaty's title was not found in the text")
    treaty_id = treaties_by_unts.get(reference)
    if treaty_id is None:
        warnings.append(f"treaty United Nations, Treaty Series, vol. {reference[0]}, No. {reference[1]} is not known")
    return {
        "unts_volume": reference[0],
        "unts_number": reference[1],
        "treaty_id": treaty_id,
        "title": treaty_title,
    }


def _dates(text: str) -> tuple[str | None, str | None, int]:
    """The first date range ("from 24 to 28 November 2008") or date ("on ...") in `text`, and its end."""
    matches = [match for pattern in _RANGES if (match := pattern.search(text))]
    if not matches:
        return None, None, 0
    match = min(matches, key=lambda found: found.start())
    groups = match.groupdict()
    m2, y2 = groups["m2"], groups["y2"]
    end = _parse_date(f"{groups['d2']} {m2} {y2}")
    if "d1" not in groups:
        return end, end, match.end()
    start = _parse_date(f"{groups['d1']} {groups.get('m1') or m2} {groups.get('y1') or y2}")
    return start, end, match.end()


def _meetings(
    paragraphs: list[_Paragraph], footnotes: list[dict[str, Any]], warnings: list[str]
) -> list[dict[str, Any]]:
    """Meetings of the States parties and review conferences with place, year, dates and report."""
    found: dict[tuple[str, int], _Meeting] = {}
    cited = _cited_symbols(footnotes)
    for paragraph in paragraphs:
        raw = paragraph.raw
        mentions = list(_MEETING.finditer(raw))
        for position, mention in enumerate(mentions):
            kind = "msp" if mention["kind"].lower().startswith("meeting") else "review_conference"
            first = _ordinal_to_int(mention["first"])
            last = _ordinal_to_int(mention["last"]) if mention["last"] else first
            if first is None or last is None or last < first or last - first > 100:
                continue
            tail_end = mentions[position + 1].start() if position + 1 < len(mentions) else len(raw)
            tail = raw[mention.end() : tail_end]
            held = _HELD.search(tail)
            if held is None or ";" in tail[: held.start()]:
                continue
            ordinals = list(range(first, last + 1))
            held_meetings = _held_meetings(kind, tail[held.end() :], cited)
            if held_meetings and len(held_meetings) != len(ordinals):
                warnings.append(
                    f"the text lists {len(held_meetings)} places for {len(ordinals)} meetings "
                    f"({mention['first']} to {mention['last'] or mention['first']}); matched in order"
                )
            for ordinal, meeting in zip(ordinals, held_meetings, strict=False):
                meeting.ordinal = ordinal
                _merge(found, meeting, warnings)
    return [found[key].as_data() for key in sorted(found)]


def _held_meetings(kind: str, after: str, cited: Mapping[int, str | None]) -> list[_Meeting]:
    """Read what follows "held in": a list of `Place (year),²` or one `Place ... from D to D Month Y`."""
    meetings: list[_Meeting] = []
    position = 0
    while match := _PLACE_YEAR.match(after, position):
        place = _plain(match["place"])
        if re.search(r"\b(?:Conference|meeting)s?\b", place, re.IGNORECASE) or len(place.split()) > 6:
            break
        marks = _marks(match["mark"])
        report = cited.get(marks[0]) if marks else None
        meetings.append(_Meeting(kind, 0, place, int(match["year"]), report_symbol=report))
        position = match.end()
    if meetings:
        return meetings
    named = _PLACE.match(after)
    if named is None:
        return []
    clause = re.split(r";|\bheld\b", after, maxsplit=1)[0]
    start, end, dates_end = _dates(clause)
    # Only a mark right after the place or the dates cites this meeting's report; later marks in the
    # sentence cite whatever else it goes on to mention.
    mark = re.match(rf"\s*(?:,\s*)?({_MARK_RUN})", clause[max(dates_end, named.end()) :])
    report = cited.get(_marks(mark[1])[0]) if mark else None
    year = int(end[:4]) if end else None
    return [_Meeting(kind, 0, _plain(named["place"]), year, start, end, report)]


def _merge(found: dict[tuple[str, int], _Meeting], meeting: _Meeting, warnings: list[str]) -> None:
    """Add a meeting, or fill in what an earlier mention of the same meeting left out."""
    key = (meeting.kind, meeting.ordinal)
    known = found.get(key)
    if known is None:
        found[key] = meeting
        return
    for name in ("place", "year", "start", "end", "report_symbol"):
        old, new = getattr(known, name), getattr(meeting, name)
        if old is None:
            setattr(known, name, new)
        elif new is not None and new != old:
            warnings.append(
                f"{meeting.kind} {meeting.ordinal}: the text gives both {old!r} and {new!r} as {name}; keeping {old!r}"
            )


def _claims(texts: list[str], treaty_id: str | None, as_of: str | None) -> list[dict[str, Any]]:
    """Factual claims the registry can check: number of parties, year and date of entry into force."""
    claims: list[dict[str, Any]] = []
    seen: set[tuple[str, Any]] = set()

    def add(kind: str, value: Any, text: str) -> None:
        if (kind, value) not in seen:
            seen.add((kind, value))
            claims.append({"kind": kind, "treaty_id": treaty_id, "value": value, "as_of": as_of, "text": text})

    for text in texts:
        for pattern in _PARTIES:
            for match in pattern.finditer(text):
                count = _words_to_int(match["n"])
                if count is not None:
                    add("parties_count", count, text)
        for match in _ANNIVERSARY.finditer(text):
            years = _ordinal_to_int(match["ordinal"])
            if years is not None:
                add("entry_into_force_year", int(match["year"]) - years, text)
        for match in _ENTRY_INTO_FORCE.finditer(text):
            if match["date"] and (when := _parse_date(match["date"])):
                add("entry_into_force_year", int(when[:4]), text)
                add("entry_into_force_date", when, text)
            elif match["year"]:
                add("entry_into_force_year", int(match["year"]), text)
    return claims


# --- putting it together ------------------------------------------------------------------------

_MISSING = {
    "symbol": "no resolution symbol found",
    "session": "no session found",
    "title": "no title found",
    "adopted_on": "no adoption date found",
    "issued_on": "no issue date (below Distr.: General) found",
    "agenda_item": "no agenda item found",
    "committee": "no committee found (no 'on the report of the ... Committee' line)",
    "report_symbol": "no committee report symbol found",
    "plenary_meeting": "no plenary meeting line found",
    "plenary_date": "no plenary meeting date found",
    "recalls": "no recalled resolutions found",
    "meetings": "no meetings of the States parties or review conferences found",
    "preamble": "no preambular paragraphs found",
    "paragraphs": "no operative paragraphs found",
    "footnotes": "no footnotes found",
    "claims": "no checkable claims (number of parties, entry into force) found",
}


def parse_resolution(
    text: str, treaties_by_unts: Mapping[tuple[int, int], str], *, max_line_chars: int = MAX_LINE_CHARS
) -> ParsedResolution:
    """Parse a General Assembly resolution's plain text; `treaties_by_unts` maps (volume, number) to ids.

    Raises NotAResolution when the text has no symbol, no "The General Assembly," and no adoption date, and
    LineTooLong when a line is longer than `max_line_chars`: such a text is refused, not read.
    """
    blocks = _blocks(text, max_line_chars)
    header = _read_header(blocks)
    body = _read_body(blocks, header.body_start)
    adopted_on = header.adopted_on or body.plenary_date
    if header.symbol is None and not header.opened and adopted_on is None:
        raise NotAResolution(["resolution symbol or number line", '"The General Assembly,"', "adoption date"])

    warnings = [*header.warnings, *body.warnings]
    if header.adopted_on and body.plenary_date and header.adopted_on != body.plenary_date:
        warnings.append(
            f"the adoption date {header.adopted_on} differs from the plenary meeting date {body.plenary_date}"
        )
    session = header.session
    if header.symbol is not None:
        symbol_session = int(header.symbol.split("/")[2].split(" ")[0])
        if session is not None and session != symbol_session:
            warnings.append(f"the heading says session {session} but the symbol {header.symbol}; using the symbol")
        session = symbol_session

    preamble = [_verb_and_text(p) for p in body.paragraphs if not p.operative]
    preamble = [(verb, plain) for verb, plain in preamble if plain]
    paragraphs: list[dict[str, Any]] = []
    for paragraph in (p for p in body.paragraphs if p.operative):
        verb, plain = _verb_and_text(paragraph)
        if not plain:
            warnings.append(f"operative paragraph {paragraph.number} is empty and was skipped")
            continue
        paragraphs.append({"number": paragraph.number, "verb": verb, "text": plain, "footnotes": _marks(paragraph.raw)})
    numbers = [p["number"] for p in paragraphs]
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        warnings.append(f"the operative paragraphs are not numbered 1 to {len(numbers)}: {numbers}")

    footnotes = _footnote_data({number: " ".join(lines) for number, lines in body.footnotes.items()})
    known = {note["number"] for note in footnotes}
    for paragraph in body.paragraphs:
        for mark in _marks(paragraph.raw):
            if mark not in known:
                warnings.append(f"footnote {mark} is referenced but its text was not found")
    treaty = _treaty(body.paragraphs, footnotes, header.title, treaties_by_unts, warnings)
    meetings = _meetings(body.paragraphs, footnotes, warnings)
    claims = _claims([_plain(p.raw) for p in body.paragraphs], treaty["treaty_id"] if treaty else None, adopted_on)

    data: dict[str, Any] = {
        "symbol": header.symbol,
        "session": session,
        "title": header.title,
        "adopted_on": adopted_on,
        "issued_on": header.issued_on,
        "agenda_item": header.agenda_item,
        "committee": header.committee,
        "report_symbol": header.report_symbol,
        "plenary_meeting": body.plenary_meeting,
        "plenary_date": body.plenary_date,
        "recalls": _recalls(preamble),
        "treaty": treaty,
        "meetings": meetings,
        "preamble": [{"verb": verb, "text": plain} for verb, plain in preamble],
        "paragraphs": paragraphs,
        "footnotes": footnotes,
        "claims": claims,
    }
    warnings.extend(message for key, message in _MISSING.items() if data[key] in (None, []))
    return ParsedResolution(data=data, warnings=list(dict.fromkeys(warnings)))

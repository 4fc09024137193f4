"""Parse the text of a General Assembly resolution into `resolution.adopted` event data.

Pure code, no I/O. One reader serves every layout a resolution is found in (docs/domain.md, "General Assembly
resolutions"): the plain text of the official document, text extracted from its PDF (page headers and feet,
footnotes at each page's foot, words hyphenated at line ends) and web copies (lines wrapped at a fixed width,
marks in brackets glued to the words around them, navigation around the text). A first pass makes them alike:
whitespace collapsed, every footnote mark a superscript number, navigation and page furniture dropped. The header
is read from the lines above "The General Assembly,"; the body's lines are joined into paragraphs by the way a
paragraph opens (a participle, a number), not by blank lines, and a footnote is known by its shape, "<n> <text>".

What the parser cannot find becomes a warning, and a field the event requires becomes an entry of `missing` that
says why; only text that is not a resolution at all, or has a line too long for one, raises. Every pattern reads
lines whose whitespace is collapsed, and none can split a run of characters two ways, so the work grows with the
text's length, not its square.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from treatywatch.common.events import ResolutionAdopted
from treatywatch.common.months import MONTH_NUMBERS, MONTH_PATTERN
from treatywatch.common.symbols import normalize_resolution_symbol

__all__ = ["MAX_LINE_CHARS", "REQUIRED_FIELDS", "LineTooLong", "NotAResolution", "ParsedResolution", "parse_resolution"]

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


# The fields the `resolution.adopted` contract requires: without any of them a parse cannot be published.
REQUIRED_FIELDS: tuple[str, ...] = tuple(
    name for name, spec in ResolutionAdopted.model_fields.items() if spec.is_required()
)


@dataclass(frozen=True)
class ParsedResolution:
    """What the parser read from a resolution: the event data, what it could not find and why, and warnings.

    `data` holds every field of `resolution.adopted` (JSON-ready), None or [] where nothing was found, so that a
    dry run can show a partial parse. `missing` lists the fields the contract requires that were not found, each
    with the reason in words; only a `complete` parse (nothing missing) can satisfy the contract, which still
    checks the rest (lengths, for one) when the event is built.
    """

    data: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every field the contract requires was found, so that `data` can be published."""
        return not self.missing


# --- words and numbers --------------------------------------------------------------------------

_DATE = rf"\d{{1,2}}\s+{MONTH_PATTERN}\s+\d{{4}}"

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
    match = re.fullmatch(rf"\s*(\d{{1,2}})\s+({MONTH_PATTERN})\s+(\d{{4}})\s*", text, re.IGNORECASE)
    if match is None:
        return None
    try:
        return date(int(match[3]), MONTH_NUMBERS[match[2].lower()], int(match[1])).isoformat()
    except ValueError:
        return None


# --- footnote marks ---------------------------------------------------------------------------------

_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUP = f"[{_SUPERSCRIPTS}]"
_SUP_TO_DIGIT = str.maketrans(_SUPERSCRIPTS, "0123456789")
_DIGIT_TO_SUP = str.maketrans("0123456789", _SUPERSCRIPTS)
# Resolutions have tens of footnotes, not thousands: a bounded run keeps int() safe on odd input.
_MARK_RUN = f"{_SUP}{{1,3}}"
_MARK = re.compile(_MARK_RUN)
# A mark as a web copy writes it, in brackets ("Convention,[1]and"), or a superscript, maybe glued to a word.
_WRITTEN_MARK = re.compile(rf"\[(\d{{1,3}})\]|{_MARK_RUN}")
# A mark as text extracted from a PDF writes it, in plain digits: glued after a word or a closing punctuation
# ("Destruction1 to", "Nairobi (2004),11", "2005–2009;12"), after the comma that follows a year in parentheses
# ("Maputo (1999), 2 Geneva"), and never the digits of a number ("2,000", "Corr.1", "A/64/1", "on 2 December").
_PLAIN_MARK = re.compile(
    r"(?:(?<=[a-z;:)\]”’\"])|(?<=[^\d\s],)|(?<=\d,)(?=\d{1,2}(?!\d))|(?<=\), ))"
    rf"(?P<number>\d{{1,3}})(?=[,;:.)A-Z]|$| (?!{MONTH_PATTERN}\b))"
)
_TERMINAL = (",", ";", ".", ":")
_SPACE_BEFORE_PUNCTUATION = re.compile(r" ([,;:.])")


def _marks(text: str) -> list[int]:
    """Footnote numbers referenced in `text`, in order, each once."""
    return list(dict.fromkeys(int(match[0].translate(_SUP_TO_DIGIT)) for match in _MARK.finditer(text)))


def _plain(text: str) -> str:
    """Text without footnote marks and italic asterisks, on one line."""
    # Collapsed first: `\s+(?=,)` searched along a long run of spaces would rescan the run from each of them.
    text = " ".join(_MARK.sub("", text).replace("*", "").split())
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)


def _superscript(digits: str, line: str, end: int) -> str:
    """`digits` as a superscript mark, parted by a space from the word it was glued to."""
    glued = end < len(line) and line[end].isalnum() and line[end] not in _SUPERSCRIPTS
    return digits.translate(_DIGIT_TO_SUP) + (" " if glued else "")


def _canonical_marks(line: str) -> str:
    """The line with marks in brackets as superscripts, and no mark glued to the word after it."""
    if "[" not in line and _MARK.search(line) is None:
        return line
    return _WRITTEN_MARK.sub(lambda found: _superscript(found[1] or found[0], line, found.end()), line)


def _plain_marks(line: str, footnotes: set[int]) -> str:
    """The line with the plain-digit marks of `footnotes` as superscripts."""

    def mark(found: re.Match[str]) -> str:
        number = found["number"]
        return _superscript(number, line, found.end()) if int(number) in footnotes else number

    return _PLAIN_MARK.sub(mark, line)


# --- lines: what every layout has in common -------------------------------------------------------

# Lines around the text of a web copy: navigation, tools, the site's footer. Matched whole, in lower case.
_NAVIGATION = frozenset(
    [
        "skip to main content",
        "skip to content",
        "skip navigation",
        "toggle navigation",
        "main menu",
        "menu",
        "search",
        "home",
        "print",
        "print this page",
        "share",
        "share this page",
        "email this page",
        "back to top",
        "top of page",
        "table of contents",
        "excerpt from:",
        "download pdf",
        "contact us",
        "site map",
        "sitemap",
        "terms of use",
        "privacy notice",
        "privacy policy",
        "accessibility",
        "english",
        "français",
        "español",
        "русский",
        "中文",
        "العربية",
    ]
)
_FOOTER_OPENERS = ("©", "copyright", "(c) ", "all rights reserved")
_NAVIGATION_MAX = 160


def _is_navigation(line: str) -> bool:
    """Whether a line is a web page's navigation or footer rather than the resolution's text."""
    if not line or len(line) > _NAVIGATION_MAX:
        return False
    lowered = line.lower().strip(" *|·•")
    breadcrumb = " > " in line or " » " in line or " › " in line
    return lowered in _NAVIGATION or lowered.startswith(_FOOTER_OPENERS) or breadcrumb or line.count(" | ") >= 2


def _source_lines(text: str, max_line_chars: int) -> list[str]:
    """The text's lines, whitespace collapsed, marks as superscripts, navigation blanked; a page break is a blank line.

    Raises LineTooLong. Every pattern below reads collapsed lines: a run of spaces is never longer than one.
    """
    lines: list[str] = []
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        if len(raw) > max_line_chars:
            raise LineTooLong(number, len(raw), max_line_chars)
        for page, piece in enumerate(raw.split("\f") if "\f" in raw else (raw,)):
            if page:
                lines.append("")
            line = " ".join(piece.split())
            lines.append(line and ("" if _is_navigation(line) else _canonical_marks(line)))
    return lines


# Page furniture repeated on every page of a UN document: the symbol, a page number ("2", "2/5", "- 2 -",
# "Page 2 of 5"), the job number and its bar code, several of them on a line; and the rule above the footnotes.
_FURNITURE_PIECE = (
    r"(?:(?:A ?/ ?)?RES ?/ ?\d{1,3} ?/ ?\d{1,4}(?: ?[A-Z])?|- ?\d{1,3} ?-|\d{1,3}(?: ?/ ?\d{1,3})?"
    r"|Page \d{1,3}(?: of \d{1,3})?|\d{2}-\d{5}(?: ?\([A-Z]\))?|\*\d{7}\*|Please recycle)"
)
_FURNITURE = re.compile(rf"{_FURNITURE_PIECE}(?: {_FURNITURE_PIECE}){{0,3}}|_{{3,}}", re.IGNORECASE)

# Words whose hyphen stays when a line breaks after it, unless the text itself writes the word without one.
_HYPHEN_PREFIXES = (
    frozenset(
        [
            "anti",
            "non",
            "post",
            "pre",
            "co",
            "self",
            "multi",
            "inter",
            "intra",
            "sub",
            "semi",
            "ex",
            "extra",
            "well",
            "long",
            "short",
            "high",
            "low",
            "follow",
            "mine",
            "land",
            "small",
            "large",
            "full",
            "half",
            "cross",
            "counter",
            "mid",
            "vice",
            "quasi",
            "socio",
            "all",
        ]
    )
    | frozenset(_UNITS)
    | frozenset(_TENS)
)
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_WORD_EDGES = "([“\"'‘*)]”’.,;:" + _SUPERSCRIPTS


class _Words:
    """The words of the text: they tell a hyphen that belongs to a word from one that breaks it at a line end."""

    def __init__(self, lines: Sequence[str]) -> None:
        self._lines = lines

    @cached_property
    def _known(self) -> frozenset[str]:
        # Only a text with a line ending in a hyphen needs them.
        return frozenset(word.lower() for line in self._lines for word in _WORD.findall(line))

    def keeps_hyphen(self, before: str, after: str) -> bool:
        """Whether the hyphen ending `before` stays when the line `after` is joined to it."""
        left = before[:-1].rsplit(" ", 1)[-1].strip(_WORD_EDGES)
        right = after.split(" ", 1)[0].strip(_WORD_EDGES)
        if not left.replace("-", "").isalpha() or not right.isalpha() or right[0].isupper():
            return True
        left, right = left.lower(), right.lower()
        if f"{left}-{right}" in self._known:
            return True
        if left + right in self._known:
            return False
        return left.rsplit("-", 1)[-1] in _HYPHEN_PREFIXES


def _join(lines: Iterable[str], words: _Words) -> str:
    """Join wrapped lines into one, mending words broken at a line end (keeping the hyphen of "anti-personnel")."""
    pieces: list[str] = []
    for line in lines:
        if not pieces:
            pieces.append(line)
            continue
        last = pieces[-1]
        if len(last) > 1 and last[-1] == "-" and last[-2].isalnum():
            if not words.keeps_hyphen(last, line):
                pieces[-1] = last[:-1]
            pieces.append(line)
        else:
            pieces.append(" " + line)
    return "".join(pieces)


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


# --- the header ---------------------------------------------------------------------------------

_OPENING = re.compile(r"^\*?The General Assembly\*? ?(?:, ?\*?)?$", re.IGNORECASE)
# Where the document begins after a web copy's preface: the masthead, the symbol, the adoption or number line.
_DOCUMENT_START = re.compile(
    r"^(?:United Nations\b|General Assembly\b|Distr\b|(?:A ?/ ?)?RES ?/ ?\d|Resolutions? adopted by the General"
    r"|\d{1,3} ?/ ?\d{1,4}(?![/\d])|\[on the report\b)",
    re.IGNORECASE,
)
_NUMBER_LINE = re.compile(r"^(?P<symbol>\d{1,3} ?/ ?\d{1,4}(?: ?[A-Z](?![A-Za-z]))?) ?\. ?(?P<title>.*)$", re.ASCII)
_LETTER_LINE = re.compile(r"^(?P<letter>[A-Z])\.?$")
# An older omnibus layout's section heading: "B. Implementation of the Convention ...", "S. An international ...".
_SECTION_LINE = re.compile(r"^(?P<letter>[A-Z])\. (?P<title>[A-Z].*)$")
# Headings under which the General Assembly adopts several resolutions, each with a letter or a title of its own.
_OMNIBUS_HEADINGS = frozenset(
    {
        "general and complete disarmament",
        "reduction of military budgets",
        "maintenance of international security",
        "review and implementation of the concluding document of the twelfth special session of the general assembly",
        "review of the implementation of the recommendations and decisions adopted by the general assembly at its "
        "tenth special session",
    }
)
_HEADING_SYMBOL = re.compile(
    r"(?<![A-Za-z0-9/])(?:A ?/ ?)?RES ?/ ?\d{1,3} ?/ ?\d{1,4}(?: ?[A-Z](?![A-Za-z]))?", re.IGNORECASE
)
_SESSION = re.compile(rf"\b(?P<ordinal>{_ORDINAL}) session\b", re.IGNORECASE)
# The item is the rest of the line (see _agenda_item), not a lazy `.*?` before `\s*[.;,]?$` tried at every length.
_AGENDA = re.compile(r"\bAgenda items? ?", re.IGNORECASE)
_ADOPTED = re.compile(rf"Resolutions? adopted by the General Assembly(?: on (?P<date>{_DATE}))?", re.IGNORECASE)
_REPORT = re.compile(
    r"on\s+the\s+report\s+of\s+the\s+(?P<committee>[^()\[\]]{1,80}?Committee(?:\s*\([^()]{1,40}\))?)"
    r"\s*\(\s*(?P<report>A\s*/\s*[^()\s]+)",
    re.IGNORECASE,
)
_NO_COMMITTEE = re.compile(r"without\s+reference\s+to\s+a\s+Main\s+Committee", re.IGNORECASE)
_PLENARY = re.compile(
    rf"^\*?(?P<meeting>\d{{1,4}})(?:st|nd|rd|th) plenary meeting\b\*?(?:, ?| )?(?P<date>{_DATE})?", re.IGNORECASE
)
_DATE_LINE = re.compile(rf"\*?(?P<date>{_DATE})\*?\.?")
_ISSUE_LINE = re.compile(rf"\*?(?:Distr[.:]* ?General ?)?(?P<date>{_DATE})\*?", re.IGNORECASE)
# The issue date sits under "Distr.: General", above the adoption line, the committee line and the number line.
_ISSUE_AREA_END = re.compile(r"\badopted\b|\breport\b|\bplenary\b|^\d{1,3} ?/ ?\d{1,4}(?![/\d])", re.IGNORECASE)
# Lines of the header are short: a longer one is a paragraph, and is not searched for header fields.
_HEADER_LINE_MAX = 300


@dataclass
class _Header:
    symbol: str | None = None  # from the number line, then the one the text gives (see _reconcile_symbols)
    heading_symbol: str | None = None  # from the symbol at the top of the text
    letter: str | None = None  # of an older omnibus layout: on a line of its own, or opening a section heading
    numbered: bool = False  # whether a number line was found
    title: str | None = None
    session: int | None = None
    issued_on: str | None = None
    agenda_item: str | None = None
    adoption_line: bool = False  # whether "Resolution adopted by the General Assembly" was found
    adoption_date: str | None = None  # as written
    committee: str | None = None
    report_symbol: str | None = None
    plenary_meeting: int | None = None  # a plenary line above the text, where some excerpts put it
    plenary_date: str | None = None  # as written
    opened: bool = False  # whether "The General Assembly," was found
    body_start: int | None = None
    warnings: list[str] = field(default_factory=list)


def _symbol_or_none(text: str) -> str | None:
    try:
        return normalize_resolution_symbol(text)
    except ValueError:
        return None


def _in_capitals(text: str) -> bool:
    return text.upper() == text and any(character.isalpha() for character in text)


def _read_header(lines: list[str], words: _Words) -> _Header:
    """Read everything above the preamble: dates, session, agenda item, committee, symbol, title."""
    header = _Header()
    opening = next((index for index, line in enumerate(lines) if _OPENING.match(line)), None)
    end = len(lines) if opening is None else opening
    start = next((index for index in range(end) if _DOCUMENT_START.match(lines[index])), 0)
    title_end = _read_title(header, lines, range(start, end), words)
    if opening is not None:
        header.opened, header.body_start = True, opening + 1
    else:
        header.body_start = _body_start(header, lines, start, title_end)
        end = end if header.body_start is None else header.body_start
    top = lines[start:end]
    _read_issue_date(header, top)
    _read_header_fields(header, top)
    _read_adoption(header, top)
    _reconcile_symbols(header)
    return header


def _read_title(header: _Header, lines: list[str], span: range, words: _Words) -> int | None:
    """Read the number line and the title under it, or an older section heading; the index after the title."""
    for index in span:
        match = _NUMBER_LINE.match(lines[index])
        if match and (symbol := _symbol_or_none(match["symbol"])):
            header.symbol, header.numbered = symbol, True
            return _read_title_lines(header, lines, range(index + 1, span.stop), match["title"], words)
    # An excerpt of an older omnibus resolution may have no number line, only its section heading.
    for index in span:
        if section := _SECTION_LINE.match(lines[index]):
            header.letter = section["letter"]
            rest = range(index + 1, span.stop)
            return _read_title_lines(header, lines, rest, section["title"], words, subtitled=False)
    return None


def _read_title_lines(
    header: _Header, lines: list[str], span: range, heading: str, words: _Words, *, subtitled: bool = True
) -> int:
    """Read the title from the heading and the lines under it, down to the body; the index after them.

    Under an omnibus heading (`54/54. General and complete disarmament`) the title is the one under it, after a
    letter (`B`) or in a section heading (`B. Implementation ...`); otherwise the heading is the title's start.
    """
    area, breaks, after = _title_area(lines, span)
    split = _subtitle_at(heading, area, breaks) if subtitled else None
    if split is None:
        title_lines = [heading, *area] if heading else area
    else:
        title_lines = _subtitle(header, area, split) or [heading]
    header.title = _plain(_join(title_lines, words)) or None
    return after


def _title_area(lines: list[str], span: range) -> tuple[list[str], list[bool], int]:
    """The title's lines in `span`, up to a paragraph's first line; whether a blank line precedes each; the end."""
    area: list[str] = []
    breaks: list[bool] = []
    gap = False
    for index in span:
        line = lines[index]
        if not line:
            gap = True
        elif _OPERATIVE.match(line) or _opens_preamble(line):
            return area, breaks, index
        elif not _FURNITURE.fullmatch(line):
            area.append(line)
            breaks.append(gap)
            gap = False
    return area, breaks, span.stop


def _subtitle_at(heading: str, area: list[str], breaks: list[bool]) -> int | None:
    """Where the title under an omnibus heading starts in `area`, or None when the heading is the title."""
    if not heading:
        return None
    omnibus = heading.rstrip(" .").lower() in _OMNIBUS_HEADINGS
    capitals = _in_capitals(heading)
    for index, line in enumerate(area):
        marked = _LETTER_LINE.match(line) or _SECTION_LINE.match(line)
        if omnibus or breaks[index] or marked or (not capitals and _in_capitals(line)):
            return index
    return None


def _subtitle(header: _Header, area: list[str], split: int) -> list[str]:
    """The lines of the title under an omnibus heading, taking the letter that opens them."""
    if letter := _LETTER_LINE.match(area[split]):
        header.letter = letter["letter"]
        return area[split + 1 :]
    if section := _SECTION_LINE.match(area[split]):
        header.letter = section["letter"]
        return [section["title"], *area[split + 1 :]]
    return area[split:]


def _body_start(header: _Header, lines: list[str], start: int, title_end: int | None) -> int | None:
    """Where the body starts when no "The General Assembly," opens it: after the title, or at a first paragraph."""
    if title_end is not None:
        header.warnings.append('no "The General Assembly," line found; reading the text after the title')
        return title_end
    first = next((index for index in range(start, len(lines)) if _opens_preamble(lines[index])), None)
    if first is not None:
        header.warnings.append(
            'no "The General Assembly," line and no title found; reading from the first preambular paragraph'
        )
    return first


def _read_issue_date(header: _Header, top: list[str]) -> None:
    """The issue date: a date on its own line (or after "Distr.: General") above the adoption line."""
    for line in top:
        if len(line) > _HEADER_LINE_MAX or _ISSUE_AREA_END.search(line):
            return
        if issued := _ISSUE_LINE.fullmatch(line):
            header.issued_on = _parse_date(issued["date"])
            return


def _read_header_fields(header: _Header, top: list[str]) -> None:
    """The symbol at the top, the session, the agenda item, and a plenary line where an excerpt put it."""
    for index, line in enumerate(top):
        if not line or len(line) > _HEADER_LINE_MAX:
            continue
        if header.heading_symbol is None and (found := _HEADING_SYMBOL.search(line)):
            header.heading_symbol = _symbol_or_none(found[0])
        if header.session is None and (session := _SESSION.search(line)):
            header.session = _ordinal_to_int(session["ordinal"])
        if header.agenda_item is None:
            header.agenda_item = _agenda_item(top, index)
        if header.plenary_meeting is None and (plenary := _PLENARY.match(line)):
            header.plenary_meeting = int(plenary["meeting"])
            header.plenary_date = plenary["date"] or _date_after(top, index + 1)[0]


def _agenda_item(top: list[str], index: int) -> str | None:
    """The item of an `Agenda item 96.` line (or of the line after `Agenda item`), without its full stop."""
    match = _AGENDA.search(top[index])
    if match is None:
        return None
    item = top[index][match.end() :]
    if not item:
        item = next((line for line in top[index + 1 : index + 3] if line), "")
        item = item if len(item) <= 30 else ""
    return (item[:-1].rstrip() if len(item) > 1 and item[-1] in ".;," else item) or None


def _date_after(lines: list[str], index: int) -> tuple[str | None, int]:
    """The date of the first non-blank line from `index` if that line is a date alone, and the index after it."""
    position = index
    while position < len(lines) and not lines[position]:
        position += 1
    if position < len(lines) and (found := _DATE_LINE.fullmatch(lines[position])):
        return found["date"], position + 1
    return None, index


def _read_adoption(header: _Header, top: list[str]) -> None:
    """The adoption line's date and the committee line, read across line breaks."""
    flat = " ".join(line for line in top if line)
    for adopted in _ADOPTED.finditer(flat):
        header.adoption_line = True
        if adopted["date"]:
            header.adoption_date = adopted["date"]
            break
    if report := _REPORT.search(flat):
        header.committee = re.sub(r"\s+", " ", report["committee"]).strip()
        header.report_symbol = re.sub(r"\s+", "", report["report"]).rstrip(".,;]")
    elif _NO_COMMITTEE.search(flat):
        header.warnings.append("adopted without reference to a Main Committee: no committee report")


def _reconcile_symbols(header: _Header) -> None:
    """Prefer the number line, fall back to the symbol at the top, flag a real conflict, and add the letter."""
    number, top = header.symbol, header.heading_symbol
    if number is None or top is None:
        header.symbol = number or top
    elif number != top and number.split(" ")[0] == top.split(" ")[0]:
        # One may carry the letter and the other not (`A/RES/54/54` above `54/54. ...` + `B`).
        header.symbol = max(number, top, key=len)
    elif number != top:
        header.warnings.append(f"the symbol line {top} disagrees with the number line {number}; using {number}")
    if header.letter and header.symbol and " " not in header.symbol:
        header.symbol += f" {header.letter}"


# --- the body -----------------------------------------------------------------------------------

# Matched at a paragraph's start; the paragraph's text is what follows.
_OPERATIVE = re.compile(r"(?P<number>\d{1,3})\.\s+")
# Preambular paragraphs open with a participle or an adjective, sometimes after an adverb; not a word of a title
# that a line break puts first ("Use,\nStockpiling, Production", "Production,\nStockpiling and Use").
_ADVERB = r"(?:Also|Further|Deeply|Gravely|Fully|Seriously|Strongly|Firmly|Particularly|Greatly|Profoundly)"
_OPENER = r"(?:[A-Za-z][a-z]+(?:ing|ed)|[Aa]ware|[Mm]indful|[Cc]onscious|[Cc]ognizant|[Dd]esirous|[Cc]onfident)"
_PREAMBLE_START = re.compile(rf"^\*?(?:{_ADVERB}\s+{_OPENER}|(?!United\b)(?=[A-Z]){_OPENER})\b(?!,| and\b| or\b)")
_PREAMBLE_VERB = re.compile(
    rf"^(?:{_ADVERB}\s+[a-z]+|[A-Z][a-z]+)"
    r"(?:\s+(?:also|further|moreover|furthermore|in\s+mind|note|with\s+(?:(?:deep|grave|serious|great|"
    r"particular|profound)\s+)?(?:satisfaction|regret|concern|appreciation|interest|alarm|approval)))*"
)
# Without italics, "Renews its call upon" and "Reiterates its invitation and encouragement to" keep their phrase.
_OPERATIVE_VERB = re.compile(
    r"^(?:(?:Also|Further|Again|Once\s+again|Strongly|Firmly)\s+[a-z]+|[A-Z][a-z]+)"
    r"(?:\s+(?:also|further|again))*(?:\s+(?:upon|note)|(?<=Calls)\s+on)?"
    r"(?:\s+its\s+[a-z]+(?:\s+and\s+[a-z]+)?(?=\s+(?:to|upon|on|for|that|of|with|in)\b))?"
)
# Footnotes open with their mark, then a capital, an asterisk (italics) or a quotation mark: "¹ United Nations,
# *Treaty Series*", "² See APLC/MSP.1/1999/1.", "¹² *Ibid.*". In plain digits ("1 United Nations"), only where a
# footnote is expected (see _footnote_start); never a date ("2 December 2009").
_FOOTNOTE_START = re.compile(rf"({_MARK_RUN}) ?(?=[A-Z*“\"‘'(])")
_PLAIN_FOOTNOTE_START = re.compile(rf"(\d{{1,3}}) (?=[A-Z*“\"‘'(])(?!{MONTH_PATTERN}\b)")
# Abbreviations that end with a full stop without ending a footnote ("United Nations, Treaty Series, vol.").
_ABBREVIATIONS = frozenset(
    ["vol.", "no.", "nos.", "para.", "paras.", "p.", "pp.", "art.", "arts.", "corr.", "add.", "rev.", "suppl.", "chap."]
)


def _opens_preamble(text: str) -> bool:
    return _PREAMBLE_START.match(text) is not None


@dataclass
class _Item:
    """A line of the body, of one kind: text, footnote, plenary line, blank (or page furniture)."""

    kind: str
    text: str = ""
    number: int | None = None  # a footnote's number, a plenary meeting's
    date: str | None = None  # a plenary meeting's date, as written


# Blank lines and page furniture: one item serves them all, since nothing changes it.
_BLANK = _Item("blank")


@dataclass
class _Cues:
    """What the lines read so far say about the next: where a footnote in plain digits is expected."""

    marks: set[int] = field(default_factory=set)  # the marks the text has referenced
    last_footnote: int = 0
    plenary: bool = False
    gap: bool = True  # whether the line before was blank or page furniture


def _classify(lines: list[str]) -> list[_Item]:
    """Tell the kind of every line of the body."""
    items: list[_Item] = []
    cues = _Cues()
    index = 0
    while index < len(lines):
        item = _classify_line(lines[index], cues)
        index += 1
        if item.kind == "plenary" and item.date is None:
            # Its date is on the next line, maybe after a blank one.
            item.date, index = _date_after(lines, index)
        items.append(item)
    return items


def _classify_line(line: str, cues: _Cues) -> _Item:
    gap, cues.gap = cues.gap, False
    if not line or _FURNITURE.fullmatch(line) or _OPENING.match(line):
        cues.gap = True
        return _BLANK
    if not cues.plenary and (plenary := _PLENARY.match(line)):
        cues.plenary = True
        return _Item("plenary", number=int(plenary["meeting"]), date=plenary["date"])
    footnote = _footnote_start(line, cues, gap)
    if footnote is not None:
        number, end = footnote
        cues.last_footnote = number
        return _Item("footnote", line[end:], number)
    cues.marks.update(int(found[0].translate(_SUP_TO_DIGIT)) for found in _MARK.finditer(line))
    cues.marks.update(int(found["number"]) for found in _PLAIN_MARK.finditer(line))
    return _Item("text", line)


def _footnote_start(line: str, cues: _Cues, gap: bool) -> tuple[int, int] | None:
    """The number of the footnote a line opens and where its text starts, or None.

    A mark that a line break puts first ("Managua (2001),\n³ Geneva (2000),") is not a footnote: a footnote's
    number has been referenced above it, or it follows a blank line or the plenary line. In plain digits it must
    also be the next footnote in order.
    """
    if marked := _FOOTNOTE_START.match(line):
        number, end = int(marked[1].translate(_SUP_TO_DIGIT)), marked.end()
        return (number, end) if gap or cues.plenary or number in cues.marks else None
    plain = _PLAIN_FOOTNOTE_START.match(line)
    if plain is None:
        return None
    number = int(plain[1])
    expected = number == cues.last_footnote + 1 and (cues.plenary or number in cues.marks)
    return (number, plain.end()) if expected else None


def _mark_plain_digits(items: list[_Item]) -> None:
    """Make plain-digit marks superscripts, where the text has no other marks and the footnote exists."""
    texts = [item for item in items if item.kind == "text"]
    footnotes = {item.number for item in items if item.kind == "footnote" and item.number is not None}
    if not footnotes or any(_MARK.search(item.text) for item in texts):
        return
    for item in texts:
        item.text = _plain_marks(item.text, footnotes)


@dataclass
class _Paragraph:
    number: int | None  # None for a preambular paragraph
    # Its lines, joined once the body is read: adding to one string per line would copy it every time.
    parts: list[str]
    raw: str = ""

    @property
    def operative(self) -> bool:
        return self.number is not None


@dataclass
class _Body:
    paragraphs: list[_Paragraph] = field(default_factory=list)
    footnotes: dict[int, list[str]] = field(default_factory=dict)  # each footnote's lines
    plenary_meeting: int | None = None
    plenary_date: str | None = None  # as written
    warnings: list[str] = field(default_factory=list)


def _ends_sentence_part(paragraph: _Paragraph) -> bool:
    """Whether a paragraph so far ends with a comma, semicolon, colon or full stop."""
    # Only the tail matters; looking at all of a growing paragraph would be quadratic.
    return _plain(_tail(paragraph.parts)).endswith(_TERMINAL)


def _footnote_ended(parts: list[str]) -> bool:
    """Whether a footnote so far ends with a full stop that is not an abbreviation's ("vol.", "No.")."""
    tail = _plain(_tail(parts))
    return tail.endswith(".") and tail.rsplit(" ", 1)[-1].lower() not in _ABBREVIATIONS


def _continues_paragraph(previous: _Paragraph, text: str) -> bool:
    """Whether a line is the rest of the previous paragraph (wrapped, or split by a page break or footnotes)."""
    # Among operative paragraphs only a number starts a new one; (a), (b) ... belong to the last.
    return previous.operative or not _ends_sentence_part(previous) or not _opens_preamble(text)


class _Assembly:
    """Joins the body's lines into paragraphs and footnotes, by how a paragraph opens rather than by blank lines."""

    def __init__(self) -> None:
        self.body = _Body()
        self.footnote: int | None = None  # the footnote the last line went to, which the next may continue
        self.gap = True  # whether a blank line or page furniture came since the last line
        self.last_number = 0  # of the last operative paragraph

    def add(self, item: _Item) -> None:
        if item.kind == "blank":
            self.gap = True
            return
        if item.kind == "footnote":
            self._add_footnote(item)
        elif item.kind == "plenary":
            self._add_plenary(item)
        else:
            self._add_text(item.text)
        self.gap = False

    def _add_footnote(self, item: _Item) -> None:
        number = item.number or 0
        if number in self.body.footnotes:
            self.body.warnings.append(f"footnote {number} appears twice; keeping the first")
            self.footnote = None
            return
        self.body.footnotes[number] = [item.text]
        self.footnote = number

    def _add_plenary(self, item: _Item) -> None:
        if self.body.plenary_meeting is None:
            self.body.plenary_meeting, self.body.plenary_date = item.number, item.date
        self.footnote = None

    def _add_text(self, text: str) -> None:
        if self.footnote is not None and self._continues_footnote(text):
            self.body.footnotes[self.footnote].append(text)
            return
        self.footnote = None
        # Only footnotes count after the plenary line: anything else (an annex) is another text.
        if self.body.plenary_meeting is None:
            self._add_paragraph_line(text)

    def _continues_footnote(self, text: str) -> bool:
        """Whether a line is the rest of the last footnote: at once, or over a page break when no paragraph waits."""
        parts = self.body.footnotes[self.footnote or 0]
        if _footnote_ended(parts) or _OPERATIVE.match(text) or _opens_preamble(text):
            return False
        previous = self.body.paragraphs[-1] if self.body.paragraphs else None
        return not self.gap or previous is None or _ends_sentence_part(previous)

    def _add_paragraph_line(self, text: str) -> None:
        paragraphs = self.body.paragraphs
        previous = paragraphs[-1] if paragraphs else None
        operative = _OPERATIVE.match(text)
        if operative and self._opens_operative(int(operative["number"]), previous):
            self.last_number = int(operative["number"])
            paragraphs.append(_Paragraph(self.last_number, [text[operative.end() :]]))
        elif previous is not None and _continues_paragraph(previous, text):
            previous.parts.append(text)
        else:
            paragraphs.append(_Paragraph(None, [text]))

    def _opens_operative(self, number: int, previous: _Paragraph | None) -> bool:
        """A number opens an operative paragraph after a blank line, or when it is the next one after a clause."""
        if previous is None or self.gap:
            return True
        return number == self.last_number + 1 and _ends_sentence_part(previous)


def _read_body(lines: list[str], words: _Words) -> _Body:
    """Collect preambular and operative paragraphs, footnotes and the closing plenary line."""
    items = _classify(lines)
    _mark_plain_digits(items)
    assembly = _Assembly()
    for item in items:
        assembly.add(item)
    body = assembly.body
    for paragraph in body.paragraphs:
        paragraph.raw = _join(paragraph.parts, words)
    return body


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
    r"^(?:(?:Also|Further)\s+)?Recalling(?:\s+(?:also|further|moreover|in\s+particular|with\s+satisfaction))*\s+"
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
    re.compile(rf"\bfrom\s+(?P<d1>\d{{1,2}})\s+to\s+(?P<d2>\d{{1,2}})\s+(?P<m2>{MONTH_PATTERN})\s+(?P<y2>\d{{4}})"),
    # from 29 November to 4 December 2009
    re.compile(
        rf"\bfrom\s+(?P<d1>\d{{1,2}})\s+(?P<m1>{MONTH_PATTERN})\s+to\s+(?P<d2>\d{{1,2}})\s+(?P<m2>{MONTH_PATTERN})"
        rf"\s+(?P<y2>\d{{4}})"
    ),
    # from 30 December 2009 to 2 January 2010
    re.compile(
        rf"\bfrom\s+(?P<d1>\d{{1,2}})\s+(?P<m1>{MONTH_PATTERN})\s+(?P<y1>\d{{4}})\s+to\s+(?P<d2>\d{{1,2}})\s+"
        rf"(?P<m2>{MONTH_PATTERN})\s+(?P<y2>\d{{4}})"
    ),
    # on 3 December 2004
    re.compile(rf"\bon\s+(?P<d2>\d{{1,2}})\s+(?P<m2>{MONTH_PATTERN})\s+(?P<y2>\d{{4}})"),
]
_PARTIES = [
    re.compile(
        rf"\b(?P<n>{_NUMBER_WORDS}|\d{{1,3}}(?:,\d{{3}}){{1,2}}|\d{{1,7}})\s+States\s+(?:have|had)\s+(?:now\s+|already\s+)?"
        r"(?:ratified|acceded|become\s+part|formally\s+accepted)",
        re.IGNORECASE,
    ),
    re.compile(rf"\b(?P<n>{_NUMBER_WORDS}|\d{{1,3}}(?:,\d{{3}}){{1,2}}|\d{{1,7}})\s+States\s+parties\b", re.IGNORECASE),
    # "ratified or acceded to by 143 States": a few words at most between the verb and "by".
    re.compile(
        rf"\b(?:ratified|acceded\s+to)\b[^.;]{{0,80}}?\bby\s+(?P<n>{_NUMBER_WORDS}|\d{{1,7}})\s+States\b",
        re.IGNORECASE,
    ),
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


def _unts_reference(
    paragraphs: list[_Paragraph], footnotes: list[dict[str, Any]]
) -> tuple[tuple[int, int] | None, int | None]:
    """The first `Treaty Series, vol., No.` reference (volume, number), in a footnote (and its number) or the text."""
    for note in footnotes:
        if unts := _UNTS.search(note["text"]):
            return (int(unts["volume"]), int(unts["number"])), note["number"]
    for paragraph in paragraphs:
        if unts := _UNTS.search(_plain(paragraph.raw)):
            return (int(unts["volume"]), int(unts["number"])), None
    return None, None


def _treaty(
    paragraphs: list[_Paragraph],
    footnotes: list[dict[str, Any]],
    title: str | None,
    treaties_by_unts: Mapping[tuple[int, int], str],
    warnings: list[str],
) -> dict[str, Any] | None:
    """The treaty the resolution concerns, from its United Nations Treaty Series footnote."""
    reference, mark = _unts_reference(paragraphs, footnotes)
    if reference is None:
        warnings.append("no treaty reference (United Nations, Treaty Series, vol., No.) found")
        return None
    treaty_title = None
    if mark is not None:
        treaty_title = next((found for p in paragraphs if (found := _treaty_title(p.raw, mark)) is not None), None)
    if treaty_title is None and title and (named := _TREATY_WORD.search(title)):
        # Resolutions about a treaty usually name it in their title.
        treaty_title = title[named.start() :]
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


def _claimed_facts(text: str) -> Iterator[tuple[str, Any]]:
    """The (kind, value) of each checkable fact a paragraph states."""
    for pattern in _PARTIES:
        for match in pattern.finditer(text):
            if (count := _words_to_int(match["n"])) is not None:
                yield "parties_count", count
    for match in _ANNIVERSARY.finditer(text):
        if (years := _ordinal_to_int(match["ordinal"])) is not None:
            yield "entry_into_force_year", int(match["year"]) - years
    for match in _ENTRY_INTO_FORCE.finditer(text):
        if match["date"] and (when := _parse_date(match["date"])):
            yield "entry_into_force_year", int(when[:4])
            yield "entry_into_force_date", when
        elif match["year"]:
            yield "entry_into_force_year", int(match["year"])


def _claims(texts: list[str], treaty_id: str | None, as_of: str | None) -> list[dict[str, Any]]:
    """Factual claims the registry can check: number of parties, year and date of entry into force."""
    claims: list[dict[str, Any]] = []
    seen: set[tuple[str, Any]] = set()
    for text in texts:
        for kind, value in _claimed_facts(text):
            if (kind, value) not in seen:
                seen.add((kind, value))
                claims.append({"kind": kind, "treaty_id": treaty_id, "value": value, "as_of": as_of, "text": text})
    return claims


# --- putting it together ------------------------------------------------------------------------

# Fields the contract does not require: each one not found is a warning.
_NOT_FOUND = {
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
    """Parse a General Assembly resolution's text; `treaties_by_unts` maps (volume, number) to treaty ids.

    Raises NotAResolution when the text has no symbol, no "The General Assembly," and no adoption date, and
    LineTooLong when a line is longer than `max_line_chars`: such a text is refused, not read. Any other text
    gives what was found: see ParsedResolution for a parse that lacks a field the contract requires.
    """
    lines = _source_lines(text, max_line_chars)
    words = _Words(lines)
    header = _read_header(lines, words)
    body = _read_body(lines[header.body_start :] if header.body_start is not None else [], words)
    adopted_on = _parse_date(header.adoption_date or "") or _plenary_date(header, body)
    if header.symbol is None and not header.opened and adopted_on is None:
        raise NotAResolution(["resolution symbol or number line", '"The General Assembly,"', "adoption date"])

    warnings = [*header.warnings, *body.warnings]
    data = _event_data(header, body, adopted_on, treaties_by_unts, words, warnings)
    missing = _missing(header, body, data)
    warnings.extend(reason for _field, reason in missing)
    warnings.extend(message for key, message in _NOT_FOUND.items() if data[key] in (None, []))
    return ParsedResolution(data=data, warnings=list(dict.fromkeys(warnings)), missing=missing)


def _plenary_date(header: _Header, body: _Body) -> str | None:
    """The date of the plenary meeting that closes the text (or, in some excerpts, heads it)."""
    return _parse_date(body.plenary_date or header.plenary_date or "")


def _event_data(
    header: _Header,
    body: _Body,
    adopted_on: str | None,
    treaties_by_unts: Mapping[tuple[int, int], str],
    words: _Words,
    warnings: list[str],
) -> dict[str, Any]:
    """The `resolution.adopted` data, None or [] where a part was not found; what looks wrong goes to `warnings`."""
    plenary_date = _plenary_date(header, body)
    if header.adoption_date and _parse_date(header.adoption_date) is None and adopted_on:
        warnings.append(f"the adoption line gives {header.adoption_date!r}, which is not a date; using {adopted_on}")
    elif header.adoption_date and plenary_date and adopted_on != plenary_date:
        warnings.append(f"the adoption date {adopted_on} differs from the plenary meeting date {plenary_date}")
    preamble = [_verb_and_text(p) for p in body.paragraphs if not p.operative]
    preamble = [(verb, plain) for verb, plain in preamble if plain]
    footnotes = _footnotes(body, words, warnings)
    treaty = _treaty(body.paragraphs, footnotes, header.title, treaties_by_unts, warnings)
    treaty_id = treaty["treaty_id"] if treaty else None
    return {
        "symbol": header.symbol,
        "session": _session(header, warnings),
        "title": header.title,
        "adopted_on": adopted_on,
        "issued_on": header.issued_on,
        "agenda_item": header.agenda_item,
        "committee": header.committee,
        "report_symbol": header.report_symbol,
        "plenary_meeting": body.plenary_meeting or header.plenary_meeting,
        "plenary_date": plenary_date,
        "recalls": _recalls(preamble),
        "treaty": treaty,
        "meetings": _meetings(body.paragraphs, footnotes, warnings),
        "preamble": [{"verb": verb, "text": plain} for verb, plain in preamble],
        "paragraphs": _operative_paragraphs(body, warnings),
        "footnotes": footnotes,
        "claims": _claims([_plain(p.raw) for p in body.paragraphs], treaty_id, adopted_on),
    }


def _session(header: _Header, warnings: list[str]) -> int | None:
    """The session: the symbol's, which wins over the session line when they differ."""
    if header.symbol is None:
        return header.session
    symbol_session = int(header.symbol.split("/")[2].split(" ")[0])
    if header.session is not None and header.session != symbol_session:
        warnings.append(f"the heading says session {header.session} but the symbol {header.symbol}; using the symbol")
    return symbol_session


def _operative_paragraphs(body: _Body, warnings: list[str]) -> list[dict[str, Any]]:
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
    return paragraphs


def _footnotes(body: _Body, words: _Words, warnings: list[str]) -> list[dict[str, Any]]:
    """The footnotes' data, with a warning for each mark whose footnote was not found."""
    footnotes = _footnote_data({number: _join(lines, words) for number, lines in body.footnotes.items()})
    known = {note["number"] for note in footnotes}
    for paragraph in body.paragraphs:
        for mark in _marks(paragraph.raw):
            if mark not in known:
                warnings.append(f"footnote {mark} is referenced but its text was not found")
    return footnotes


def _missing(header: _Header, body: _Body, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Each field the contract requires that was not found, with the reason in words."""
    reasons = {
        "symbol": "no symbol: no number line such as '64/56. <title>' and no 'A/RES/64/56' at the top",
        "session": "no session: no symbol to take it from and no line such as 'Sixty-fourth session'",
        "title": _title_reason(header),
        "adopted_on": _adoption_reason(header, body),
    }
    return [(name, reasons.get(name, f"no {name} found")) for name in REQUIRED_FIELDS if data.get(name) is None]


def _title_reason(header: _Header) -> str:
    if header.numbered:
        return "no title: the number line has no title after it or under it"
    return (
        "no title: it is read from the number line ('64/56. <title>') or an older section heading "
        "('B. <title>'), and the text has neither"
    )


def _adoption_reason(header: _Header, body: _Body) -> str:
    if header.adoption_date:
        return f"no adoption date: the adoption line gives {header.adoption_date!r}, which is not a date"
    written = body.plenary_date or header.plenary_date
    if written:
        return f"no adoption date: the plenary meeting line gives {written!r}, which is not a date"
    adoption = (
        "the adoption line has no date"
        if header.adoption_line
        else "no line 'Resolution adopted by the General Assembly on <date>' was found"
    )
    plenary = (
        "the plenary meeting line has no date"
        if body.plenary_meeting or header.plenary_meeting
        else "no '<n>th plenary meeting' line with a date closes the text"
    )
    return f"no adoption date: {adoption}, and {plenary}"

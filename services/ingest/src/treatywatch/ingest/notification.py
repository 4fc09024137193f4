"""Read one depositary notification of the UN Secretary-General (a C.N.) into the treaty action it announces.

Pure code, no I/O. The anatomy it expects is the one docs/domain.md describes ("Depositary notifications"):
reference, treaty title, place and date of adoption, `PARTICIPANT: ACTION`, the act's date, the date it
takes effect, quoted statements, the notification's own date. The reading is tolerant by construction: the
text is normalised first (whitespace collapsed, words hyphenated at a line end mended, letterheads, page
numbers, repeated references and footers dropped, a French version after the English cut off), then the
heading is read line by line and the body sentence by sentence. Whatever a human should check becomes a
warning; only text that lacks the marks of a notification is refused, with what is missing.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from treatywatch.common.events import BINDING_ACTIONS, Action
from treatywatch.common.months import MONTH_NUMBERS, MONTH_PATTERN
from treatywatch.common.participants import is_organisation, participant_name, resolve_participant

__all__ = [
    "MAX_CHARS",
    "MAX_LINES",
    "MAX_LINE_CHARS",
    "MAX_TEXT_CHARS",
    "Correction",
    "NotANotification",
    "NotificationTooLarge",
    "ParsedNotification",
    "action_data",
    "parse_notification",
]

# A notification is one to a few pages: a megabyte of text, ten thousand lines, or a line of ten thousand
# characters once its whitespace is collapsed, is not one, and is refused before any reading starts.
MAX_CHARS = 1_000_000
MAX_LINES = 10_000
MAX_LINE_CHARS = 10_000
# Statements quoted in a notification run to a few pages at most; longer text is cut, with a warning.
MAX_TEXT_CHARS = 20_000

Kind = Literal["action", "correction", "entry_into_force"]


class NotANotification(Exception):
    """The text lacks what every depositary notification has; `missing` names each absent part."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = list(missing)
        super().__init__("not a depositary notification: " + "; ".join(self.missing))

    def __reduce__(self) -> tuple[type[NotANotification], tuple[list[str]]]:
        # Pickled back from a worker process: rebuild it from `missing`, not from the message.
        return type(self), (self.missing,)


class NotificationTooLarge(ValueError):
    """The text (or one of its lines) is larger than a notification can be; it is refused unread."""

    def __init__(self, what: str, size: int, limit: int, unit: str = "characters") -> None:
        super().__init__(f"{what} holds {size:,} {unit}, more than the {limit:,} a depositary notification may")
        self.what, self.size, self.limit, self.unit = what, size, limit, unit

    def __reduce__(self) -> tuple[type[NotificationTooLarge], tuple[str, int, int, str]]:
        return type(self), (self.what, self.size, self.limit, self.unit)


class Correction(BaseModel):
    """What a correction changes: the act's `date`, its `effective_date`, or something else (`other`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: Literal["date", "effective_date", "other"]
    old: dt.date | None = None
    new: dt.date | None = None


class ParsedNotification(BaseModel):
    """One depositary notification as read: the act it announces and what a human should check."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str
    treaty_id: str
    title: str | None = None
    place_and_date: str | None = None
    participant_name: str | None = None
    participant_code: str | None = None
    action: Action | None = None
    kind: Kind = "action"
    # The date of the act (of deposit); for an entry into force, the date the treaty enters into force.
    date: dt.date
    effective_date: dt.date | None = None
    article: str | None = None
    text: str | None = None
    # `RATIFICATION WITH RESERVATION`: the statements attached to the binding act, as their actions.
    with_statements: tuple[Literal["reservation", "declaration"], ...] = ()
    # What the action line says after the act (`UNDER ARTICLE 12 (3)`, `OF THE AMENDMENT TO ARTICLE 8`).
    action_detail: str | None = None
    # For an objection: the participant whose reservation or declaration is objected to, when stated.
    objection_to: str | None = None
    corrects_reference: str | None = None
    correction: Correction | None = None
    issued_on: dt.date | None = None
    warnings: tuple[str, ...] = ()


def action_data(parsed: ParsedNotification) -> dict[str, Any]:
    """The `treaty.action.recorded` data the notification announces (JSON-ready, absent optionals left out).

    A correction gives the corrected act with its new values; which earlier event it corrects is for the caller
    to find from `corrects_reference`. An entry into force is no participant's act: ValueError.
    """
    if parsed.action is None or parsed.participant_name is None:
        raise ValueError(f"a notification of kind {parsed.kind!r} announces no participant's act")
    data: dict[str, Any] = {
        "treaty_id": parsed.treaty_id,
        "participant": parsed.participant_code or parsed.participant_name,
        "action": parsed.action,
        "date": parsed.date.isoformat(),
        "effective_date": parsed.effective_date.isoformat() if parsed.effective_date else None,
        "notification": parsed.reference,
        "text": parsed.text,
        "participant_name": parsed.participant_name,
    }
    return {key: value for key, value in data.items() if value is not None}


# --- dates ---------------------------------------------------------------------------------------

# `27 December 2012`, `1st June 2013`, `18 SEPTEMBER 1997`, `December 27, 2012`; every text searched is collapsed
# to single spaces first, so ` ?` is all the whitespace a date may hold.
_DATE_TEXT = (
    rf"(?:(?P<day>\d{{1,2}})(?:st|nd|rd|th)? ?(?P<month>{MONTH_PATTERN}),? ?(?P<year>\d{{4}})"
    rf"|(?P<month_us>{MONTH_PATTERN}) (?P<day_us>\d{{1,2}})(?:st|nd|rd|th)?, ?(?P<year_us>\d{{4}}))"
)
_DATE = re.compile(rf"(?<![\d\w]){_DATE_TEXT}(?!\d)", re.IGNORECASE)
# A line holding only a date, or a place and a date: the notification's own date, or the treaty's adoption.
_PLACE_DATE = re.compile(rf"(?:(?P<place>[^,\d]{{1,40}}), ?)?{_DATE_TEXT}", re.IGNORECASE)


@dataclass(frozen=True)
class _Found:
    """A date found in a text, where it starts and ends."""

    value: dt.date
    start: int
    end: int


def _date_of(match: re.Match[str]) -> dt.date | None:
    day, month, year = match["day"] or match["day_us"], match["month"] or match["month_us"], match["year"]
    year = year or match["year_us"]
    try:
        return dt.date(int(year), MONTH_NUMBERS[month.lower()], int(day))
    except ValueError:
        return None


def _dates(text: str) -> Iterator[_Found]:
    """Every real date in `text` (a 31 February is skipped), in order."""
    for match in _DATE.finditer(text):
        value = _date_of(match)
        if value is not None:
            yield _Found(value, match.start(), match.end())


def _line_date(line: str) -> tuple[str | None, dt.date] | None:
    """(place, date) when the whole line is `27 December 2012` or `New York, 4 January 2013`."""
    match = _PLACE_DATE.fullmatch(line)
    value = _date_of(match) if match else None
    if match is None or value is None:
        return None
    return (match["place"].strip() if match["place"] else None), value


# --- the C.N. reference ----------------------------------------------------------------------------

# `C.N.123.2012.TREATIES-XXVI.5 (Depositary Notification)`, `C.N. 12. 2012. TREATIES-XXVII. 7. a`: the chapter in
# roman numerals, the number, and for some treaties a letter.
_CN = re.compile(
    r"(?<![A-Za-z])C ?\. ?N ?\. ?(?P<n>\d{1,6}) ?\. ?(?P<year>\d{4}) ?\. ?TREATIES ?- ?"
    r"(?P<chapter>[IVXLC]{1,8}) ?\. ?(?P<number>\d{1,3})(?!\d)(?:\. ?(?P<letter>[A-Za-z])(?![A-Za-z]))?"
)
# Before 2000 or so the symbol carried a running number instead of the chapter (`C.N.327.1998.TREATIES-5`).
_OLD_CN = re.compile(r"(?<![A-Za-z])C ?\. ?N ?\. ?\d{1,6} ?\. ?\d{4} ?\. ?TREATIES ?- ?\d")
_REFERENCE_LINE = re.compile(r"(?:Reference|Ref\.)\b", re.IGNORECASE)
# What a page header may hold around a repeated reference.
_REFERENCE_NOISE = re.compile(
    r"Reference ?:?|\(?Depositary Notification\)?|Page ?\d{1,3}(?: ?(?:of|/) ?\d{1,3})?|[-–—:,.() ]", re.IGNORECASE
)


@dataclass(frozen=True)
class _Reference:
    symbol: str
    treaty_id: str
    year: int


def _reference(match: re.Match[str]) -> _Reference:
    letter = match["letter"].lower() if match["letter"] else None
    symbol = f"C.N.{int(match['n'])}.{match['year']}.TREATIES-{match['chapter']}.{match['number']}"
    treaty_id = f"{match['chapter']}-{match['number']}"
    if letter:
        symbol, treaty_id = f"{symbol}.{letter}", f"{treaty_id}-{letter}"
    return _Reference(symbol, treaty_id, int(match["year"]))


def _references(text: str) -> Iterator[_Reference]:
    return (_reference(match) for match in _CN.finditer(text))


def _own_reference(lines: Sequence[str]) -> _Reference | None:
    """The notification's reference: the one on a `Reference:` line, else the first one in the text."""
    first: _Reference | None = None
    for line in lines:
        match = _CN.search(line)
        if match is None:
            continue
        if _REFERENCE_LINE.match(line):
            return _reference(match)
        first = first or _reference(match)
    return first


def _is_reference_only(line: str, own: _Reference | None) -> bool:
    """A page header or the reference line itself: the notification's reference and nothing else of substance.

    A line of only `(Depositary Notification)` or `Reference:` (the reference line wrapped) goes with it.
    """
    match = _CN.search(line)
    if match is None:
        return not _REFERENCE_NOISE.sub("", line) and any(char.isalpha() for char in line)
    if own is None or _reference(match).symbol != own.symbol:
        return False
    return not _REFERENCE_NOISE.sub("", line[: match.start()] + line[match.end() :])


# --- normalising the text --------------------------------------------------------------------------

# What PDF extraction leaves in a text: odd spaces, soft and non-breaking hyphens, ligatures, zero-width marks.
_CHARACTERS = str.maketrans(
    {
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u00ad": None,
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\ufeff": None,
        "\u2010": "-",
        "\u2011": "-",
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
    }
)


def _lines(text: str) -> list[str]:
    """The text's lines, each with its whitespace collapsed; raises NotificationTooLarge."""
    if len(text) > MAX_CHARS:
        raise NotificationTooLarge("the text", len(text), MAX_CHARS)
    lines: list[str] = []
    # splitlines also breaks at form feeds (page breaks) and the other Unicode line separators.
    for number, raw in enumerate(unicodedata.normalize("NFC", text.translate(_CHARACTERS)).splitlines(), 1):
        line = " ".join(raw.split())
        if len(line) > MAX_LINE_CHARS:
            raise NotificationTooLarge(f"line {number}", len(line), MAX_LINE_CHARS)
        if line:
            lines.append(line)
    if len(lines) > MAX_LINES:
        raise NotificationTooLarge("the text", len(lines), MAX_LINES, unit="lines")
    return lines


def _is_caps(line: str) -> bool:
    return any(char.isalpha() for char in line) and not any(char.islower() for char in line)


def _is_sentence(line: str) -> bool:
    """A line of running text: at least three words that start in lower case."""
    return sum(1 for word in line.split(" ") if word[:1].islower()) >= 3


def _folded(line: str) -> str:
    """Upper case, no accents, punctuation as spaces: how letterheads are compared."""
    text = unicodedata.normalize("NFKD", line)
    text = "".join(char for char in text if not unicodedata.combining(char)).upper()
    return " ".join(re.sub(r"[^0-9A-Z]", " ", text).split())


_LETTERHEADS = frozenset(
    {
        "UNITED NATIONS",
        "NATIONS UNIES",
        "UNITED NATIONS NATIONS UNIES",
        "NATIONS UNIES UNITED NATIONS",
        "THE SECRETARY GENERAL OF THE UNITED NATIONS",
        "THE SECRETARY GENERAL",
        "SECRETARY GENERAL",
        "LE SECRETAIRE GENERAL DE L ORGANISATION DES NATIONS UNIES",
        "OFFICE OF LEGAL AFFAIRS",
        "TREATY SECTION",
        "UNITED NATIONS HEADQUARTERS",
        "HEADQUARTERS NEW YORK NY 10017",
        "NEW YORK NY 10017",
        "DEPOSITARY NOTIFICATION",
    }
)
_PAGE_NUMBER = re.compile(r"[-–—]? ?(?:Page )?\d{1,3}(?: ?(?:of|/|de|sur) ?\d{1,3})? ?[-–—]?", re.IGNORECASE)
# The standing footer of a notification, whose sentences PDF extraction may put in the middle of the text.
_FOOTER = re.compile(
    r"Attention ?:|Depositary notifications are (?:issued|made available)|In addition, the Permanent Missions",
    re.IGNORECASE,
)
# A footer sentence wraps over a few lines at most; the lines that continue it go with it.
_FOOTER_LINES = 5


def _is_letterhead(line: str) -> bool:
    return _is_caps(line) and _folded(line) in _LETTERHEADS


def _is_furniture(line: str, own: _Reference | None) -> bool:
    """A letterhead, a page number or a repeated reference: page layout, not content."""
    return _is_letterhead(line) or bool(_PAGE_NUMBER.fullmatch(line)) or _is_reference_only(line, own)


def _drop_furniture(lines: Sequence[str], own: _Reference | None) -> list[str]:
    """The lines without letterheads, page numbers, repeated references and `Attention:` footers."""
    kept: list[str] = []
    footer_left = 0
    for line in lines:
        if footer_left:
            footer_left -= 1
            footer_left = 0 if line.endswith(".") else footer_left
            continue
        if _FOOTER.match(line):
            footer_left = 0 if line.endswith(".") else _FOOTER_LINES
            continue
        if not _is_furniture(line, own):
            kept.append(line)
    return kept


# Where the French version starts after the English: its reference line, its opening, its own date. Anchored at
# the line's start (or the whole line), so that a French statement quoted in the English text does not end it.
_FRENCH_START = re.compile(
    r"Référence|Le Secrétaire général|L'action susmentionnée|NOTIFICATION DÉPOSITAIRE", re.IGNORECASE
)
_FRENCH_DATE = re.compile(
    r"(?:[^,\d]{1,40}, ?)?\d{1,2}(?:er)? "
    r"(?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre) \d{4}",
    re.IGNORECASE,
)
# How far below a repeated `NATIONS UNIES` letterhead the French version must show itself.
_FRENCH_LOOKAHEAD = 8


def _is_french(line: str) -> bool:
    return bool(_FRENCH_START.match(line) or _FRENCH_DATE.fullmatch(line) or "(Notification dépositaire)" in line)


def _english(lines: Sequence[str]) -> list[str]:
    """The lines of the English version: from its start to the French version, once English text was read."""
    lines = lines[_english_start(lines) :]
    seen_english = False
    for index, line in enumerate(lines):
        if seen_english and _starts_french(lines, index):
            return list(lines[:index])
        seen_english = seen_english or (_is_sentence(line) and not _is_french(line))
    return list(lines)


def _english_start(lines: Sequence[str]) -> int:
    """0, unless the French version comes first: then the English one's `Reference:` line, if there is one."""
    french_first = False
    for line in lines:
        if _is_french(line):
            french_first = True
            break
        if _is_sentence(line):
            break
    if french_first:
        for index, line in enumerate(lines):
            if _REFERENCE_LINE.match(line) and _CN.search(line) and not _is_french(line):
                return index
    return 0


def _starts_french(lines: Sequence[str], index: int) -> bool:
    line = lines[index]
    if _is_french(line):
        return True
    if not (_is_letterhead(line) and "NATIONS UNIES" in _folded(line)):
        return False
    return any(_is_french(after) for after in lines[index + 1 : index + 1 + _FRENCH_LOOKAHEAD])


# Prefixes that keep their hyphen when a line breaks after them (`anti-` / `personnel`).
_HYPHEN_PREFIXES = frozenset({"self", "non", "anti", "ex", "quasi", "well"})


def _join(lines: Iterable[str], vocabulary: frozenset[str] = frozenset()) -> str:
    """Join wrapped lines into one, mending words hyphenated at a line end (`ratifi-` / `cation`).

    A hyphen between lower-case letters is a break and goes; between capitals or digits (`TREATIES-` / `XXVI`,
    `ANTI-` / `PERSONNEL`) it is kept, unless the word it would make is in `vocabulary` (`RATIFI-` / `CATION`).
    """
    parts: list[str] = []
    for line in lines:
        last = parts[-1] if parts else ""
        if len(last) > 1 and last.endswith("-") and last[-2].isalnum():
            if _breaks_word(last, line, vocabulary):
                parts[-1] = last[:-1]
        elif parts:
            parts.append(" ")
        parts.append(line)
    return "".join(parts)


def _breaks_word(last: str, line: str, vocabulary: frozenset[str]) -> bool:
    before, after = last[-2], line[:1]
    head = last[:-1].rsplit(" ", 1)[-1]
    if before.isupper() and after.isupper():
        return (head + line.split(" ", 1)[0]).strip("()[],.;:") in vocabulary
    if not (before.islower() and after.islower()):
        return False
    return head.lower() not in _HYPHEN_PREFIXES


# --- the heading: title, place and date, participant and action -----------------------------------

# Action words of the heading, longest first, with the contract's action and, for a loose mapping, why.
_ACTS: tuple[tuple[str, Action, str | None], ...] = (
    ("CONSENT TO BE BOUND", "consent_to_be_bound", None),
    ("DEFINITIVE SIGNATURE", "definitive_signature", None),
    ("FORMAL CONFIRMATION", "formal_confirmation", None),
    ("PROVISIONAL APPLICATION", "provisional_application", None),
    ("TERRITORIAL APPLICATION", "declaration", "a territorial application, recorded as a declaration"),
    ("SIGNATURE", "signature", None),
    ("RATIFICATION", "ratification", None),
    ("ACCEPTANCE", "acceptance", None),
    ("APPROVAL", "approval", None),
    ("ACCESSION", "accession", None),
    ("SUCCESSION", "succession", None),
    ("WITHDRAWAL", "withdrawal", None),
    ("DENUNCIATION", "withdrawal", None),
    ("RESERVATION", "reservation", None),
    ("DECLARATION", "declaration", None),
    ("OBJECTION", "objection", None),
    ("COMMUNICATION", "declaration", "a communication, recorded as a declaration"),
    ("NOTIFICATION", "declaration", "a notification, recorded as a declaration"),
)
# The acts a correction may be about: the real acts, not `NOTIFICATION` (as in `CORRECTION TO DEPOSITARY NOTIFICATION`).
_CORRECTED_WORDS = re.compile(r"\b(?:" + "|".join(phrase for phrase, _, loose in _ACTS if loose is None) + r")S?\b")
# The words of action phrases: a capital word broken at a line end is mended when it makes one of them.
_ACTION_VOCABULARY = frozenset(
    form
    for word in {
        *(word for phrase, _, _ in _ACTS for word in phrase.split(" ")),
        *("CORRECTION", "ENTRY", "FORCE", "PARTIAL", "INTERPRETATIVE", "AMENDMENT", "UPON", "FORMULATED", "MADE"),
    }
    for form in (word, word + "S")
)
_STATEMENT_WITHDRAWAL = re.compile(
    r"(?:PARTIAL )?WITHDRAWALS? OF (?:THE |ITS |A |ALL |CERTAIN )?(?:PART OF )?(?:THE )?"
    r"(?:RESERVATION|DECLARATION|OBJECTION|INTERPRETATIVE DECLARATION)"
)
_STATEMENT_WITHDRAWN = (
    "a withdrawal of a reservation, declaration or objection, recorded as a declaration: the participant stays bound"
)
_ENTRY_INTO_FORCE = re.compile(r"ENTRY INTO FORCE\b")
_CORRECTION_WORD = re.compile(r"\bCORRECTIONS?\b")
# `X: ACTION` (the action may wrap to the next line), each side under 200 characters and free of colons:
# one linear pass over the line.
_ACTION_LINE = re.compile(r"(?P<left>[^:]{1,200}):(?P<right>[^:]{0,200})")
_MAX_NAME = 200
_SMALL_WORDS = frozenset({"of", "the", "and", "for", "de", "da", "du", "des", "la", "le"})
# Words a participant's name may end on only when its next line continues it.
_CONNECTORS = frozenset({"OF", "THE", "AND", "FOR", "("})
_STOP_AFTER_STATE = frozenset({"UPON", "AT", "ON", "WITH", "IN", "CONCERNING", "REGARDING", "TO", "RELATING", "DATED"})


@dataclass(frozen=True)
class _Act:
    """What the action phrase of the heading says."""

    kind: Kind
    action: Action | None
    loose: str | None = None
    statements: tuple[Literal["reservation", "declaration"], ...] = ()
    detail: str | None = None
    target: str | None = None


def _words(phrase: str) -> str:
    return " ".join(re.sub(r"[()\[\],;.:\-–—]", " ", phrase.upper()).split())


def _leading_act(words: str) -> tuple[str, Action, str | None, str] | None:
    """(phrase, action, loose note, rest) when `words` starts with an action word (plural or not)."""
    for phrase, action, loose in _ACTS:
        for form in (phrase, phrase + "S"):
            if words == form or words.startswith(form + " "):
                return phrase, action, loose, words[len(form) :].strip()
    return None


def _read_act(phrase: str) -> _Act | None:
    """The act an action phrase names (`RATIFICATION (WITH RESERVATION)`, `OBJECTION TO THE ...`), or None."""
    words = _words(phrase)
    if not words:
        return None
    if _CORRECTION_WORD.search(words):
        named = _CORRECTED_WORDS.search(_CORRECTION_WORD.sub(" ", words))
        corrected = _leading_act(named[0]) if named else None
        return _Act(kind="correction", action=corrected[1] if corrected else None)
    if _ENTRY_INTO_FORCE.match(words):
        return _Act(kind="entry_into_force", action=None)
    if _STATEMENT_WITHDRAWAL.match(words):
        return _Act(kind="action", action="declaration", loose=_STATEMENT_WITHDRAWN, detail=words)
    leading = _leading_act(words)
    if leading is None:
        return None
    _, action, loose, rest = leading
    if action == "objection":
        return _Act(kind="action", action=action, detail=rest or None, target=_state_after_by(rest))
    if rest.startswith("WITH "):
        return _Act(kind="action", action=action, loose=loose, statements=_statements(rest), detail=rest)
    return _Act(kind="action", action=action, loose=loose, detail=rest or None)


def _statements(rest: str) -> tuple[Literal["reservation", "declaration"], ...]:
    found: list[Literal["reservation", "declaration"]] = []
    for word in rest.split(" "):
        if word.startswith("RESERV") and "reservation" not in found:
            found.append("reservation")
        elif word.startswith("DECLAR") and "declaration" not in found:
            found.append("declaration")
    return tuple(found)


def _state_after_by(rest: str) -> str | None:
    """`TO THE RESERVATION MADE BY QATAR UPON ACCESSION` -> `QATAR`."""
    _, by, after = f" {rest} ".partition(" BY ")
    if not by:
        return None
    words = after.split()
    if words[:3] == ["THE", "GOVERNMENT", "OF"]:
        words = words[3:]
    name: list[str] = []
    for word in words[:12]:
        if word in _STOP_AFTER_STATE:
            break
        name.append(word)
    return " ".join(name) or None


@dataclass(frozen=True)
class _Heading:
    title: str | None
    place_and_date: str | None
    participant: str | None
    act: _Act | None
    body: list[str]


def _split_action_line(line: str) -> tuple[str, str] | None:
    """(participant, action phrase) of a `PARTICIPANT: ACTION` line; None when the line is something else."""
    match = _ACTION_LINE.fullmatch(line)
    if match is None:
        return None
    left, right = match["left"].strip(), match["right"].strip()
    # A participant's name has capitals; lower-case words other than `of`, `the`, `and` make it a sentence.
    if not left or any(word[:1].islower() and word not in _SMALL_WORDS for word in left.split(" ")):
        return None
    return left, right


def _heading_line(lines: Sequence[str], index: int) -> tuple[str | None, _Act, int] | None:
    """(participant or None, act, lines the phrase continues over) when line `index` is the action line."""
    line = lines[index]
    if _is_caps(line) and _ENTRY_INTO_FORCE.match(_words(line)):
        return None, _Act(kind="entry_into_force", action=None), 0
    parts = _split_action_line(line)
    if parts is None:
        return None
    left, right = parts
    continuation = _caps_run(lines, index + 1)
    # The phrase may wrap (`RATIFICATION (WITH` / `RESERVATION)`), break inside a word (`RATIFI-` / `CATION`) or
    # across a page: it runs over the capital lines below, as long as what they make still reads as an action.
    for taken in range(len(continuation), -1, -1):
        act = _read_act(_join([right, *continuation[:taken]], _ACTION_VOCABULARY))
        if act is not None:
            return (None if act.kind == "entry_into_force" else left), act, taken
    return None


def _read_heading(lines: Sequence[str]) -> _Heading:
    """Find the action line, then the place and date line above it, then the title above that."""
    for index in range(len(lines)):
        found = _heading_line(lines, index)
        if found is None:
            continue
        participant, act, taken = found
        above = list(lines[:index])
        place_index = _place_line(above)
        if participant is not None:
            participant = _whole_participant(above, place_index, participant)
        title_lines = above[:place_index] if place_index is not None else above
        return _Heading(
            title=_title(title_lines),
            place_and_date=above[place_index] if place_index is not None else None,
            participant=participant,
            act=act,
            body=list(lines[index + 1 + taken :]),
        )
    return _Heading(title=None, place_and_date=None, participant=None, act=None, body=list(lines))


def _caps_run(lines: Sequence[str], start: int, limit: int = 3) -> list[str]:
    """The capital lines right after `start` (at most `limit`): where a wrapped action phrase continues."""
    run: list[str] = []
    for line in lines[start : start + limit]:
        if not _is_caps(line) or _line_date(line) is not None:
            break
        run.append(line)
    return run


def _place_line(above: Sequence[str]) -> int | None:
    """The `OSLO, 18 SEPTEMBER 1997` line: the last place-and-date line above the action line, after a title."""
    for index in range(len(above) - 1, 0, -1):
        line = _line_date(above[index])
        if line is not None and line[0] is not None:
            return index
    return None


def _whole_participant(above: Sequence[str], place_index: int | None, left: str) -> str:
    """The participant's name, with the lines of it that wrapped above the action line."""
    if place_index is not None:
        whole = _join([*above[place_index + 1 :], left])
        return whole if len(whole) <= _MAX_NAME else left
    if not above:
        return left
    previous = above[-1]
    last_word = previous.rsplit(" ", 1)[-1].upper()
    joined = _join([previous, left])
    resolves = resolve_participant(joined).code is not None and resolve_participant(left).code is None
    return joined if last_word in _CONNECTORS or previous.endswith("(") or resolves else left


def _title(lines: Sequence[str]) -> str | None:
    """The treaty's title: the capital lines above the place line (any lines, when none is in capitals)."""
    candidates = [line for line in lines if _line_date(line) is None]
    capitals = [line for line in candidates if _is_caps(line)]
    return _join(capitals or candidates) or None


def _un_name(name: str) -> str:
    """A participant's name as the UN writes it: `STATE OF PALESTINE` -> `State of Palestine`."""
    if not _is_caps(name):
        return name
    words = name.split(" ")
    titled = " ".join(_title_word(word, first=index == 0) for index, word in enumerate(words))
    resolved = resolve_participant(titled)
    display = participant_name(resolved.code) if resolved.code else None
    # Where the UN's own spelling is known and differs only in case (`The former Yugoslav ...`), use it.
    return display if display and display.casefold() == titled.casefold() else titled


def _title_word(word: str, first: bool) -> str:
    lower = word.lower()
    if not first and lower.strip("()") in _SMALL_WORDS:
        return lower
    return "-".join(_capitalised(part) for part in lower.split("-"))


def _capitalised(part: str) -> str:
    if len(part) > 2 and part[1] in "'’" and part[0] in "dl":
        return part[:2] + part[2:].capitalize()  # `d'Ivoire`
    lead = len(part) - len(part.lstrip("(["))
    return part[:lead] + part[lead:].capitalize()


# --- the body: dates, effect, statements -------------------------------------------------------------

_QUOTES = {"“": "”", "«": "»", '"': '"'}
# A quotation introduced by `article 17 (2) which reads as follows:` is the treaty's own text, not a participant's
# statement; `the following reservation, which reads as follows:` introduces a statement. The last noun before
# the quotation decides.
_INTRODUCES = re.compile(r"\b(?:reads?|provides|stipulates|states|as follows)\b", re.IGNORECASE)
_CITED_NOUN = re.compile(
    r"\b(?:article|paragraph|reservation|declaration|objection|communication|statement|notification|letter)s?\b",
    re.IGNORECASE,
)
_CITE_CONTEXT = 160
_MIN_STATEMENT = 20
_SENTENCE_END = re.compile(r"(?<=[.;:!?]) (?=[A-Z\"“«(])")
_EFFECT = re.compile(
    r"\b(?:(?:enter|enters|entered|entering|come|comes|came) into force|(?:take|takes|took|taken|taking) effect"
    r"|(?:become|becomes|became) effective|with effect from|effective (?:from|as of|on))\b",
    re.IGNORECASE,
)
# In a correction, `the date of entry into force ... should read` corrects the date the act takes effect.
_EFFECT_NOUN = re.compile(r"\b(?:entry into force|date of effect|effective date)\b", re.IGNORECASE)
_EFFECTED = re.compile(r"\beffected (?:on )?", re.IGNORECASE)
_ON_DATE = re.compile(rf"On {_DATE_TEXT}\b", re.IGNORECASE)
_ACT_VERB = re.compile(
    r"\b(?:deposit|deposited|received|signed|notified|lodged|transmitted|communicated|acceded|ratified|"
    r"withdr[ae]w\w*|denounced|objected|declared)\b",
    re.IGNORECASE,
)
# After an act verb, its date comes within a sentence's reach (past a treaty's long title).
_DATE_REACH = 300
_ARTICLE = re.compile(
    r"\b(?:paragraph (?P<para>\d{1,2}) of (?:its |the )?article (?P<of_article>\d{1,3})"
    r"|article (?P<article>\d{1,3})(?P<sub>(?: ?\(\d{1,2}\))?(?: ?\([a-z]\))?)(?:,? paragraph (?P<para2>\d{1,2}))?)",
    re.IGNORECASE,
)
_CORRECTED_TO = re.compile(r"[”\"]?,? ?(?:and not(?: on)?|instead of|rather than|in place of|not)? ?[“\"]?")
_LEAD_IN = re.compile(
    r"(?:the )?following (?:interpretative )?(?:reservations?|declarations?|objections?|communications?|"
    r"statements?|notifications?)\b[^:]{0,120}:",
    re.IGNORECASE,
)
_ACT_NOUN = re.compile(
    r"\b(?:definitive signature|formal confirmation|signature|ratification|acceptance|approval|accession|succession|"
    r"withdrawal|denunciation|reservation|declaration|objection)\b",
    re.IGNORECASE,
)
_STATED_BY = re.compile(
    r"\b(?:reservations?|declarations?|statements?) (?:made|formulated|entered|lodged|submitted) by "
    r"(?:the Government of )?(?:the )?",
    re.IGNORECASE,
)
_GOVERNMENT_OF = re.compile(r"\bthe Government of (?:the )?", re.IGNORECASE)


@dataclass(frozen=True)
class _Body:
    """The body on one line, the same with every quotation masked (and cut into sentences), the quotations."""

    flat: str
    unquoted: str
    sentences: list[str]
    quotes: list[tuple[int, int]]


def _quotations(text: str) -> list[tuple[int, int]]:
    """(start, end) of each quoted passage, in one pass: an opening mark without its closing one is ignored."""
    spans: list[tuple[int, int]] = []
    closed_out: set[str] = set()  # closing marks with none left after the current position
    index = 0
    while index < len(text):
        closing = _QUOTES.get(text[index])
        if closing is None or closing in closed_out:
            index += 1
            continue
        end = text.find(closing, index + 1)
        if end < 0:
            closed_out.add(closing)
            index += 1
            continue
        spans.append((index + 1, end))
        index = end + 1
    return spans


def _body(lines: Sequence[str]) -> _Body:
    flat = _join(lines)
    quotes = _quotations(flat)
    pieces: list[str] = []
    last = 0
    for start, end in quotes:
        pieces.append(flat[last:start])
        pieces.append("…")
        last = end
    pieces.append(flat[last:])
    unquoted = "".join(pieces)
    return _Body(flat=flat, unquoted=unquoted, sentences=_SENTENCE_END.split(unquoted), quotes=quotes)


def _act_dates(sentences: Sequence[str]) -> list[list[dt.date]]:
    """Candidate dates of the act in three tiers: `effected on`; `On <date>, ... deposited`; `deposited ... on`."""
    tiers: list[list[dt.date]] = [[], [], []]
    for sentence in sentences:
        for match in _EFFECTED.finditer(sentence):
            found = next(_dates(sentence[match.end() : match.end() + 40]), None)
            if found is not None and found.start == 0:
                tiers[0].append(found.value)
        on_date = _ON_DATE.match(sentence)
        if on_date and _ACT_VERB.search(sentence, on_date.end()):
            value = _date_of(on_date)
            if value is not None:
                tiers[1].append(value)
        tiers[2].extend(_dates_after(sentence, _ACT_VERB, require_on=True))
    return tiers


def _dates_after(sentence: str, trigger: re.Pattern[str], require_on: bool) -> Iterator[dt.date]:
    """For each trigger in the sentence, the first date after it within reach (`on <date>` when `require_on`)."""
    for match in trigger.finditer(sentence):
        window = sentence[match.end() : match.end() + _DATE_REACH]
        for found in _dates(window):
            if not require_on or window[: found.start].endswith(("on ", "On ")):
                yield found.value
                break


@dataclass(frozen=True)
class _Effect:
    value: dt.date
    specific: bool  # said of the participant (`for Poland on`), not of the treaty in general
    article: str | None


def _effects(sentences: Sequence[str]) -> list[_Effect]:
    """Every `will enter into force for X on <date>` / `will take effect on <date>`, with the article it cites."""
    effects: list[_Effect] = []
    for sentence in sentences:
        for match in _EFFECT.finditer(sentence):
            window = sentence[match.end() : match.end() + _DATE_REACH]
            found = next(_dates(window), None)
            if found is None:
                continue
            between = window[: found.start]
            effects.append(_Effect(found.value, " for " in f" {between}", _article(window[found.end :])))
    return effects


def _article(text: str) -> str | None:
    """`in accordance with its article 17 (2)` -> `article 17 (2)`; `paragraph 2 of article 17` likewise."""
    match = _ARTICLE.search(text)
    if match is None:
        return None
    if match["of_article"]:
        return f"article {match['of_article']} ({match['para']})"
    article = f"article {match['article']}"
    sub = " ".join(match["sub"].split()).replace(")(", ") (")
    if sub:
        article += f" {sub}"
    if match["para2"]:
        article += f" ({match['para2']})"
    return article


def _statement_text(body: _Body) -> tuple[str | None, bool]:
    """The statements quoted in the body (or following `the following reservation:`), and whether cut short."""
    parts: list[str] = []
    for start, end in body.quotes:
        quoted = body.flat[start:end].strip()
        cites_treaty = _cites_treaty(body.flat[max(0, start - _CITE_CONTEXT) : start])
        if len(quoted) >= _MIN_STATEMENT and _line_date(quoted) is None and not cites_treaty:
            parts.append(quoted)
    text = "\n".join(parts or _led_in(body.flat))
    if len(text) > MAX_TEXT_CHARS:
        return text[: MAX_TEXT_CHARS - 1] + "…", True
    return text or None, False


def _cites_treaty(context: str) -> bool:
    nouns = _CITED_NOUN.findall(context)
    return bool(nouns) and nouns[-1].lower().startswith(("article", "paragraph")) and bool(_INTRODUCES.search(context))


def _led_in(flat: str) -> list[str]:
    """The sentences after `with the following reservation:`, up to the one that says when the act takes effect."""
    lead_in = _LEAD_IN.search(flat)
    if lead_in is None:
        return []
    kept: list[str] = []
    for sentence in _SENTENCE_END.split(flat[lead_in.end() :].strip()):
        if _EFFECT.search(sentence) or _EFFECTED.search(sentence):
            break
        kept.append(sentence)
    return [" ".join(kept)]


def _correction_pair(text: str) -> tuple[dt.date, dt.date, int] | None:
    """(new, old, where) for `27 December 2012 instead of 28 December 2012` or `... and not on ...`."""
    previous: _Found | None = None
    for found in _dates(text):
        if previous is not None:
            between = text[previous.end : found.start]
            if len(between) <= 24 and between.strip(' ,”“"') and _CORRECTED_TO.fullmatch(between):
                return previous.value, found.value, previous.start
        previous = found
    return None


def _name_after(text: str, start: int) -> str | None:
    """The capitalised name starting at `start` (`Pakistan upon ...` -> `Pakistan`), at most ten words."""
    words: list[str] = []
    for raw in text[start : start + 200].split(" ")[:10]:
        word = raw.rstrip(",.;:")
        core = word.strip("()")
        if not core or not (core[:1].isupper() or (core in _SMALL_WORDS and words)):
            break
        words.append(word)
        if word != raw:
            break
    while words and words[-1].strip("()") in _SMALL_WORDS and not words[-1].endswith(")"):
        words.pop()
    return " ".join(words) or None


# --- assembling -----------------------------------------------------------------------------------


@dataclass
class _Reading:
    """What parse_notification has found so far."""

    warnings: list[str]
    missing: list[str]


def _issued_on(lines: Sequence[str], reading: _Reading) -> tuple[dt.date | None, int]:
    """The notification's own date (the last line that is only a date, or a place and date) and its index."""
    found: list[tuple[int, dt.date]] = []
    for index, line in enumerate(lines):
        dated = _line_date(line)
        if dated is not None and not _is_caps(line):
            found.append((index, dated[1]))
    if not found:
        return None, len(lines)
    if len({value for _, value in found}) > 1:
        reading.warnings.append(
            "several lines hold only a date: " + ", ".join(value.isoformat() for _, value in found) + "; the last is "
            "taken as the notification's date"
        )
    return found[-1][1], found[-1][0]


def _pick(values: Sequence[dt.date], what: str, reading: _Reading) -> dt.date | None:
    distinct = list(dict.fromkeys(values))
    if len(distinct) > 1:
        listed = ", ".join(value.isoformat() for value in distinct)
        reading.warnings.append(f"several dates found for {what}: {listed}; using the first")
    return distinct[0] if distinct else None


def _act_date(body: _Body, reading: _Reading) -> dt.date | None:
    for tier in _act_dates(body.sentences):
        if tier:
            return _pick(tier, "the date of the act", reading)
    return None


def _effect(body: _Body, reading: _Reading) -> tuple[dt.date | None, str | None]:
    effects = _effects(body.sentences)
    specific = [effect for effect in effects if effect.specific] or effects
    value = _pick([effect.value for effect in specific], "the date the act takes effect", reading)
    article = next((effect.article for effect in specific if effect.value == value and effect.article), None)
    return value, article


def _participant(raw: str, reading: _Reading) -> tuple[str, str | None]:
    name = _un_name(raw)
    code = resolve_participant(name).code
    if code is None and not is_organisation(name):
        reading.warnings.append(
            f"participant {name!r} is neither a known State (no ISO 3166 code) nor an organisation: check the name"
        )
    return name, code


def _from_body(body: _Body, reading: _Reading) -> tuple[str | None, _Act | None]:
    """Older layouts without an action line: `the Government of X deposited an instrument of ratification`."""
    government = _GOVERNMENT_OF.search(body.unquoted)
    noun = _ACT_NOUN.search(body.unquoted)
    if government is None or noun is None:
        return None, None
    name = _name_after(body.unquoted, government.end())
    act = _read_act(noun[0])
    if name is None or act is None:
        return None, None
    reading.warnings.append(f"no PARTICIPANT: ACTION line; read {name!r} and {noun[0].lower()!r} from the body")
    return name.upper(), act


@dataclass(frozen=True)
class _Dates:
    date: dt.date | None
    effective: dt.date | None
    article: str | None
    correction: Correction | None


def _dates_of(act: _Act | None, body: _Body, reading: _Reading) -> _Dates:
    effective, article = _effect(body, reading)
    if act is not None and act.kind == "entry_into_force":
        return _Dates(effective, effective, article, None)
    if act is not None and act.kind == "correction":
        return _correction_dates(body, effective, article, reading)
    return _Dates(_act_date(body, reading), effective, article, None)


def _correction_dates(body: _Body, effective: dt.date | None, article: str | None, reading: _Reading) -> _Dates:
    """A correction's dates: the new one replaces the date of the act, or the date it takes effect."""
    text = _quoteless(body.flat)
    pair = _correction_pair(text)
    if pair is None:
        reading.warnings.append("a correction, but what it corrects (the old and new dates) was not found")
        return _Dates(_act_date(body, reading), effective, article, Correction(field="other"))
    new, old, where = pair
    sentence = text[max(text.rfind(". ", 0, where), 0) : where]
    if _EFFECT.search(sentence) or _EFFECT_NOUN.search(sentence):
        return _Dates(_act_date(body, reading), new, article, Correction(field="effective_date", old=old, new=new))
    return _Dates(new, effective, article, Correction(field="date", old=old, new=new))


def _quoteless(text: str) -> str:
    return text.translate(str.maketrans("", "", '“”«»"'))


def _check(parsed: dict[str, Any], act: _Act, reference: _Reference, reading: _Reading) -> None:
    """Warnings about what the notification states: missing or inconsistent dates, loose words."""
    date, effective, issued = parsed["date"], parsed["effective_date"], parsed["issued_on"]
    if act.loose:
        reading.warnings.append(act.loose)
    takes_effect = act.action in BINDING_ACTIONS or act.action == "withdrawal"
    if act.kind == "action" and takes_effect and effective is None:
        reading.warnings.append(f"no date is stated for when the {act.action} takes effect")
    # A succession takes effect from the day the State became responsible for its relations, often long before.
    if effective is not None and date is not None and effective < date and act.action != "succession":
        reading.warnings.append(f"the act takes effect ({effective}) before it was effected ({date})")
    if issued is not None and date is not None and issued < date and act.kind == "action":
        reading.warnings.append(f"the notification is dated {issued}, before the act it reports ({date})")
    if date is not None and reference.year < date.year and act.kind == "action":
        reading.warnings.append(f"the reference is of {reference.year}, the act of {date.year}")
    if issued is not None and issued.year != reference.year:
        reading.warnings.append(f"the notification is dated {issued}, its reference is of {reference.year}")
    if (act.statements or act.action in ("reservation", "declaration", "objection")) and not parsed["text"]:
        reading.warnings.append("the action names a statement, but no statement text was found")
    if act.detail and act.detail.startswith(("OF ", "TO ")) and act.action != "objection":
        reading.warnings.append(f"the action line adds {act.detail!r}: check that the act concerns the treaty itself")


def _corrected_act(act: _Act, body: _Body, reading: _Reading) -> _Act | None:
    """A correction names its act in the heading or in the body (`the instrument of ratification`)."""
    if act.kind != "correction" or act.action is not None:
        return act
    noun = _ACT_NOUN.search(body.unquoted) or _ACT_NOUN.search(body.flat)
    corrected = _read_act(noun[0]) if noun else None
    if corrected is None or corrected.action is None:
        reading.missing.append("no corrected act (which action the correction is about)")
        return None
    return _Act(kind="correction", action=corrected.action)


def _objection_to(act: _Act, body: _Body) -> str | None:
    """Whose reservation or declaration an objection is to, in the UN's spelling when the name is known."""
    if act.action != "objection":
        return None
    name = act.target
    if name is None:
        text = _quoteless(body.flat)
        stated = _STATED_BY.search(text)
        name = _name_after(text, stated.end()) if stated else None
    if name is None:
        return None
    code = resolve_participant(name).code
    return (participant_name(code) if code else None) or _un_name(name)


def _other_reference(body: _Body, own: _Reference) -> str | None:
    return next((found.symbol for found in _references(body.flat) if found.symbol != own.symbol), None)


def parse_notification(text: str) -> ParsedNotification:
    """Read one depositary notification (plain text, or text extracted from its PDF).

    Raises NotANotification naming what is missing, NotificationTooLarge for text over the size limits.
    """
    lines = _english(_lines(text))
    reference = _own_reference(lines)
    reading = _Reading(warnings=[], missing=[])
    if reference is None:
        old = any(_OLD_CN.search(line) for line in lines)
        reading.missing.append(
            "no C.N. reference (an older C.N. symbol names no chapter: the treaty id cannot be read from it)"
            if old
            else "no C.N. reference"
        )
    heading = _read_heading(_drop_furniture(lines, reference))
    issued_on, issued_index = _issued_on(heading.body, reading)
    body = _body(heading.body[:issued_index])
    participant, act = heading.participant, heading.act
    if act is None:
        participant, act = _from_body(body, reading)
    if act is None:
        reading.missing.append("no participant/action line")
    else:
        act = _corrected_act(act, body, reading)
    dates = _dates_of(act, body, reading)
    if dates.date is None:
        reading.missing.append(
            "no date of entry into force" if act and act.kind == "entry_into_force" else "no date of the act"
        )
    if reading.missing or reference is None or act is None or dates.date is None:
        raise NotANotification(reading.missing)
    return _assemble(reference, heading, participant, act, body, dates, issued_on, reading)


def _assemble(
    reference: _Reference,
    heading: _Heading,
    participant: str | None,
    act: _Act,
    body: _Body,
    dates: _Dates,
    issued_on: dt.date | None,
    reading: _Reading,
) -> ParsedNotification:
    name, code = _participant(participant, reading) if participant and act.kind != "entry_into_force" else (None, None)
    text, cut = _statement_text(body)
    if cut:
        reading.warnings.append(f"the statement text was cut to {MAX_TEXT_CHARS:,} characters")
    corrects = _other_reference(body, reference) if act.kind == "correction" else None
    if act.kind == "correction" and corrects is None:
        reading.warnings.append("a correction, but the reference of the notification it corrects was not found")
    if heading.title is None:
        reading.warnings.append("no treaty title found")
    fields: dict[str, Any] = {
        "reference": reference.symbol,
        "treaty_id": reference.treaty_id,
        "title": heading.title,
        "place_and_date": heading.place_and_date,
        "participant_name": name,
        "participant_code": code,
        "action": act.action if act.kind != "entry_into_force" else None,
        "kind": act.kind,
        "date": dates.date,
        "effective_date": dates.effective,
        "article": dates.article,
        "text": text,
        "with_statements": act.statements,
        "action_detail": act.detail,
        "objection_to": _objection_to(act, body),
        "corrects_reference": corrects,
        "correction": dates.correction,
        "issued_on": issued_on,
    }
    _check(fields, act, reference, reading)
    return ParsedNotification(**fields, warnings=tuple(dict.fromkeys(reading.warnings)))

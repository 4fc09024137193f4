"""Reading the UN Treaty Collection status tables (`data/untc/treaties/*.csv`) into treaty actions.

Pure code: text in, data out. Each file's header is its legend (`Ratification, Accession(a)` means a
bare date is a ratification and `14 Mar 1973 a` an accession), so the legend is read per file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from treatywatch.common.events import BINDING_ACTIONS
from treatywatch.common.months import MONTH_NUMBERS
from treatywatch.common.participants import Participant, resolve_participant

__all__ = [
    "BINDING_ACTIONS",
    "MAX_CELL_CHARS",
    "MAX_REJECTIONS",
    "ImportedAction",
    "IndexEntry",
    "NotAStatusFile",
    "Rejection",
    "StatusImport",
    "TooManyActions",
    "parse_status_file",
    "read_index",
    "untc_treaty_id",
]


# The longest cell of the UNTC snapshot holds 230 characters (a legend); a cell much longer is no status table's.
MAX_CELL_CHARS = 2_000
# The snapshot has no rejection at all; a file of unreadable cells lists this many, then how many more there were,
# so that what it yields stays about as large as the file whatever its shape.
MAX_REJECTIONS = 1_000

# Fixed forever: changing it would change every imported event id.
_EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:treatywatch:untc-status")


class NotAStatusFile(ValueError):
    """The text is not a UNTC status table (its header is not a UNTC legend)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooManyActions(ValueError):
    """The file records more actions than the caller takes; it was not read further."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the file records more than {limit:,} actions")
        self.limit = limit


@dataclass(frozen=True)
class IndexEntry:
    """One treaty of `index.csv`."""

    treaty_id: str
    title: str
    url: str
    chapter_name: str


@dataclass(frozen=True)
class ImportedAction:
    """The data of one `treaty.action.recorded` event and its deterministic event id."""

    event_id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Rejection:
    """A cell or row that could not be read: 1-based physical line (header is 1) and why."""

    line: int
    reason: str


@dataclass
class StatusImport:
    """What a status file yields: actions, rejections, names kept without a code, how columns were read."""

    treaty_id: str
    actions: list[ImportedAction] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: int = 0


# ---------------------------------------------------------------------------------------------------
# Treaty ids and the index


_ROMAN = (
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
)
_STEM = re.compile(r"(\d{1,3})-(\d+[A-Za-z]?(?:-[0-9A-Za-z]+)*)")


def _roman(number: int) -> str:
    out = []
    for value, letters in _ROMAN:
        count, number = divmod(number, value)
        out.append(letters * count)
    return "".join(out)


def untc_treaty_id(file_stem: str) -> str:
    """UNTC id of a status file name: `26-5` -> `XXVI-5`, `4-11-a` -> `IV-11-a`."""
    match = _STEM.fullmatch(file_stem.strip())
    if match is None or int(match[1]) == 0:
        raise ValueError(f"{file_stem!r} is not a UNTC file name of the form chapter-number (like '26-5')")
    return f"{_roman(int(match[1]))}-{match[2]}"


def read_index(text: str) -> dict[str, IndexEntry]:
    """Treaty id -> title, source URL and chapter name, from the text of `index.csv`."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    needed = {"chapter_no", "treaty_no", "treaty_name", "url", "chapter_name"}
    missing = needed - set(reader.fieldnames or ())
    if missing:
        raise ValueError(f"index.csv lacks the columns {', '.join(sorted(missing))}")
    entries: dict[str, IndexEntry] = {}
    for row in reader:
        # The index writes sub-numbers with a dot (`11.a`), the file names with a dash (`11-a`).
        stem = f"{row['chapter_no'].strip()}-{row['treaty_no'].strip().replace('.', '-')}"
        treaty_id = untc_treaty_id(stem)
        entries[treaty_id] = IndexEntry(
            treaty_id=treaty_id,
            title=row["treaty_name"].strip(),
            url=row["url"].strip(),
            chapter_name=row["chapter_name"].strip(),
        )
    return entries


# ---------------------------------------------------------------------------------------------------
# The legend


_CONFIRMATION = "confirmation_of_signature"

# A legend item's act, from the words it opens with. Order matters: the more specific come first.
_ACTS: tuple[tuple[re.Pattern[str], str | None], ...] = tuple(
    (re.compile(pattern), action)
    for pattern, action in (
        (r".*\bnon-provisional\b", None),
        (r".*\bprovisional\b", "provisional_application"),
        # `Definitive signature or acceptance`: binding either way, but which one is not said.
        (r"definitive signature or\b", "consent_to_be_bound"),
        (r"definitive signature", "definitive_signature"),
        (r"confirmation of signature", _CONFIRMATION),
        (r"(succession to )?signature", "signature"),
        (r"formal confirmation", "formal_confirmation"),
        (r"ratification", "ratification"),
        (r"(definitive )?acceptance", "acceptance"),
        (r"approval", "approval"),
        (r"accession", "accession"),
        (r"succession", "succession"),
        (r"consent to be bound|participation|simplified procedure", "consent_to_be_bound"),
        # Chapter VI/VII: a State that becomes bound by the amended agreement by notification.
        (r"notification in respect of .* as amended", "consent_to_be_bound"),
        # Annexes of the Specialized Agencies Convention (III-2-x): the undertaking to apply it binds.
        (r"application$", "consent_to_be_bound"),
        (r"(notification of )?(denunciation|withdrawal)", "withdrawal"),
        (r"declaration", "declaration"),
        (r"reservation", "reservation"),
        (r"objection", "objection"),
    )
)

# Columns of UNTC tables that do not record acts of the participant, and why they are skipped.
_NOT_ACTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), reason)
    for pattern, reason in (
        (r"resolution", "the General Assembly resolution concerned, not an act of the participant"),
        (r"date of adoption", "the adoption date of a resolution, not an act of the participant"),
        (r"registration", "registration with the Secretariat, not an act of the participant"),
        (r"unts", "where the instrument is published in the UN Treaty Series, not an act"),
        (r"extension", "territorial extension, not one of the acts the platform records"),
        (r".*\bnon-provisional\b", "a notice of not applying the treaty provisionally, not an act recorded"),
        (r"notification", "a notification whose effect this treaty defines; not one of the recorded acts"),
    )
)

_UNKNOWN_COLUMN = "not a UNTC column of acts"

_MARK = re.compile(r"\(\s*([A-Za-z]{1,2})\s*\)\s*$")
# `article 7 (1) (b)`: a letter in brackets after a reference is a sub-paragraph, not a mark.
_REFERENCE_BEFORE = re.compile(
    r"\b(?:articles?|paragraphs?|sections?)\s+[0-9A-Za-z]+(?:\s*\(\d+\))+\s*$", re.IGNORECASE
)


@dataclass(frozen=True)
class _Item:
    label: str
    mark: str | None
    action: str | None


@dataclass(frozen=True)
class _Column:
    index: int
    label: str
    marks: dict[str, str | None]  # mark -> action (None: a known item the platform does not record)
    mark_labels: dict[str, str]
    bare: str | None  # the action of a date without a mark
    bare_note: str | None  # how that action was chosen, or why a date without a mark cannot be read
    ignored: str | None  # why the whole column is skipped


def _legend_items(header: str) -> list[str]:
    """Split a legend at commas, rejoining pieces that continue a phrase (`..., as amended(A)`)."""
    items: list[str] = []
    for piece in header.split(","):
        piece = piece.strip()
        if not piece:
            continue
        if items and not piece[0].isupper():
            items[-1] = f"{items[-1]}, {piece}"
        else:
            items.append(piece)
    return items


def _act_of(label: str) -> str | None:
    text = " ".join(label.lower().split())
    for pattern, action in _ACTS:
        if pattern.match(text):
            return action
    return None


def _parse_item(item: str) -> _Item:
    match = _MARK.search(item)
    if match is not None and not _REFERENCE_BEFORE.search(item[: match.start()]):
        label = item[: match.start()].strip()
        return _Item(label=label, mark=match[1], action=_act_of(label))
    return _Item(label=item, mark=None, action=_act_of(item))


def _merge(items: list[_Item]) -> tuple[str | None, str | None]:
    """One action for legend items sharing a mark (or no mark), and a note on how or why not."""
    actions = {item.action for item in items}
    if len(actions) == 1:
        return actions.pop(), None
    names = ", ".join(f"'{item.label}'" for item in items)
    if None not in actions and actions <= BINDING_ACTIONS:
        # Every reading binds, and the table does not say which instrument: record the consent itself.
        return "consent_to_be_bound", f"any of {names}, all binding"
    return None, f"ambiguous, any of {names}"


def _plan_column(index: int, header: str) -> _Column:
    label = " ".join(header.split())
    items = [_parse_item(item) for item in _legend_items(label)]
    binding = any(item.action in BINDING_ACTIONS for item in items)
    # A confirmed signature ad referendum is a full signature: definitive where the column records
    # binding instruments, a plain signature where ratification has a column of its own.
    confirmed = "definitive_signature" if binding else "signature"
    items = [_Item(item.label, item.mark, confirmed) if item.action == _CONFIRMATION else item for item in items]
    if not any(item.action for item in items):
        lowered = label.lower()
        reason = next((why for pattern, why in _NOT_ACTS if pattern.match(lowered)), None)
        return _Column(index, label, {}, {}, None, None, reason or _UNKNOWN_COLUMN)
    by_mark: dict[str, list[_Item]] = {}
    for item in items:
        if item.mark is not None:
            by_mark.setdefault(item.mark, []).append(item)
    marks = {mark: _merge(group)[0] for mark, group in by_mark.items()}
    unmarked = [item for item in items if item.mark is None]
    if unmarked:
        bare, note = _merge(unmarked)
    elif len({item.action for item in items}) == 1:
        # `Signature ad referendum (s)` alone: its dates carry no mark, and can mean only that.
        bare, note = items[0].action, None
    else:
        bare, note = None, "the legend gives no meaning to a date without a mark"
    labels = {item.mark: item.label for item in items if item.mark is not None}
    return _Column(index, label, marks, labels, bare, note, None)


def _named(label: str, action: str | None) -> str:
    """`acceptance`, or `'Participation under article XI' = consent_to_be_bound` where words differ."""
    if action is None:
        return f"'{label}' = not recorded"
    if label.lower().startswith(action.replace("_", " ")):
        return action
    return f"'{label}' = {action}"


def _explain(column: _Column) -> str:
    head = f"column {column.index + 1} '{column.label}'"
    if column.ignored is not None:
        return f"{head}: ignored, {column.ignored}"
    if column.bare is None:
        parts = [f"no mark = unreadable ({column.bare_note})"]
    else:
        parts = [f"no mark = {column.bare}" + (f" ({column.bare_note})" if column.bare_note else "")]
    parts += [f"({mark}) = {_named(column.mark_labels[mark], action)}" for mark, action in column.marks.items()]
    return f"{head}: {'; '.join(parts)}"


# ---------------------------------------------------------------------------------------------------
# Dates in cells


_FOOTNOTE_CHARS = r"\d*†‡§#¹²³⁰⁴⁵⁶⁷⁸⁹"
# Read from a cell whose whitespace is collapsed to single spaces, so no run of it can be split many ways.
_DATE = re.compile(
    r"(?:(?P<d1>\d{1,2})(?:st|nd|rd|th)?[\s.\-/]*(?P<m1>[A-Za-z]{3,10})\.?[\s.\-/,]*(?P<y1>\d{4})"
    r"|(?P<m2>[A-Za-z]{3,10})\.?\s*(?P<d2>\d{1,2}),?\s+(?P<y2>\d{4})"
    r"|(?P<y3>\d{4})-(?P<m3>\d{1,2})-(?P<d3>\d{1,2}))"
    # The instrument's mark, possibly after footnote marks: `3 Dec 1997 a`, `3 Dec 19972 a`, `(AA)`. One greedy
    # run of separators and footnote marks: none of them can start a mark, so the run cannot be split two ways.
    rf"(?:[\s,{_FOOTNOTE_CHARS}]*\(?(?P<mark>[A-Za-z]{{1,2}})\)?(?![A-Za-z]))?"
)
# What may stand between and around the dates of a cell: footnote marks, separators, `and`.
_NOISE = re.compile(rf"(?:[\s,;:/&+()\[\].\-{_FOOTNOTE_CHARS}]|\band\b)*", re.IGNORECASE)
_EARLIEST_YEAR = 1850
_LATEST_YEAR = 2100


def _edits_at_most_one(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        # One changed letter, or two neighbours swapped (`Spetember`).
        return len(diffs) == 1 or (len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _month(word: str) -> int | None:
    """Month number of a name, an abbreviation or a one-letter slip a reader would see through."""
    word = word.lower()
    exact = [i for name, i in MONTH_NUMBERS.items() if name.startswith(word) and len(word) >= 3]
    if len(exact) == 1:
        return exact[0]
    if len(word) == 3:
        # `Spe`, `Dex`: letters swapped or one slipped, as long as only one month fits.
        guesses = [
            i
            for name, i in MONTH_NUMBERS.items()
            if sorted(name[:3]) == sorted(word) or sum(x != y for x, y in zip(name, word, strict=False)) == 1
        ]
    else:
        guesses = [i for name, i in MONTH_NUMBERS.items() if _edits_at_most_one(word, name)]
    return guesses[0] if len(guesses) == 1 else None


@dataclass(frozen=True)
class _Reading:
    date: str
    mark: str | None


def _date_of(match: re.Match[str]) -> tuple[str | None, str | None]:
    """The ISO date a match spells, or why it is not one."""
    if match["y3"]:
        year, month, day = int(match["y3"]), int(match["m3"]), int(match["d3"])
    else:
        word = match["m1"] or match["m2"]
        found = _month(word)
        if found is None:
            return None, f"'{word}' is not a month"
        year, month, day = int(match["y1"] or match["y2"]), found, int(match["d1"] or match["d2"])
    if not _EARLIEST_YEAR <= year <= _LATEST_YEAR:
        return None, f"the year {year} is out of range"
    try:
        return dt.date(year, month, day).isoformat(), None
    except ValueError:
        return None, f"day {day} of month {month} of {year} does not exist"


def _read_cell(cell: str) -> tuple[list[_Reading], str | None]:
    """The dates in a cell with their marks, or the reason the cell cannot be read."""
    # NFKC turns superscript footnote digits into plain ones, which the noise pattern then absorbs.
    text = " ".join(unicodedata.normalize("NFKC", cell).split())
    readings: list[_Reading] = []
    leftover: list[str] = []
    position = 0
    for match in _DATE.finditer(text):
        leftover.append(text[position : match.start()])
        position = match.end()
        date, problem = _date_of(match)
        if date is None:
            return [], problem
        readings.append(_Reading(date, match["mark"]))
    leftover.append(text[position:])
    if not readings:
        return [], "it holds no date"
    extra = " ".join(part.strip() for part in leftover if not _NOISE.fullmatch(part)).strip()
    if extra:
        return [], f"it holds text besides dates: '{extra}'"
    return readings, None


# ---------------------------------------------------------------------------------------------------
# The status file


def _records(text: str, max_cell_chars: int) -> Iterator[tuple[int, list[str]]]:
    """Each record with the physical line it starts on (quoted cells may span lines), read as it is asked for."""
    # Universal newlines: a bare carriage return ends a line, as a spreadsheet would read it.
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=None))
    start = 1
    try:
        for record in reader:
            for column, cell in enumerate(record, 1):
                if len(cell) > max_cell_chars:
                    raise NotAStatusFile(
                        f"line {start}, column {column}: the cell holds {len(cell):,} characters, "
                        f"more than the {max_cell_chars:,} a UNTC cell may hold"
                    )
            yield start, record
            start = reader.line_num + 1
    except csv.Error as exc:
        raise NotAStatusFile(f"line {reader.line_num + 1} is not valid CSV: {exc}") from exc


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _plan_file(header: list[str]) -> list[_Column]:
    """How to read each column after `Participant`; NotAStatusFile when the header is no UNTC legend."""
    first = " ".join(header[0].split()) if header else ""
    if first.lower() != "participant":
        raise NotAStatusFile(f"the first column is '{_short(first)}', not 'Participant'")
    columns = [_plan_column(index, cell) for index, cell in enumerate(header) if index > 0]
    unknown = [column.label for column in columns if column.ignored == _UNKNOWN_COLUMN]
    if unknown and all(column.ignored is not None for column in columns):
        raise NotAStatusFile(f"no column carries dates of acts (columns: {', '.join(map(_short, unknown))})")
    return columns


class _FileReader:
    """Reads the rows of one status file into a StatusImport, keeping what event ids need."""

    def __init__(self, treaty_id: str, header: list[str], max_actions: int | None) -> None:
        self.max_actions = max_actions
        self.columns = _plan_file(header)
        self.width = len(header)
        self.acts = [column for column in self.columns if column.ignored is None]
        self.result = StatusImport(treaty_id=treaty_id, columns=[_explain(c) for c in self.columns])
        if not self.columns:
            self.result.columns.append("only the Participant column: participants without dates of acts")
        # A mark missing from its column's legend may be another column's (`s` under Signature).
        self.file_marks: dict[str, str | None] = {}
        for column in self.acts:
            for mark, action in column.marks.items():
                self.file_marks.setdefault(mark, action)
        # Ids must not move when a column is added: key columns by label and occurrence, not position.
        labels: Counter[str] = Counter()
        self.column_keys: dict[int, str] = {}
        for column in self.columns:
            labels[column.label] += 1
            self.column_keys[column.index] = f"{column.label}#{labels[column.label]}"
        self.seen: Counter[str] = Counter()
        self.unresolved: set[str] = set()  # `result.unresolved` in order; a list is slow to search
        self.unlisted = 0  # rejections past MAX_REJECTIONS
        self.first_unlisted = 0  # the line of the first of them

    def reject(self, line: int, reason: str) -> None:
        if len(self.result.rejected) < MAX_REJECTIONS:
            self.result.rejected.append(Rejection(line, reason))
            return
        self.first_unlisted = self.first_unlisted or line
        self.unlisted += 1

    def finish(self) -> StatusImport:
        if self.unlisted:
            reason = (
                f"{self.unlisted:,} more cells or rows cannot be read, from line {self.first_unlisted} on; "
                f"only the first {MAX_REJECTIONS:,} are listed"
            )
            self.result.rejected.append(Rejection(self.first_unlisted, reason))
        return self.result

    def read_row(self, line: int, record: list[str]) -> None:
        if not any(cell.strip() for cell in record):
            return
        self.result.rows += 1
        participant = resolve_participant(record[0])
        if not participant.name:
            self.reject(
                line, f"no participant named in the first column, but the row holds {_short(repr(record[1:]), 200)}"
            )
            return
        self.seen[participant.name] += 1
        if participant.code is None and participant.name not in self.unresolved:
            self.unresolved.add(participant.name)
            self.result.unresolved.append(participant.name)
        for index in range(self.width, len(record)):
            if record[index].strip():
                name, stray = _short(participant.name, 100), _short(record[index].strip(), 200)
                self.reject(line, f"{name}: cell {index + 1} '{stray}' lies beyond the header's {self.width} columns")
        for column in self.acts:
            cell = record[column.index].strip() if column.index < len(record) else ""
            if cell:
                self.read_cell(line, participant, column, cell)

    def mark_action(self, mark: str, column: _Column) -> tuple[bool, str | None]:
        """(known, action) for a mark: this column's legend, then another column's, then a case slip."""
        if mark in column.marks:
            return True, column.marks[mark]
        if mark in self.file_marks:
            return True, self.file_marks[mark]
        # `D` for `d` is a slip a reader sees through; `aA` could be `a` or `AA` and is not.
        folded = [key for key in column.marks if key.lower() == mark.lower()]
        if len(folded) == 1 and mark in (mark.lower(), mark.upper()):
            return True, column.marks[folded[0]]
        return False, None

    def read_cell(self, line: int, participant: Participant, column: _Column, cell: str) -> None:
        # Shortened: a long name quoted in each of a row's many rejections would make them far larger than the row.
        where = f"column '{_short(column.label)}', {_short(participant.name, 100)}: '{_short(cell, 200)}'"
        readings, problem = _read_cell(cell)
        if problem is not None:
            self.reject(line, f"{where} cannot be read: {problem}")
            return
        for ordinal, reading in enumerate(readings, 1):
            if reading.mark is None:
                known, action = column.bare is not None, column.bare
                why = f"a date without a mark cannot be read here, {column.bare_note}"
            else:
                known, action = self.mark_action(reading.mark, column)
                why = f"the mark '{reading.mark}' is not in the header's legend"
            if not known:
                self.reject(line, f"{where}: {why}")
            elif action is not None:
                self.add(participant, column, action, reading.date, ordinal)

    def add(self, participant: Participant, column: _Column, action: str, date: str, ordinal: int) -> None:
        if self.max_actions is not None and len(self.result.actions) >= self.max_actions:
            raise TooManyActions(self.max_actions)
        treaty_id = self.result.treaty_id
        key = (
            treaty_id,
            participant.name,
            str(self.seen[participant.name]),
            self.column_keys[column.index],
            action,
            date,
            str(ordinal),
        )
        data: dict[str, Any] = {
            "treaty_id": treaty_id,
            "participant": participant.code or participant.name,
            "participant_name": participant.name,
            "action": action,
            "date": date,
        }
        event_id = f"untc-{uuid.uuid5(_EVENT_NAMESPACE, chr(31).join(key))}"
        self.result.actions.append(ImportedAction(event_id=event_id, data=data))


def parse_status_file(
    text: str, treaty_id: str, *, max_cell_chars: int = MAX_CELL_CHARS, max_actions: int | None = None
) -> StatusImport:
    """Read a UNTC status table into `treaty.action.recorded` data, rejections and column notes.

    Raises NotAStatusFile, also for a cell longer than `max_cell_chars` (it is refused, not read), and
    TooManyActions as soon as the file records more than `max_actions`.
    """
    # Row by row: the rows of a large file are never all in memory at once.
    records = _records(text, max_cell_chars)
    header = next(records, None)
    if header is None:
        raise NotAStatusFile("the file is empty")
    reader = _FileReader(treaty_id, header[1], max_actions)
    for line, record in records:
        reader.read_row(line, record)
    return reader.finish()

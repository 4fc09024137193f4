"""An entry-into-force clause read into rules: "on the thirtieth day following the deposit of the twentieth
instrument" becomes `EntryIntoForce(instruments=20, delay=Delay(days=30))`.

The parser knows the patterns final clauses follow (a count of instruments, a delay in days or months, the
first day of a later month, a fixed date if the count is reached by then, late joiners). A clause whose
condition is not a count (a share of emissions, a named list of States, a share of the parties) is refused
with `UnsupportedClause` naming the part, never guessed. It works on words: the few regular expressions have
no nested or overlapping quantifiers, and the input is capped in length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from treatywatch.common.months import MONTH_NUMBERS
from treatywatch.common.rules import Delay, EntryIntoForce, TreatyRules

__all__ = ["MAX_CLAUSE_CHARS", "ParsedClause", "UnsupportedClause", "parse_clause"]

MAX_CLAUSE_CHARS = 4000
"""Longer texts are refused: a clause is a paragraph or two, not a treaty."""


class UnsupportedClause(ValueError):
    """The clause says something the rules cannot express; `reason` names the part."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ParsedClause:
    """The rules a clause gives and, in words, the parts the parser recognised."""

    rules: TreatyRules
    parts: tuple[str, ...]


_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_UNIT_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
}
_TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SMALL: dict[str, int] = {
    **_UNITS,
    **_UNIT_ORDINALS,
    **_TEENS,
    **{word.removesuffix("n") + "nth": value for word, value in _TEENS.items() if word.endswith("teen")},
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    **_TENS,
    **{word.removesuffix("y") + "ieth": value for word, value in _TENS.items()},
}
_DIGITS = re.compile(r"(\d{1,4})(?:st|nd|rd|th)?")
_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.;])\s+")
_FIXED_DATE = re.compile(r"\b(\d{1,2}) (" + "|".join(MONTH_NUMBERS) + r") (\d{4})\b")

_DAY_WORDS = frozenset({"day", "days"})
_MONTH_WORDS = frozenset({"month", "months"})
_YEAR_WORDS = frozenset({"year", "years"})
_INSTRUMENT_WORDS = frozenset({"instrument", "instruments"})
_JOINER_WORDS = frozenset({"states", "parties", "nations", "governments"})
_LATER_MARKERS = (("for", "each"), ("for", "any"), ("for", "every"), ("its", "own"), ("such", "state"))
_LATER_WORDS = frozenset({"subsequent", "subsequently", "thereafter"})
_FORCE_WORDS = frozenset({"force", "effective"})
_NUMBER_SPAN = 5

# Conditions that are not a count of instruments: (a test on the lower-cased text, the reason).
_REFUSALS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bper ?cent\b|%"), "a share (of consumption or the like)"),
    (re.compile(r"listed in annex|\ball (?:the )?states listed\b"), "a named list of States that must all ratify"),
    (
        re.compile(
            r"\b(?:two|three|seven)[ -](?:thirds|fourths|quarters|eighths) (?:majority )?of (?:the )?(?:states|parties)"
        ),
        "a share of the parties",
    ),
    (
        re.compile(r"\b(?:two|three|seven)[ -](?:thirds|fourths|quarters|eighths)\b"),
        "a share (of consumption or the like)",
    ),
    (re.compile(r"\btonnage\b|\bgross tons\b"), "a condition on shipping tonnage"),
    (re.compile(r"\bmembers of the united nations\b"), "a count of Members of the United Nations only"),
)
_FLOOR = re.compile(r"\bin no case earlier than\b")
_PARENT = re.compile(r"\bsubject to the entry into force of\b|\bnot enter into force before the entry into force of\b")
_NOT_COUNTED = re.compile(r"\bnot be (?:counted|considered) as additional\b")


def parse_clause(text: str, *, source: str | None = None, parent_entry_into_force: date | None = None) -> ParsedClause:
    """The entry-into-force rules of a clause's text, with the parts recognised.

    `source` ("Article 17") is put on each rule; `parent_entry_into_force` is the date of the treaty a
    protocol waits for ("subject to the entry into force of the Convention"). Raises UnsupportedClause.
    """
    if len(text) > MAX_CLAUSE_CHARS:
        raise UnsupportedClause(f"the text is longer than {MAX_CLAUSE_CHARS} characters")
    lowered = " ".join(text.lower().split())
    _refuse_conditions(lowered)
    parts: list[str] = []
    not_before = _not_before(lowered, parent_entry_into_force, parts)
    sentences = [_WORD.findall(s) for s in _SENTENCE_END.split(lowered)]
    main_index = _main_sentence(sentences)
    main = sentences[main_index]
    instruments = _count(main)
    parts.append(f"count: {instruments} instruments")
    fixed_date = _fixed_date(_SENTENCE_END.split(lowered)[main_index])
    if fixed_date is not None:
        parts.append(f"fixed date: {fixed_date.isoformat()}, if the count is reached by then")
        delay = _fallback_delay(sentences[main_index + 1 :])
    else:
        delay = _delay(_after_force(main))
    parts.append(f"delay: {_words(delay)} the decisive deposit")
    count_organisations = _NOT_COUNTED.search(lowered) is None
    if not count_organisations:
        parts.append("an organisation's instrument is not counted as additional to its member States'")
    later = _later(sentences, source)
    if later is not None:
        parts.append(f"later participants: {_words(later)} their own deposit")
    rule = EntryIntoForce(
        instruments=instruments,
        delay=delay,
        count_organisations=count_organisations,
        not_before=not_before,
        fixed_date=fixed_date,
        source=source,
    )
    return ParsedClause(rules=TreatyRules(entry_into_force=rule, later_participants=later), parts=tuple(parts))


def _refuse_conditions(lowered: str) -> None:
    for pattern, what in _REFUSALS:
        if pattern.search(lowered):
            share_of_emissions = pattern is _REFUSALS[0][0] and "emission" in lowered
            raise UnsupportedClause(
                f"{'a share of emissions' if share_of_emissions else what} is not a count of instruments"
            )
    if _FLOOR.search(lowered):
        raise UnsupportedClause("a floor counted from the opening for signature needs a date the clause does not give")


def _not_before(lowered: str, parent: date | None, parts: list[str]) -> date | None:
    if _PARENT.search(lowered) is None:
        return None
    if parent is None:
        raise UnsupportedClause(
            "the clause waits for another treaty's entry into force: pass that date as parent_entry_into_force"
        )
    parts.append(f"not before the parent treaty's entry into force, {parent.isoformat()}")
    return parent


def _main_sentence(sentences: list[list[str]]) -> int:
    """The first sentence that puts the treaty into force and is not about later participants."""
    for index, words in enumerate(sentences):
        if not _FORCE_WORDS.isdisjoint(words) and not _is_later(words) and _has_count(words):
            return index
    raise UnsupportedClause("no entry into force on a count of instruments was found")


def _is_later(words: list[str]) -> bool:
    pairs = set(pairwise(words))
    return any(marker in pairs for marker in _LATER_MARKERS) or not _LATER_WORDS.isdisjoint(words)


def _has_count(words: list[str]) -> bool:
    return _count_or_none(words) is not None


def _count(words: list[str]) -> int:
    count = _count_or_none(words)
    if count is None:
        raise UnsupportedClause("no count of instruments was found")
    return count


def _count_or_none(words: list[str]) -> int | None:
    for targets in (_INSTRUMENT_WORDS, _JOINER_WORDS):
        for index, word in enumerate(words):
            if word in targets:
                number = _number_before(words, index)
                if number is not None:
                    return number
    return None


def _after_force(words: list[str]) -> list[str]:
    """The words after the last "force" (or "effective") up to the next instrument: where the delay is said."""
    last = max(i for i, word in enumerate(words) if word in _FORCE_WORDS)
    tail = words[last + 1 :]
    end = next((i for i, word in enumerate(tail) if word in _INSTRUMENT_WORDS), len(tail))
    return tail[:end]


def _delay(words: list[str]) -> Delay:
    delay = _first_day_delay(words) or _plain_delay(words)
    if delay is None:
        if "upon" in words or "when" in words or _contains(words, ("date", "of", "deposit")):
            return Delay()
        raise UnsupportedClause("no delay after the deposit was found")
    return delay


def _first_day_delay(words: list[str]) -> Delay | None:
    start = _find(words, ("first", "day", "of", "the"))
    if start is None:
        return None
    rest = words[start + 4 :]
    if rest[:1] == ["month"]:
        following = rest[1:]
        days = _number_with(following, _DAY_WORDS)
        if days is not None:
            return Delay(days=days, anchor="first_day_of_next_month")
        months = _number_with(following, _MONTH_WORDS)
        return Delay(months=months or 0, anchor="first_day_of_next_month")
    months = _number_before(rest, 1) if rest[1:2] == ["month"] else None
    if months is None:
        raise UnsupportedClause("a first day of the month the parser cannot place")
    return Delay(months=months, anchor="first_day_of_month")


def _plain_delay(words: list[str]) -> Delay | None:
    days = _number_with(words, _DAY_WORDS)
    if days is not None:
        return Delay(days=days)
    months = _number_with(words, _MONTH_WORDS)
    if months is not None:
        return Delay(months=months)
    years = _number_with(words, _YEAR_WORDS)
    if years is not None:
        return Delay(months=12 * years)
    return None


def _fallback_delay(sentences: list[list[str]]) -> Delay:
    """The delay of "otherwise, on the ninetieth day following the date on which the condition is met"."""
    for words in sentences:
        if not _FORCE_WORDS.isdisjoint(words) and not _is_later(words):
            return _delay(_after_force(words))
    raise UnsupportedClause("a fixed date without the delay that applies when the count comes later")


def _fixed_date(sentence: str) -> date | None:
    match = _FIXED_DATE.search(sentence)
    if match is None or "provided" not in sentence:
        return None
    try:
        return date(int(match[3]), MONTH_NUMBERS[match[2]], int(match[1]))
    except ValueError as exc:
        raise UnsupportedClause(f"{match[0]} is not a date") from exc


def _later(sentences: list[list[str]], source: str | None) -> Delay | None:
    for words in sentences:
        if not _FORCE_WORDS.isdisjoint(words) and _is_later(words):
            found = _delay(_after_force(words))
            return found.model_copy(update={"source": source}) if source else found
    return None


def _number_with(words: list[str], units: frozenset[str]) -> int | None:
    for index, word in enumerate(words):
        if word in units:
            number = _number_before(words, index)
            if number is not None:
                return number
    return None


def _number_before(words: list[str], end: int) -> int | None:
    """The number written just before `words[end]`: the longest phrase of up to five words that reads as one."""
    for start in range(max(0, end - _NUMBER_SPAN), end):
        value = _number(words[start:end])
        if value is not None:
            return value
    return None


def _number(words: list[str]) -> int | None:
    """A cardinal or ordinal in digits ("40th", "22") or words ("one hundred and twentieth"), else None."""
    if len(words) == 1 and (digits := _DIGITS.fullmatch(words[0])):
        return int(digits[1]) or None
    if not words or words[0] == "and":
        return None
    total = 0
    for word in words:
        if word in ("hundred", "hundredth") and 0 < total < 10:
            total *= 100
        elif word == "and" and total >= 100:
            continue
        elif word in _SMALL and _fits(total % 100, _SMALL[word]):
            total += _SMALL[word]
        else:
            return None
    return total or None


def _fits(tens_and_units: int, value: int) -> bool:
    """Whether `value` may follow the last two digits read so far: "twenty" then "second", not "two" then "two"."""
    if value < 10:
        return tens_and_units == 0 or (tens_and_units >= 20 and tens_and_units % 10 == 0)
    return tens_and_units == 0


def _find(words: list[str], phrase: tuple[str, ...]) -> int | None:
    width = len(phrase)
    return next((i for i in range(len(words) - width + 1) if tuple(words[i : i + width]) == phrase), None)


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    return _find(words, phrase) is not None


def _words(delay: Delay) -> str:
    """A delay in words, for the parts list."""
    amount = " and ".join(
        f"{value} {unit}{'s' if value != 1 else ''}"
        for value, unit in ((delay.months, "month"), (delay.days, "day"))
        if value
    )
    if delay.anchor == "first_day_of_month":
        return f"the first day of the month {amount} after the month of"
    if delay.anchor == "first_day_of_next_month":
        return f"the first day of the month after {amount} after" if amount else "the first day of the month after"
    return f"{amount} after" if amount else "on the day of"

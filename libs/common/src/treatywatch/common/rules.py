"""A treaty's rules as data: entry into force, withdrawal notice, reporting, and their date arithmetic.

These models travel in the `rules` field of the `treaty.registered` event. Every rule is optional:
a rule the registry does not know stays `None` and the registry answers "unknown" instead of guessing.
Each rule may name its `source` in the treaty ("Article 17(1)") and carry a `description` of what the
arithmetic leaves out, in the project's own words.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "MINE_BAN_RULES",
    "Delay",
    "EntryIntoForce",
    "Reporting",
    "TreatyRules",
    "WithdrawalTerms",
]

# A non-leap year, so that an annual due date valid here is valid in every year.
_REFERENCE_YEAR = 2001

Source = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(min_length=1, max_length=1000)]
_SOURCE = 'Where the treaty says it: article and paragraph, e.g. "Article 17(1)"'
_DESCRIPTION = "What the arithmetic leaves out, in words"


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Delay(_Rule):
    """A period counted from a date: "six months after", "the thirtieth day after", "the first day of the
    sixth month after the month of", "the first day of the month following the sixtieth day after"."""

    months: int = Field(default=0, ge=0)
    days: int = Field(default=0, ge=0)
    anchor: Literal["date", "first_day_of_month", "first_day_of_next_month"] = "date"
    source: Source | None = Field(default=None, description=_SOURCE)
    description: Description | None = Field(default=None, description=_DESCRIPTION)

    def apply(self, d: date) -> date:
        """The date this delay ends when counted from `d`.

        "date": `d` plus `months` (a day missing from the target month becomes its last day) plus `days`.
        "first_day_of_month": the first day of the month `months` after `d`'s month, plus `days`.
        "first_day_of_next_month": as "date", then the first day of the following month.
        """
        if self.anchor == "first_day_of_month":
            return _first_of_month(d.year, d.month + self.months) + timedelta(days=self.days)
        first = _first_of_month(d.year, d.month + self.months)
        last_day = calendar.monthrange(first.year, first.month)[1]
        end = first.replace(day=min(d.day, last_day)) + timedelta(days=self.days)
        if self.anchor == "first_day_of_next_month":
            return _first_of_month(end.year, end.month + 1)
        return end


def _first_of_month(year: int, month: int) -> date:
    """The first day of `month` counted from January of `year` (month 13 is January of the next year)."""
    years, month_index = divmod(month - 1, 12)
    return date(year + years, month_index + 1, 1)


class EntryIntoForce(_Rule):
    """The treaty enters into force `delay` after the deposit of the `instruments`-th binding instrument.

    With `condition` "not_a_count" a count is not enough or not fixed (a share of emissions, a named list of
    States, two thirds of the parties at the time): the rule cannot compute the date, `instruments` and
    `delay` may be left out, and `stated_date` (or `in_force` false) says what the depositary states instead.
    """

    instruments: int | None = Field(
        default=None, ge=1, description="The decisive number of binding instruments; required for a count"
    )
    delay: Delay | None = Field(default=None, description="From the decisive deposit; required for a count")
    condition: Literal["count", "not_a_count"] = Field(
        default="count", description="Whether the count of instruments alone decides the date"
    )
    description: Description | None = Field(
        default=None, description="The condition in words; required when it is not a count"
    )
    count_organisations: bool = Field(
        default=True,
        description="Whether an instrument of an organisation (a regional economic integration organisation) "
        "counts towards `instruments`; false when the treaty counts only those of States",
    )
    not_before: date | None = Field(
        default=None, description="The treaty cannot enter into force before this date, whatever the count"
    )
    fixed_date: date | None = Field(
        default=None,
        description="The treaty enters into force on this date if `instruments` were deposited by then; "
        "otherwise `delay` after the decisive deposit",
    )
    stated_date: date | None = Field(
        default=None, description="The date of entry into force the depositary states (a fact, not computed)"
    )
    in_force: bool | None = Field(
        default=None, description="False when the depositary states that the treaty is not yet in force"
    )
    source: Source | None = Field(default=None, description=_SOURCE)

    @model_validator(mode="after")
    def _consistent(self) -> EntryIntoForce:
        if self.condition == "not_a_count" and self.description is None:
            raise ValueError("a condition that is not a count needs a description")
        if self.condition == "count" and (self.instruments is None or self.delay is None):
            raise ValueError("a count needs its number of instruments and its delay")
        if self.in_force is False and self.stated_date is not None:
            raise ValueError("a treaty not in force has no stated date of entry into force")
        return self

    @property
    def computable(self) -> bool:
        """Whether the date follows from the deposits alone."""
        return self.condition == "count"

    def decisive_date(self, states: Iterable[date], organisations: Iterable[date] = ()) -> date | None:
        """The date of the `instruments`-th binding instrument, or None while fewer have been deposited.

        Pass each participant's first binding instrument once, States' and organisations' apart: an
        organisation's instrument counts only when `count_organisations`.
        """
        if self.instruments is None:
            return None
        counted = sorted([*states, *(organisations if self.count_organisations else ())])
        return counted[self.instruments - 1] if len(counted) >= self.instruments else None

    def date_from(self, decisive: date) -> date | None:
        """The entry into force when the decisive instrument is dated `decisive`; None if not computable."""
        if not self.computable or self.delay is None:
            return None
        if self.fixed_date is not None and decisive <= self.fixed_date:
            return self.fixed_date
        computed = self.delay.apply(decisive)
        if self.not_before is not None and computed < self.not_before:
            return self.not_before
        return computed

    def computed_date(self, states: Iterable[date], organisations: Iterable[date] = ()) -> date | None:
        """The entry into force these first binding instruments give; None if too few or not computable."""
        decisive = self.decisive_date(states, organisations)
        return None if decisive is None else self.date_from(decisive)


class WithdrawalTerms(_Rule):
    """How a participant may leave when no plain notice period says it: not at all, or on terms the
    arithmetic cannot carry (at the end of a fixed term, say)."""

    allowed: bool = Field(description="False when no clause provides for withdrawal or denunciation")
    description: Description = Field(description=_DESCRIPTION)
    source: Source = Field(description=_SOURCE)


class Reporting(_Rule):
    """A periodic reporting duty: an initial report, then annual updates covering the previous year."""

    initial_within_days: int = Field(ge=0)
    annual_due: str = Field(description='Month and day the annual update is due, "MM-DD"', examples=["04-30"])
    kind: str = "article7"
    source: Source | None = Field(default=None, description=_SOURCE)

    @field_validator("annual_due")
    @classmethod
    def _valid_month_day(cls, value: str) -> str:
        month, sep, day = value.partition("-")
        if not (sep and len(month) == 2 and len(day) == 2 and month.isdigit() and day.isdigit()):
            raise ValueError('annual_due must look like "MM-DD"')
        try:
            date(_REFERENCE_YEAR, int(month), int(day))
        except ValueError as exc:
            raise ValueError(f"annual_due {value!r} is not a day of every year") from exc
        return value

    def annual_due_on(self, year: int) -> date:
        """The annual update's due date in `year`."""
        return date(year, int(self.annual_due[:2]), int(self.annual_due[3:]))


class TreatyRules(_Rule):
    """What the registry knows of a treaty's rules; `None` means unknown."""

    entry_into_force: EntryIntoForce | None = None
    later_participants: Delay | None = Field(
        default=None, description="From the deposit of a participant joining after the decisive instrument"
    )
    withdrawal: Delay | None = Field(default=None, description="Notice period from the deposit of a withdrawal")
    withdrawal_terms: WithdrawalTerms | None = Field(
        default=None, description="When withdrawal is not a plain notice period: not allowed, or other terms"
    )
    reporting: Reporting | None = None

    @model_validator(mode="after")
    def _one_withdrawal_rule(self) -> TreatyRules:
        if self.withdrawal is not None and self.withdrawal_terms is not None:
            raise ValueError("give either a withdrawal notice period or withdrawal terms, not both")
        return self


MINE_BAN_RULES = TreatyRules(
    entry_into_force=EntryIntoForce(
        instruments=40,
        delay=Delay(months=6, anchor="first_day_of_month"),
        stated_date=date(1999, 3, 1),
        source="Article 17(1)",
    ),
    later_participants=Delay(months=6, anchor="first_day_of_month", source="Article 17(2)"),
    # The armed-conflict exception is carried by an event's `effective_date`.
    withdrawal=Delay(
        months=6,
        source="Article 20(3)",
        description="Six months after the depositary receives the instrument of withdrawal; a State then engaged "
        "in an armed conflict stays bound until the conflict ends.",
    ),
    reporting=Reporting(initial_within_days=180, annual_due="04-30", source="Article 7(1) and (2)"),
)
"""The rules of the Mine Ban Convention (UNTC XXVI-5)."""

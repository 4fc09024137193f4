"""A treaty's rules as data: entry into force, withdrawal notice, reporting, and their date arithmetic.

These models travel in the `rules` field of the `treaty.registered` event. Every rule is optional:
a rule the registry does not know stays `None` and the registry answers "unknown" instead of guessing.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["MINE_BAN_RULES", "Delay", "EntryIntoForce", "Reporting", "TreatyRules"]

# A non-leap year, so that an annual due date valid here is valid in every year.
_REFERENCE_YEAR = 2001


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Delay(_Rule):
    """A period counted from a date, e.g. "six months after" or "the first day of the sixth month after"."""

    months: int = Field(default=0, ge=0)
    days: int = Field(default=0, ge=0)
    anchor: Literal["date", "first_day_of_month"] = "date"

    def apply(self, d: date) -> date:
        """The date this delay ends when counted from `d`.

        "date": `d` plus `months` (clamped to the month's end) plus `days`; "first_day_of_month": the
        first day of the month `months` after `d`'s month, plus `days`.
        """
        years, month_index = divmod(d.month - 1 + self.months, 12)
        year, month = d.year + years, month_index + 1
        last_day = calendar.monthrange(year, month)[1]
        day = 1 if self.anchor == "first_day_of_month" else min(d.day, last_day)
        return date(year, month, day) + timedelta(days=self.days)


class EntryIntoForce(_Rule):
    """The treaty enters into force `delay` after the deposit of the `instruments`-th binding instrument."""

    instruments: int = Field(ge=1)
    delay: Delay


class Reporting(_Rule):
    """A periodic reporting duty: an initial report, then annual updates covering the previous year."""

    initial_within_days: int = Field(ge=0)
    annual_due: str = Field(description='Month and day the annual update is due, "MM-DD"', examples=["04-30"])
    kind: str = "article7"

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
    reporting: Reporting | None = None


_FIRST_DAY_OF_SIXTH_MONTH_AFTER = Delay(months=6, anchor="first_day_of_month")

MINE_BAN_RULES = TreatyRules(
    # Article 17(1) and (2).
    entry_into_force=EntryIntoForce(instruments=40, delay=_FIRST_DAY_OF_SIXTH_MONTH_AFTER),
    later_participants=_FIRST_DAY_OF_SIXTH_MONTH_AFTER,
    # Article 20(3); the armed-conflict exception is carried by an event's `effective_date`.
    withdrawal=Delay(months=6),
    # Article 7(1) and (2).
    reporting=Reporting(initial_within_days=180, annual_due="04-30"),
)
"""The rules of the Mine Ban Convention (UNTC XXVI-5)."""

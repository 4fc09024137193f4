"""English month names, as the UN's documents and the pages write them: not the locale's (`calendar.month_name`
follows LC_TIME)."""

from __future__ import annotations

MONTH_NAMES: tuple[str, ...] = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# Lower-case name to number, in calendar order.
MONTH_NUMBERS: dict[str, int] = {name.lower(): number for number, name in enumerate(MONTH_NAMES, start=1)}
# Any one name, as a regular-expression group (match it case-blind where the text may be in capitals).
MONTH_PATTERN = "(?:" + "|".join(MONTH_NAMES) + ")"

"""United Nations General Assembly resolution symbols (`A/RES/64/56`, `A/RES/54/54 B`)."""

from __future__ import annotations

import re

# Regular-session resolutions since the thirty-first session: session/number, optionally a letter
# for one of several resolutions adopted under the same number. `A/` alone is a document symbol
# (a report such as A/64/391), so it is only accepted in front of `RES/`.
_SYMBOL = re.compile(
    r"""
    \s*
    (?:(?:A\s*/\s*)?RES\s*/\s*)?
    (?P<session>[1-9][0-9]{0,2})
    \s*/\s*
    (?P<number>[1-9][0-9]{0,3})
    (?:\s*(?P<letter>[A-Z]))?
    \s*
    """,
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)


def normalize_resolution_symbol(text: str) -> str:
    """Return the canonical symbol (`A/RES/64/56`, `A/RES/54/54 B`) for a GA resolution reference.

    Raises ValueError when `text` is not a General Assembly resolution symbol.
    """
    match = _SYMBOL.fullmatch(text)
    if match is None:
        raise ValueError(
            f"not a General Assembly resolution symbol: {text!r} (expected e.g. '64/56', 'A/RES/64/56' or '54/54 B')"
        )
    symbol = f"A/RES/{match['session']}/{match['number']}"
    if match["letter"]:
        symbol += f" {match['letter'].upper()}"
    return symbol


def session_of(symbol: str) -> int:
    """Return the General Assembly session a resolution symbol belongs to (64 for `A/RES/64/56`)."""
    return int(normalize_resolution_symbol(symbol).split("/")[2])

"""Resolution texts the tests make from the seed (data/resolutions/A-RES-64-56.txt), so that none is committed twice."""

from __future__ import annotations

# (seed, variant): the seed's text as if adopted two sessions earlier, as 62/41 on 5 December 2007, recalling
# only what came before and claiming 155 parties: the count of the record before Palau's accession of 19 November
# 2007, which a text drafted in October would give.
_TWO_SESSIONS_EARLIER = (
    ("Sixty-fourth session", "Sixty-second session"),
    ("12 January 2010", "14 January 2008"),
    ("on 2 December 2009", "on 5 December 2007"),
    ("(A/64/391)", "(A/62/391)"),
    ("64/56. Implementation", "62/41. Implementation"),
    (
        "60/80 of 8 December 2005, 61/84 of 6 December 2006, 62/41 of 5 December 2007 and 63/42 of 2 December 2008,",
        "60/80 of 8 December 2005 and 61/84 of 6 December 2006,",
    ),
    ("2009 marks the tenth anniversary", "2007 marks the eighth anniversary"),
    ("one hundred and fifty-six States", "one hundred and fifty-five States"),
    ("*55th plenary meeting\n2 December 2009*", "*61st plenary meeting\n5 December 2007*"),
)


def two_sessions_earlier(seed: str) -> str:
    """The seed as resolution 62/41 of 5 December 2007 claiming 155 parties, one fewer than the record counts."""
    for old, new in _TWO_SESSIONS_EARLIER:
        if old not in seed:
            raise ValueError(f"the seed no longer holds {old!r}")
        seed = seed.replace(old, new)
    return seed

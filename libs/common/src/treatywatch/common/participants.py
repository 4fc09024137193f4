"""Participants in treaties: UN names mapped to ISO 3166 alpha-3 codes.

The UN Treaty Collection names participants by their UN short names (`Bolivia (Plurinational State of)`,
`Czechoslovakia`, `State of Palestine`), which are not always the ISO names. States resolve to their
current or historic ISO 3166 code; international organisations have no code and keep their name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import pycountry

__all__ = ["Participant", "is_organisation", "participant_name", "resolve_participant"]


@dataclass(frozen=True)
class Participant:
    """A treaty participant: ISO 3166 alpha-3 `code` (None for organisations) and the UN `name`."""

    code: str | None
    name: str


# UN usage that pycountry does not spell the same way, including former States (historic ISO codes)
# and Kosovo, whose XKX is user-assigned but used by the UN system and the EU.
_UN_NAMES: dict[str, str] = {
    "Bolivia (Plurinational State of)": "BOL",
    "Bolivia": "BOL",
    "Venezuela (Bolivarian Republic of)": "VEN",
    "Venezuela": "VEN",
    "Iran (Islamic Republic of)": "IRN",
    "Iran": "IRN",
    "Micronesia (Federated States of)": "FSM",
    "Micronesia": "FSM",
    "Republic of Korea": "KOR",
    "Democratic People's Republic of Korea": "PRK",
    "Republic of Moldova": "MDA",
    "Moldova": "MDA",
    "United Republic of Tanzania": "TZA",
    "The former Yugoslav Republic of Macedonia": "MKD",
    "North Macedonia": "MKD",
    "Türkiye": "TUR",
    "Turkey": "TUR",
    "State of Palestine": "PSE",
    "Palestine": "PSE",
    "Holy See": "VAT",
    "Côte d'Ivoire": "CIV",
    "Ivory Coast": "CIV",
    "Cabo Verde": "CPV",
    "Cape Verde": "CPV",
    "Swaziland": "SWZ",
    "Czech Republic": "CZE",
    "Libyan Arab Jamahiriya": "LBY",
    "Syria": "SYR",
    "Democratic Republic of the Congo": "COD",
    "Hong Kong": "HKG",
    "China, Hong Kong Special Administrative Region": "HKG",
    "Macao": "MAC",
    "China, Macao Special Administrative Region": "MAC",
    "British Virgin Islands": "VGB",
    "United Kingdom": "GBR",
    "Federal Republic of Germany": "DEU",
    "Kosovo": "XKX",
    # Former States: the historic ISO 3166-3 codes.
    "Czechoslovakia": "CSK",
    "Czech and Slovak Federal Republic": "CSK",
    "Yugoslavia": "YUG",
    "Socialist Federal Republic of Yugoslavia": "YUG",
    "Serbia and Montenegro": "SCG",
    "German Democratic Republic": "DDR",
    "Union of Soviet Socialist Republics": "SUN",
    "USSR": "SUN",
    "Democratic Yemen": "YMD",
    # Renamed States keep one identity: their acts stay with the current code.
    "Byelorussian Soviet Socialist Republic": "BLR",
    "Ukrainian Soviet Socialist Republic": "UKR",
    "Burma": "MMR",
    "Zaire": "COD",
    "Dahomey": "BEN",
    "Upper Volta": "BFA",
    "Ceylon": "LKA",
    "Democratic Kampuchea": "KHM",
    "Khmer Republic": "KHM",
    "East Timor": "TLS",
}

# Display names in current UN usage where pycountry's name is inverted or differs.
_UN_DISPLAY: dict[str, str] = {
    "BOL": "Bolivia (Plurinational State of)",
    "VEN": "Venezuela (Bolivarian Republic of)",
    "IRN": "Iran (Islamic Republic of)",
    "FSM": "Micronesia (Federated States of)",
    "KOR": "Republic of Korea",
    "PRK": "Democratic People's Republic of Korea",
    "MDA": "Republic of Moldova",
    "TZA": "United Republic of Tanzania",
    "PSE": "State of Palestine",
    "VAT": "Holy See",
    "COD": "Democratic Republic of the Congo",
    "GBR": "United Kingdom of Great Britain and Northern Ireland",
    "USA": "United States of America",
    "VGB": "British Virgin Islands",
    "VIR": "United States Virgin Islands",
    "TWN": "Taiwan",
    "XKX": "Kosovo",
    "CSK": "Czechoslovakia",
    "YUG": "Yugoslavia",
    "SCG": "Serbia and Montenegro",
    "DDR": "German Democratic Republic",
    "SUN": "Union of Soviet Socialist Republics",
    "YMD": "Democratic Yemen",
}

_USER_ASSIGNED: dict[str, str] = {"XK": "XKX", "XKX": "XKX"}

# Words that only the names of international organisations carry; used once a name did not resolve.
_ORGANISATION = re.compile(
    r"\b(union|community|organi[sz]ation|agency|commission|council|united nations|bank|fund|"
    r"secretariat|court|association|market|institute|conference|authority|office)\b",
    re.IGNORECASE,
)

# Footnote marks the UN glues to names: trailing digits, symbols, superscripts, "[1]" or "(2)".
_MARKS = frozenset(",;*†‡§#¹²³⁰⁴⁵⁶⁷⁸⁹/")
_LEADING_MARKS = re.compile(r"^[\s*†‡§#]+")
_WHITESPACE = re.compile(r"\s+")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_SAINT = re.compile(r"\bst\b\.?")


def _strip_trailing_marks(text: str) -> str:
    """`text` without its trailing marks, read once from the end (a `...$` pattern retries from every position).

    Digits are decimal ones (`str.isdecimal`, as a pattern's `\\d`): a superscript is a mark only as listed in `_MARKS`.
    """
    end = len(text)
    while end:
        last = text[end - 1]
        if last in _MARKS or last.isspace() or last.isdecimal():
            end -= 1
        elif last in "])" and (start := _bracketed_number_start(text, end - 1)) is not None:
            end = start
        else:
            break
    return text[:end]


def _bracketed_number_start(text: str, close: int) -> int | None:
    """Where `[ 12 ]` or `(3)` ending at `close` starts; None when the brackets hold no number."""
    i = close - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    digits_end = i
    while i >= 0 and text[i].isdecimal():
        i -= 1
    if i == digits_end:
        return None
    while i >= 0 and text[i].isspace():
        i -= 1
    return i if i >= 0 and text[i] in "[(" else None


def clean_name(name: str) -> str:
    """The name without footnote marks and with single spaces."""
    text = _WHITESPACE.sub(" ", unicodedata.normalize("NFC", name)).strip()
    text = _LEADING_MARKS.sub("", _strip_trailing_marks(text))
    return text.strip()


def _key(name: str) -> str:
    """A spelling-insensitive key: no accents, case, punctuation, `St.` or leading `the`."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub("['’`]", "", text).replace("&", " and ")
    text = _SAINT.sub("saint", text)
    text = _NOT_ALNUM.sub(" ", text).strip()
    return text.removeprefix("the ")


def _inverted(name: str) -> str:
    """ISO's `Korea, Republic of` read the UN way: `Republic of Korea`."""
    head, sep, tail = name.partition(", ")
    return f"{tail} {head}" if sep else name


@cache
def _name_index() -> dict[str, str]:
    """Normalised name -> alpha-3, built once; the UN table wins, then current, then historic names."""
    index: dict[str, str] = {}
    for un_name, code in _UN_NAMES.items():
        index.setdefault(_key(un_name), code)
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if isinstance(value, str):
                index.setdefault(_key(value), country.alpha_3)
                index.setdefault(_key(_inverted(value)), country.alpha_3)
    for historic in pycountry.historic_countries:
        value = historic.name
        index.setdefault(_key(value), historic.alpha_3)
        index.setdefault(_key(_inverted(value)), historic.alpha_3)
    return index


@cache
def _known_codes() -> dict[str, str]:
    """Accepted input codes (alpha-3, alpha-2 of current countries, historic alpha-3) -> alpha-3."""
    codes: dict[str, str] = {}
    for historic in pycountry.historic_countries:
        codes[historic.alpha_3] = historic.alpha_3
    for country in pycountry.countries:
        codes[country.alpha_3] = country.alpha_3
        codes[country.alpha_2] = country.alpha_3
    codes.update(_USER_ASSIGNED)
    return codes


# Bounded: names come from requests too, and an unbounded cache is memory anyone can fill.
@lru_cache(maxsize=4096)
def resolve_participant(name: str) -> Participant:
    """Resolve a UN participant name (or an alpha-3/alpha-2 code) to its ISO 3166 alpha-3 code."""
    cleaned = clean_name(name)
    if re.fullmatch(r"[A-Z]{2,3}", cleaned):
        code = _known_codes().get(cleaned)
        if code is not None:
            return Participant(code=code, name=participant_name(code) or cleaned)
    return Participant(code=_name_index().get(_key(cleaned)), name=cleaned)


@lru_cache(maxsize=4096)
def participant_code(name: str) -> str:
    """The key a participant is known by: its ISO code, or its cleaned UN name when it has none."""
    resolved = resolve_participant(name)
    return resolved.code or resolved.name


def participant_name(code: str) -> str | None:
    """A display name in UN usage for an alpha-3 (or alpha-2) code; None for an unknown code."""
    alpha3 = _known_codes().get(code.strip().upper())
    if alpha3 is None:
        return None
    if alpha3 in _UN_DISPLAY:
        return _UN_DISPLAY[alpha3]
    country = pycountry.countries.get(alpha_3=alpha3)
    record = country if country is not None else pycountry.historic_countries.get(alpha_3=alpha3)
    if record is None:
        return None
    name: str = record.name
    common = getattr(record, "common_name", None)
    if "," in name and isinstance(common, str):
        return common
    return _inverted(name)


def is_organisation(name: str) -> bool:
    """True when a name that does not resolve to a State reads as an international organisation."""
    return resolve_participant(name).code is None and bool(_ORGANISATION.search(clean_name(name)))

"""The registry's Atom feeds as documents: well-formed XML that RFC 4287 accepts, whatever the names in the record
hold; stable ids from the events' ids; dates in RFC 3339. `atom_checks` is shared with the end-to-end tests."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import feedparser  # type: ignore[import-untyped]
import pytest

from treatywatch.registry.domain import ActionRecord
from treatywatch.registry.routes.feeds import ATOM, TAG, atom, entry_id, rfc3339
from treatywatch.registry.service import Feed, Recorded

NS = {"a": ATOM}
# RFC 3339's date-time (section 5.6), as RFC 4287 (3.3) requires it: an upper-case T and Z, a time zone always.
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")
BASE = "http://registry.example/"


def text_of(element: ET.Element, path: str) -> str:
    found = element.find(path, NS)
    assert found is not None, path
    return found.text or ""


def atom_checks(document: bytes) -> ET.Element:
    """The document parsed, after the checks RFC 4287 makes of a feed and its entries (section 4.1)."""
    root = ET.fromstring(document)
    assert root.tag == f"{{{ATOM}}}feed"
    # A feed: exactly one id, title and updated; an author unless every entry has one; at most one self link.
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"a:{name}", NS)) == 1, name
    assert text_of(root, "a:id") and text_of(root, "a:title")
    assert RFC3339.match(text_of(root, "a:updated"))
    entries = root.findall("a:entry", NS)
    assert root.findall("a:author", NS) or all(e.findall("a:author", NS) for e in entries)
    assert len(root.findall("a:link[@rel='self']", NS)) == 1
    ids = []
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"a:{name}", NS)) == 1, name
        for name in ("published", "summary"):
            assert len(entry.findall(f"a:{name}", NS)) <= 1, name
        assert RFC3339.match(text_of(entry, "a:updated")) and RFC3339.match(text_of(entry, "a:published"))
        # No content: then an alternate link and a summary.
        assert entry.find("a:content", NS) is None
        assert entry.findall("a:link[@rel='alternate']", NS) and text_of(entry, "a:summary")
        for link in entry.findall("a:link", NS):
            assert re.match(r"^https?://", link.attrib["href"]), link.attrib
        ids.append(text_of(entry, "a:id"))
    assert len(ids) == len(set(ids)), "entry ids repeat"
    assert all(re.match(r"^(tag|urn|https?):", i) for i in [*ids, text_of(root, "a:id")])
    return root


def feedparser_reads(document: bytes) -> Any:
    """feedparser's reading of the document: as common feed readers read it, with no complaint."""
    parsed = feedparser.parse(document)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


APPLIED = datetime(2013, 1, 2, 9, 30, 15, tzinfo=UTC)


def recorded(
    event_id: str,
    name: str = "Poland",
    applied: datetime = APPLIED,
    participant: str = "POL",
    **act: Any,
) -> Recorded:
    record = ActionRecord(event_id, act.pop("action", "ratification"), act.pop("day", date(2012, 12, 27)), **act)
    return Recorded("XXVI-5", "Mine Ban Convention", participant, name, record, applied, applied - timedelta(hours=1))


def document(*entries: Recorded, name: str = "Mine Ban Convention") -> bytes:
    feed = Feed("XXVI-5", name, list(entries))
    return atom(
        feed,
        feed_id=f"{TAG}treaties/XXVI-5/actions",
        title=f"{name} (XXVI-5): actions recorded",
        self_url=f"{BASE}v1/treaties/XXVI-5/feed.atom",
        page_url=f"{BASE}ui/treaties/XXVI-5",
        base=BASE,
    )


def test_an_entry_names_the_act_its_dates_and_its_notification() -> None:
    poland = recorded(
        "cn:C.N.1.2013.TREATIES-XXVI.5",
        effective_date=date(2013, 6, 1),
        notification="C.N.1.2013.TREATIES-XXVI.5",
    )
    root = atom_checks(document(poland))
    [entry] = root.findall("a:entry", NS)
    assert text_of(entry, "a:id") == "tag:treatywatch.org,2026:event:cn:C.N.1.2013.TREATIES-XXVI.5"
    assert text_of(entry, "a:title") == "Poland: ratification of the Mine Ban Convention"
    assert text_of(entry, "a:updated") == "2013-01-02T09:30:15Z"
    assert text_of(entry, "a:published") == "2013-01-02T08:30:15Z"
    assert text_of(entry, "a:summary") == (
        "Poland, Mine Ban Convention (XXVI-5): Ratification on 27 December 2012; stated to take effect on 1 June "
        "2013; depositary notification C.N.1.2013.TREATIES-XXVI.5."
    )
    [alternate] = entry.findall("a:link[@rel='alternate']", NS)
    assert alternate.attrib == {"rel": "alternate", "type": "text/html", "href": f"{BASE}ui/participants/POL"}
    assert text_of(root, "a:updated") == "2013-01-02T09:30:15Z"
    assert root.find("a:link[@rel='self']", NS).attrib["href"] == f"{BASE}v1/treaties/XXVI-5/feed.atom"  # type: ignore[union-attr]
    parsed = feedparser_reads(document(poland))
    assert parsed.feed.title == "Mine Ban Convention (XXVI-5): actions recorded"
    assert [e.id for e in parsed.entries] == [text_of(entry, "a:id")]
    assert "C.N.1.2013.TREATIES-XXVI.5" in parsed.entries[0].summary


HOSTILE = '<script>alert("x")</script> & ]]> \x00\x01\x0b\ud800 \u2028 “Côte d’Ivoire” 🇨🇮'


def test_whatever_the_names_hold_the_feed_is_well_formed_and_says_it_as_text() -> None:
    entry = recorded(
        'odd id "with" <markup> & #frag %41 {x}|^`\\',
        name=HOSTILE,
        participant=HOSTILE,
        notification=HOSTILE,
        corrects=HOSTILE,
    )
    body = document(entry, name=HOSTILE)
    assert b"<script>" not in body and b"]]>" not in body
    root = atom_checks(body)
    [parsed] = root.findall("a:entry", NS)
    title = text_of(parsed, "a:title")
    # Markup stays text; what XML cannot carry is replaced, the rest is kept.
    assert title.startswith('<script>alert("x")</script> & ]]> \ufffd\ufffd\ufffd\ufffd \u2028 “Côte d’Ivoire” 🇨🇮:')
    href = parsed.find("a:link[@rel='alternate']", NS).attrib["href"]  # type: ignore[union-attr]
    assert href.startswith(f"{BASE}ui/participants/%3Cscript%3E") and " " not in href and '"' not in href
    # A tag URI: what it may not hold is percent-encoded, so the id is a URI and the same every time.
    assert text_of(parsed, "a:id") == (
        "tag:treatywatch.org,2026:event:odd%20id%20%22with%22%20%3Cmarkup%3E%20&%20%23frag%20%2541%20%7Bx%7D%7C%5E%60%5C"
    )
    assert text_of(parsed, "a:id") == entry_id('odd id "with" <markup> & #frag %41 {x}|^`\\')
    feedparser_reads(body)


def test_the_feed_is_newest_first_as_given_and_updated_by_its_latest_entry() -> None:
    first = recorded("a", applied=APPLIED)
    second = recorded("b", applied=APPLIED + timedelta(days=3), action="withdrawal", day=date(2013, 1, 4))
    root = atom_checks(document(second, first))
    assert [text_of(e, "a:id") for e in root.findall("a:entry", NS)] == [entry_id("b"), entry_id("a")]
    assert text_of(root, "a:updated") == "2013-01-05T09:30:15Z"
    assert text_of(root.findall("a:entry", NS)[0], "a:title") == "Poland: withdrawal of the Mine Ban Convention"


def test_an_empty_feed_is_still_a_valid_feed() -> None:
    root = atom_checks(document())
    assert root.findall("a:entry", NS) == []
    feedparser_reads(document())


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (datetime(2013, 1, 2, 9, 30, 15, 999_999, tzinfo=UTC), "2013-01-02T09:30:15Z"),
        (datetime(2013, 1, 2, 0, 30, tzinfo=timezone(timedelta(hours=2))), "2013-01-01T22:30:00Z"),
        (datetime(2013, 1, 2, 9, 30), "2013-01-02T09:30:00Z"),
    ],
)
def test_timestamps_are_rfc_3339_in_utc(moment: datetime, written: str) -> None:
    assert rfc3339(moment) == written and RFC3339.match(written)

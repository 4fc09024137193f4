"""Atom feeds (RFC 4287) of the actions recorded: per treaty and per participant, the latest first.

Written with the standard library's ElementTree, which escapes markup; the characters XML 1.0 cannot carry at all
(control characters, lone surrogates) are replaced first. Each entry's id is a tag URI (RFC 4151) built from its
event's id, so it never changes; the links are absolute, built from the request's base URL.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from treatywatch.registry import service
from treatywatch.registry.domain import date_in_words
from treatywatch.registry.routes.deps import READ, Db, Views
from treatywatch.registry.service import Feed, Recorded

router = APIRouter(prefix="/v1", tags=["feeds"], dependencies=[READ])

ATOM = "http://www.w3.org/2005/Atom"
MEDIA = "application/atom+xml"
# The ids' authority and the day it was first used for them (RFC 4151): they must never change.
TAG = "tag:treatywatch.org,2026:"
AUTHOR = "Treaty Watch registry"
MAX_ENTRIES = 200
# What XML 1.0 cannot hold, escaped or not.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# A tag URI's specific part takes these as they are (RFC 3986 pchar, "/" and "?"); everything else is %-encoded.
_TAG_SAFE = "-._~!$&'()*+,;=:@/?"


class AtomResponse(Response):
    media_type = f"{MEDIA}; charset=utf-8"


Limit = Annotated[int, Query(ge=1, le=MAX_ENTRIES, description="at most this many entries, the latest")]


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _el(parent: ET.Element, name: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, name, {k: _text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = _text(text)
    return element


def rfc3339(moment: datetime) -> str:
    """A timestamp as Atom writes it (RFC 3339, UTC); one without a zone is taken as UTC, as MongoDB keeps them."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _tag(kind: str, key: str) -> str:
    return f"{TAG}{kind}{quote(_text(key), safe=_TAG_SAFE)}"


def entry_id(event_id: str) -> str:
    """The entry's id: a tag URI of its event's id, the same on every request and every host."""
    return _tag("event:", event_id)


def _page(base: str, kind: str, key: str) -> str:
    return f"{base}ui/{kind}/{quote(_text(key), safe='')}"


def _summary(recorded: Recorded) -> str:
    act = recorded.act
    words = [f"{act.action.replace('_', ' ').capitalize()} on {date_in_words(act.date)}"]
    if act.effective_date is not None:
        words.append(f"stated to take effect on {date_in_words(act.effective_date)}")
    if act.notification:
        words.append(f"depositary notification {act.notification}")
    if act.corrects:
        words.append(f"corrects {act.corrects}")
    return f"{recorded.name}, {recorded.treaty_title} ({recorded.treaty_id}): {'; '.join(words)}."


def _entry(feed: ET.Element, recorded: Recorded, base: str) -> None:
    act = recorded.act
    entry = _el(feed, "entry")
    _el(entry, "id", entry_id(act.event_id))
    _el(entry, "title", f"{recorded.name}: {act.action.replace('_', ' ')} of the {recorded.treaty_title}")
    _el(entry, "updated", rfc3339(recorded.applied_at))
    _el(entry, "published", rfc3339(recorded.recorded_at))
    _el(_el(entry, "author"), "name", AUTHOR)
    _el(entry, "link", rel="alternate", type="text/html", href=_page(base, "participants", recorded.participant))
    _el(entry, "link", rel="related", type="text/html", href=_page(base, "treaties", recorded.treaty_id))
    _el(entry, "category", term=act.action, label=act.action.replace("_", " "))
    _el(entry, "summary", _summary(recorded), type="text")


def atom(feed: Feed, *, feed_id: str, title: str, self_url: str, page_url: str, base: str) -> bytes:
    """The feed as an Atom document: its entries newest first, `updated` when the latest was applied (now when it
    has none)."""
    # The Atom namespace as the default one, written as it is: ElementTree's `default_namespace` refuses the
    # unqualified attributes Atom uses.
    root = ET.Element("feed", {"xmlns": ATOM})
    _el(root, "id", feed_id)
    _el(root, "title", title)
    latest = max((r.applied_at for r in feed.entries), default=datetime.now(UTC))
    _el(root, "updated", rfc3339(latest))
    _el(root, "link", rel="self", type=MEDIA, href=self_url)
    _el(root, "link", rel="alternate", type="text/html", href=page_url)
    _el(_el(root, "author"), "name", AUTHOR)
    _el(root, "generator", "Treaty Watch")
    for recorded in feed.entries:
        _entry(root, recorded, base)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "An Atom feed (RFC 4287)", "content": {MEDIA: {"schema": {"type": "string"}}}}
}


@router.get(
    "/treaties/{treaty_id}/feed.atom",
    summary="The actions recorded on a treaty, the latest first, as an Atom feed",
    response_class=AtomResponse,
    responses=_RESPONSES,
)
async def treaty_feed(treaty_id: str, request: Request, db: Db, views: Views, limit: Limit = 50) -> AtomResponse:
    feed = await service.treaty_feed(db, views, treaty_id, limit)
    base = str(request.base_url)
    document = atom(
        feed,
        feed_id=_tag("treaties/", treaty_id) + "/actions",
        title=f"{feed.name} ({treaty_id}): actions recorded",
        self_url=str(request.url),
        page_url=_page(base, "treaties", treaty_id),
        base=base,
    )
    return AtomResponse(document)


@router.get(
    "/participants/{participant}/feed.atom",
    summary="The actions recorded of a participant in every treaty, the latest first, as an Atom feed",
    response_class=AtomResponse,
    responses=_RESPONSES,
)
async def participant_feed(participant: str, request: Request, db: Db, views: Views, limit: Limit = 50) -> AtomResponse:
    feed = await service.participant_feed(db, views, participant, limit)
    base = str(request.base_url)
    document = atom(
        feed,
        feed_id=_tag("participants/", feed.key) + "/actions",
        title=f"{feed.name}: actions recorded",
        self_url=str(request.url),
        page_url=_page(base, "participants", feed.key),
        base=base,
    )
    return AtomResponse(document)

"""The dashboard: pages under /ui that draw the registry's JSON in the browser (no CDN, no build step).

Each page is its `<main>` (pages/) set in the one layout (layout.html: head, skip link, header, footer). The
scripts are native ES modules (assets/); `contract.js` among them is written here from the event contract, so
the pages name event types and claim kinds as Python defines them. A treaty's and a participant's page name their
Atom feed in the head, where feed readers look for it, so those two are finished per request.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import PurePath
from string import Template
from typing import NamedTuple
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from treatywatch.common.events import CLAIM_KINDS, EVENT_TYPES
from treatywatch.common.web import Problem

router = APIRouter(prefix="/ui", include_in_schema=False)
MEDIA = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
SECURITY = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
CONTRACT = "contract.js"
_FILES = resources.files(__name__)


class Page(NamedTuple):
    """A page's title (" · Treaty Watch" follows it) and its meta description."""

    title: str
    description: str


PAGES = {
    "home": Page("Dashboard", "Search treaties, participants and resolutions, and see what changed last."),
    "treaty": Page("Treaty", "A treaty's parties over time, its rules and every participant's status on any date."),
    "participant": Page(
        "Participant", "Every treaty a State has acted on, its status and dates, and its overdue reports."
    ),
    "resolution": Page(
        "Resolution", "A General Assembly resolution, what it recalls, and whether its claims match the record."
    ),
}
# The pages of one treaty or participant: their Atom feed's path and title, each given the page's key.
FEEDS = {
    "treaty": ("/v1/treaties/{}/feed.atom", "Actions recorded on {}"),
    "participant": ("/v1/participants/{}/feed.atom", "Actions recorded of {}"),
}
# Where a page's feed link goes, in the layout's text; never in any page's own.
_FEED_MARK = "\x00feed\x00"
# Every file shipped in assets/ of a type we serve, and the generated contract: nothing else answers.
ASSETS = frozenset(
    {f.name for f in _FILES.joinpath("assets").iterdir() if f.is_file() and PurePath(f.name).suffix in MEDIA}
    | {CONTRACT}
)


class Body(NamedTuple):
    """What a page or asset answers, kept in memory: its bytes, media type and ETag."""

    content: bytes
    media: str
    etag: str


def _body(content: bytes, suffix: str) -> Body:
    return Body(content, MEDIA[suffix], f'"{hashlib.sha256(content).hexdigest()[:16]}"')


def _constants(values: Iterable[str]) -> dict[str, str]:
    # JavaScript names for the contract's values: "treaty.action.recorded" is EVENT.TREATY_ACTION_RECORDED.
    return {re.sub(r"\W", "_", value).upper(): value for value in values}


def _contract_js() -> str:
    return (
        "// Written by treatywatch.registry.ui from treatywatch.common.events: the names, never a copy of them.\n"
        f"export const EVENT = Object.freeze({json.dumps(_constants(EVENT_TYPES))});\n"
        f"export const CLAIM = Object.freeze({json.dumps(_constants(CLAIM_KINDS))});\n"
    )


# A few small files, read or built once and served from memory; the ETag lets browsers revalidate cheaply.
@cache
def _text(name: str) -> str:
    """The page in its layout, with `_FEED_MARK` where a feed link goes."""
    page = PAGES[name]
    layout = Template(_FILES.joinpath("layout.html").read_text(encoding="utf-8"))
    return layout.substitute(
        title=html.escape(page.title),
        description=html.escape(page.description),
        page=name,
        feed=_FEED_MARK,
        main=_FILES.joinpath("pages", f"{name}.html").read_text(encoding="utf-8"),
    )


@cache
def _page(name: str) -> Body:
    return _body(_text(name).replace(_FEED_MARK, "").encode(), ".html")


def _page_of(name: str, key: str) -> Body:
    """The page of one treaty or participant (`key`), naming its Atom feed for feed readers to find."""
    path, title = FEEDS[name]
    href, label = html.escape(path.format(quote(key, safe=""))), html.escape(title.format(key))
    link = f'<link rel="alternate" type="application/atom+xml" title="{label}" href="{href}">\n'
    return _body(_text(name).replace(_FEED_MARK, link).encode(), ".html")


@cache
def _asset(name: str) -> Body:
    if name == CONTRACT:
        return _body(_contract_js().encode(), ".js")
    return _body(_FILES.joinpath("assets", name).read_bytes(), PurePath(name).suffix)


def _send(request: Request, body: Body) -> Response:
    headers = {"ETag": body.etag, "Cache-Control": "no-cache", **SECURITY}
    if request.headers.get("if-none-match") == body.etag:
        return Response(status_code=304, headers=headers)
    return Response(body.content, media_type=body.media, headers=headers)


@router.get("/")
async def home(request: Request) -> Response:
    return _send(request, _page("home"))


@router.get("/treaties/{treaty_id}")
async def treaty(request: Request, treaty_id: str) -> Response:
    return _send(request, _page_of("treaty", treaty_id))


@router.get("/participants/{participant}")
async def participant(request: Request, participant: str) -> Response:
    return _send(request, _page_of("participant", participant))


@router.get("/resolutions/{symbol:path}")
async def resolution(request: Request, symbol: str) -> Response:
    return _send(request, _page("resolution"))


@router.get("/assets/{name}")
async def asset(request: Request, name: str) -> Response:
    if name not in ASSETS:
        raise Problem(404, "Not found", f"no dashboard asset {name!r}")
    return _send(request, _asset(name))

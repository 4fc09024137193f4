"""The dashboard: static pages under /ui that draw the registry's JSON in the browser (no CDN, no build step)."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request, Response

from treatywatch.common.web import Problem

router = APIRouter(prefix="/ui", include_in_schema=False)
MEDIA = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
ASSETS = ("style.css", "app.js", "favicon.svg")
SECURITY = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@cache
def _file(name: str) -> tuple[bytes, str]:
    # A few small files, read once and served from memory; the ETag lets browsers revalidate cheaply.
    body = resources.files("treatywatch.registry").joinpath("ui", name).read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:16]


def _send(request: Request, name: str, cache_control: str) -> Response:
    body, etag = _file(name)
    headers = {"ETag": f'"{etag}"', "Cache-Control": cache_control, **SECURITY}
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA[name[name.rindex(".") :]], headers=headers)


def _page(request: Request, name: str) -> Response:
    return _send(request, f"{name}.html", "no-cache")


@router.get("/")
async def home(request: Request) -> Response:
    return _page(request, "home")


@router.get("/treaties/{treaty_id}")
async def treaty(request: Request, treaty_id: str) -> Response:
    return _page(request, "treaty")


@router.get("/participants/{participant}")
async def participant(request: Request, participant: str) -> Response:
    return _page(request, "participant")


@router.get("/resolutions/{symbol:path}")
async def resolution(request: Request, symbol: str) -> Response:
    return _page(request, "resolution")


@router.get("/assets/{name}")
async def asset(request: Request, name: str) -> Response:
    if name not in ASSETS:
        raise Problem(404, "Not found", f"no dashboard asset {name!r}")
    return _send(request, name, "no-cache")

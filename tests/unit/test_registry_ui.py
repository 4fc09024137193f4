"""The dashboard's pages and assets as the registry serves them: no request leaves the host, nothing is inlined."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from treatywatch.common.settings import Settings
from treatywatch.common.web import create_app
from treatywatch.registry import ui

PAGES = {
    "/ui/": "home",
    "/ui/treaties/XXVI-5": "treaty",
    "/ui/participants/AFG": "participant",
    "/ui/resolutions/A/RES/64/56": "resolution",
}


@asynccontextmanager
async def _nothing(_: FastAPI) -> AsyncIterator[None]:
    yield


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(title="ui", description="ui", settings=Settings(), lifespan=_nothing, checks=lambda _: {})
    app.include_router(ui.router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry") as client:
        yield client


@pytest.mark.parametrize(("path", "page"), PAGES.items())
async def test_each_page_has_a_stable_url_and_loads_only_local_assets(
    client: httpx.AsyncClient, path: str, page: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    html = response.text
    assert f'data-page="{page}"' in html and '<html lang="en">' in html
    assert 'name="viewport"' in html
    # No CDN, no inline script or style: every asset is one of ours.
    references = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert [r for r in references if not r.startswith("/")] == []
    assert "<style" not in html and "style=" not in html and re.search(r"<script(?![^>]*src=)", html) is None
    for asset in (r for r in references if r.startswith("/ui/assets/")):
        assert (await client.get(asset)).status_code == 200, asset


async def test_assets_revalidate_with_an_etag_and_unknown_names_are_404(client: httpx.AsyncClient) -> None:
    first = await client.get("/ui/assets/app.js")
    assert first.headers["content-type"].startswith("text/javascript")
    again = await client.get("/ui/assets/app.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    missing = await client.get("/ui/assets/ui.py")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_the_script_fetches_only_the_registry_json(client: httpx.AsyncClient) -> None:
    script = (await client.get("/ui/assets/app.js")).text
    assert "http://" not in script.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in script
    assert not re.search(r"\beval\(|new Function|innerHTML", script)

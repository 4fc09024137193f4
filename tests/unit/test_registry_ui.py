"""The dashboard's pages and assets as the registry serves them: no request leaves the host, nothing is inlined."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from treatywatch.common.events import CLAIM_KINDS, EVENT_TYPES
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


async def test_every_page_wears_the_one_layout(client: httpx.AsyncClient) -> None:
    for path, page in PAGES.items():
        html = (await client.get(path)).text
        # The chrome once: skip link first, then banner, navigation, main and footer; the page's own module.
        assert re.search(r'<body data-page="\w+">\n<a class="skip" href="#main">', html), page
        for tag in ("<header ", "<nav ", '<main id="main"', "<footer "):
            assert html.count(tag) == 1, (page, tag)
        assert f'<script type="module" src="/ui/assets/{page}.js"></script>' in html
        assert f"<title>{ui.PAGES[page].title} · Treaty Watch</title>" in html
        assert "$" not in html, "a layout placeholder left unfilled"


async def test_assets_revalidate_with_an_etag_and_unknown_names_are_404(client: httpx.AsyncClient) -> None:
    for name in ("dom.js", "contract.js", "style.css"):
        first = await client.get(f"/ui/assets/{name}")
        assert first.status_code == 200
        again = await client.get(f"/ui/assets/{name}", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
    for name in ("__init__.py", "layout.html", "home.html", "..%2F__init__.py"):
        missing = await client.get(f"/ui/assets/{name}")
        assert missing.status_code == 404, name
        assert missing.headers["content-type"] == "application/problem+json"


def _imports(script: str) -> list[str]:
    return re.findall(r'^import [^;]+ from "\./([\w-]+\.js)";$', script, re.MULTILINE)


async def test_the_modules_load_as_javascript_and_each_is_imported(client: httpx.AsyncClient) -> None:
    modules = sorted(name for name in ui.ASSETS if name.endswith(".js"))
    scripts = {}
    for name in modules:
        response = await client.get(f"/ui/assets/{name}")
        assert response.status_code == 200, name
        # Browsers refuse a module served under any other type.
        assert response.headers["content-type"] == "text/javascript; charset=utf-8", name
        scripts[name] = response.text
    # From the four pages' modules every import resolves, and every module is reached: none is left unused.
    reached, todo = set(), [f"{page}.js" for page in ui.PAGES]
    while todo:
        name = todo.pop()
        if name not in reached:
            assert name in scripts, f"{name} is imported but not served"
            reached.add(name)
            todo.extend(_imports(scripts[name]))
    assert sorted(reached) == modules


async def test_the_scripts_fetch_only_the_registry_json(client: httpx.AsyncClient) -> None:
    for name in (n for n in ui.ASSETS if n.endswith(".js")):
        script = (await client.get(f"/ui/assets/{name}")).text
        assert "http://" not in script.replace("http://www.w3.org/2000/svg", ""), name
        assert "https://" not in script, name
        assert not re.search(r"\beval\(|new Function|innerHTML|outerHTML|insertAdjacentHTML|document\.write", script), (
            name
        )


async def test_the_pages_take_event_types_and_claim_kinds_from_the_contract(client: httpx.AsyncClient) -> None:
    contract = (await client.get("/ui/assets/contract.js")).text
    exported = {
        name: json.loads(value)
        for name, value in re.findall(r"^export const (\w+) = Object\.freeze\((.+)\);$", contract, re.M)
    }
    assert list(exported["EVENT"].values()) == list(EVENT_TYPES)
    assert list(exported["CLAIM"].values()) == list(CLAIM_KINDS)
    scripts = [
        (await client.get(f"/ui/assets/{n}")).text
        for n in sorted(ui.ASSETS)
        if n.endswith(".js") and n != "contract.js"
    ]
    for name, values in exported.items():
        used = {ref for script in scripts for ref in re.findall(rf"\b{name}\.(\w+)", script)}
        # Every name the pages use exists, and every event type and claim kind is shown by some page.
        assert used == set(values), name
    # No copy: not one of the contract's values is written as a string in the pages' code.
    for script in scripts:
        for value in (*EVENT_TYPES, *CLAIM_KINDS):
            assert f'"{value}"' not in script and f"'{value}'" not in script, value

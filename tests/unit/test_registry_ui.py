"""The dashboard's pages and assets as the registry serves them: no request leaves the host, nothing is inlined; and
the CSV writer behind every table's download link."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

import httpx
import pytest
from fastapi import FastAPI, Request

from treatywatch.common.events import CLAIM_KINDS, EVENT_TYPES
from treatywatch.common.settings import Settings
from treatywatch.common.web import create_app
from treatywatch.registry import ui
from treatywatch.registry.routes import tables

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


@pytest.mark.parametrize(
    ("path", "feed"),
    [
        ("/ui/treaties/XXVI-5", "/v1/treaties/XXVI-5/feed.atom"),
        ("/ui/treaties/ext%3Anpt", "/v1/treaties/ext%3Anpt/feed.atom"),
        ("/ui/participants/POL", "/v1/participants/POL/feed.atom"),
        ("/ui/participants/European%20Union", "/v1/participants/European%20Union/feed.atom"),
    ],
)
async def test_a_treaty_and_a_participant_page_name_their_atom_feed_in_the_head(
    client: httpx.AsyncClient, path: str, feed: str
) -> None:
    html = (await client.get(path)).text
    head = html[: html.index("</head>")]
    links = re.findall(r'<link rel="alternate" type="application/atom\+xml" title="[^"<>]+" href="([^"]+)">', head)
    assert links == [feed]
    # Nowhere else: the other pages have no feed.
    for other in ("/ui/", "/ui/resolutions/A/RES/64/56"):
        assert "application/atom+xml" not in (await client.get(other)).text


async def test_a_feed_link_is_built_from_the_path_as_text(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui/participants/%22%3E%3Cscript%3Ealert(1)%3Cb%3E")
    assert response.status_code == 200
    assert "<script>alert" not in response.text
    assert 'href="/v1/participants/%22%3E%3Cscript%3Ealert%281%29%3Cb%3E/feed.atom"' in response.text
    assert 'title="Actions recorded of &quot;&gt;&lt;script&gt;alert(1)&lt;b&gt;"' in response.text
    # Each page's ETag is its own.
    first, other = await client.get("/ui/treaties/XXVI-5"), await client.get("/ui/treaties/XXVI-6")
    assert first.headers["etag"] != other.headers["etag"]
    again = await client.get("/ui/treaties/XXVI-5", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


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


# The CSV downloads every table links to: one writer, one way to ask.


def test_the_csv_writer_follows_rfc_4180_with_a_header_row() -> None:
    text = tables.csv_text(
        ("name", "count", "on", "known", "notes"),
        [
            ("Bosnia and Herzegovina", 3, date(1998, 9, 8), True, ["one", "two"]),
            ('Said "no", then yes', -2, None, False, []),
            ("two\nlines", 0, date(2000, 1, 1), None, ("a",)),
        ],
    )
    assert text.split("\r\n")[0] == "name,count,on,known,notes"
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "").replace("two\nlines", "")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1:] == [
        ["Bosnia and Herzegovina", "3", "1998-09-08", "true", "one; two"],
        ['Said "no", then yes', "-2", "", "false", ""],
        ["two\nlines", "0", "2000-01-01", "", "a"],
    ]
    assert '"Said ""no"", then yes"' in text


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_a_text_cell_a_spreadsheet_would_run_gets_an_apostrophe(formula: str) -> None:
    rows = list(csv.reader(io.StringIO(tables.csv_text(["a", "n"], [[formula, -5]]), newline="")))
    # Numbers are not text: a negative count stays a number.
    assert rows[1] == [f"'{formula}", "-5"]
    assert rows[1][0] == "'" + formula
    listed = list(csv.reader(io.StringIO(tables.csv_text(["l"], [[["=1", "b"]]]), newline="")))
    assert listed[1] == ["'=1; b"]


@pytest.mark.parametrize(
    ("fmt", "accept", "csv_wanted"),
    [
        ("csv", None, True),
        ("json", "text/csv", False),
        (None, None, False),
        (None, "text/csv", True),
        (None, "text/csv; charset=utf-8", True),
        (None, "application/json", False),
        (None, "*/*", False),
        (None, "application/json, text/csv", False),
        (None, "application/json;q=0.5, text/csv", True),
        (None, "text/csv;q=0.2, */*;q=0.8", False),
        (None, "text/*, application/json;q=0.1", True),
        (None, "text/csv;q=0", False),
        (None, "text/csv;q=oops, application/json;q=0.5", False),
        (None, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
    ],
)
def test_csv_is_asked_for_with_format_or_an_accept_header_preferring_it(
    fmt: str | None, accept: str | None, csv_wanted: bool
) -> None:
    headers = [(b"accept", accept.encode())] if accept else []
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""})
    assert tables.wants_csv(request, fmt) is csv_wanted


def test_a_download_is_named_by_its_table_and_date_safely() -> None:
    assert tables.filename("XXVI-5", "participants", date(2009, 12, 2)) == "XXVI-5-participants-2009-12-02.csv"
    assert tables.filename("ext:npt", "timeline") == "ext-npt-timeline.csv"
    assert tables.filename("A/RES/64/56", "claims") == "A-RES-64-56-claims.csv"
    assert tables.filename('European "Union"\r\n', "treaties", None) == "European-Union-treaties.csv"

"""The dashboard in a real browser: Debian's chromium driven by Playwright against ingest and registry as processes,
loaded with the Mine Ban Convention's status file and resolution 64/56. Screenshots go to test-output/dashboard/.
Every page is also checked with axe-core (`make tools` installs it), at desktop and at phone width."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import DATA, OUTPUT, ROOT, services_on
from tests.resolutions import two_sessions_earlier
from tests.waiting import wait_until
from treatywatch.cli.stack import Stack
from treatywatch.ingest.catalog import catalog_events

KEY = "dashboard-" + uuid.uuid4().hex
AUTH = {"Authorization": f"Bearer {KEY}"}
CHROMIUM = Path("/usr/bin/chromium")
# No sandbox: CI runs as root. The rest keeps the browser off the network beyond loopback.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = OUTPUT / "dashboard"
AXE = ROOT / ".tools/npm/node_modules/axe-core/axe.min.js"
# axe is served as if from the registry: the pages' Content-Security-Policy (script-src 'self') stays in force.
AXE_PATH = "/__tests__/axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
READY = "body[data-ready]:not([data-ready='loading'])"
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def platform(servers: Stack) -> Iterator[Stack]:
    with services_on(servers, "e2e-dashboard", ("ingest", "registry"), KEY) as stack:
        status_file = DATA.mine_ban
        imported = post(stack, "/v1/imports/untc?treaty_id=XXVI-5", status_file, "text/csv")
        post(stack, "/v1/resolutions", DATA.resolution, "text/plain")
        # A resolution whose count of parties the record contradicts: drafted before an accession it does not count.
        earlier = two_sessions_earlier(DATA.resolution.read_text(encoding="utf-8"))
        post(stack, "/v1/resolutions", earlier.encode(), "text/plain")
        # Two of the ten instruments the Second Optional Protocol to the ICCPR (IV-12) needs: the depositary's date
        # of entry into force has no count on the record to back it.
        # And a treaty registered without its rules (every catalogued treaty has its entry into force).
        unruled = {"treaty_id": "ext:unruled", "title": "A treaty registered without its rules", "depositary": "X"}
        events = [second_protocol("ESP", "1991-04-11"), second_protocol("NOR", "1991-09-05")]
        events.append({"source": "/tests/e2e/dashboard", "type": "treaty.registered", "data": unruled})
        batch = {"events": events}
        response = httpx.post(f"{stack.url('ingest')}/v1/events:batch", json=batch, headers=AUTH, timeout=30)
        assert response.status_code == 202, response.text
        # Every event applied (ingest's catalogue, the status file, the resolutions, the three), whatever their order.
        expected = len(catalog_events()) + imported["events"] + 2 + 3
        wait_until(lambda: applied(stack) == expected, f"{expected} events applied", timeout_s=60)
        assert seed_verified(stack)
        yield stack


def second_protocol(participant: str, day: str) -> dict[str, Any]:
    data = {"treaty_id": "IV-12", "participant": participant, "action": "ratification", "date": day}
    return {"source": "/tests/e2e/dashboard", "type": "treaty.action.recorded", "data": data}


def post(stack: Stack, path: str, body: Path | bytes, media: str) -> Any:
    headers = {**AUTH, "Content-Type": media}
    content = body.read_bytes() if isinstance(body, Path) else body
    response = httpx.post(f"{stack.url('ingest')}{path}", content=content, headers=headers, timeout=60)
    assert response.status_code == 202, response.text
    return response.json()


def applied(stack: Stack) -> int:
    latest = httpx.get(f"{stack.url('registry')}/v1/events/latest?limit=1", timeout=30).json()["items"]
    return int(latest[0]["seq"]) if latest else 0


def seed_verified(stack: Stack) -> bool:
    response = httpx.get(f"{stack.url('registry')}/v1/resolutions/{quote('64/56', safe='')}", timeout=30)
    if response.status_code != 200:
        return False
    claims = [c for c in response.json()["claims"] if c["kind"] == "parties_count"]
    return bool(claims) and all(c["verified"] for c in claims)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "no /usr/bin/chromium: `make browser` installs Debian's chromium"
    assert AXE.exists(), f"no {AXE.relative_to(ROOT)}: `make tools` installs axe-core"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def open_page(browser: Browser, viewport: dict[str, int]) -> tuple[Page, list[str]]:
    """A fresh page and the list its script errors and failed requests are collected in."""
    context = browser.new_context(viewport={"width": viewport["width"], "height": viewport["height"]}, locale="en-GB")
    context.route(f"**{AXE_PATH}", lambda route: route.fulfill(path=AXE, content_type="text/javascript"))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"script error: {error}"))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("requestfailed", lambda request: errors.append(f"request failed: {request.url}"))
    return page, errors


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page, errors = open_page(browser, DESKTOP)
    yield page
    page.context.close()
    assert errors == []


def visit(page: Page, stack: Stack, path: str) -> None:
    page.goto(f"{stack.url('registry')}{path}")
    page.locator(READY).wait_for(state="attached")
    assert page.locator("body").get_attribute("data-ready") != "error", page.locator(".error").all_inner_texts()


# WCAG 2.x contrast of the text colours that matter, each against the background it is actually drawn on.
CONTRAST_JS = """
(selectors) => {
  const rgba = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const [r, g, b, a = 1] = rgba(getComputedStyle(node).backgroundColor);
      if (a > 0) layers.push([r, g, b, a]);
      if (a >= 1) break;
    }
    let [r, g, b] = [255, 255, 255];
    for (const [lr, lg, lb, la] of layers.reverse()) {
      [r, g, b] = [lr * la + r * (1 - la), lg * la + g * (1 - la), lb * la + b * (1 - la)];
    }
    return [r, g, b];
  };
  const luminance = ([r, g, b]) => {
    const lin = (c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const results = [];
  for (const selector of selectors) {
    for (const el of [...document.querySelectorAll(selector)].slice(0, 5)) {
      if (!el.getClientRects().length || !el.textContent.trim()) continue;
      const fg = rgba(getComputedStyle(el).color).slice(0, 3);
      const [l1, l2] = [luminance(fg), luminance(background(el))].sort((a, b) => b - a);
      results.push([selector, Math.round(((l1 + 0.05) / (l2 + 0.05)) * 100) / 100]);
    }
  }
  return results;
}
"""

UNLABELLED_JS = """
() => {
  const named = (el) => el.labels?.length || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
  const fields = [...document.querySelectorAll("input, select, textarea")].filter(
    (el) => el.type !== "hidden" && !named(el)
  );
  const images = [...document.querySelectorAll("img")].filter((el) => !el.hasAttribute("alt"));
  const svgs = [...document.querySelectorAll("svg")].filter(
    (el) => !el.closest("[aria-hidden=true]") && !el.parentElement.closest("svg")
      && !(["img", "group"].includes(el.getAttribute("role"))
        && (el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")))
  );
  return [...fields, ...images, ...svgs].map((el) => el.outerHTML.slice(0, 120));
}
"""

TEXT_SELECTORS = [
    "body",
    "h1",
    "h2",
    "p",
    "a",
    ".lead",
    ".muted",
    ".sub",
    "th",
    "td",
    "dt",
    "dd",
    "label",
    "button",
    ".badge",
    ".stats .num",
    ".stats .lbl",
    ".brand",
    "footer.site p",
    "figcaption",
]


AXE_JS = """
async () => {
  const { violations } = await axe.run(document, { resultTypes: ["violations"] });
  return violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}
"""


def check_axe(page: Page) -> None:
    """No violation of axe-core's rules (WCAG 2.x A and AA, and its best practices) on the page as it is now."""
    page.add_script_tag(url=AXE_PATH)
    violations: list[str] = page.evaluate(AXE_JS)
    assert violations == [], f"axe on {page.url}: " + "; ".join(violations)


def check_accessibility(page: Page) -> None:
    """Landmarks, a name for every field, image and chart, AA contrast (4.5:1) for the text colours, and axe."""
    for role in ("banner", "navigation", "main", "contentinfo", "search"):
        assert page.get_by_role(role).count() >= 1, f"no {role} landmark"
    assert page.locator("h1").count() == 1
    assert page.evaluate(UNLABELLED_JS) == []
    ratios: list[list[Any]] = page.evaluate(CONTRAST_JS, TEXT_SELECTORS)
    assert ratios, "no text measured"
    low = [(selector, ratio) for selector, ratio in ratios if ratio < 4.5]
    assert low == [], f"text below 4.5:1 contrast: {low}"
    check_axe(page)


def registry(stack: Stack, path: str) -> Any:
    response = httpx.get(f"{stack.url('registry')}{path}", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_json_the_pages_add_search_latest_events_and_a_participants_reports(platform: Stack) -> None:
    found = registry(platform, "/v1/search?q=mine%20ban")
    assert [t["treaty_id"] for t in found["treaties"]] == ["XXVI-5"]
    assert registry(platform, "/v1/search?q=XXVI-5")["treaties"][0]["short_title"] == "Mine Ban Convention"
    afghanistan = registry(platform, "/v1/search?q=afghan")["participants"]
    assert afghanistan == [{"participant": "AFG", "name": "Afghanistan"}]
    assert registry(platform, "/v1/search?q=AFG")["participants"][0]["participant"] == "AFG"
    for symbol in ("64/56", "A/RES/64/56", "a/res/64/56"):
        assert [r["symbol"] for r in registry(platform, f"/v1/search?q={quote(symbol)}")["resolutions"]] == [
            "A/RES/64/56"
        ]
    assert registry(platform, "/v1/search?q=zzzz")["count"] == 0
    assert httpx.get(f"{platform.url('registry')}/v1/search?q=", timeout=30).status_code == 422

    latest = registry(platform, "/v1/events/latest?limit=5")["items"]
    oldest_first = registry(platform, "/v1/events?limit=1000")["items"]
    assert [e["seq"] for e in latest] == [e["seq"] for e in reversed(oldest_first)][:5]

    # The seed holds no Article 7 report: Afghanistan's seven reports are due, none is called overdue.
    reports = registry(platform, "/v1/participants/Afghanistan/reports?as_of=2009-12-02")
    assert (reports["participant"], reports["count"], reports["overdue_count"], reports["due_count"]) == (
        "AFG",
        1,
        0,
        7,
    )
    owed = reports["items"][0]
    assert (owed["treaty_id"], owed["in_force_on"], owed["recorded"], owed["overdue"]) == (
        "XXVI-5",
        "2003-03-01",
        False,
        [],
    )
    assert [(r["period"], r["status"], r["overdue"]) for r in owed["reports"][:2]] == [
        ("initial", "not_recorded", False),
        ("2003", "not_recorded", False),
    ]
    assert registry(platform, "/v1/participants/AFG/reports?as_of=2009-12-02&overdue=true")["items"] == []
    by_treaty = registry(platform, "/v1/treaties/XXVI-5/reports?as_of=2009-12-02")
    assert (by_treaty["recorded"], by_treaty["overdue_count"]) == (False, 0)
    assert next(i for i in by_treaty["items"] if i["participant"] == "AFG")["reports"] == owed["reports"]
    before = registry(platform, "/v1/participants/AFG/reports?as_of=2003-01-01")
    assert before["items"] == []


def test_the_treaty_page_recomputes_every_number_for_the_chosen_date(page: Page, platform: Stack) -> None:
    visit(page, platform, "/ui/treaties/XXVI-5")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mine Ban Convention")
    page.get_by_label("Numbers as of").fill("2009-12-02")
    expect(page.locator("body")).to_have_attribute("data-ready", "2009-12-02")
    expect(page.locator("#stat-parties")).to_have_text("156")
    expect(page.locator("#stat-in-force")).to_have_text("156")
    # No report recorded for the treaty: the parties' reports are due, none is called overdue.
    due = registry(platform, "/v1/treaties/XXVI-5/reports?as_of=2009-12-02")["due_count"]
    expect(page.locator("#stat-overdue")).to_have_text(f"no reports recorded ({due} due)")
    expect(page.locator("#stat-overdue-label")).to_have_text("so no party is called overdue")
    assert page.url.endswith("/ui/treaties/XXVI-5?as_of=2009-12-02")
    expect(page.locator("#chart svg desc")).to_contain_text("On 2 Dec 2009: 156 parties")
    page.get_by_label("Numbers as of").blur()
    page.screenshot(path=SHOTS / "treaty.png")

    # The table shows the same date: 156 parties among the participants, each with its consent act.
    page.get_by_label("Status").select_option("party")
    expect(page.locator("#shown")).to_have_text(re.compile(r"^Showing 156 of \d+ participants on 2 Dec 2009$"))
    page.get_by_label("Filter by name or code").fill("afg")
    rows = page.locator("#participants tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Afghanistan")
    expect(rows.first).to_contain_text("accession")
    expect(rows.first.locator("time[datetime='2003-03-01']")).to_have_count(1)
    page.get_by_label("Filter by name or code").fill("")
    page.get_by_role("button", name="In force").click()
    expect(page.locator("th[aria-sort=ascending]")).to_have_text(re.compile("In force"))
    expect(rows.first.locator("td").nth(4)).to_have_text("1 Mar 1999")

    # The rules in words with their articles, the entry into force and where it comes from, no disagreement.
    expect(page.locator("#rules li").first).to_have_text(
        "In force on the first day of the sixth month after the month of the fortieth instrument (Article 17(1))"
    )
    expect(page.locator("#rules li[data-rule=withdrawal]")).to_have_text(
        "Withdrawal takes effect six months after notification (Article 20(3))"
    )
    entry = page.locator("#facts > div", has_text="Entry into force")
    expect(entry.locator("time[datetime='1999-03-01']")).to_have_count(1)
    expect(entry).to_contain_text("computed from the deposits recorded")
    expect(page.locator("#warnings-box")).to_be_hidden()

    # Each table downloads as CSV for the date shown.
    downloads = {
        "#participants-download": (
            "/v1/treaties/XXVI-5/participants?as_of=2009-12-02",
            "XXVI-5-participants-2009-12-02",
        ),
        "#timeline-download": ("/v1/treaties/XXVI-5/timeline", "XXVI-5-timeline"),
        "#reports-download": ("/v1/treaties/XXVI-5/reports?as_of=2009-12-02", "XXVI-5-reports-2009-12-02"),
    }
    for where, (url, name) in downloads.items():
        expect(page.locator(f"{where} a")).to_have_text(re.compile("^Download CSV of "))
        check_download(page, platform, where, url, name)

    # The chart marks the resolutions about the treaty, and every number has its JSON a click away.
    expect(page.locator("#chart a[href='/ui/resolutions/A/RES/64/56']")).to_have_count(1)
    expect(page.locator("#chart").get_by_role("link", name="A/RES/64/56, adopted 2 Dec 2009")).to_have_count(1)
    json_url = page.locator("#json-link").get_attribute("href")
    assert json_url == "/v1/treaties/XXVI-5/participants?as_of=2009-12-02"
    answer = page.request.get(f"{platform.url('registry')}/v1/treaties/XXVI-5/stats?as_of=2009-12-02").json()
    assert answer["parties"] == 156
    check_accessibility(page)


def test_the_treaty_page_charts_each_claim_beside_the_record_and_says_why_they_differ(
    page: Page, platform: Stack
) -> None:
    visit(page, platform, "/ui/treaties/XXVI-5?as_of=2009-12-02")
    # Each resolution's claim of the number of parties is marked at its date and value beside the parties' line.
    expect(page.locator("#chart g.claim")).to_have_count(2)
    expect(page.locator("#chart g.claim.contradicted title")).to_have_text(
        "A/RES/62/41, 5 Dec 2007: claims 155 parties; the record has 156 (✗ Contradicted)"
    )
    expect(page.locator("#chart g.claim.verified title")).to_have_text(
        "A/RES/64/56, 2 Dec 2009: claims 156 parties; the record has 156 (✓ Verified)"
    )
    expect(page.locator("#chart svg desc")).to_contain_text(
        "2 claims of the number of parties: 1 verified, 1 contradicted by the record."
    )
    expect(page.locator("#chart .legend")).to_contain_text("parties claimed, not as recorded")
    page.locator("#chart").screenshot(path=SHOTS / "treaty-chart.png")

    # The table below lists every claim, oldest first, and why the record differs.
    expect(page.locator("#treaty-claims tbody tr")).to_have_count(4)
    expect(page.locator("#treaty-claims tbody tr.verified")).to_have_count(3)
    contradicted = page.locator("#treaty-claims tbody tr.contradicted")
    expect(contradicted.locator("td")).to_have_text(
        [
            re.compile(r"^A/RES/62/41\s*adopted 5 Dec 2007$"),
            "States that have ratified or acceded",
            "155",
            "156",
            "✗ Contradicted",
            "deposits between drafting and adoption: 1 instrument deposited in the 30 days before adoption; the "
            "record counts 1 party more than claimed, and it counted 155 from 2007-08-15 until 2007-11-19",
        ]
    )
    expect(contradicted.get_by_role("link", name="A/RES/62/41")).to_have_attribute(
        "href", "/ui/resolutions/A/RES/62/41"
    )
    page.locator("#treaty-claims").screenshot(path=SHOTS / "treaty-claims.png")
    lines = check_download(page, platform, "#claims-download", "/v1/treaties/XXVI-5/claims?limit=1000", "XXVI-5-claims")
    assert lines[0] == "symbol,adopted_on,kind,claimed,as_of,found,verified,reason,text"
    assert [line.split(",")[:7] for line in lines[1:5]] == [
        ["A/RES/62/41", "2007-12-05", "entry_into_force_year", "1999", "2007-12-05", "1999", "true"],
        ["A/RES/62/41", "2007-12-05", "parties_count", "155", "2007-12-05", "156", "false"],
        ["A/RES/64/56", "2009-12-02", "entry_into_force_year", "1999", "2009-12-02", "1999", "true"],
        ["A/RES/64/56", "2009-12-02", "parties_count", "156", "2009-12-02", "156", "true"],
    ]
    check_accessibility(page)


def check_download(page: Page, stack: Stack, where: str, url: str, name: str) -> list[str]:
    """The page's CSV link in `where` is `url` with format=csv, and answers a CSV file named `name`; its lines."""
    href = page.locator(f"{where} a").get_attribute("href")
    assert href == f"{url}{'&' if '?' in url else '?'}format=csv"
    response = page.request.get(f"{stack.url('registry')}{href}")
    assert response.ok
    assert response.headers["content-disposition"] == f'attachment; filename="{name}.csv"'
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text().split("\r\n")
    assert len(lines) > 2 and lines[-1] == ""
    return lines


def test_the_treaty_page_says_unknown_without_a_rule_and_shows_where_the_record_and_depositary_differ(
    page: Page, platform: Stack
) -> None:
    visit(page, platform, "/ui/treaties/ext:unruled")
    entry = page.locator("#facts > div", has_text="Entry into force")
    expect(entry.locator("dd")).to_contain_text("unknown")
    expect(entry).to_contain_text("the registry does not know the treaty's rule of entry into force")
    expect(page.locator("#rules li")).to_have_text(
        "The registry knows none of this treaty's rules, so it does not compute when it is in force."
    )

    visit(page, platform, "/ui/treaties/IV-12")
    entry = page.locator("#facts > div", has_text="Entry into force")
    expect(entry.locator("dd")).to_contain_text("not in force")
    expect(entry).to_contain_text("2 of the 10 binding instruments the rule counts are recorded")
    expect(page.locator("#warnings li")).to_have_text(
        ["the depositary states 1991-07-11, but 2 of the 10 binding instruments the rule counts are recorded"]
    )
    expect(page.locator("#rules li[data-rule=withdrawal_terms]")).to_have_text(
        "The treaty provides for no withdrawal (Articles 7 to 11)"
    )
    expect(page.locator("#rules li", has_text="Reporting")).to_have_text("Reporting: unknown to the registry")
    # No reporting rule, no reports to download.
    expect(page.locator("#reports-download a")).to_have_count(0)
    lines = check_download(
        page,
        platform,
        "#participants-download",
        f"/v1/treaties/IV-12/participants?as_of={today()}",
        f"IV-12-participants-{today()}",
    )
    assert lines[1:3] == [
        "NOR,Norway,party,,ratification,1991-09-05,,false,,,,,,,",
        "ESP,Spain,party,,ratification,1991-04-11,,false,,,,,,,",
    ]
    page.screenshot(path=SHOTS / "treaty-warnings.png", full_page=True)
    check_accessibility(page)


def test_the_resolution_page_shows_its_claim_verified(page: Page, platform: Stack) -> None:
    visit(page, platform, "/ui/resolutions/A/RES/64/56")
    expect(page.get_by_role("heading", level=1)).to_have_text("A/RES/64/56")
    claim = page.locator("#claims li", has_text="ratified or acceded")
    expect(claim.locator(".badge")).to_have_text("✓ Verified")
    expect(claim.locator(".numbers")).to_contain_text("The resolution says 156")
    expect(claim.locator(".numbers")).to_contain_text("the registry finds 156")
    expect(page.locator("#chain li")).to_have_count(11)
    expect(page.locator("#chain li.self")).to_contain_text("2 Dec 2009")
    expect(page.locator("#paragraphs li")).to_have_count(10)
    assert page.locator("#json-link").get_attribute("href") == "/v1/resolutions/A%2FRES%2F64%2F56"
    lines = check_download(
        page, platform, "#claims-download", "/v1/resolutions/A%2FRES%2F64%2F56", "A-RES-64-56-claims"
    )
    assert lines[0] == "kind,treaty_id,value,as_of,verified,expected,found,reason,text"
    page.screenshot(path=SHOTS / "resolution.png", full_page=True)
    check_accessibility(page)
    claim.get_by_role("link").click()
    expect(page.locator("#stat-parties")).to_have_text("156")


def test_search_leads_from_the_home_page_to_a_participant(page: Page, platform: Stack) -> None:
    visit(page, platform, "/ui/")
    # The status file and the resolution travel on different partitions: either may be applied last.
    expect(page.locator("#events li")).to_have_count(12)
    expect(page.locator("#events li").first.get_by_role("link").first).to_have_attribute("href", re.compile("^/ui/"))
    page.get_by_label("Search a treaty title or id").fill("Afghanistan")
    page.get_by_label("Search a treaty title or id").press("Enter")
    page.locator("#results").get_by_role("link", name="Afghanistan").click()
    page.locator(READY).wait_for(state="attached")
    expect(page.get_by_role("heading", level=1)).to_have_text("Afghanistan")
    row = page.locator("#treaties tbody tr", has_text="Mine Ban Convention")
    expect(row.locator(".badge")).to_have_text("party")
    due = registry(platform, f"/v1/participants/AFG/reports?as_of={page.get_by_label('Status as of').input_value()}")
    expect(page.locator("#stat-overdue")).to_have_text(f"no reports recorded ({due['due_count']} due)")
    page.screenshot(path=SHOTS / "participant.png", full_page=True)
    check_accessibility(page)
    # On the day of 64/56 as well: seven reports due under the Mine Ban Convention, none called overdue.
    page.get_by_label("Status as of").fill("2009-12-02")
    expect(page.locator("body")).to_have_attribute("data-ready", "2009-12-02")
    expect(page.locator("#stat-overdue")).to_have_text("no reports recorded (7 due)")
    expect(page.locator("#stat-overdue-label")).to_have_text("so none is called overdue")
    lines = check_download(
        page, platform, "#treaties-download", "/v1/participants/AFG?as_of=2009-12-02", "AFG-treaties-2009-12-02"
    )
    assert lines[1].startswith("XXVI-5,Mine Ban Convention,party,,accession,2002-09-11,2003-03-01,true")
    check_download(
        page, platform, "#reports-download", "/v1/participants/AFG/reports?as_of=2009-12-02", "AFG-reports-2009-12-02"
    )
    reports = page.locator("#reports")
    expect(reports.get_by_role("heading", level=3)).to_have_text("Mine Ban Convention — no reports recorded (7 due)")
    expect(reports).to_contain_text("calls none of these 7 reports overdue")
    expect(reports.locator(".chips")).to_have_count(0)
    page.get_by_label("Status as of").fill("2002-01-01")
    expect(page.locator("#stat-party")).to_have_text("0")
    expect(page.locator("#treaties tbody")).to_contain_text("No recorded action by this date")
    visit(page, platform, "/ui/?q=64%2F56")
    expect(page.locator("#results").get_by_role("link", name="A/RES/64/56")).to_be_visible()
    page.screenshot(path=SHOTS / "home.png", full_page=True)
    check_accessibility(page)


def test_the_pages_fit_a_phone_screen(browser: Browser, platform: Stack) -> None:
    page, errors = open_page(browser, PHONE)
    for name, path in [
        ("treaty", "/ui/treaties/XXVI-5?as_of=2009-12-02"),
        ("resolution", "/ui/resolutions/64/56"),
        ("participant", "/ui/participants/AFG?as_of=2009-12-02"),
        ("home", "/ui/?q=64%2F56"),
    ]:
        visit(page, platform, path)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways on a phone by {overflow} px"
        page.screenshot(path=SHOTS / f"{name}-phone.png")
        check_axe(page)
    page.context.close()
    assert errors == []


# Near the end: the action it records changes what the tests above read of today.
def test_the_pages_show_the_notification_beside_the_act_follow_every_page_and_name_the_feeds(
    page: Page, platform: Stack
) -> None:
    reference = "C.N.739.2011.TREATIES-XXVI.5"
    data = {
        "treaty_id": "XXVI-5",
        "participant": "TUV",
        "action": "accession",
        "date": "2011-09-13",
        "notification": reference,
        "participant_name": "Tuvalu",
    }
    event = {
        "id": f"cn-{uuid.uuid4()}",
        "source": "/tests/e2e/dashboard",
        "type": "treaty.action.recorded",
        "data": data,
    }
    response = httpx.post(f"{platform.url('ingest')}/v1/events:batch", json={"events": [event]}, headers=AUTH)
    assert response.status_code == 202, response.text
    wait_until(lambda: registry(platform, "/v1/events/latest?limit=1")["items"][0]["id"] == event["id"], "applied")

    # The home page: every treaty counted, past the first page of the list; the latest event with its reference.
    registered = registry(platform, "/v1/treaties?limit=1000")["count"]
    assert registry(platform, "/v1/treaties")["next"] is not None and registered > 100
    visit(page, platform, "/ui/")
    expect(page.locator("#treaties li.muted")).to_have_text(f"and {registered - 12} more: search above")
    expect(page.locator("#events li").first).to_contain_text(
        f"Tuvalu — accession of XXVI-5 on 13 Sep 2011 ({reference})"
    )

    visit(page, platform, "/ui/treaties/XXVI-5")
    page.get_by_label("Filter by name or code").fill("Tuvalu")
    row = page.locator("#participants tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(3).locator(".cn")).to_have_text(reference)
    assert (
        page.locator("head link[type='application/atom+xml']").get_attribute("href") == "/v1/treaties/XXVI-5/feed.atom"
    )
    expect(page.locator("#feed a")).to_have_attribute("href", "/v1/treaties/XXVI-5/feed.atom")

    visit(page, platform, "/ui/participants/TUV")
    row = page.locator("#treaties tbody tr", has_text="Mine Ban Convention")
    expect(row.locator(".cn")).to_have_text(reference)
    assert (
        page.locator("head link[type='application/atom+xml']").get_attribute("href") == "/v1/participants/TUV/feed.atom"
    )
    feed = page.request.get(f"{platform.url('registry')}/v1/participants/TUV/feed.atom")
    assert feed.ok and feed.headers["content-type"].startswith("application/atom+xml") and reference in feed.text()
    check_accessibility(page)


# Last: the report it submits changes what the tests above read.
def test_once_a_report_of_the_kind_is_recorded_the_pages_count_the_overdue_again(page: Page, platform: Stack) -> None:
    report = {
        "source": "/tests/e2e/dashboard",
        "type": "report.submitted",
        "data": {
            "treaty_id": "XXVI-5",
            "participant": "Afghanistan",
            "kind": "article7",
            "period": "initial",
            "submitted_on": "2003-09-01",
        },
    }
    response = httpx.post(f"{platform.url('ingest')}/v1/events:batch", json={"events": [report]}, headers=AUTH)
    assert response.status_code == 202, response.text
    overdue = wait_until(
        lambda: (
            (r := registry(platform, "/v1/treaties/XXVI-5/reports?as_of=2009-12-02&overdue=true"))["recorded"] and r
        ),
        "Afghanistan's initial report recorded",
    )
    assert overdue["overdue_count"] > 0

    visit(page, platform, "/ui/treaties/XXVI-5?as_of=2009-12-02")
    expect(page.locator("#stat-overdue")).to_have_text(str(overdue["overdue_count"]))
    expect(page.locator("#stat-overdue-label")).to_have_text("parties with an overdue report")
    visit(page, platform, "/ui/participants/AFG?as_of=2009-12-02")
    expect(page.locator("#stat-overdue")).to_have_text("6")
    expect(page.locator("#stat-overdue-label")).to_have_text("overdue reports")
    reports = page.locator("#reports")
    expect(reports.get_by_role("heading", level=3)).to_have_text("Mine Ban Convention — 6 overdue")
    expect(reports.locator(".chips li")).to_have_count(6)
    expect(reports.locator(".chips li").first).to_have_text("update for 2003, due 30 Apr 2004")
    expect(reports).not_to_contain_text("no reports recorded")

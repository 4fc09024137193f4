"""A treaty's claims over time, end to end: the Mine Ban Convention's status file and two resolutions through ingest
to the registry, whose `/v1/treaties/{id}/claims` lists every claim oldest first beside the record on its day, says
why one differs, pages, and downloads as CSV."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import DATA, services_on
from tests.resolutions import two_sessions_earlier
from tests.waiting import wait_until
from treatywatch.cli.stack import Stack

KEY = "claims-" + uuid.uuid4().hex
CLAIMS = "/v1/treaties/XXVI-5/claims"
# 62/41 was drafted before Palau's accession of 19 November 2007: it claims 155, the record counts 156.
PALAU = (
    "deposits between drafting and adoption: 1 instrument deposited in the 30 days before adoption; the record "
    "counts 1 party more than claimed, and it counted 155 from 2007-08-15 until 2007-11-19"
)


@pytest.fixture(scope="module")
def platform(servers: Stack) -> Iterator[Stack]:
    with services_on(servers, "claims", ("ingest", "registry"), KEY) as stack:
        post(stack, "/v1/imports/untc?treaty_id=XXVI-5", DATA.mine_ban.read_bytes(), "text/csv")
        seed = DATA.resolution.read_text(encoding="utf-8")
        for text in (seed, two_sessions_earlier(seed)):
            post(stack, "/v1/resolutions", text.encode(), "text/plain")
        wait_until(lambda: len(get(stack, CLAIMS).json()["items"]) == 4, "both resolutions' claims", timeout_s=60)
        yield stack


def post(stack: Stack, path: str, body: bytes, media: str) -> None:
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": media}
    response = httpx.post(f"{stack.url('ingest')}{path}", content=body, headers=headers, timeout=60)
    assert response.status_code == 202, response.text


def get(stack: Stack, path: str, **headers: str) -> httpx.Response:
    return httpx.get(f"{stack.url('registry')}{path}", headers=headers, timeout=30)


def answer(stack: Stack, path: str) -> Any:
    response = get(stack, path)
    assert response.status_code == 200, response.text
    return response.json()


def test_every_claim_is_listed_oldest_first_beside_the_record_and_why_it_differs(platform: Stack) -> None:
    claims = answer(platform, CLAIMS)
    assert (claims["treaty_id"], claims["count"], claims["next"]) == ("XXVI-5", 4, None)
    rows = [(c["symbol"], c["kind"], c["claimed"], c["found"], c["verified"]) for c in claims["items"]]
    assert rows == [
        ("A/RES/62/41", "entry_into_force_year", 1999, 1999, True),
        ("A/RES/62/41", "parties_count", 155, 156, False),
        ("A/RES/64/56", "entry_into_force_year", 1999, 1999, True),
        ("A/RES/64/56", "parties_count", 156, 156, True),
    ]
    contradicted = claims["items"][1]
    assert (contradicted["adopted_on"], contradicted["as_of"], contradicted["reason"]) == (
        "2007-12-05",
        "2007-12-05",
        PALAU,
    )
    assert contradicted["text"].startswith("Noting with satisfaction that one hundred and fifty-five States")
    assert [c["reason"] for c in claims["items"] if c["verified"]] == [None, None, None]
    # The record's value is the treaty's count on the claim's day, as /stats gives it.
    assert answer(platform, "/v1/treaties/XXVI-5/stats?as_of=2007-12-05")["parties"] == contradicted["found"]
    # The resolution's own page checks the same claim the same way.
    own = answer(platform, f"/v1/resolutions/{quote('62/41', safe='')}")["claims"]
    assert [(c["kind"], c["verified"], c.get("found")) for c in own] == [
        ("entry_into_force_year", True, 1999),
        ("parties_count", False, 156),
    ]


def test_the_claims_page_with_limit_and_after(platform: Stack) -> None:
    first = answer(platform, f"{CLAIMS}?limit=3")
    assert [c["symbol"] for c in first["items"]] == ["A/RES/62/41", "A/RES/62/41", "A/RES/64/56"]
    assert first["next"] == "2009-12-02|A/RES/64/56|0"
    rest = answer(platform, f"{CLAIMS}?limit=3&after={quote(first['next'], safe='')}")
    assert [(c["symbol"], c["kind"]) for c in rest["items"]] == [("A/RES/64/56", "parties_count")]
    assert rest["next"] is None
    for after in ("yesterday", "2009-12-02|A/RES/64/56|x", "2009-12-02"):
        refused = get(platform, f"{CLAIMS}?after={quote(after, safe='')}")
        assert refused.status_code == 422 and "is not a claim's place" in refused.json()["detail"]
    assert get(platform, f"{CLAIMS}?limit=0").status_code == 422
    missing = get(platform, "/v1/treaties/XXVI-999/claims")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_the_claims_download_as_csv_a_page_at_a_time(platform: Stack) -> None:
    response = get(platform, f"{CLAIMS}?format=csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="XXVI-5-claims.csv"'
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["symbol", "adopted_on", "kind", "claimed", "as_of", "found", "verified", "reason", "text"]
    assert rows[2][:8] == ["A/RES/62/41", "2007-12-05", "parties_count", "155", "2007-12-05", "156", "false", PALAU]
    assert rows[4][:8] == ["A/RES/64/56", "2009-12-02", "parties_count", "156", "2009-12-02", "156", "true", ""]
    assert get(platform, CLAIMS, accept="text/csv").text == response.text
    paged = get(platform, f"{CLAIMS}?format=csv&limit=2")
    assert len(list(csv.reader(io.StringIO(paged.text)))) == 3
    assert paged.headers["link"].endswith('after=2007-12-05%7CA%2FRES%2F62%2F41%7C1>; rel="next"')

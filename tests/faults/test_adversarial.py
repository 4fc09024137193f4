"""Hostile documents against a running ingest: each is refused within the time limit as a 4xx problem, and the
process keeps answering its health check while a document is being read (issue 16, the security review; depositary
notifications, text and PDF, since issue 13)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DATA, services_on
from tests.pdfs import content_bomb
from treatywatch.cli.stack import Stack

KEY = "adversarial-" + uuid.uuid4().hex
PARSE_TIMEOUT_S = 2.0
HEADER = 'Participant,Signature,"Ratification, Acceptance(A), Approval(AA), Accession(a), Succession(d)"\n'
UNTC = "/v1/imports/untc?treaty_id=XXVI-5"


@pytest.fixture(scope="module")
def ingest(servers: Stack) -> Iterator[Stack]:
    env = {"TREATYWATCH_PARSE_TIMEOUT_S": str(PARSE_TIMEOUT_S)}
    with services_on(servers, "adversarial", ("ingest",), KEY, env) as stack:
        yield stack


def post(stack: Stack, path: str, body: str | bytes, media: str) -> tuple[httpx.Response, float]:
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": media}
    content = body.encode() if isinstance(body, str) else body
    started = time.monotonic()
    response = httpx.post(f"{stack.url('ingest')}{path}", content=content, headers=headers, timeout=60)
    return response, time.monotonic() - started


# The review's measurements, on the committed parsers: 18.9 s, 10.4 s and 6.2 s, with /healthz stalled meanwhile.
REVIEW = [
    pytest.param(UNTC, HEADER + "1" * 20_000 + "x,3 Dec 1997,\n", "text/csv", "line 2, column 1", id="untc-digits"),
    pytest.param(UNTC, HEADER + "Peru,3 Dec 1997" + " " * 20_000 + "1x,\n", "text/csv", "column 2", id="untc-spaces"),
    pytest.param(
        "/v1/resolutions",
        "The General Assembly,\n\nRecalling" + " " * 20_000 + "its resolutions\n",
        "text/plain",
        "not found: symbol, session, title, adopted_on, which the contract requires",
        id="recalling",
    ),
    pytest.param(
        "/v1/resolutions",
        "Agenda item 96" + " " * 999_985 + "x",
        "text/plain",
        "line 1 holds 1,000,000 characters",
        id="one-megabyte-line",
    ),
]
NOTIFICATIONS = "/v1/notifications"
# Depositary notifications: the parser's own worst shapes near its caps, and a PDF that is small to send and slow
# to extract (40 KB inflating to 10 MB of text operators: 8 s of pypdf's time).
HOSTILE_NOTIFICATIONS = [
    pytest.param(NOTIFICATIONS, "x" * 1_000_000, "text/plain", "line 1 holds 1,000,000 characters", id="cn-line"),
    pytest.param(NOTIFICATIONS, "x \n" * 400_000, "text/plain", "more than the 1,000,000", id="cn-too-large"),
    pytest.param(
        NOTIFICATIONS,
        ("The above action was effected on 27 December 2012 " * 190 + "\n") * 99,
        "text/plain",
        "not a depositary notification",
        id="cn-dates",
    ),
    pytest.param(
        NOTIFICATIONS,
        "\n".join(["C.N.1.2013.TREATIES-" * 490] * 99),
        "text/plain",
        "not a depositary notification",
        id="cn-references",
    ),
    pytest.param(
        NOTIFICATIONS,
        "\n".join([("A" * 199 + ":") * 49] * 99),
        "text/plain",
        "not a depositary notification",
        id="cn-colons",
    ),
    pytest.param(
        NOTIFICATIONS,
        "\n".join(["“" * 5_000 + '"' * 4_999] * 99),
        "text/plain",
        "not a depositary notification",
        id="cn-quotes",
    ),
    pytest.param(NOTIFICATIONS, content_bomb(10_000_000), "application/pdf", "took longer than", id="cn-pdf-bomb"),
    # A resolution's PDF is extracted in the worker too, within the same limit.
    pytest.param("/v1/resolutions", content_bomb(10_000_000), "application/pdf", "took longer than", id="res-pdf-bomb"),
]


@pytest.mark.parametrize(("path", "body", "media", "words"), [*REVIEW, *HOSTILE_NOTIFICATIONS])
def test_the_review_inputs_are_refused_within_the_time_limit(
    ingest: Stack, path: str, body: str | bytes, media: str, words: str
) -> None:
    response, took = post(ingest, path, body, media)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert words in response.json()["detail"]
    assert took < PARSE_TIMEOUT_S + 1, f"answered in {took:.1f} s"


def slow_resolution() -> str:
    """A resolution read in linear time, but slowly: many number words in one paragraph, several megabytes."""
    line = "Noting that" + " one" * 10_000 + "\n"
    return "A/RES/64/56\n\nThe General Assembly,\n\n" + line * 200


def descendants(pid: int) -> set[int]:
    """The processes below `pid` (its fork server and workers), alive or not yet reaped."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@pytest.mark.parametrize(
    ("path", "document", "media"),
    [
        ("/v1/resolutions", slow_resolution, "text/plain"),
        (NOTIFICATIONS, lambda: content_bomb(10_000_000), "application/pdf"),
    ],
    ids=["resolution", "notification-pdf"],
)
def test_healthz_answers_while_a_slow_document_is_read_and_the_overrun_is_killed(
    ingest: Stack, path: str, document: Callable[[], str | bytes], media: str
) -> None:
    workers_before = descendants(ingest.processes["ingest"].pid)
    latencies: list[float] = []
    answered: dict[str, Any] = {}
    body = document()

    def read_slowly() -> None:
        answered["response"], answered["took"] = post(ingest, path, body, media)

    reader = threading.Thread(target=read_slowly)
    reader.start()
    with httpx.Client(base_url=ingest.url("ingest"), timeout=10) as client:
        while reader.is_alive():
            started = time.monotonic()
            assert client.get("/healthz").status_code == 200
            latencies.append(time.monotonic() - started)
            time.sleep(0.05)
    reader.join()

    response, took = answered["response"], answered["took"]
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == f"the document took longer than {PARSE_TIMEOUT_S:g} s to read"
    assert took < PARSE_TIMEOUT_S + 3, f"answered in {took:.1f} s"
    assert len(latencies) >= 10 and max(latencies) < 1, f"/healthz took up to {max(latencies):.2f} s"
    # The worker that overran was killed, and a fresh one reads the next document.
    assert workers_before - descendants(ingest.processes["ingest"].pid)
    seed, _ = post(ingest, "/v1/resolutions?dry_run=true", DATA.resolution.read_text(encoding="utf-8"), "text/plain")
    assert seed.status_code == 200, seed.text

"""Ingest's HTTP contract against real processes: auth, bad input, all-or-nothing batches, documents (text and PDF),
caps, 503; the CLI sending a folder of resolutions."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import DATA, OUTPUT, ROOT, services_on
from tests.pdfs import image_only_pdf, resolution_pdf
from tests.resolutions import two_sessions_earlier
from tests.waiting import wait_until
from treatywatch.cli.stack import Ports, Stack, free_port
from treatywatch.common.settings import hash_key

KEY = "ingest-" + uuid.uuid4().hex
SUBSCRIPTIONS_ONLY = "subs-" + uuid.uuid4().hex
SEED = DATA.resolution
MINE_BAN = DATA.mine_ban
CLI = [sys.executable, "-m", "treatywatch.cli.main"]
# Lower than Kafka's 1 MB so that an event over it fits in a body under this module's 200,000-byte limit.
MAX_EVENT_BYTES = 100_000


@pytest.fixture(scope="module")
def platform(servers: Stack) -> Iterator[Stack]:
    keys = [{"name": "notify-only", "sha256": hash_key(SUBSCRIPTIONS_ONLY), "scopes": ["subscriptions:write"]}]
    env = {
        "TREATYWATCH_API_KEYS": json.dumps(keys),
        "TREATYWATCH_MAX_BODY_BYTES": "200000",
        "TREATYWATCH_MAX_EVENT_BYTES": str(MAX_EVENT_BYTES),
    }
    with services_on(servers, "ingest-api", ("ingest", "registry"), KEY, env) as stack:
        yield stack


def post(
    stack: Stack, path: str, body: bytes, media: str = "application/json", key: str | None = KEY
) -> httpx.Response:
    headers = {"Content-Type": media, **({"Authorization": f"Bearer {key}"} if key else {})}
    return httpx.post(f"{stack.url('ingest')}{path}", content=body, headers=headers, timeout=30)


def registry(stack: Stack, path: str) -> Any:
    return httpx.get(f"{stack.url('registry')}{path}", timeout=30).json()


def action(participant: str = "Norway", **data: Any) -> dict[str, Any]:
    return {
        "id": f"t-{uuid.uuid4()}",
        "type": "treaty.action.recorded",
        "source": "/tests/ingest",
        "data": {
            "treaty_id": "XXVI-7",
            "participant": participant,
            "action": "signature",
            "date": "2001-05-04",
            **data,
        },
    }


def applied_ids(stack: Stack) -> set[str]:
    ids: set[str] = set()
    after = "0"
    while True:
        page = registry(stack, f"/v1/events?after={after}&limit=1000")
        ids |= {e["id"] for e in page["items"]}
        if not page["items"]:
            return ids
        after = page["next"]


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_a_write_without_a_valid_key_is_401_and_without_the_scope_403(platform: Stack) -> None:
    body = json.dumps(action()).encode()
    assert "Bearer" in problem(post(platform, "/v1/events", body, key=None), 401)["detail"]
    problem(post(platform, "/v1/events", body, key="not-a-key"), 401)
    assert "ingest:write" in problem(post(platform, "/v1/events", body, key=SUBSCRIPTIONS_ONLY), 403)["detail"]


@pytest.mark.parametrize(
    ("body", "media", "status", "words"),
    [
        (b'{"a": 1}', "text/plain", 415, "JSON"),
        (b"", "application/json", 400, "empty"),
        (b'{"id": "\xff"}', "application/json", 400, "UTF-8"),
        (b'{"id": ', "application/json", 400, "line 1"),
        (b"x" * 200_001, "application/json", 413, "200000"),
        (b"[1, 2]", "application/json", 422, "contract"),
    ],
)
def test_bad_bodies_get_a_specific_problem(platform: Stack, body: bytes, media: str, status: int, words: str) -> None:
    details = problem(post(platform, "/v1/events", body, media), status)
    assert words in details["detail"] or words in json.dumps(details.get("errors"))


@pytest.mark.parametrize(
    ("path", "body", "media", "status"),
    [
        ("/v1/resolutions", b"{}", "application/json", 415),
        ("/v1/resolutions", b"  \n", "text/plain", 400),
        ("/v1/resolutions", "Résolution".encode("latin-1"), "text/plain", 400),
        ("/v1/resolutions", b"", "application/pdf", 400),
        ("/v1/resolutions", image_only_pdf(), "application/pdf", 422),
        ("/v1/resolutions", b"%PDF-1.7\n" + b"x" * 200_000, "application/pdf", 413),
        ("/v1/imports/untc?treaty_id=XXVI-5", b"Participant,Signature\n", "application/json", 415),
        ("/v1/imports/untc?treaty_id=XXVI-5", "Participant,Signature\nCôte,\n".encode("latin-1"), "text/csv", 400),
        ("/v1/imports/untc?treaty_id=XXVI-5", b"Participant," + b"x" * 200_000, "text/csv", 413),
        ("/v1/imports/untc?treaty_id=not-an-id", b"Participant,Signature\n", "text/csv", 422),
        ("/v1/notifications", b"{}", "application/json", 415),
        ("/v1/notifications", b"  \n", "text/plain", 400),
        ("/v1/notifications", b"", "application/pdf", 400),
        ("/v1/notifications", "Référence".encode("latin-1"), "text/plain", 400),
        ("/v1/notifications", b"%PDF-1.7\n" + b"x" * 200_000, "application/pdf", 413),
    ],
)
def test_bad_documents_get_a_specific_problem_and_publish_nothing(
    platform: Stack, path: str, body: bytes, media: str, status: int
) -> None:
    problem(post(platform, path, body, media), status)


def test_an_invalid_event_lists_every_bad_field(platform: Stack) -> None:
    bad = action(date="4 May 2001")
    del bad["data"]["treaty_id"]
    errors = problem(post(platform, "/v1/events", json.dumps(bad).encode()), 422)["errors"]
    assert {e["path"] for e in errors} == {"data.treaty_id", "data.date"}


def test_a_batch_with_bad_events_publishes_nothing_and_names_each_bad_index(platform: Stack) -> None:
    good = action("Chile")
    unknown_type = {**action("Chile"), "type": "treaty.gossip"}
    no_date = action("Chile")
    del no_date["data"]["date"]
    response = post(platform, "/v1/events:batch", json.dumps({"events": [good, unknown_type, no_date]}).encode())
    body = problem(response, 422)
    assert sorted({e["index"] for e in body["errors"]}) == [1, 2]
    assert {e["path"] for e in body["errors"]} == {"events.1.type", "events.2.data.date"}
    # A later event on the same partition key is applied only after anything published before it.
    sentinel = action("Chile", action="ratification")
    assert post(platform, "/v1/events", json.dumps(sentinel).encode()).status_code == 202
    wait_until(lambda: sentinel["id"] in applied_ids(platform), "the sentinel to be applied")
    assert good["id"] not in applied_ids(platform)


def assert_none_applied(stack: Stack, refused: list[dict[str, Any]]) -> None:
    """A later event on the same partition key is applied only after anything published before it."""
    sentinel = action(refused[0]["data"]["participant"], action="ratification")
    assert post(stack, "/v1/events", json.dumps(sentinel).encode()).status_code == 202
    wait_until(lambda: sentinel["id"] in applied_ids(stack), "the sentinel to be applied")
    assert not {e["id"] for e in refused} & applied_ids(stack)


def test_a_batch_over_the_cap_is_422_naming_events_and_the_cap(platform: Stack) -> None:
    run = uuid.uuid4().hex[:8]
    events = [{**action("Chad"), "id": f"{run}-{n}"} for n in range(1_001)]
    compact = json.dumps({"events": events}, separators=(",", ":")).encode()  # under this module's body limit
    body = problem(post(platform, "/v1/events:batch", compact), 422)
    assert [e["path"] for e in body["errors"]] == ["events"]
    assert "at most 1,000 events" in body["detail"] and "none was published" in body["detail"]
    assert_none_applied(platform, events)


def test_an_event_larger_than_a_kafka_message_is_413_naming_it(platform: Stack) -> None:
    large = action("Togo", text="x" * 99_999)
    body = problem(post(platform, "/v1/events", json.dumps(large).encode()), 413)
    assert "bytes, more than the 100,000 a Kafka message may hold" in body["detail"]
    small = [action("Togo"), action("Togo")]
    batch = {"events": [small[0], action("Togo", text="y" * 99_999), small[1]]}
    body = problem(post(platform, "/v1/events:batch", json.dumps(batch).encode()), 413)
    assert [(e["path"], e["index"], e["id"]) for e in body["errors"]] == [("events.1", 1, batch["events"][1]["id"])]
    assert body["detail"].startswith("1 of 3 events are larger than the 100,000 bytes")
    assert_none_applied(platform, [large, *batch["events"]])


def test_a_resolution_with_enormous_paragraphs_is_413_even_on_a_dry_run(platform: Stack) -> None:
    paragraphs = "".join(f"{n}. *Notes* " + "the long report " * 2_500 + "\n\n" for n in range(11, 14))
    text = SEED.read_text(encoding="utf-8").replace("*55th plenary meeting", paragraphs + "*55th plenary meeting")
    for path in ("/v1/resolutions?dry_run=true", "/v1/resolutions"):
        body = problem(post(platform, path, text.encode(), "text/plain"), 413)
        assert "the resolution's event would be at least" in body["detail"]


def test_a_resolution_lacking_required_fields_is_shown_on_a_dry_run_and_refused_for_publishing(
    platform: Stack,
) -> None:
    text = b"A/RES/64/56\n\nThe General Assembly,\n\n1. *Urges* all States to act.\n"
    dry = post(platform, "/v1/resolutions?dry_run=true", text, "text/plain")
    assert dry.status_code == 200, dry.text
    answer = dry.json()
    assert [m["field"] for m in answer["missing"]] == ["title", "adopted_on"]
    assert answer["missing"][1]["reason"].startswith("no adoption date: no line 'Resolution adopted by")
    found = answer["resolution"]
    assert (found["symbol"], found["session"], found["title"], found["adopted_on"]) == ("A/RES/64/56", 64, None, None)
    assert found["committee"] is None and found["claims"] == [] and "id" not in answer

    body = problem(post(platform, "/v1/resolutions", text, "text/plain"), 422)
    assert body["title"] == "Incomplete resolution"
    assert body["detail"].startswith("not found: title, adopted_on, which the contract requires")
    assert [(e["path"], e["message"], e["type"]) for e in body["errors"]] == [
        (m["field"], m["reason"], "missing") for m in answer["missing"]
    ]
    assert body["missing"] == answer["missing"]


def test_a_complete_parse_that_breaks_another_limit_names_the_field(platform: Stack) -> None:
    # Parsed in a worker process: its refusal comes back pickled, with every field it names.
    text = SEED.read_text(encoding="utf-8").replace("(A/64/391)", f"(A/64/{'3' * 600})")
    for path in ("/v1/resolutions?dry_run=true", "/v1/resolutions"):
        body = problem(post(platform, path, text.encode(), "text/plain"), 422)
        assert body["detail"] == "the parsed resolution does not satisfy the contract"
        assert [e["path"] for e in body["errors"]] == ["report_symbol"]


def test_a_status_file_yielding_more_events_than_the_cap_is_422(platform: Stack) -> None:
    rows = "".join(f"Narnia {n},3 Dec 1997,\n" for n in range(1_001))
    text = 'Participant,Signature,"Ratification, Accession(a)"\n' + rows
    body = problem(post(platform, "/v1/imports/untc?treaty_id=XXVI-5", text.encode(), "text/csv"), 422)
    assert "yields more than 1,000 events" in body["detail"] and "none was published" in body["detail"]


def test_a_valid_batch_is_accepted_whole(platform: Stack) -> None:
    events = [action(p) for p in ("Peru", "Fiji", "Mali")]
    response = post(platform, "/v1/events:batch", json.dumps({"events": events}).encode())
    assert response.status_code == 202, response.text
    assert response.json() == {"ids": [e["id"] for e in events]}
    wait_until(lambda: {e["id"] for e in events} <= applied_ids(platform), "the batch to be applied")


def test_a_resolution_dry_run_parses_without_publishing(platform: Stack) -> None:
    response = post(platform, "/v1/resolutions?dry_run=true", SEED.read_bytes(), "text/plain")
    assert response.status_code == 200, response.text
    assert response.json()["resolution"]["symbol"] == "A/RES/64/56"
    assert response.json()["missing"] == []
    assert "id" not in response.json()


def test_a_text_that_is_no_resolution_is_422_saying_what_is_missing(platform: Stack) -> None:
    body = problem(post(platform, "/v1/resolutions", b"Minutes of the staff picnic, 3 June.", "text/plain"), 422)
    assert body["missing"] and "not a General Assembly resolution" in body["detail"]


def test_a_csv_whose_header_is_no_untc_legend_is_422(platform: Stack) -> None:
    csv = b"Name,Email\nAda,ada@example.org\n"
    body = problem(post(platform, "/v1/imports/untc?treaty_id=XXVI-5", csv, "text/csv"), 422)
    assert "Participant" in body["detail"] or "legend" in body["detail"]


def test_the_seed_claim_is_verified_once_the_status_file_is_imported(platform: Stack) -> None:
    imported = post(platform, "/v1/imports/untc?treaty_id=XXVI-5", MINE_BAN.read_bytes(), "text/csv")
    assert imported.status_code == 202, imported.text
    summary = imported.json()
    assert summary["rejected"] == [] and summary["events"] > 156 and summary["import_id"].startswith("imp_")
    again = post(platform, "/v1/imports/untc?treaty_id=XXVI-5", MINE_BAN.read_bytes(), "text/csv").json()
    assert again["import_id"] == summary["import_id"]
    resolution = post(platform, "/v1/resolutions", SEED.read_bytes(), "text/plain")
    assert resolution.status_code == 202, resolution.text

    def claim() -> dict[str, Any] | None:
        doc = httpx.get(f"{platform.url('registry')}/v1/resolutions/64%2F56", timeout=30)
        if doc.status_code != 200:
            return None
        found = [c for c in doc.json()["claims"] if c["kind"] == "parties_count"]
        return found[0] if found and found[0].get("verified") is not None else None

    checked = wait_until(claim, "the registry to check the seed's claim", timeout_s=60)
    stats = registry(platform, "/v1/treaties/XXVI-5/stats?as_of=2009-12-02")
    assert checked is not None
    assert (checked["verified"], checked["expected"], checked["found"]) == (True, 156, 156)
    assert stats["parties"] == 156
    assert registry(platform, "/v1/resolutions/A%2FRES%2F64%2F56")["symbol"] == "A/RES/64/56"


def test_a_resolutions_pdf_reaches_the_registry_with_its_claims_verified(platform: Stack) -> None:
    imported = post(platform, "/v1/imports/untc?treaty_id=XXVI-5", MINE_BAN.read_bytes(), "text/csv")
    assert imported.status_code == 202, imported.text
    pdf = resolution_pdf(SEED.read_text(encoding="utf-8"), "A/RES/64/56")
    dry = post(platform, "/v1/resolutions?dry_run=true", pdf, "application/pdf")
    assert dry.status_code == 200, dry.text
    text = post(platform, "/v1/resolutions?dry_run=true", SEED.read_bytes(), "text/plain").json()
    assert dry.json()["resolution"] == text["resolution"] and dry.json()["missing"] == []

    published = post(platform, "/v1/resolutions", pdf, "application/pdf")
    assert published.status_code == 202, published.text
    event_id = published.json()["id"]
    assert event_id.startswith("resolution:A/RES/64/56:")

    def stored() -> dict[str, Any] | None:
        doc = httpx.get(f"{platform.url('registry')}/v1/resolutions/64%2F56", timeout=30)
        return doc.json() if doc.status_code == 200 and doc.json()["event_id"] == event_id else None

    doc = wait_until(stored, "the registry to record the PDF's resolution", timeout_s=60)
    assert doc is not None and doc["symbol"] == "A/RES/64/56"
    checked = [(c["kind"], c["value"], c["verified"], c["found"]) for c in doc["claims"]]
    assert checked == [("entry_into_force_year", 1999, True, 1999), ("parties_count", 156, True, 156)]


def test_without_a_broker_ingest_answers_503_with_retry_after(servers: Stack) -> None:
    stack = Stack(
        data_dir=OUTPUT / "ingest-no-broker",
        ports=Ports.free(),
        api_key=KEY,
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        mongo_url=servers.mongo_url,
        env={"TREATYWATCH_PUBLISH_TIMEOUT_S": "2"},
    )
    try:
        stack.start_service("ingest")
        stack.wait_for("ingest", lambda: stack.answers("ingest"), "healthz", 30)
        assert httpx.get(f"{stack.url('ingest')}/readyz").status_code == 503
        response = post(stack, "/v1/events", json.dumps(action()).encode())
        assert problem(response, 503)["title"] == "Broker unavailable"
        assert int(response.headers["retry-after"]) > 0
    finally:
        stack.stop()


def test_an_unknown_path_or_method_is_a_problem_too(platform: Stack) -> None:
    assert problem(httpx.get(f"{platform.url('ingest')}/v1/no-such-thing", timeout=10), 404)["title"] == "Not found"
    wrong = httpx.delete(f"{platform.url('ingest')}/v1/events", timeout=10)
    assert problem(wrong, 405)["title"] == "Method not allowed" and wrong.headers["allow"] == "POST"


def test_the_key_goes_in_the_bearer_scheme_which_every_openapi_document_declares(platform: Stack) -> None:
    body = json.dumps(action()).encode()
    basic = httpx.post(
        f"{platform.url('ingest')}/v1/events",
        content=body,
        headers={"Content-Type": "application/json", "Authorization": f"Basic {KEY}"},
        timeout=10,
    )
    problem(basic, 401)
    for service in ("ingest", "registry"):
        document = httpx.get(f"{platform.url(service)}/openapi.json", timeout=10).json()
        assert document["components"]["securitySchemes"]["HTTPBearer"] == {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `Authorization: Bearer <key>`.",
        }
    ingest = httpx.get(f"{platform.url('ingest')}/openapi.json", timeout=10).json()
    assert ingest["paths"]["/v1/events"]["post"]["security"] == [{"HTTPBearer": []}]


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TREATYWATCH_")} | {"COLUMNS": "200"}
    argv = [*CLI, "ingest", "resolution", *args, "--ingest-url", stack.url("ingest"), "--api-key", KEY]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def summary_table(stdout: str) -> dict[str, str]:
    """The cells of the summary table the CLI prints, by column."""
    lines = stdout.splitlines()
    at = next(index for index, line in enumerate(lines) if "files" in line and "failures" in line)
    cells = [re.split("[┃│]", line) for line in (lines[at], lines[at + 2])]
    return {h.strip(): v.strip() for h, v in zip(*cells, strict=True) if h.strip()}


@pytest.fixture
def folder() -> Iterator[Path]:
    OUTPUT.mkdir(exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=OUTPUT, prefix="resolutions-"))
    seed = SEED.read_text(encoding="utf-8")
    (path / "A-RES-64-56.txt").write_text(seed, encoding="utf-8")
    (path / "A-RES-62-41.txt").write_text(two_sessions_earlier(seed), encoding="utf-8")
    (path / "headless.txt").write_text("A/RES/64/56\n\nThe General Assembly,\n\n1. *Urges* all States to act.\n")
    (path / "nested").mkdir()
    (path / "nested" / "A-RES-64-56.PDF").write_bytes(resolution_pdf(seed, "A/RES/64/56"))
    (path / "README.md").write_text("not read: neither .txt nor .pdf\n")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_the_cli_sends_a_folder_of_resolutions_and_sums_up(platform: Stack, folder: Path) -> None:
    one = cli(platform, str(folder / "nested" / "A-RES-64-56.PDF"), "--dry-run")
    assert one.returncode == 0, one.stdout + one.stderr
    assert json.loads(one.stdout)["resolution"]["symbol"] == "A/RES/64/56"

    dry = cli(platform, str(folder), "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    table = summary_table(dry.stdout)
    assert (table["files"], table["complete"], table["missing fields"], table["failures"]) == ("4", "3", "2", "0")
    assert "missing headless.txt: title: no title" in dry.stdout and "dry run: nothing was published" in dry.stdout

    (folder / "minutes.txt").write_text("Minutes of the staff picnic, 3 June.\n")
    sent = cli(platform, str(folder))
    assert sent.returncode == 1, sent.stdout + sent.stderr
    table = summary_table(sent.stdout)
    assert (table["files"], table["published"], table["missing fields"], table["failures"]) == ("3", "3", "2", "2")
    assert "failed headless.txt: 422 not found: title, adopted_on, which the contract requires" in sent.stdout
    assert "failed minutes.txt: 422 not a General Assembly resolution" in sent.stdout
    wait_until(lambda: registry_has(platform, "A/RES/62/41"), "the folder's resolutions recorded", timeout_s=60)


def registry_has(stack: Stack, symbol: str) -> bool:
    return httpx.get(f"{stack.url('registry')}/v1/resolutions/{quote(symbol, safe='')}", timeout=30).status_code == 200

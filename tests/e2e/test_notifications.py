"""Depositary notifications end to end, as real processes: a PDF or a text through ingest to the registry and to a
signed webhook; the same notification twice, a dry run and a refused body publish nothing new; the CLI on a folder."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import OUTPUT, ROOT, services_on
from tests.pdfs import encrypted, image_only_pdf, write_pdf
from tests.receiver import Received, Receiver, valid_signatures, webhook_receiver
from tests.unit.test_registry_feeds import NS, atom_checks, text_of
from tests.waiting import wait_until
from treatywatch.cli.stack import Stack
from treatywatch.common.settings import hash_key
from treatywatch.registry.routes.feeds import entry_id

KEY = "notifications-" + uuid.uuid4().hex
SUBSCRIPTIONS_ONLY = "subs-" + uuid.uuid4().hex
FIXTURES = ROOT / "tests" / "fixtures" / "notifications"
LETTERHEAD = ("UNITED NATIONS\tNATIONS UNIES", "THE SECRETARY-GENERAL OF THE UNITED NATIONS")
FOOTER = "Attention: Treaty Services of Ministries of Foreign Affairs and of international organizations concerned."
POLAND = "C.N.1.2013.TREATIES-XXVI.5"
CLI = [sys.executable, "-m", "treatywatch.cli.main"]


@pytest.fixture(scope="module")
def platform(servers: Stack) -> Iterator[Stack]:
    keys = [{"name": "notify-only", "sha256": hash_key(SUBSCRIPTIONS_ONLY), "scopes": ["subscriptions:write"]}]
    env = {"TREATYWATCH_API_KEYS": json.dumps(keys), "TREATYWATCH_RETRY_SCHEDULE_S": "[0, 0.2, 0.5]"}
    with services_on(servers, "notifications", ("ingest", "registry"), KEY, env) as stack:
        # Notify on the same topic, with a database of its own: the registry's and notify's both hold `events`.
        stack.env["TREATYWATCH_MONGO_DB"] += "_notify"
        stack.start_service("notify")
        stack.wait_ready(("notify",))
        yield stack


@dataclass
class Subscribed:
    """A webhook receiver subscribed to the Mine Ban Convention's actions, and the subscription's secret."""

    receiver: Receiver
    secret: str


@pytest.fixture(scope="module")
def hooks(platform: Stack) -> Iterator[Subscribed]:
    with webhook_receiver() as receiver:
        subscription = {
            "url": receiver.url,
            "event_types": ["treaty.action.recorded"],
            "filter": {"treaty_ids": ["XXVI-5"]},
        }
        created = httpx.post(
            f"{platform.url('notify')}/v1/subscriptions", json=subscription, headers=auth(), timeout=30
        )
        assert created.status_code == 201, created.text
        yield Subscribed(receiver, created.json()["secret"])


def delivered(hooks: Subscribed, event_id: str) -> list[Received]:
    return [r for r in hooks.receiver.requests if json.loads(r.body)["id"] == event_id]


def auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def fixture(name: str) -> str:
    return (FIXTURES / f"{name}.txt").read_text(encoding="utf-8")


def pdf_of(text: str) -> bytes:
    """The notification laid out as the UN publishes it: letterhead, footer, page numbers."""
    lines = [line for line in text.splitlines() if line.strip()]
    return write_pdf(lines, letterhead=LETTERHEAD, footer=FOOTER, page_numbers="of")


def post(stack: Stack, body: bytes | str, media: str, query: str = "", key: str = KEY) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    headers = {**auth(key), "Content-Type": media}
    return httpx.post(f"{stack.url('ingest')}/v1/notifications{query}", content=content, headers=headers, timeout=30)


def get(stack: Stack, path: str) -> Any:
    response = httpx.get(f"{stack.url('registry')}{path}", timeout=30)
    return response.json() if response.status_code == 200 else None


def applied_ids(stack: Stack) -> list[str]:
    """The registry's audit trail: the ids of the events it applied, in order."""
    ids: list[str] = []
    after = "0"
    while True:
        page = get(stack, f"/v1/events?after={after}&limit=1000")
        if not page["items"]:
            return ids
        ids += [e["id"] for e in page["items"]]
        after = page["next"]


def sentinel(stack: Stack, participant: str, treaty_id: str = "XXVI-5") -> str:
    """An event on the partition of `treaty_id/participant`, applied after everything published there before it."""
    event_id = f"sentinel-{uuid.uuid4()}"
    event = {
        "id": event_id,
        "type": "treaty.action.recorded",
        "source": "/tests/notifications",
        "data": {"treaty_id": treaty_id, "participant": participant, "action": "declaration", "date": "2020-01-01"},
    }
    response = httpx.post(f"{stack.url('ingest')}/v1/events", json=event, headers=auth(), timeout=30)
    assert response.status_code == 202, response.text
    wait_until(lambda: event_id in applied_ids(stack), "the sentinel to be applied")
    return event_id


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def participant(stack: Stack, code: str, as_of: str = "2020-01-01") -> dict[str, Any] | None:
    items = get(stack, f"/v1/treaties/XXVI-5/participants?as_of={as_of}")["items"]
    return next((item for item in items if item["participant"] == code), None)


def test_a_pdf_reaches_the_registry_and_a_signed_webhook(platform: Stack, hooks: Subscribed) -> None:
    response = post(platform, pdf_of(fixture("POL-2012-ratification-XXVI-5")), "application/pdf")
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["warnings"] == []
    assert answer["notification"]["reference"] == POLAND and answer["notification"]["kind"] == "action"
    [event] = answer["events"]
    assert (event["id"], event["type"], event["subject"]) == (f"cn:{POLAND}", "treaty.action.recorded", "XXVI-5/POL")
    assert event["data"] == {
        "treaty_id": "XXVI-5",
        "participant": "POL",
        "action": "ratification",
        "date": "2012-12-27",
        "effective_date": "2013-06-01",
        "notification": POLAND,
        "participant_name": "Poland",
    }

    poland = wait_until(lambda: participant(platform, "POL", "2013-06-01"), "Poland's ratification in the registry")
    assert poland is not None
    assert poland["status"] == "party"
    assert poland["consent"] == {"action": "ratification", "date": "2012-12-27"}
    [act] = [a for a in poland["actions"] if a["event_id"] == f"cn:{POLAND}"]
    assert (act["notification"], act["effective_date"]) == (POLAND, "2013-06-01")
    assert participant(platform, "POL", "2012-12-26") is None  # not before the deposit
    # The participant's table names the notification beside the act, and so do both Atom feeds.
    table = httpx.get(f"{platform.url('registry')}/v1/treaties/XXVI-5/participants?as_of=2013-06-01&format=csv")
    rows = list(csv.DictReader(io.StringIO(table.text, newline="")))
    assert next(r for r in rows if r["participant"] == "POL")["consent_notification"] == POLAND
    for feed in ("/v1/participants/POL/feed.atom", "/v1/treaties/XXVI-5/feed.atom"):
        root = atom_checks(httpx.get(f"{platform.url('registry')}{feed}", timeout=30).content)
        [entry] = [e for e in root.findall("a:entry", NS) if text_of(e, "a:id") == entry_id(f"cn:{POLAND}")]
        assert POLAND in text_of(entry, "a:summary")
        assert text_of(entry, "a:title") == "Poland: ratification of the Mine Ban Convention"

    [webhook, *_] = wait_until(lambda: delivered(hooks, f"cn:{POLAND}"), "the webhook")
    assert valid_signatures(hooks.secret, webhook)
    assert json.loads(webhook.body)["data"]["notification"] == POLAND


def test_the_same_notification_twice_as_text_and_pdf_publishes_nothing_new(platform: Stack, hooks: Subscribed) -> None:
    text = fixture("FIN-2012-accession-XXVI-5")
    first = post(platform, text, "text/plain")
    assert first.status_code == 202, first.text
    event_id = "cn:C.N.12.2012.TREATIES-XXVI.5"
    assert [e["id"] for e in first.json()["events"]] == [event_id]
    wait_until(lambda: event_id in applied_ids(platform), "the accession to be applied")
    before = applied_ids(platform)

    again = post(platform, text.encode("utf-8"), "text/plain; charset=utf-8")
    as_pdf = post(platform, pdf_of(text), "application/pdf")
    assert again.status_code == as_pdf.status_code == 202
    assert again.json()["events"][0]["id"] == as_pdf.json()["events"][0]["id"] == event_id
    marker = sentinel(platform, "FIN")
    assert applied_ids(platform) == [*before, marker]
    wait_until(lambda: delivered(hooks, marker), "the sentinel's webhook")
    assert len({r.headers["webhook-id"] for r in delivered(hooks, event_id)}) == 1


def test_a_dry_run_answers_the_events_and_publishes_nothing(platform: Stack) -> None:
    response = post(platform, fixture("BDI-2016-withdrawal-XVIII-10"), "text/plain", "?dry_run=true")
    assert response.status_code == 200, response.text
    [event] = response.json()["events"]
    assert (event["id"], event["data"]["action"], event["data"]["effective_date"]) == (
        "cn:C.N.805.2016.TREATIES-XVIII.10",
        "withdrawal",
        "2017-10-27",
    )
    sentinel(platform, "BDI", "XVIII-10")
    assert event["id"] not in applied_ids(platform)


ENTRY = "C.N.522.1998.TREATIES-XXVI.5"


def test_an_entry_into_force_reaches_the_treaty_in_the_registry_and_a_webhook(platform: Stack) -> None:
    with webhook_receiver() as receiver:
        subscription = {"url": receiver.url, "event_types": ["treaty.*"], "filter": {"treaty_ids": ["XXVI-5"]}}
        created = httpx.post(f"{platform.url('notify')}/v1/subscriptions", json=subscription, headers=auth())
        assert created.status_code == 201, created.text
        for query, status in (("?dry_run=true", 200), ("", 202)):
            response = post(platform, fixture("XXVI-5-1998-entry-into-force"), "text/plain", query)
            assert response.status_code == status, response.text
            answer = response.json()
            assert answer["warnings"] == []
            assert (answer["notification"]["kind"], answer["notification"]["date"]) == (
                "entry_into_force",
                "1999-03-01",
            )
            [event] = answer["events"]
            assert (event["id"], event["type"], event["subject"]) == (
                f"cn:{ENTRY}",
                "treaty.entered_into_force",
                "XXVI-5",
            )
            assert event["data"] == {
                "treaty_id": "XXVI-5",
                "date": "1999-03-01",
                "notification": ENTRY,
                "article": "article 17 (1)",
            }

        def stated() -> Any:
            treaty = get(platform, "/v1/treaties/XXVI-5")
            return treaty if treaty and treaty.get("stated_entry_into_force") else None

        treaty = wait_until(stated, "the entry into force on the treaty")
        assert treaty["stated_entry_into_force"] == {
            "date": "1999-03-01",
            "notification": ENTRY,
            "article": "article 17 (1)",
        }
        # The catalogue's rules state the same date: it is the stated one, and the notification does not disagree.
        assert treaty["entry_into_force_dates"]["stated"] == "1999-03-01"
        assert not [w for w in treaty["warnings"] if ENTRY in w]
        [webhook] = wait_until(
            lambda: [r for r in receiver.requests if json.loads(r.body)["id"] == f"cn:{ENTRY}"], "the webhook"
        )
        body = json.loads(webhook.body)
        assert (body["type"], body["data"]["notification"]) == ("treaty.entered_into_force", ENTRY)


def test_a_stated_date_the_rules_contradict_is_published_with_a_warning(platform: Stack) -> None:
    text = fixture("BDI-2016-withdrawal-XVIII-10").replace("27 October 2017", "28 October 2017")
    response = post(platform, text, "text/plain", "?dry_run=true")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["warnings"] == [
        "the notification states 2017-10-28 for the withdrawal; Article 127(1) gives 2017-10-27"
    ]
    assert answer["events"][0]["data"]["effective_date"] == "2017-10-28"


def test_a_correction_applies_to_an_act_sent_from_elsewhere_under_the_notification_it_names(platform: Stack) -> None:
    named, correcting = "C.N.77.2014.TREATIES-XXVI.5", "C.N.78.2014.TREATIES-XXVI.5"
    # Somalia's accession as an office sent it, with its own id and the notification it cites.
    sent = {
        "id": f"office-{uuid.uuid4()}",
        "type": "treaty.action.recorded",
        "source": "/tests/notifications",
        "data": {
            "treaty_id": "XXVI-5",
            "participant": "SOM",
            "action": "accession",
            "date": "2012-04-17",
            "notification": named,
        },
    }
    accepted = httpx.post(f"{platform.url('ingest')}/v1/events", json=sent, headers=auth(), timeout=30)
    assert accepted.status_code == 202, accepted.text
    correction = (
        fixture("POL-2013-correction-XXVI-5")
        .replace("C.N.45.2013", correcting.removesuffix(".TREATIES-XXVI.5"))
        .replace("C.N.1.2013", named.removesuffix(".TREATIES-XXVI.5"))
        .replace("POLAND: RATIFICATION", "SOMALIA: ACCESSION")
        .replace("for Poland", "for Somalia")
        .replace("27 December 2012", "16 April 2012")
        .replace("1 June 2013", "1 October 2012")
        .replace("1 July 2013", "1 November 2012")
    )
    response = post(platform, correction, "text/plain")
    assert response.status_code == 202, response.text
    [event] = response.json()["events"]
    assert (event["data"]["corrects"], event["data"]["date"]) == (f"cn:{named}", "2012-04-16")

    def corrected() -> Any:
        entries = [i for i in (get(platform, "/v1/treaties?participant=SOM") or {}).get("items", [])]
        return entries[0] if entries and entries[0].get("superseded") else None

    entry = wait_until(corrected, "the correction applied to the act sent from elsewhere")
    assert [a["event_id"] for a in entry["superseded"]] == [sent["id"]]
    assert [(a["event_id"], a["date"]) for a in entry["actions"]] == [(f"cn:{correcting}", "2012-04-16")]
    assert entry["consent"] == {"action": "accession", "date": "2012-04-16"}


def test_a_correction_replaces_the_act_it_corrects_and_the_history_keeps_both(platform: Stack) -> None:
    assert post(platform, fixture("POL-2012-ratification-XXVI-5"), "text/plain").status_code == 202
    response = post(platform, fixture("POL-2013-correction-XXVI-5"), "text/plain")
    assert response.status_code == 202, response.text
    [event] = response.json()["events"]
    assert (event["id"], event["data"]["corrects"]) == ("cn:C.N.45.2013.TREATIES-XXVI.5", f"cn:{POLAND}")

    def corrected() -> Any:
        body = get(platform, "/v1/treaties?participant=POL")
        entries = [i for i in (body or {}).get("items", []) if i["treaty_id"] == "XXVI-5"]
        return entries[0] if entries and entries[0].get("superseded") else None

    entry = wait_until(corrected, "the correction to be applied")
    assert f"cn:{POLAND}" in [a["event_id"] for a in entry["superseded"]]
    current = [a for a in entry["actions"] if a["action"] == "ratification"]
    assert [(a["event_id"], a["notification"]) for a in current] == [
        ("cn:C.N.45.2013.TREATIES-XXVI.5", "C.N.45.2013.TREATIES-XXVI.5")
    ]
    assert {f"cn:{POLAND}", "cn:C.N.45.2013.TREATIES-XXVI.5"} <= set(applied_ids(platform))


# A notification of Poland under a reference never published: what each refused body would have published.
UNPUBLISHED = "C.N.999.2013.TREATIES-XXVI.5"


def unpublished() -> str:
    return fixture("POL-2012-ratification-XXVI-5").replace(POLAND, UNPUBLISHED)


@pytest.mark.parametrize(
    ("body", "media", "status", "title", "words"),
    [
        (b"Minutes of the staff picnic, 3 June.", "text/plain", 422, "Not a depositary notification", "no C.N."),
        (encrypted(pdf_of(unpublished())), "application/pdf", 422, "No extractable text", "the PDF is encrypted"),
        (image_only_pdf(), "application/pdf", 422, "No extractable text", "only images"),
        (pdf_of(unpublished())[:1500], "application/pdf", 422, "No extractable text", "corrupt PDF"),
        (unpublished().encode(), "application/pdf", 422, "No extractable text", "not a PDF"),
        ((unpublished() + "x" * 10_001).encode(), "text/plain", 422, "Line too long", "10,000"),
        ((unpublished() + "x \n" * 400_000).encode(), "text/plain", 413, "Notification too large", "1,000,000"),
        (b"", "application/pdf", 400, "Empty body", "empty"),
        (unpublished().encode("utf-16"), "text/plain", 400, "Not UTF-8", "UTF-8"),
        (unpublished().encode(), "application/json", 415, "Unsupported media type", "application/pdf"),
    ],
    ids=[
        "no-notification",
        "encrypted",
        "image-only",
        "truncated",
        "text-as-pdf",
        "long-line",
        "too-large",
        "empty-pdf",
        "utf-16",
        "json",
    ],
)
def test_a_refused_body_is_a_problem_and_publishes_nothing(
    platform: Stack, body: bytes, media: str, status: int, title: str, words: str
) -> None:
    details = problem(post(platform, body, media), status)
    assert details["title"] == title and words in details["detail"]
    sentinel(platform, "POL")
    assert f"cn:{UNPUBLISHED}" not in applied_ids(platform)


def test_a_text_that_is_no_notification_names_each_missing_part_on_the_body(platform: Stack) -> None:
    details = problem(post(platform, "Minutes of the staff picnic, 3 June.", "text/plain"), 422)
    assert details["missing"] == ["no C.N. reference", "no participant/action line", "no date of the act"]
    assert [(e["path"], e["message"]) for e in details["errors"]] == [("body", m) for m in details["missing"]]


def test_writing_needs_a_key_with_ingest_write(platform: Stack) -> None:
    assert problem(post(platform, unpublished(), "text/plain", key="not-a-key"), 401)
    assert "ingest:write" in problem(post(platform, unpublished(), "text/plain", key=SUBSCRIPTIONS_ONLY), 403)["detail"]
    document = httpx.get(f"{platform.url('ingest')}/openapi.json", timeout=10).json()
    route = document["paths"]["/v1/notifications"]["post"]
    assert set(route["requestBody"]["content"]) == {"text/plain", "application/pdf"}
    assert {"200", "202", "422"} <= set(route["responses"])


def generated_bodies(count: int) -> Iterator[tuple[bytes, str]]:
    """Bodies a careless or hostile client sends: noise, damaged notifications, random or damaged PDFs."""
    rng = random.Random(13)
    texts = [path.read_text(encoding="utf-8") for path in sorted(FIXTURES.glob("*.txt"))]
    pdf = pdf_of(texts[0])
    alphabet = 'C.N.1.2013.TREATIES-XXVI.5 POLAND:RATIFICATION effected on 27 December 2012\n"“”«»()\f-'
    for n in range(count):
        match n % 4:
            case 0:
                yield "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 3000))).encode(), "text/plain"
            case 1:
                lines = rng.choice(texts).splitlines()
                for _ in range(rng.randint(1, 8)):
                    lines.insert(rng.randint(0, len(lines)), "".join(rng.sample(alphabet, 12)))
                    lines.pop(rng.randrange(len(lines)))
                yield "\n".join(lines).encode(), "text/plain"
            case 2:
                yield b"%PDF-1.7\n" + rng.randbytes(rng.randint(0, 4000)), "application/pdf"
            case _:
                damaged = bytearray(pdf)
                for _ in range(rng.randint(1, 30)):
                    damaged[rng.randrange(len(damaged))] = rng.randrange(256)
                yield bytes(damaged), "application/pdf"


def test_no_generated_body_gets_a_500(platform: Stack) -> None:
    statuses = {post(platform, body, media, "?dry_run=true").status_code for body, media in generated_bodies(80)}
    assert statuses <= {200, 400, 413, 422}, statuses
    assert httpx.get(f"{platform.url('ingest')}/healthz", timeout=10).status_code == 200


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TREATYWATCH_")} | {"COLUMNS": "200"}
    argv = [*CLI, "ingest", "notification", *args, "--ingest-url", stack.url("ingest"), "--api-key", KEY]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def folder() -> Iterator[Path]:
    OUTPUT.mkdir(exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=OUTPUT, prefix="notifications-"))
    for name in ("BDI-2016-withdrawal-XVIII-10", "JPN-2016-acceptance-XXVII-7-d", "XXVI-5-1998-entry-into-force"):
        shutil.copy(FIXTURES / f"{name}.txt", path)
    (path / "nested").mkdir()
    (path / "nested" / "PSE-2015-accession-XVIII-10.PDF").write_bytes(pdf_of(fixture("PSE-2015-accession-XVIII-10")))
    (path / "README.md").write_text("not read: neither .txt nor .pdf\n")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_the_cli_sends_a_folder_and_lists_what_failed(platform: Stack, folder: Path) -> None:
    dry = cli(platform, str(folder), "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "dry run" in dry.stdout

    (folder / "minutes.txt").write_text("Minutes of the staff picnic, 3 June.\n")
    sent = cli(platform, str(folder))
    assert sent.returncode == 1, sent.stdout + sent.stderr
    lines = sent.stdout.splitlines()
    at = next(index for index, line in enumerate(lines) if "files" in line and "failures" in line)
    cells = [re.split("[┃│]", line) for line in (lines[at], lines[at + 2])]
    table = {h.strip(): v.strip() for h, v in zip(*cells, strict=True) if h.strip()}
    assert (table["files"], table["events"], table["failures"]) == ("4", "4", "1")
    assert "failed minutes.txt: 422 not a depositary notification" in sent.stdout
    assert "XXVII-7-d is not in ingest's catalogue" in sent.stdout
    wait_until(lambda: "cn:C.N.13.2015.TREATIES-XVIII.10" in applied_ids(platform), "the PDF's accession applied")

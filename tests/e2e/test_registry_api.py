"""The registry's questions answered end to end: ingest and registry as processes, the Mine Ban Convention's
status file and resolution 64/56 loaded through ingest, other events and raw bytes put on the topic."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from tests.conftest import DATA, services_on
from tests.waiting import wait_until
from treatywatch.cli.stack import Stack

KEY = "registry-api-" + uuid.uuid4().hex
AUTH = {"Authorization": f"Bearer {KEY}"}
TOPIC = f"registry-api-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def platform(servers: Stack) -> Iterator[Stack]:
    with services_on(servers, "e2e-registry-api", ("ingest", "registry"), KEY, {"TREATYWATCH_TOPIC": TOPIC}) as stack:
        status_file = DATA.mine_ban
        imported = httpx.post(
            f"{stack.url('ingest')}/v1/imports/untc?treaty_id=XXVI-5",
            content=status_file.read_bytes(),
            headers={**AUTH, "Content-Type": "text/csv"},
            timeout=60,
        )
        assert imported.status_code == 202, imported.text
        seed = DATA.resolution.read_bytes()
        posted = httpx.post(
            f"{stack.url('ingest')}/v1/resolutions",
            content=seed,
            headers={**AUTH, "Content-Type": "text/plain"},
            timeout=60,
        )
        assert posted.status_code == 202, posted.text
        yield stack


def get(stack: Stack, path: str, status: int = 200) -> Any:
    response = httpx.get(f"{stack.url('registry')}{path}", timeout=30)
    assert response.status_code == status, response.text
    return response.json()


def post_events(stack: Stack, events: list[dict[str, Any]]) -> None:
    body = {"events": [{"source": "/tests/e2e/registry", **e} for e in events]}
    response = httpx.post(f"{stack.url('ingest')}/v1/events:batch", json=body, headers=AUTH, timeout=30)
    assert response.status_code == 202, response.text


def action(event_id: str, participant: str, kind: str, day: str, **extra: str) -> dict[str, Any]:
    data = {"treaty_id": "XXVI-5", "participant": participant, "action": kind, "date": day, **extra}
    return {"id": event_id, "type": "treaty.action.recorded", "data": data}


def seed_verified(stack: Stack) -> Any:
    response = httpx.get(f"{stack.url('registry')}/v1/resolutions/{quote('64/56', safe='')}", timeout=30)
    if response.status_code != 200:
        return None
    body = response.json()
    claims = [c for c in body["claims"] if c["kind"] == "parties_count"]
    return body if claims and all(c["verified"] for c in claims) else None


def test_the_seeds_claim_is_verified_against_the_imported_status_file(platform: Stack) -> None:
    resolution = wait_until(lambda: seed_verified(platform), "64/56's parties claim verified", timeout_s=60)
    claim = next(c for c in resolution["claims"] if c["kind"] == "parties_count")
    assert (claim["expected"], claim["found"], claim["treaty_id"]) == (156, 156, "XXVI-5")
    assert resolution["symbol"] == "A/RES/64/56"
    assert get(platform, "/v1/resolutions/A%2FRES%2F64%2F56")["symbol"] == "A/RES/64/56"
    # Nothing it recalls has been recorded: the chain says so, with the dates the resolution gives.
    chain = resolution["citation_chain"]
    assert chain and all(not node["known"] and node["depth"] == 1 for node in chain)
    assert {node["symbol"] for node in chain} == {r["symbol"] for r in resolution["recalls"]}

    stats = get(platform, "/v1/treaties/XXVI-5/stats?as_of=2009-12-02")
    assert (stats["parties"], stats["entry_into_force"]) == (156, "1999-03-01")
    afghanistan = get(platform, "/v1/treaties/XXVI-5/participants?as_of=2009-12-02&status=party")["items"]
    entry = next(p for p in afghanistan if p["participant"] == "AFG")
    assert (entry["consent"], entry["in_force_on"]) == ({"action": "accession", "date": "2002-09-11"}, "2003-03-01")

    points = get(platform, "/v1/treaties/XXVI-5/timeline")["points"]
    assert [p["date"] for p in points] == sorted(p["date"] for p in points)
    by_date = {p["date"]: p for p in points}
    at_eif = get(platform, "/v1/treaties/XXVI-5/stats?as_of=1999-03-01")
    assert (by_date["1999-03-01"]["parties"], by_date["1999-03-01"]["in_force"]) == (
        at_eif["parties"],
        at_eif["in_force"],
    )


def test_a_participant_by_code_or_un_name_and_the_treaty_search(platform: Stack) -> None:
    wait_until(lambda: seed_verified(platform), "the status file applied", timeout_s=60)
    by_code = get(platform, "/v1/participants/AFG?as_of=2009-12-02")
    by_name = get(platform, f"/v1/participants/{quote('Afghanistan')}?as_of=2009-12-02")
    assert by_code == by_name
    assert by_code["participant"] == "AFG" and by_code["party"] == 1
    [treaty] = by_code["items"]
    assert (treaty["treaty_id"], treaty["status"], treaty["in_force_on"]) == ("XXVI-5", "party", "2003-03-01")
    found = get(platform, "/v1/treaties?participant=Afghanistan&status=party&as_of=2009-12-02")
    assert [t["treaty_id"] for t in found["items"]] == ["XXVI-5"]
    assert get(platform, "/v1/treaties?participant=AFG&status=withdrawn")["items"] == []
    assert get(platform, "/v1/participants/Atlantis", 404)["status"] == 404
    assert get(platform, "/v1/treaties?status=party", 422)["title"] == "Invalid request"


def test_a_correction_arriving_before_what_it_corrects_wins_and_the_history_keeps_both(platform: Stack) -> None:
    original = action(f"orig-{uuid.uuid4()}", "Atlantis Organization", "signature", "2020-01-01")
    correction = action(f"fix-{uuid.uuid4()}", "Atlantis Organization", "signature", "2020-02-02")
    correction["data"]["corrects"] = original["id"]
    post_events(platform, [correction])
    post_events(platform, [original, original])

    def corrected() -> Any:
        response = httpx.get(f"{platform.url('registry')}/v1/participants/Atlantis%20Organization", timeout=30)
        body = response.json() if response.status_code == 200 else None
        return body if body and body["items"][0].get("superseded") else None

    body = wait_until(corrected, "the original and its correction applied")
    [entry] = body["items"]
    assert [(a["event_id"], a["date"]) for a in entry["actions"]] == [(correction["id"], "2020-02-02")]
    assert [a["event_id"] for a in entry["superseded"]] == [original["id"]]
    assert entry["status"] == "signatory"


def afghanistan_reports(stack: Stack, as_of: str) -> Any:
    """Afghanistan's entry in the treaty's reports on `as_of`, once its accession is applied."""
    items = get(stack, f"/v1/treaties/XXVI-5/reports?as_of={as_of}")["items"]
    return next((i for i in items if i["participant"] == "AFG"), None)


def test_meetings_and_transparency_reports(platform: Stack) -> None:
    wait_until(lambda: seed_verified(platform), "the status file applied", timeout_s=60)
    # No Article 7 report is recorded yet (this module submits its first below): none is called overdue.
    entry = wait_until(lambda: afghanistan_reports(platform, "2009-12-02"), "Afghanistan's accession applied")
    assert (entry["recorded"], entry["due_count"], entry["overdue"]) == (False, 7, [])
    assert {(r["status"], r["overdue"]) for r in entry["reports"]} == {("not_recorded", False)}
    everyone = get(platform, "/v1/treaties/XXVI-5/reports?as_of=2009-12-02")
    assert (everyone["recorded"], everyone["count"], everyone["overdue_count"]) == (False, 156, 0)
    assert everyone["due_count"] == sum(i["due_count"] for i in everyone["items"]) > 156
    assert not any(i["recorded"] or i["overdue"] for i in everyone["items"])
    unknown = get(platform, "/v1/treaties/XXVI-5/reports?as_of=2009-12-02&overdue=true")
    assert (unknown["count"], unknown["overdue_count"], unknown["items"]) == (0, 0, [])
    assert unknown["due_count"] == everyone["due_count"]
    mine = get(platform, "/v1/participants/AFG/reports?as_of=2009-12-02")
    assert (mine["count"], mine["overdue_count"], mine["due_count"]) == (1, 0, 7)
    assert mine["items"][0]["recorded"] is False and mine["items"][0]["reports"] == entry["reports"]
    assert get(platform, "/v1/participants/AFG/reports?as_of=2009-12-02&overdue=true")["items"] == []

    meetings = [
        {
            "type": "meeting.recorded",
            "data": {"treaty_id": "XXVI-5", "kind": kind, "ordinal": n, "place": place, "start": start, "end": end},
        }
        for kind, n, place, start, end in (
            ("review_conference", 1, "Nairobi", "2004-11-29", "2004-12-03"),
            ("msp", 1, "Maputo", "1999-05-03", "1999-05-07"),
        )
    ]
    report = {
        "type": "report.submitted",
        "data": {
            "treaty_id": "XXVI-5",
            "participant": "Afghanistan",
            "kind": "article7",
            "period": "initial",
            "submitted_on": "2003-09-01",
        },
    }
    post_events(platform, [*meetings, report])
    listed = wait_until(
        lambda: (m := get(platform, "/v1/treaties/XXVI-5/meetings"))["count"] == 2 and m, "the meetings stored"
    )
    assert [(m["place"], m["start"]) for m in listed["items"]] == [("Maputo", "1999-05-03"), ("Nairobi", "2004-11-29")]

    def afghanistan() -> Any:
        entry = afghanistan_reports(platform, "2005-06-01")
        return entry if entry["reports"][0]["submitted_on"] else None

    entry = wait_until(afghanistan, "Afghanistan's initial report recorded")
    assert entry["reports"] == [
        {
            "period": "initial",
            "due_on": "2003-08-28",
            "submitted_on": "2003-09-01",
            "overdue": False,
            "status": "submitted",
        },
        {"period": "2003", "due_on": "2004-04-30", "submitted_on": None, "overdue": True, "status": "overdue"},
        {"period": "2004", "due_on": "2005-04-30", "submitted_on": None, "overdue": True, "status": "overdue"},
    ]
    assert (entry["recorded"], entry["due_count"], entry["overdue"]) == (True, 3, ["2003", "2004"])
    # One report of the kind is recorded: every other party's missing reports are overdue now.
    overdue = get(platform, "/v1/treaties/XXVI-5/reports?as_of=2009-12-02&overdue=true")
    assert overdue["recorded"] is True and overdue["count"] == overdue["overdue_count"] == 156
    others = next(i for i in overdue["items"] if i["participant"] == "NOR")
    assert {r["status"] for r in others["reports"]} == {"overdue"} and others["due_count"] == len(others["overdue"])
    mine = get(platform, "/v1/participants/AFG/reports?as_of=2009-12-02&overdue=true")
    assert (mine["count"], mine["overdue_count"], mine["due_count"]) == (1, 1, 7)
    assert mine["items"][0]["overdue"] == ["2003", "2004", "2005", "2006", "2007", "2008"]
    # Norway has submitted none itself: Afghanistan's report is what makes its own overdue.
    norway = get(platform, "/v1/participants/NOR/reports?as_of=2009-12-02&overdue=true")
    assert (norway["count"], norway["overdue_count"]) == (1, 1)
    assert norway["items"][0]["recorded"] is True and norway["items"][0]["reports"] == others["reports"]


def test_resolutions_are_searched_and_their_citations_followed_both_ways(platform: Stack) -> None:
    wait_until(lambda: seed_verified(platform), "64/56 stored", timeout_s=60)
    later = {
        "type": "resolution.adopted",
        "data": {
            "symbol": "65/48",
            "session": 65,
            "title": "Implementation of the Convention",
            "adopted_on": "2010-12-08",
            "treaty": {"treaty_id": "XXVI-5"},
            "recalls": [{"symbol": "A/RES/64/56", "date": "2009-12-02"}],
            "claims": [
                {"kind": "parties_count", "treaty_id": "XXVI-5", "value": 200},
                {"kind": "parties_count", "treaty_id": "XXVI-99", "value": 1},
            ],
        },
    }
    post_events(platform, [later])
    resolution = wait_until(
        lambda: (
            httpx.get(f"{platform.url('registry')}/v1/resolutions/65%2F48", timeout=30).json().get("symbol")
            and get(platform, "/v1/resolutions/65%2F48")
        ),
        "65/48 stored",
    )
    contradicted, unchecked = resolution["claims"]
    assert (contradicted["verified"], contradicted["expected"], contradicted["found"]) == (False, 200, 156)
    assert unchecked["verified"] is None and "no actions for XXVI-99" in unchecked["reason"]
    chain = resolution["citation_chain"]
    assert chain[0] == {
        "symbol": "A/RES/64/56",
        "depth": 1,
        "known": True,
        "title": chain[0]["title"],
        "adopted_on": "2009-12-02",
        "recalls": chain[0]["recalls"],
    }
    assert {n["symbol"] for n in chain if n["depth"] == 2} == set(chain[0]["recalls"])
    assert get(platform, "/v1/resolutions/64%2F56")["recalled_by"] == ["A/RES/65/48"]

    assert [r["symbol"] for r in get(platform, "/v1/resolutions?recalls=64/56")["items"]] == ["A/RES/65/48"]
    assert [r["symbol"] for r in get(platform, "/v1/resolutions?session=64")["items"]] == ["A/RES/64/56"]
    by_treaty = get(platform, "/v1/resolutions?treaty_id=XXVI-5&limit=1")
    assert [r["symbol"] for r in by_treaty["items"]] == ["A/RES/64/56"] and by_treaty["next"] == "A/RES/64/56"
    rest = get(platform, f"/v1/resolutions?treaty_id=XXVI-5&limit=1&after={quote(by_treaty['next'])}")
    assert [r["symbol"] for r in rest["items"]] == ["A/RES/65/48"]


def test_a_resolution_query_schemathesis_generated_is_answered_not_a_500(platform: Stack) -> None:
    # Its odd `after` came with a `session` past BSON's 64-bit integers, which the driver refused with a 500.
    odd = quote("M\x08\x89!à¤")
    problem = get(platform, f"/v1/resolutions?session={2**64}&after={odd}&limit=624", 422)
    assert [e["path"] for e in problem["errors"]] == ["query.session"]
    assert get(platform, f"/v1/resolutions?session={2**63 - 1}&after={odd}")["items"] == []
    for after in ("a\x00b", "x" * 5000, "\ufffd\U0008bc03\x7f"):
        page = get(platform, f"/v1/resolutions?after={quote(after)}")
        assert all(r["symbol"] > after for r in page["items"])


def test_a_malformed_message_is_dead_lettered_and_the_partition_keeps_flowing(platform: Stack) -> None:
    garbage = b'{"type": "treaty.action.recorded", "data": {"treaty_id": 5}}'
    after = action(f"after-{uuid.uuid4()}", "NOR", "declaration", "2011-01-01")
    after["source"] = "/tests/e2e/registry"

    async def produce() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap)
        await producer.start()
        try:
            # The same key, so the same partition: the valid event queues behind the bad bytes.
            await producer.send_and_wait(TOPIC, garbage, key=b"XXVI-5/NOR")
            await producer.send_and_wait(TOPIC, json.dumps(after).encode(), key=b"XXVI-5/NOR")
        finally:
            await producer.stop()

    asyncio.run(produce())
    letters = wait_until(lambda: get(platform, "/v1/dead-letters")["items"], "the dead letter")
    [letter] = [d for d in letters if d["value"] == garbage.decode()]
    assert "treaty_id" in letter["reason"] and letter["topic"] == TOPIC
    wait_until(
        lambda: any(a["event_id"] == after["id"] for a in get(platform, "/v1/participants/NOR")["items"][0]["actions"]),
        "the event behind the bad bytes applied",
    )


def test_the_audit_trail_pages_by_cursor_without_gaps_or_repeats(platform: Stack) -> None:
    wait_until(lambda: seed_verified(platform), "the status file applied", timeout_s=60)
    everything = get(platform, "/v1/events?limit=1000")["items"]
    pages, cursor = [], "0"
    while True:
        page = get(platform, f"/v1/events?after={cursor}&limit=37")
        if not page["items"]:
            assert page["next"] == cursor
            break
        pages.append(page["items"])
        cursor = page["next"]
    paged = [e for page in pages for e in page]
    assert all(len(page) == 37 for page in pages[:-1])
    assert [e["id"] for e in paged[: len(everything)]] == [e["id"] for e in everything]
    seqs = [e["seq"] for e in paged]
    assert seqs == sorted(set(seqs)) and seqs[0] == 1 and seqs[-1] == len(seqs)
    assert get(platform, "/v1/events?after=-1", 422)["errors"][0]["path"] == "query.after"

"""The registry's questions answered end to end: ingest and registry as processes, the Mine Ban Convention's
status file and resolution 64/56 loaded through ingest, other events and raw bytes put on the topic; the rules in
words, entry into force checked against the depositary, own treaty ids, and every table as a CSV download."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from tests.conftest import DATA, services_on
from tests.unit.test_registry_feeds import NS, atom_checks, feedparser_reads, text_of
from tests.waiting import wait_until
from treatywatch.cli.stack import Stack
from treatywatch.registry.routes.feeds import entry_id

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
    for after in ("a\x00b", "x" * 1000, "\ufffd\U0008bc03\x7f"):
        page = get(platform, f"/v1/resolutions?after={quote(after)}")
        assert all(r["symbol"] > after for r in page["items"])
    # Past what any symbol needs, the query is refused before routing (every service's ASGI layer).
    assert get(platform, f"/v1/resolutions?after={'x' * 5000}", 414)["title"] == "URI too long"


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


# A treaty's rules in words, its entry into force computed and checked against the depositary's; own treaty ids.

MINE_BAN_IN_WORDS = (
    "In force on the first day of the sixth month after the month of the fortieth instrument (Article 17(1)); for "
    "later participants on the first day of the sixth month after the month of their own deposit (Article 17(2)); "
    "withdrawal takes effect six months after notification (Article 20(3)); an initial report within one hundred "
    "and eighty days of entry into force for the party, then each year by 30 April a report on the year before "
    "(Article 7(1) and (2))"
)


def test_a_treaty_shows_its_rules_in_words_and_where_its_entry_into_force_comes_from(platform: Stack) -> None:
    wait_until(lambda: seed_verified(platform), "the status file applied", timeout_s=60)
    treaty = get(platform, "/v1/treaties/XXVI-5")
    assert treaty["entry_into_force"] == "1999-03-01"
    assert treaty["entry_into_force_dates"] == {
        "computed": "1999-03-01",
        "stated": "1999-03-01",
        "shown": "computed",
        "reason": None,
    }
    assert treaty["rules_in_words"] == MINE_BAN_IN_WORDS
    assert treaty["rules_explained"][0] == {
        "rule": "entry_into_force",
        "words": "in force on the first day of the sixth month after the month of the fortieth instrument",
        "source": "Article 17(1)",
    }
    assert treaty["warnings"] == []
    # Registered by the catalogue, no action recorded here: the rule is known, the count is not reached.
    covenant = get(platform, "/v1/treaties/IV-3")
    reason = "0 of the 35 binding instruments the rule counts are recorded"
    assert (covenant["entry_into_force"], covenant["entry_into_force_dates"]["reason"]) == (None, reason)
    assert covenant["warnings"] == [f"the depositary states 1976-01-03, but {reason}"]
    assert covenant["rules_explained"][0]["source"] == "Article 27(1)"
    # Registered without rules: the registry says what it does not know rather than guess.
    registered = {"treaty_id": "ext:unruled", "title": "A treaty registered without its rules", "depositary": "X"}
    post_events(platform, [{"type": "treaty.registered", "data": registered}])

    def unruled() -> Any:
        response = httpx.get(f"{platform.url('registry')}/v1/treaties/ext%3Aunruled", timeout=30)
        return response.json() if response.status_code == 200 else None

    treaty = wait_until(unruled, "the treaty without rules registered")
    assert (treaty["entry_into_force"], treaty["rules_explained"]) == (None, [])
    unknown = "the registry does not know the treaty's rule of entry into force"
    assert treaty["entry_into_force_dates"]["reason"] == unknown


def iccpr(stack: Stack) -> Any:
    response = httpx.get(f"{stack.url('registry')}/v1/treaties/IV-4", timeout=30)
    return response.json() if response.status_code == 200 and response.json()["participants"] > 150 else None


def test_a_computed_date_the_depositary_contradicts_carries_both_and_a_warning(platform: Stack) -> None:
    imported = httpx.post(
        f"{platform.url('ingest')}/v1/imports/untc?treaty_id=IV-4",
        content=(DATA.treaties / "4-4.csv").read_bytes(),
        headers={**AUTH, "Content-Type": "text/csv"},
        timeout=60,
    )
    assert imported.status_code == 202, imported.text
    # The Democratic People's Republic of Korea notified a withdrawal the Covenant does not provide for.
    withdrawal = action(f"prk-w-{uuid.uuid4()}", "PRK", "withdrawal", "1997-08-25")
    withdrawal["data"]["treaty_id"] = "IV-4"
    post_events(platform, [withdrawal])
    treaty = wait_until(lambda: iccpr(platform), "the Covenant's status file applied")
    assert (treaty["entry_into_force"], treaty["entry_into_force_dates"]) == (
        "1976-09-11",
        {"computed": "1976-09-11", "stated": "1976-03-23", "shown": "computed", "reason": None},
    )
    assert treaty["warnings"] == ["computed 1976-09-11 from the deposits recorded, the depositary states 1976-03-23"]

    def korea() -> Any:
        items = get(platform, "/v1/treaties/IV-4/participants?as_of=2020-01-01")["items"]
        entry = next((p for p in items if p["participant"] == "PRK"), None)
        return entry if entry and "withdrawal" in entry else None

    entry = wait_until(korea, "the withdrawal applied")
    assert (entry["status"], entry["in_force"]) == ("party", True)
    assert entry["withdrawal"] == {"date": "1997-08-25", "provided_for": False}
    assert entry["warnings"] == [
        "the treaty provides for no withdrawal (Part VI, Articles 48 to 53): the withdrawal is recorded, not effective"
    ]


NPT_RULES = {
    "entry_into_force": {
        "instruments": 43,
        "delay": {},
        "condition": "not_a_count",
        "description": "The three depositary Governments and forty other States",
        "stated_date": "1970-03-05",
        "source": "Article IX(3)",
    },
    "later_participants": {"source": "Article IX(4)"},
    "withdrawal": {"months": 3, "source": "Article X(1)"},
}


def npt_event(event_id: str, participant: str, kind: str, day: str, **extra: str) -> dict[str, Any]:
    data = {"treaty_id": "ext:npt", "participant": participant, "action": kind, "date": day, **extra}
    return {"id": f"{event_id}-{uuid.uuid4()}", "type": "treaty.action.recorded", "data": data}


def test_a_treaty_deposited_elsewhere_has_an_own_id_and_the_stated_dates_beside_the_rules(platform: Stack) -> None:
    registered = {
        "type": "treaty.registered",
        "data": {
            "treaty_id": "ext:npt",
            "title": "Treaty on the Non-Proliferation of Nuclear Weapons",
            "short_title": "NPT",
            "depositary": "Governments of the Russian Federation, the United Kingdom and the United States",
            "rules": NPT_RULES,
        },
    }
    post_events(
        platform,
        [
            registered,
            npt_event("usa", "USA", "ratification", "1970-03-05"),
            npt_event("prk", "PRK", "accession", "1985-12-12"),
            # It stated its withdrawal effective the next day; the three months' notice gives 10 April 2003.
            npt_event("prk-w", "PRK", "withdrawal", "2003-01-10", effective_date="2003-01-11"),
            npt_event("formula", "=HYPERLINK(1) Organization", "accession", "1990-01-01"),
        ],
    )

    def applied() -> Any:
        response = httpx.get(f"{platform.url('registry')}/v1/treaties/ext%3Anpt", timeout=30)
        if response.status_code != 200:
            return None
        treaty = response.json()
        # The registration and the acts travel under different keys, so either may be applied first.
        return treaty if treaty["participants"] == 3 and treaty["rules_explained"] else None

    treaty = wait_until(applied, "the NPT applied")
    assert treaty["treaty_id"] == "ext:npt" and get(platform, "/v1/treaties/ext:npt") == treaty
    assert (treaty["entry_into_force"], treaty["entry_into_force_dates"]["shown"]) == ("1970-03-05", "stated")
    assert treaty["rules_in_words"] == (
        "In force on a condition the registry does not compute: the three depositary Governments and forty other "
        "States (Article IX(3)); for later participants on the day of their own deposit (Article IX(4)); withdrawal "
        "takes effect three months after notification (Article X(1))"
    )
    stats = get(platform, "/v1/treaties/ext:npt/stats?as_of=2002-01-01")
    assert (stats["parties"], stats["in_force"], stats["entry_into_force"]) == (3, 3, "1970-03-05")
    korea = next(
        p
        for p in get(platform, "/v1/treaties/ext:npt/participants?as_of=2003-02-01")["items"]
        if p["participant"] == "PRK"
    )
    assert korea["status"] == "withdrawn"
    assert korea["withdrawal"] == {
        "date": "2003-01-10",
        "effective_on": "2003-01-11",
        "stated_effective_on": "2003-01-11",
        "rule_effective_on": "2003-04-10",
    }
    assert korea["warnings"] == ["withdrawal effective on 2003-04-10 by the rules; the event states 2003-01-11"]
    assert "ext:npt" in [p["treaty_id"] for p in get(platform, "/v1/participants/PRK")["items"]]
    csv_answer = httpx.get(f"{platform.url('registry')}/v1/treaties/ext:npt/participants?as_of=2003-02-01&format=csv")
    assert csv_answer.headers["content-disposition"] == 'attachment; filename="ext-npt-participants-2003-02-01.csv"'
    rows = list(csv.reader(io.StringIO(csv_answer.text, newline="")))
    # A name a spreadsheet would read as a formula is written as text.
    assert rows[1][:2] == ["'=HYPERLINK(1) Organization", "'=HYPERLINK(1) Organization"]
    assert get(platform, "/v1/treaties/ext:nope", 404)["status"] == 404
    # A UNTC status file is imported under a UNTC id only.
    refused = httpx.post(
        f"{platform.url('ingest')}/v1/imports/untc?treaty_id=ext:npt",
        content=DATA.mine_ban.read_bytes(),
        headers={**AUTH, "Content-Type": "text/csv"},
        timeout=30,
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["path"] == "query.treaty_id"


# CSV downloads: every table the API answers


def csv_of(stack: Stack, path: str, headers: dict[str, str] | None = None) -> tuple[httpx.Response, list[list[str]]]:
    response = httpx.get(f"{stack.url('registry')}{path}", headers=headers or {}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8; header=present"
    assert response.text.endswith("\r\n")
    return response, list(csv.reader(io.StringIO(response.text, newline="")))


def attachment(response: httpx.Response) -> str:
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    return disposition.removeprefix("attachment; filename=").strip('"')


def test_the_participants_and_the_timeline_download_as_csv(platform: Stack) -> None:
    wait_until(lambda: seed_verified(platform), "the status file applied", timeout_s=60)
    response, rows = csv_of(platform, "/v1/treaties/XXVI-5/participants?as_of=2009-12-02&status=party&format=csv")
    assert attachment(response) == "XXVI-5-participants-2009-12-02.csv"
    assert rows[0] == [
        "participant",
        "name",
        "status",
        "signature",
        "consent_action",
        "consent_date",
        "in_force_on",
        "in_force",
        "stated_in_force_on",
        "withdrawal_date",
        "withdrawal_effective_on",
        "warnings",
        "signature_notification",
        "consent_notification",
        "withdrawal_notification",
    ]
    afghanistan = ["AFG", "Afghanistan", "party", "", "accession", "2002-09-11", "2003-03-01", "true", "", "", "", ""]
    assert [*afghanistan, "", "", ""] in rows
    assert len(rows) == 1 + 156
    # The Accept header asks as well; JSON stays the default, and what a browser sends.
    by_header, same = csv_of(
        platform, "/v1/treaties/XXVI-5/participants?as_of=2009-12-02&status=party", {"Accept": "text/csv"}
    )
    assert same == rows and attachment(by_header) == "XXVI-5-participants-2009-12-02.csv"
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    assert httpx.get(f"{platform.url('registry')}/v1/treaties/XXVI-5/participants", headers=browser).json()["count"]
    assert httpx.get(f"{platform.url('registry')}/v1/treaties/XXVI-5/participants?format=xml").status_code == 422

    response, rows = csv_of(platform, "/v1/treaties/XXVI-5/timeline?format=csv")
    assert attachment(response) == "XXVI-5-timeline.csv"
    assert rows[0] == ["date", "parties", "in_force"]
    timeline = get(platform, "/v1/treaties/XXVI-5/timeline")["points"]
    assert rows[1:] == [[p["date"], str(p["parties"]), str(p["in_force"])] for p in timeline]
    # The Convention in force: for the 40 and for the five of September 1998 after them, whose month is the same.
    assert ["1999-03-01", "67", "45"] in rows


def test_the_reports_and_a_participants_treaties_download_as_csv(platform: Stack) -> None:
    wait_until(lambda: afghanistan_reports(platform, "2009-12-02"), "Afghanistan's accession applied")
    response, rows = csv_of(platform, "/v1/treaties/XXVI-5/reports?as_of=2009-12-02&format=csv")
    assert attachment(response) == "XXVI-5-reports-2009-12-02.csv"
    assert rows[0] == ["participant", "name", "in_force_on", "period", "due_on", "submitted_on", "status"]
    assert rows[1:] and all(len(row) == 7 for row in rows)
    assert any(row[:5] == ["AFG", "Afghanistan", "2003-03-01", "initial", "2003-08-28"] for row in rows)
    assert len(rows) - 1 == get(platform, "/v1/treaties/XXVI-5/reports?as_of=2009-12-02")["due_count"]

    response, rows = csv_of(platform, "/v1/participants/AFG/reports?as_of=2009-12-02&format=csv")
    assert attachment(response) == "AFG-reports-2009-12-02.csv"
    assert rows[0] == ["treaty_id", "title", "in_force_on", "period", "due_on", "submitted_on", "status"]
    assert rows[1][:5] == ["XXVI-5", "Mine Ban Convention", "2003-03-01", "initial", "2003-08-28"]
    assert len(rows) == 1 + 7

    response, rows = csv_of(platform, "/v1/participants/Afghanistan?as_of=2009-12-02", {"Accept": "text/csv"})
    assert attachment(response) == "AFG-treaties-2009-12-02.csv"
    assert rows[0][:3] == ["treaty_id", "title", "status"]
    assert next(row for row in rows if row[0] == "XXVI-5") == [
        "XXVI-5",
        "Mine Ban Convention",
        "party",
        "",
        "accession",
        "2002-09-11",
        "2003-03-01",
        "true",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ]


def test_a_resolutions_claims_download_as_csv(platform: Stack) -> None:
    wait_until(lambda: seed_verified(platform), "64/56's parties claim verified", timeout_s=60)
    response, rows = csv_of(platform, "/v1/resolutions/A%2FRES%2F64%2F56?format=csv")
    assert attachment(response) == "A-RES-64-56-claims.csv"
    assert rows[0] == ["kind", "treaty_id", "value", "as_of", "verified", "expected", "found", "reason", "text"]
    parties = next(row for row in rows if row[0] == "parties_count")
    assert parties[:7] == ["parties_count", "XXVI-5", "156", "2009-12-02", "true", "156", "156"]
    assert len(rows) - 1 == len(get(platform, "/v1/resolutions/64%2F56")["claims"])


def test_the_openapi_document_gives_each_table_its_csv_answer(platform: Stack) -> None:
    paths = get(platform, "/openapi.json")["paths"]
    for path in (
        "/v1/treaties/{treaty_id}/participants",
        "/v1/treaties/{treaty_id}/timeline",
        "/v1/treaties/{treaty_id}/reports",
        "/v1/participants/{participant}",
        "/v1/participants/{participant}/reports",
        "/v1/resolutions/{symbol}",
    ):
        operation = paths[path]["get"]
        content = operation["responses"]["200"]["content"]
        assert set(content) == {"application/json", "text/csv"}, path
        assert "$ref" in str(content["application/json"]["schema"]), path
        assert content["text/csv"]["schema"] == {"type": "string"} and "\r\n" in content["text/csv"]["example"], path
        assert any(p["name"] == "format" and p["in"] == "query" for p in operation["parameters"]), path


# Pagination: every list endpoint answers at most `limit` items and `next`; pages follow one another without
# overlap or gap.


def walk(stack: Stack, path: str, limit: int, key: Callable[[Any], Any]) -> list[Any]:
    """The keys of every item of a list, page by page of `limit` following `next`: every page full but the last."""
    keys: list[Any] = []
    after: str | None = None
    while True:
        query = f"{'&' if '?' in path else '?'}limit={limit}" + (f"&after={quote(after, safe='')}" if after else "")
        page = get(stack, path + query)
        assert len(page["items"]) <= limit and page.get("count", len(page["items"])) == len(page["items"])
        keys += [key(item) for item in page["items"]]
        if page["next"] is None:
            return keys
        assert len(page["items"]) == limit
        after = page["next"]


def treaty_of(item: Any) -> Any:
    return item["treaty_id"]


@pytest.fixture(scope="module")
def paged(platform: Stack) -> Stack:
    """Iceland in four treaties (two with a reporting rule of their own), and five meetings, two on one day."""
    wait_until(lambda: seed_verified(platform), "the status file applied", timeout_s=60)
    rules = {
        "entry_into_force": {"instruments": 1, "delay": {}},
        "later_participants": {},
        "reporting": {"initial_within_days": 30, "annual_due": "03-31", "kind": "annual"},
    }
    events: list[dict[str, Any]] = [
        {"type": "treaty.registered", "data": {"treaty_id": t, "title": f"Treaty {t}", "rules": rules}}
        for t in ("ext:pages", "ext:pages-2")
    ]
    events += [
        {"type": "treaty.action.recorded", "data": {"treaty_id": t, "participant": "ISL", "action": a, "date": d}}
        for t, a, d in (
            ("ext:pages", "ratification", "2010-01-01"),
            ("ext:pages-2", "accession", "2011-01-01"),
            ("IV-4", "ratification", "1979-08-22"),
        )
    ]
    events += [
        {
            "type": "meeting.recorded",
            "data": {"treaty_id": "ext:pages", "kind": kind, "ordinal": n, "place": "Geneva", "start": day, "end": day},
        }
        for kind, n, day in (
            ("msp", 1, "2011-05-02"),
            ("msp", 2, "2012-05-02"),
            ("intersessional", 1, "2012-05-02"),
            ("msp", 3, "2013-05-02"),
            ("review_conference", 1, "2014-05-02"),
        )
    ]
    post_events(platform, events)
    wait_until(lambda: get(platform, "/v1/participants/ISL")["count"] == 4, "Iceland's treaties applied")
    wait_until(lambda: get(platform, "/v1/treaties/ext:pages/meetings")["count"] == 5, "the meetings applied")
    return platform


ICELAND = ["IV-4", "XXVI-5", "ext:pages", "ext:pages-2"]


def test_the_treaties_and_a_participants_treaties_page_in_id_order(paged: Stack) -> None:
    # The registered treaties: 100 by default, every one with a larger limit, in id order.
    everything = [t["treaty_id"] for t in get(paged, "/v1/treaties?limit=1000")["items"]]
    assert everything == sorted(set(everything)) and len(everything) > 100
    first = get(paged, "/v1/treaties")
    assert [t["treaty_id"] for t in first["items"]] == everything[:100] and first["next"] == everything[99]
    assert walk(paged, "/v1/treaties", 7, treaty_of) == everything
    assert walk(paged, "/v1/treaties?participant=ISL", 1, treaty_of) == ICELAND
    assert walk(paged, "/v1/participants/ISL", 3, treaty_of) == ICELAND
    second = get(paged, "/v1/participants/ISL?limit=3&after=ext%3Apages")
    # The counts are of every treaty, whichever the page.
    assert (second["party"], second["count"], [t["treaty_id"] for t in second["items"]]) == (4, 1, ["ext:pages-2"])
    assert walk(paged, "/v1/participants/ISL/reports?as_of=2020-01-01", 2, treaty_of) == ICELAND[1:]
    assert get(paged, "/v1/treaties?limit=1001", 422)["errors"][0]["path"] == "query.limit"


def test_a_treatys_participants_reports_and_meetings_page_in_their_order(paged: Stack) -> None:
    for path in ("/v1/treaties/XXVI-5/participants?as_of=2009-12-02", "/v1/treaties/XXVI-5/reports?as_of=2009-12-02"):
        whole = get(paged, path)
        assert whole["next"] is None and whole["count"] == len(whole["items"]) >= 156
        assert walk(paged, path, 40, lambda p: p["participant"]) == [p["participant"] for p in whole["items"]]
    path = "/v1/treaties/XXVI-5/participants?as_of=2009-12-02&status=party"
    assert walk(paged, path, 50, lambda p: p["name"]) == [p["name"] for p in get(paged, path)["items"]]

    meetings = walk(paged, "/v1/treaties/ext:pages/meetings", 2, lambda m: (m["start"], m["kind"], m["ordinal"]))
    assert meetings == sorted(meetings) and len(meetings) == 5
    assert get(paged, "/v1/treaties/ext:pages/meetings?after=nonsense", 422)["errors"][0]["path"] == "query.after"


def test_a_search_pages_each_kind_with_one_cursor_and_a_csv_links_its_next_page(paged: Stack) -> None:
    whole = get(paged, "/v1/search?q=Convention&limit=1000")
    assert whole["next"] is None
    found: dict[str, list[Any]] = {"treaties": [], "participants": [], "resolutions": []}
    after = None
    while True:
        page = get(paged, "/v1/search?q=Convention&limit=5" + (f"&after={after}" if after else ""))
        assert page["count"] == whole["count"]
        for kind in found:
            found[kind] += page[kind]
        if page["next"] is None:
            break
        after = page["next"]
    assert found == {kind: whole[kind] for kind in found} and len(found["treaties"]) > 5

    # A CSV download is the page its JSON would be, and links to the next one.
    response, rows = csv_of(paged, "/v1/treaties/XXVI-5/participants?as_of=2009-12-02&limit=10&format=csv")
    link = response.headers["link"]
    assert len(rows) == 11 and link.endswith('>; rel="next"')
    _, following = csv_of(paged, link.removeprefix("<").split(">;")[0].removeprefix(paged.url("registry")))
    whole_csv, whole_rows = csv_of(paged, "/v1/treaties/XXVI-5/participants?as_of=2009-12-02&format=csv")
    assert "link" not in whole_csv.headers and following[0] == rows[0]
    assert whole_rows[1:21] == rows[1:] + following[1:11]


# The Atom feeds of the actions recorded


def audit_trail(stack: Stack) -> list[Any]:
    events: list[Any] = []
    after = "0"
    while page := get(stack, f"/v1/events?after={after}&limit=1000")["items"]:
        events += page
        after = str(page[-1]["seq"])
    return events


def test_the_atom_feeds_of_a_treaty_and_a_participant(platform: Stack) -> None:
    wait_until(lambda: seed_verified(platform), "the status file applied", timeout_s=60)
    reference = "C.N.739.2011.TREATIES-XXVI.5"
    tuvalu = action(f"feed-{uuid.uuid4()}", "TUV", "accession", "2011-09-13", notification=reference)
    tuvalu["data"]["participant_name"] = "Tuvalu"
    post_events(platform, [tuvalu])
    registry = platform.url("registry")

    def fed() -> bytes | None:
        response = httpx.get(f"{registry}/v1/treaties/XXVI-5/feed.atom", timeout=30)
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
        return response.content if entry_id(tuvalu["id"]).encode() in response.content else None

    document = wait_until(fed, "Tuvalu's accession in the feed")
    assert document is not None
    root = atom_checks(document)
    entries = root.findall("a:entry", NS)
    # The latest 50 actions on the treaty, newest first, as the audit trail applied them.
    applied = [e for e in audit_trail(platform) if e["type"] == "treaty.action.recorded"]
    latest = [e["id"] for e in reversed(applied) if e["data"]["treaty_id"] == "XXVI-5"][:50]
    assert [text_of(e, "a:id") for e in entries] == [entry_id(i) for i in latest]
    updated = [text_of(e, "a:updated") for e in entries]
    assert updated == sorted(updated, reverse=True) and text_of(root, "a:updated") == updated[0]
    newest = entries[0]
    assert text_of(newest, "a:title") == "Tuvalu: accession of the Mine Ban Convention"
    assert reference in text_of(newest, "a:summary") and "13 September 2011" in text_of(newest, "a:summary")
    alternate = newest.find("a:link[@rel='alternate']", NS)
    assert alternate is not None and alternate.attrib["href"] == f"{registry}/ui/participants/TUV"
    assert root.find("a:link[@rel='self']", NS).attrib["href"] == f"{registry}/v1/treaties/XXVI-5/feed.atom"  # type: ignore[union-attr]
    three = atom_checks(httpx.get(f"{registry}/v1/treaties/XXVI-5/feed.atom?limit=3", timeout=30).content)
    assert [text_of(e, "a:id") for e in three.findall("a:entry", NS)] == [entry_id(i) for i in latest[:3]]

    mine = atom_checks(httpx.get(f"{registry}/v1/participants/TUV/feed.atom", timeout=30).content)
    assert text_of(mine, "a:title") == "Tuvalu: actions recorded"
    assert text_of(mine.findall("a:entry", NS)[0], "a:id") == entry_id(tuvalu["id"])
    feedparser_reads(httpx.get(f"{registry}/v1/participants/TUV/feed.atom", timeout=30).content)
    for missing in ("/v1/treaties/XXVI-404/feed.atom", "/v1/participants/Atlantis/feed.atom"):
        assert get(platform, missing, 404)["status"] == 404
    # The dashboard's pages name their feed for feed readers.
    page = httpx.get(f"{registry}/ui/treaties/XXVI-5", timeout=30).text
    assert (
        '<link rel="alternate" type="application/atom+xml"' in page and 'href="/v1/treaties/XXVI-5/feed.atom"' in page
    )

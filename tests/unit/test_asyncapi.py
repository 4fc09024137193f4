"""The event catalogue: generated from the contract, valid AsyncAPI 3.0, committed without drift, served."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from treatywatch.common.asyncapi import asyncapi_document, document_json, events_markdown
from treatywatch.common.events import EVENT_TYPES, parse_event
from treatywatch.ingest.app import build_app

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# Installed by `make tools` from npm (@asyncapi/specs, pinned in the Makefile).
SPECS = ROOT / ".tools" / "npm" / "node_modules" / "@asyncapi" / "specs" / "schemas"
REGENERATE = "regenerate with `.venv/bin/python -m treatywatch.common.asyncapi docs` and commit"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi_document()


def test_committed_catalogue_matches_the_contract(document: dict[str, Any]) -> None:
    assert (DOCS / "asyncapi.json").read_text() == document_json(document), REGENERATE
    assert (DOCS / "events.md").read_text() == events_markdown(document), REGENERATE


def asyncapi_validator() -> jsonschema.protocols.Validator:
    path = SPECS / "3.0.0.json"
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make tools`")
    schema = json.loads(path.read_text())
    return jsonschema.validators.validator_for(schema)(schema)


def test_catalogue_is_valid_asyncapi_3(document: dict[str, Any]) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in asyncapi_validator().iter_errors(document)]
    assert errors == []


def test_the_schema_check_catches_a_broken_document(document: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(document))
    broken["operations"]["publishEvents"]["action"] = "publish"
    assert not asyncapi_validator().is_valid(broken)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    for ref in _refs(document):
        assert ref.startswith("#/"), ref
        target: Any = document
        for part in ref[2:].split("/"):
            assert part in target, f"{ref} does not resolve"
            target = target[part]


def test_every_event_type_has_a_message_whose_example_and_schema_agree_with_the_contract(
    document: dict[str, Any],
) -> None:
    messages = [m for m in document["components"]["messages"].values() if m["name"] in EVENT_TYPES]
    assert [m["name"] for m in messages] == list(EVENT_TYPES)
    for message in messages:
        (example,) = message["examples"]
        assert parse_event(json.dumps(example["payload"])).type == message["name"]
        assert example["headers"]["ce_type"] == message["name"]
        schema = {**message["payload"], "components": document["components"]}
        payload_validator = jsonschema.Draft202012Validator(schema)
        assert payload_validator.is_valid(example["payload"])
        assert not payload_validator.is_valid({**example["payload"], "data": {}})


async def test_ingest_serves_the_catalogue(document: dict[str, Any]) -> None:
    # ASGITransport does not run the lifespan: no broker or database is needed for this route.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app()), base_url="http://ingest") as client:
        response = await client.get("/asyncapi.json")
    assert response.status_code == 200
    assert response.json() == document

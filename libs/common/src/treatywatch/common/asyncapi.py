"""The event catalogue: an AsyncAPI 3.0 document generated from the pydantic contract, and its Markdown.

`python -m treatywatch.common.asyncapi docs` writes `docs/asyncapi.json` and `docs/events.md`; a test
regenerates both and fails when the committed files differ, so the catalogue cannot drift from the code.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from treatywatch.common.events import EVENT_ADAPTER, EVENT_TYPES, Event, to_json
from treatywatch.common.settings import Settings

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING = "0.5.0"
SCHEMAS = "#/components/schemas/"
# The topics' configuration as deploy/kubernetes/components/strimzi/topics.yaml sets it (a test checks).
EVENTS_TOPIC_CONFIG: dict[str, Any] = {
    "cleanup.policy": ["delete"],
    "retention.ms": -1,
    "retention.bytes": -1,
    "max.message.bytes": 4194304,
}
DEAD_LETTER_TOPIC_CONFIG: dict[str, Any] = {
    "cleanup.policy": ["delete"],
    "retention.ms": 2592000000,
    "max.message.bytes": 4194304,
}

SUMMARIES = {
    "treaty.registered": "A treaty enters the record, with its rules (entry into force, withdrawal, reporting) "
    "as data.",
    "treaty.action.recorded": "A participant's instrument or act deposited for a treaty (signature, ratification, "
    "accession, ..., withdrawal), or the correction of one.",
    "resolution.adopted": "A General Assembly resolution, parsed: what it recalls, its paragraphs and the claims "
    "it makes.",
    "meeting.recorded": "A meeting under a treaty, such as a meeting of the States Parties or a review conference.",
    "report.submitted": "A participant's report under a treaty, such as an Article 7 transparency report.",
    "treaty.entered_into_force": "The treaty's own entry into force as the depositary states it, from a "
    "depositary notification.",
}
_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
_TIME = "2026-11-27T09:30:00Z"
# One example per event type, each validated against the contract when the document is built.
EXAMPLES: dict[str, dict[str, Any]] = {
    "treaty.registered": {
        "id": "catalog:XXVI-5:3f2a9c1e0b7d4e5f",
        "source": "/treatywatch/ingest/catalog",
        "subject": "XXVI-5",
        "data": {
            "treaty_id": "XXVI-5",
            "title": "Convention on the Prohibition of the Use, Stockpiling, Production and Transfer of "
            "Anti-Personnel Mines and on their Destruction",
            "short_title": "Mine Ban Convention",
            "adopted": {"place": "Oslo", "date": "1997-09-18"},
            "unts": {"volume": 2056, "number": 35597},
            "depositary": "Secretary-General of the United Nations",
            "rules": {
                "entry_into_force": {"instruments": 40, "delay": {"months": 6, "anchor": "first_day_of_month"}},
                "later_participants": {"months": 6, "anchor": "first_day_of_month"},
                "withdrawal": {"months": 6},
                "reporting": {"initial_within_days": 180, "annual_due": "04-30"},
            },
        },
    },
    "treaty.action.recorded": {
        "id": "untc:XXVI-5:NOR:ratification:1998-07-09",
        "source": "/treatywatch/ingest/untc/XXVI-5",
        "subject": "XXVI-5/NOR",
        "data": {
            "treaty_id": "XXVI-5",
            "participant": "NOR",
            "action": "ratification",
            "date": "1998-07-09",
            "notification": "C.N.423.1998.TREATIES-22",
        },
    },
    "resolution.adopted": {
        "id": "resolution:A/RES/64/56:9d4c1b2a3e4f5a6b",
        "source": "/treatywatch/ingest/resolutions",
        "subject": "A/RES/64/56",
        "data": {
            "symbol": "A/RES/64/56",
            "session": 64,
            "title": "Implementation of the Convention on the Prohibition of the Use, Stockpiling, Production "
            "and Transfer of Anti-Personnel Mines and on Their Destruction",
            "adopted_on": "2009-12-02",
            "agenda_item": "96 (t)",
            "recalls": [{"symbol": "A/RES/63/42", "date": "2008-12-02"}],
            "treaty": {"unts_volume": 2056, "unts_number": 35597, "treaty_id": "XXVI-5"},
            "claims": [{"kind": "parties_count", "treaty_id": "XXVI-5", "value": 156, "as_of": "2009-12-02"}],
        },
    },
    "meeting.recorded": {
        "id": "meeting:XXVI-5:review_conference:2",
        "source": "/my/office",
        "subject": "XXVI-5",
        "data": {
            "treaty_id": "XXVI-5",
            "kind": "review_conference",
            "ordinal": 2,
            "place": "Cartagena",
            "start": "2009-11-30",
            "end": "2009-12-04",
        },
    },
    "report.submitted": {
        "id": "report:XXVI-5:NOR:article7:2025",
        "source": "/my/office",
        "subject": "XXVI-5/NOR",
        "data": {
            "treaty_id": "XXVI-5",
            "participant": "NOR",
            "kind": "article7",
            "period": "2025",
            "submitted_on": "2026-04-28",
        },
    },
    "treaty.entered_into_force": {
        "id": "cn:C.N.522.1998.TREATIES-XXVI.5",
        "source": "/treatywatch/ingest/notifications",
        "subject": "XXVI-5",
        "data": {
            "treaty_id": "XXVI-5",
            "date": "1999-03-01",
            "notification": "C.N.522.1998.TREATIES-XXVI.5",
            "article": "article 17 (1)",
        },
    },
}


def message_name(event_type: str) -> str:
    """The message's key in the document: `treaty.action.recorded` -> `treatyActionRecorded`."""
    first, *rest = event_type.split(".")
    return first + "".join(word.capitalize() for word in rest)


def event_classes() -> dict[str, type[BaseModel]]:
    """Each event type's envelope model, from the `Event` union, in contract order."""
    (union, _discriminator) = get_args(Event)
    classes: list[type[BaseModel]] = list(get_args(union))
    by_type = {get_args(cls.model_fields["type"].annotation)[0]: cls for cls in classes}
    return {event_type: by_type[event_type] for event_type in EVENT_TYPES}


def _example(event_type: str) -> dict[str, Any]:
    raw = {"specversion": "1.0", "type": event_type, "time": _TIME, "traceparent": _TRACEPARENT, **EXAMPLES[event_type]}
    event = EVENT_ADAPTER.validate_python(raw)
    # Exactly as published: the contract's deterministic JSON.
    payload: dict[str, Any] = json.loads(to_json(event))
    headers = {"ce_id": event.id, "ce_type": event.type, "traceparent": _TRACEPARENT}
    return {"name": message_name(event_type), "headers": headers, "payload": payload}


def _headers(event_type: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "ce_id": {"type": "string", "description": "The CloudEvent's `id`"},
            "ce_type": {"const": event_type, "description": "The CloudEvent's `type`, to route without parsing"},
            "traceparent": {"type": "string", "description": "W3C trace context, as in the CloudEvent"},
        },
        "required": ["ce_id", "ce_type"],
    }


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the Kafka topics, with each event type's JSON schema and an example."""
    # The defaults, not this process's environment: the document describes the contract.
    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    classes = event_classes()
    _, top = models_json_schema([(cls, "validation") for cls in classes.values()], ref_template=SCHEMAS + "{model}")
    schemas: dict[str, Any] = top["$defs"]
    key = {
        "type": "string",
        "description": "`treaty_id/participant` for actions and reports (one State's acts on one treaty stay in "
        "order), the treaty id for treaties, meetings and entries into force, the symbol for resolutions",
    }
    messages: dict[str, Any] = {}
    for event_type, cls in classes.items():
        messages[message_name(event_type)] = {
            "name": event_type,
            "title": event_type,
            "summary": SUMMARIES[event_type],
            "contentType": "application/json",
            "headers": _headers(event_type),
            "payload": {"$ref": SCHEMAS + cls.__name__},
            "bindings": {"kafka": {"key": key, "bindingVersion": KAFKA_BINDING}},
            "examples": [_example(event_type)],
        }
    messages["deadLetter"] = {
        "name": "dead-letter",
        "title": "dead letter",
        "summary": "A message the registry could not decode, as it was read, with the reason.",
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "properties": {
                "reason": {"type": "string", "description": "Why it was refused (at most 4000 bytes)"},
                "origin": {"type": "string", "description": "Where it was read: `topic/partition/offset`"},
            },
            "required": ["reason", "origin"],
        },
        "payload": {"description": "The original bytes, unchanged (not necessarily JSON)"},
        "bindings": {
            "kafka": {"key": {"type": "string", "description": "The original key"}, "bindingVersion": KAFKA_BINDING}
        },
    }
    events_refs = {name: {"$ref": f"#/components/messages/{name}"} for name in messages if name != "deadLetter"}
    channel_messages = [{"$ref": f"#/channels/events/messages/{name}"} for name in events_refs]
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:treatywatch:events",
        "info": {
            "title": "Treaty Watch events",
            "version": version("treatywatch-common"),
            "description": "Structured-mode CloudEvents 1.0 (JSON) on Kafka: every change to the treaty record. "
            "Generated from the pydantic contract (`treatywatch.common.events`); see docs/contract.md.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "description": "The Kafka cluster that `TREATYWATCH_KAFKA_BOOTSTRAP` names.",
                "variables": {"bootstrap": {"default": defaults["kafka_bootstrap"]}},
            }
        },
        "channels": {
            "events": {
                "address": defaults["topic"],
                "title": "Events",
                "description": "Every event type on one topic, keyed for per-key order; kept forever, since "
                "the registry is rebuilt by replaying it.",
                "messages": events_refs,
                "bindings": {
                    "kafka": {
                        "topic": defaults["topic"],
                        "topicConfiguration": EVENTS_TOPIC_CONFIG,
                        "bindingVersion": KAFKA_BINDING,
                    }
                },
            },
            "deadLetters": {
                "address": defaults["dead_letter_topic"],
                "title": "Dead letters",
                "description": "Messages of the events topic that do not match the contract.",
                "messages": {"deadLetter": {"$ref": "#/components/messages/deadLetter"}},
                "bindings": {
                    "kafka": {
                        "topic": defaults["dead_letter_topic"],
                        "topicConfiguration": DEAD_LETTER_TOPIC_CONFIG,
                        "bindingVersion": KAFKA_BINDING,
                    }
                },
            },
        },
        "operations": {
            "publishEvents": {
                "action": "send",
                "channel": {"$ref": "#/channels/events"},
                "summary": "ingest publishes each accepted event (acks=all, idempotent producer).",
                "messages": channel_messages,
            },
            "applyEvents": {
                "action": "receive",
                "channel": {"$ref": "#/channels/events"},
                "summary": "registry applies each batch in one MongoDB transaction, then commits offsets.",
                "messages": channel_messages,
            },
            "deliverEvents": {
                "action": "receive",
                "channel": {"$ref": "#/channels/events"},
                "summary": "notify records a delivery per matching subscription, then commits offsets.",
                "messages": channel_messages,
            },
            "deadLetterEvents": {
                "action": "send",
                "channel": {"$ref": "#/channels/deadLetters"},
                "summary": "registry copies what it cannot decode here before committing its offset.",
                "messages": [{"$ref": "#/channels/deadLetters/messages/deadLetter"}],
            },
        },
        "components": {"schemas": schemas, "messages": messages},
    }


def document_json(document: dict[str, Any]) -> str:
    """The document as committed: indented, keys in generation order, a final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(SCHEMAS)
        return f"[{name}](#{name.lower()})"
    if "anyOf" in schema:
        return " or ".join(_type_of(s) for s in schema["anyOf"] if s.get("type") != "null")
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{v}`" for v in schema["enum"])
    if schema.get("type") == "array":
        return "list of " + _type_of(schema.get("items", {}))
    kind = str(schema.get("type", "any"))
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def _fields_table(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    rows = ["| field | type | required | notes |", "|---|---|---|---|"]
    for name, prop in schema.get("properties", {}).items():
        notes = [prop["description"]] if "description" in prop else []
        for anyof in [prop, *prop.get("anyOf", [])]:
            if "pattern" in anyof:
                notes.append(f"pattern `{anyof['pattern']}`")
        if "default" in prop and prop["default"] is not None:
            notes.append(f"default `{json.dumps(prop['default'])}`")
        cell = "; ".join(notes).replace("|", "\\|")
        rows.append(f"| `{name}` | {_type_of(prop)} | {'yes' if name in required else ''} | {cell} |")
    return rows


def events_markdown(document: dict[str, Any]) -> str:
    """The catalogue as Markdown: topics, operations, each event type with its fields and an example."""
    schemas = document["components"]["schemas"]
    messages = document["components"]["messages"]
    lines = [
        f"# {document['info']['title']} (v{document['info']['version']})",
        "",
        "<!-- Generated from the pydantic contract by `python -m treatywatch.common.asyncapi docs`; do not edit. -->",
        "",
        document["info"]["description"],
        f"The machine-readable catalogue is [asyncapi.json](asyncapi.json) (AsyncAPI {document['asyncapi']}), "
        "also served by ingest at `GET /asyncapi.json`.",
        "",
        "## Topics",
        "",
        "| topic | messages | configuration |",
        "|---|---|---|",
    ]
    for channel in document["channels"].values():
        config = ", ".join(
            f"`{k}={json.dumps(v)}`" for k, v in channel["bindings"]["kafka"]["topicConfiguration"].items()
        )
        names = ", ".join(f"`{messages[ref['$ref'].split('/')[-1]]['name']}`" for ref in channel["messages"].values())
        lines.append(f"| `{channel['address']}` | {names} | {config} |")
    lines += ["", "## Who sends and receives", ""]
    for name, operation in document["operations"].items():
        channel = operation["channel"]["$ref"].split("/")[-1]
        lines.append(
            f"- `{name}` ({operation['action']}, `{document['channels'][channel]['address']}`): {operation['summary']}"
        )
    lines += [
        "",
        "## Event types",
        "",
        "Every event is a CloudEvent whose envelope is the same (see [Envelope attributes](#envelope-attributes)); "
        "Kafka headers `ce_id`, `ce_type` and `traceparent` repeat its `id`, `type` and `traceparent`.",
    ]
    for message in messages.values():
        if "examples" not in message:
            continue
        envelope = schemas[message["payload"]["$ref"].removeprefix(SCHEMAS)]
        data = envelope["properties"]["data"]["$ref"].removeprefix(SCHEMAS)
        example = json.dumps(message["examples"][0]["payload"], indent=2, ensure_ascii=False)
        lines += ["", f"### `{message['name']}`", "", message["summary"], "", f"`data` is [{data}](#{data.lower()}):"]
        lines += ["", *_fields_table(schemas[data]), "", "Example:", "", "```json", example, "```"]
    envelope_name = next(iter(messages.values()))["payload"]["$ref"].removeprefix(SCHEMAS)
    lines += [
        "",
        "## Envelope attributes",
        "",
        f"As in `{envelope_name}`; `type` and `data` are each event type's own.",
        "",
        *_fields_table(schemas[envelope_name]),
    ]
    lines += ["", "## Types", ""]
    data_types = {
        schemas[m["payload"]["$ref"].removeprefix(SCHEMAS)]["properties"]["data"]["$ref"].removeprefix(SCHEMAS)
        for m in messages.values()
        if "examples" in m
    }
    for schema_name, schema in schemas.items():
        if schema_name.endswith("Event"):
            continue
        lines += [f"### {schema_name}", ""]
        if "description" in schema:
            lines += [schema["description"], ""]
        if schema_name in data_types:
            lines += ["The `data` of an event type above.", ""]
        lines += [*_fields_table(schema), ""]
    return "\n".join(lines).rstrip() + "\n"


def write(directory: Path) -> None:
    """Write `asyncapi.json` and `events.md` into `directory`."""
    document = asyncapi_document()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "asyncapi.json").write_text(document_json(document))
    (directory / "events.md").write_text(events_markdown(document))


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))

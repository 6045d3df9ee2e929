"""Generate the event docs from the contracts: docs/asyncapi.yaml and docs/schemas/<Type>.json.

    python scripts/gen_event_docs.py           # rewrite the files
    python scripts/gen_event_docs.py --check   # compare only; exit 1 and summarise what differs

Everything comes from `livechat_shared.contracts` (catalog, topology, services), who publishes
what included: `publishes` beside `consumes` in contracts/services.py.

FastStream's own AsyncAPI generator describes the subscribers and publishers of one broker
object. It cannot say which of five services publishes or consumes a message, declare the
`{site_id}` channel parameter, or mark deliveries persistent, so the document is built here.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, Literal, Union, get_args, get_origin

import yaml  # type: ignore[import-untyped]  # PyYAML ships no types; types-PyYAML is not a dev dependency
from livechat_shared.contracts import catalog, services, topology
from livechat_shared.contracts.envelope import SCHEMA_VERSION, Message
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from pydantic_core import core_schema

ROOT = Path(__file__).resolve().parents[1]
ASYNCAPI = "docs/asyncapi.yaml"
SCHEMAS = "docs/schemas"
SCHEMA_ID = "urn:livechat-routing:schema:v{version}:{type}"
GENERATED = "Generated from livechat_shared.contracts by scripts/gen_event_docs.py; do not edit."

PUBLISHERS: dict[str, tuple[str, ...]] = {
    message.type_name(): tuple(s.service for s in services.ALL_SERVICES if message in s.publishes)
    for message in catalog.MESSAGE_TYPES.values()
}
"""Who sends each message type, from `publishes` in contracts/services.py (SetOperatorCapacity:
nobody in this repository yet, an administration tool's)."""
DELAYED = frozenset(
    {"ExpireOffer", "ExpireInvitation", "EndChatIfVisitorGone", "CheckOperatorConnection"}
)
"""Sent by a service to itself through a delay queue; they come back as `<kind>.<Type>.delayed`."""


def publishers_of(message_type: type[Message]) -> tuple[str, ...]:
    name = message_type.type_name()
    if name not in PUBLISHERS:
        raise KeyError(
            f"{name} is missing from PUBLISHERS in scripts/gen_event_docs.py: who sends it?"
        )
    return PUBLISHERS[name]


# --- samples: one valid message per type, the same on every run ----------------------------

_AT = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
_OFFER = uuid.UUID("0b6f6c1e-4f3a-5d7e-9a41-2c9f2f1d8e10")
SAMPLE_VALUES: dict[str, Any] = {
    "occurred_at": _AT,
    "correlation_id": "5c1e2a8e-7f0b-4d2c-a3e9-b1d4c6f8e201",
    "schema_version": SCHEMA_VERSION,
    "site_id": "acme",
    "visitor_id": "v-5f2c9a",
    "operator_id": "ann",
    "replica_id": "a1b2c3d4e5f6",
    "author_id": "ann",
    "by_id": "ann",
    "offer_id": _OFFER,
    "session_id": _OFFER,  # a chat's session id is the id of the offer that started it
    "offline_message_id": uuid.UUID("9d3a1b7c-2e4f-5a6b-8c9d-0e1f2a3b4c5d"),
    "waiting_since": _AT - timedelta(seconds=95),
    "expires_at": _AT + timedelta(seconds=30),
    "disconnected_at": _AT - timedelta(seconds=60),
    "left_at": _AT - timedelta(hours=2),
    "invitation_id": uuid.UUID("6a2d4e8f-0b1c-5d3e-8f4a-7b6c5d4e3f21"),
    "waiting": ["v-5f2c9a", "v-81d07e"],
    "total_waiting": 2,
    "seconds_per_position": 40.0,
    "page": "https://shop.example/checkout",
    "title": "Checkout",
    "referrer": "https://search.example/",
    "accept": True,
    "waited_seconds": 95.0,
    "command_id": uuid.UUID("3f2b8c4d-1a5e-5f6a-9b7c-8d9e0f1a2b3c"),
    "command_type": "AcceptOffer",
    "reason": "the offer was already answered",
    "max_chats": 4,
    "from_default": False,
    "free_slots": 1,
    "max_slots": 4,
    "used_slots": 3,
    "seq": 3,
    "client_message_id": "m-3",
    "text": "Hello! Can I still change my delivery address?",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "badge": {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "current_page": "https://shop.example/checkout",
        "referrer": "https://search.example/",
        "user_agent": "Mozilla/5.0",
        "location": "London, GB",
    },
}


def _first_allowed(annotation: Any) -> Any:
    """The first value of a Literal or an enum (looking through `X | None`), else None."""
    if get_origin(annotation) in (Union, UnionType):
        options = [a for a in get_args(annotation) if a is not NoneType]
        return _first_allowed(options[0]) if len(options) == 1 else None
    if get_origin(annotation) is Literal:
        return get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return next(iter(annotation)).value
    return None


def sample(message_type: type[Message]) -> Message:
    """A complete example message: every field set, ids derived from the type's name."""
    own_id = "event_id" if message_type.kind == "event" else "command_id"
    values: dict[str, Any] = {}
    for name, field in message_type.model_fields.items():
        if name == own_id:
            values[name] = uuid.uuid5(
                uuid.NAMESPACE_URL, f"livechat-sample/{message_type.__name__}"
            )
        elif (allowed := _first_allowed(field.annotation)) is not None:
            values[name] = allowed
        elif name in SAMPLE_VALUES:
            values[name] = SAMPLE_VALUES[name]
        else:
            raise KeyError(
                f"no sample value for {message_type.__name__}.{name}: add one to SAMPLE_VALUES"
            )
    return message_type.model_validate(values)


# --- JSON Schema ----------------------------------------------------------------------------


class _AsPublished(GenerateJsonSchema):
    """Events as a subscriber receives them: we serialize every field, defaults included."""

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        return True


def _open(schema: Any) -> Any:
    """Drop `additionalProperties: false` everywhere: new optional fields must not break readers."""
    if isinstance(schema, dict):
        return {k: _open(v) for k, v in schema.items() if (k, v) != ("additionalProperties", False)}
    if isinstance(schema, list):
        return [_open(v) for v in schema]
    return schema


def _require_type(schema: dict[str, Any]) -> dict[str, Any]:
    """`type` has a default in the models but is the discriminator on the wire: always required."""
    required = schema.get("required", [])
    if "const" in schema.get("properties", {}).get("type", {}) and "type" not in required:
        schema = {**schema, "required": ["type", *required]}
    return schema


def _is_event(message_type: type[Message]) -> bool:
    return message_type.kind == "event"


def _mode(message_type: type[Message]) -> tuple[JsonSchemaMode, type[GenerateJsonSchema]]:
    # Events: what arrives (every field present, unknown ones to be ignored). Commands: what
    # our consumers accept (defaults may be left out, nothing extra).
    return (
        ("serialization", _AsPublished)
        if _is_event(message_type)
        else ("validation", GenerateJsonSchema)
    )


def json_schema(message_type: type[Message]) -> dict[str, Any]:
    mode, generator = _mode(message_type)
    schema = message_type.model_json_schema(mode=mode, schema_generator=generator)
    schema = _open(schema) if _is_event(message_type) else _require_type(schema)
    name = message_type.type_name()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID.format(version=SCHEMA_VERSION, type=name),
        "$comment": GENERATED,
        **schema,
        "examples": [sample(message_type).model_dump(mode="json")],
    }


def _component_schemas() -> dict[str, Any]:
    """Every payload schema, its nested models lifted into #/components/schemas."""
    found: dict[str, Any] = {}
    for types in (catalog.EVENT_TYPES, catalog.COMMAND_TYPES):
        mode, generator = _mode(types[0])
        _, defs = models_json_schema(
            [(t, mode) for t in types],
            ref_template="#/components/schemas/{model}",
            schema_generator=generator,
        )
        for name, schema in defs.get("$defs", {}).items():
            schema = _open(schema) if types is catalog.EVENT_TYPES else _require_type(schema)
            if found.setdefault(name, schema) != schema:
                raise ValueError(f"{name} differs between events and commands; name one of them")
    return found


# --- AsyncAPI -------------------------------------------------------------------------------

_AMQP = "0.3.0"


def _summary(message_type: type[Message]) -> str:
    doc = message_type.__doc__ or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ") or message_type.type_name()


def _consumers(message_type: type[Message]) -> list[topology.ServiceQueues]:
    return [q for q in services.ALL_SERVICES if message_type in q.consumes]


def _queue_text(queues: topology.ServiceQueues) -> str:
    if queues.per_instance:
        return f"each replica's own `{queues.instance_queue('<replica>')}` queue (auto-delete)"
    standby = ", single active consumer" if queues.single_active_consumer else ""
    return f"`{queues.input_queue}` (durable quorum queue{standby})"


def _channel(message_type: type[Message]) -> dict[str, Any]:
    name = message_type.type_name()
    publishers = ", ".join(publishers_of(message_type)) or "nothing yet"
    consumers = ", ".join(q.service for q in _consumers(message_type)) or "no service of ours"
    channel: dict[str, Any] = {}
    if name in DELAYED:
        channel["address"] = topology.binding_key(message_type, topology.DELAYED_SITE)
        how = "Sent through a delay queue; returns to the exchange under this routing key."
    else:
        channel["address"] = topology.binding_key(message_type, "{site_id}")
        channel["parameters"] = {"site_id": {"$ref": "#/components/parameters/site_id"}}
        # `#`, not `*`: a site id may contain dots, and `*` matches exactly one word.
        every, one = (
            topology.binding_key(message_type, "#"),
            topology.binding_key(message_type, "<site_id>"),
        )
        how = f"Bind `{every}` for every site, `{one}` for one."
    channel["title"] = name
    channel["description"] = f"Published by: {publishers}. Consumed by: {consumers}. {how}"
    channel["messages"] = {name: {"$ref": f"#/components/messages/{name}"}}
    channel["bindings"] = {
        "$ref": f"#/components/channelBindings/{topology.exchange_for(message_type)}"
    }
    return channel


def _exchange_binding(exchange: str) -> dict[str, Any]:
    """Both exchanges are durable topic exchanges (livechat_shared.runtime.broker declares them)."""
    return {
        "amqp": {
            "is": "routingKey",
            # No `vhost`: it is the server's (its pathname), not the channel's.
            "exchange": {
                "name": exchange,
                "type": "topic",
                "durable": True,
                "autoDelete": False,
            },
            "bindingVersion": _AMQP,
        }
    }


def _operations(message_type: type[Message]) -> dict[str, Any]:
    name = message_type.type_name()
    ref = {"channel": {"$ref": f"#/channels/{name}"}}
    messages = {"messages": [{"$ref": f"#/channels/{name}/messages/{name}"}]}
    operations: dict[str, Any] = {}
    for service in publishers_of(message_type):
        operations[f"{service}.send.{name}"] = {
            "action": "send",
            **ref,
            "summary": f"{service} publishes {name} (persistent, with publisher confirms).",
            "tags": [{"name": service}],
            "bindings": {"amqp": {"deliveryMode": 2, "bindingVersion": _AMQP}},
            **messages,
        }
    for queues in _consumers(message_type):
        operations[f"{queues.service}.receive.{name}"] = {
            "action": "receive",
            **ref,
            "summary": f"{queues.service} consumes {name}.",
            "description": f"From {_queue_text(queues)}, bound with `{topology.binding_key(message_type)}`.",
            "tags": [{"name": queues.service}],
            "bindings": {"amqp": {"ack": True, "bindingVersion": _AMQP}},
            **messages,
        }
    return operations


def _message(message_type: type[Message]) -> dict[str, Any]:
    name = message_type.type_name()
    return {
        "name": name,
        "title": name,
        "summary": _summary(message_type),
        "contentType": "application/json",
        "correlationId": {"location": "$message.payload#/correlation_id"},
        "payload": {"$ref": f"#/components/schemas/{name}"},
        "bindings": {"amqp": {"messageType": name, "bindingVersion": _AMQP}},
        "examples": [
            {"name": f"{name} example", "payload": sample(message_type).model_dump(mode="json")}
        ],
    }


PRODUCTION_VHOST = "livechat"
"""The vhost of a production broker, as deploy/kustomize/overlays/backing sets it up."""
SUBSCRIBER_EXAMPLE = "crm"
"""The example subscriber's name in the permissions below (and in deploy/kustomize/overlays/backing)."""


def subscriber_permissions(name: str = SUBSCRIBER_EXAMPLE) -> dict[str, str]:
    """What a subscriber's RabbitMQ user needs, as anchored regexes (RabbitMQ searches them).

    Its own queues (`<name>.…` durable, `amq.gen-…` temporary) to declare (configure), bind
    (write) and consume (read); `livechat.events` to bind from (read), and nothing else of
    ours: the exchange is looked up with a passive declare, which needs no permission.
    """
    own = f"{re.escape(name)}\\..+|amq\\.gen-.+"
    return {
        "configure": f"^({own})$",
        "write": f"^({own})$",
        "read": f"^({own}|{re.escape(topology.EVENTS_EXCHANGE)})$",
    }


_SUBSCRIBER_ACCESS = f"""\
A RabbitMQ user of your own, given to you by the team that runs the broker, on the vhost
`{PRODUCTION_VHOST}` with these permissions (`{SUBSCRIBER_EXAMPLE}` stands for your system's name; your queues
carry it as a prefix):

- configure `{{configure}}`
- write `{{write}}`
- read `{{read}}`

Look `{topology.EVENTS_EXCHANGE}` up with a passive declare (aio-pika: `channel.get_exchange`),
never declare it: that would need configure on it, which would also let you delete it.
"""


_DESCRIPTION = f"""\
The messages the live-chat routing services exchange over RabbitMQ.

Events are facts, published on the durable topic exchange `{topology.EVENTS_EXCHANGE}`; bind
your own queue to it (see docs/events.md). Commands are requests to the one service that owns
the decision, on `{topology.COMMANDS_EXCHANGE}`; they are internal. Routing keys read
`<kind>.<Type>.<site_id>`. Every message is a JSON object whose `type` names it, with the
envelope fields `event_id` (events) or `command_id` (commands), `occurred_at`,
`correlation_id`, `schema_version` and `site_id`. The AMQP properties repeat `message_id`,
`correlation_id` and `type`. Both exchanges are in the vhost of the server you connect to
(its pathname).

This document's version is the `schema_version` it describes ({SCHEMA_VERSION}); within it
changes are additive only.
"""


def asyncapi() -> dict[str, Any]:
    all_types = (*catalog.EVENT_TYPES, *catalog.COMMAND_TYPES)
    if unknown := sorted(set(PUBLISHERS) - set(catalog.MESSAGE_TYPES)):
        raise KeyError(f"PUBLISHERS names message types that do not exist: {', '.join(unknown)}")
    channels = {t.type_name(): _channel(t) for t in all_types}
    operations: dict[str, Any] = {}
    for t in all_types:
        operations.update(_operations(t))
    schemas = _component_schemas()
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Live-chat routing: events and commands",
            "version": str(SCHEMA_VERSION),
            "description": _DESCRIPTION,
            "tags": [{"name": q.service} for q in services.ALL_SERVICES],
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:5672",
                "pathname": "/",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": "The development broker of `make run` (vhost `/`, user guest).",
            },
            "production": {
                "host": "{host}:5671",
                "pathname": f"/{PRODUCTION_VHOST}",
                "protocol": "amqps",
                "protocolVersion": "0.9.1",
                "title": "Production",
                "description": (
                    "A deployment's broker, over TLS, on the vhost"
                    f" `{PRODUCTION_VHOST}` (the URL's path: `amqps://USER:PASSWORD@HOST:5671/{PRODUCTION_VHOST}`)."
                    " Subscribers connect with a user of their own (see the security scheme)."
                ),
                "variables": {
                    "host": {
                        "default": "rabbitmq.example.com",
                        "description": "The broker's address, from the team that runs it.",
                    }
                },
                "security": [{"$ref": "#/components/securitySchemes/subscriber"}],
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "securitySchemes": {
                "subscriber": {
                    "type": "userPassword",
                    "description": _SUBSCRIBER_ACCESS.format(**subscriber_permissions()),
                    "x-rabbitmq-permissions": subscriber_permissions(),
                }
            },
            "parameters": {
                "site_id": {
                    "description": "The site the message belongs to; `*` in a binding matches every site.",
                    "examples": ["acme"],
                }
            },
            "channelBindings": {
                name: _exchange_binding(name)
                for name in (topology.EVENTS_EXCHANGE, topology.COMMANDS_EXCHANGE)
            },
            "messages": {t.type_name(): _message(t) for t in all_types},
            "schemas": {name: schemas[name] for name in sorted(schemas)},
        },
    }


# --- files ----------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]  # an untyped base class
    """Writes text of several lines as a literal block, and repeats shared parts (no anchors)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None
    )


_Dumper.add_representer(str, _text)


def render() -> dict[str, str]:
    """Every generated file: path relative to the repository root → its content."""
    header = f"# {GENERATED}\n# Regenerate: python scripts/gen_event_docs.py\n"
    body = yaml.dump(asyncapi(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    files = {ASYNCAPI: header + body}
    for t in (*catalog.EVENT_TYPES, *catalog.COMMAND_TYPES):
        text = json.dumps(json_schema(t), indent=2, ensure_ascii=False)
        files[f"{SCHEMAS}/{t.type_name()}.json"] = text + "\n"
    return files


def _stale(root: Path, files: dict[str, str]) -> list[str]:
    """Schema files on disk that the contracts no longer produce."""
    found = sorted((root / SCHEMAS).glob("*.json"))
    return [
        p.relative_to(root).as_posix() for p in found if p.relative_to(root).as_posix() not in files
    ]


def differences(root: Path, files: dict[str, str]) -> list[str]:
    """One paragraph per file that differs from what the contracts generate."""
    report = []
    for path, expected in files.items():
        target = root / path
        if not target.exists():
            report.append(f"missing: {path}")
            continue
        actual = target.read_text(encoding="utf-8")
        if actual != expected:
            diff = list(
                difflib.unified_diff(
                    actual.splitlines(),
                    expected.splitlines(),
                    "committed",
                    "generated",
                    lineterm="",
                    n=1,
                )
            )
            added = sum(1 for d in diff if d.startswith("+") and not d.startswith("+++"))
            removed = sum(1 for d in diff if d.startswith("-") and not d.startswith("---"))
            shown = "\n".join(f"    {d}" for d in diff[:20])
            more = f"\n    ... {len(diff) - 20} more diff lines" if len(diff) > 20 else ""
            report.append(f"changed: {path} (+{added} -{removed} lines)\n{shown}{more}")
    report.extend(f"stale (no such message type any more): {path}" for path in _stale(root, files))
    return report


def write(root: Path, files: dict[str, str]) -> list[str]:
    """Write what changed, delete stale schema files; returns the paths touched."""
    touched = []
    for path, content in files.items():
        target = root / path
        if not target.exists() or target.read_text(encoding="utf-8") != content:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
            touched.append(path)
    for path in _stale(root, files):
        (root / path).unlink()
        touched.append(f"{path} (deleted)")
    return touched


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="compare only; exit 1 if anything differs"
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="repository root (default: this one)"
    )
    args = parser.parse_args(argv)
    files = render()
    if args.check:
        report = differences(args.root, files)
        if report:
            print("The event docs differ from the contracts:", *report, sep="\n", file=sys.stderr)
            print("Regenerate them: python scripts/gen_event_docs.py", file=sys.stderr)
            return 1
        print(f"event docs up to date ({len(files)} files)")
        return 0
    touched = write(args.root, files)
    print(
        "\n".join(f"wrote {path}" for path in touched)
        or f"event docs up to date ({len(files)} files)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

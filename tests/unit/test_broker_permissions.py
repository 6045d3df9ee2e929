"""The RabbitMQ permissions in deploy/kustomize/overlays/backing fit the topology in the code.

Each service may configure, write and read exactly the queues and exchanges that
livechat_shared (topology.py, services.py, runtime/broker.py) makes it declare, bind, publish
to and consume, and no other service's queues; the example subscriber only its own queues
and livechat.events. RabbitMQ applies the regexes with a search, as re.search does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no types
from livechat_shared.contracts import COMMAND_TYPES
from livechat_shared.contracts.services import ALL_SERVICES
from livechat_shared.contracts.topology import (
    COMMANDS_EXCHANGE,
    DEAD_LETTER_EXCHANGE,
    EVENTS_EXCHANGE,
    ServiceQueues,
    delay_queue,
)

USERS = (
    Path(__file__).resolve().parents[2] / "deploy/kustomize/overlays/backing/rabbitmq-users.yaml"
)
EXCHANGES = (EVENTS_EXCHANGE, COMMANDS_EXCHANGE, DEAD_LETTER_EXCHANGE)
DEFAULT_EXCHANGE = "amq.default"  # the default exchange's name in permission checks


def _permissions() -> dict[str, dict[str, str]]:
    docs = [d for d in yaml.safe_load_all(USERS.read_text(encoding="utf-8")) if d]
    return {
        d["spec"]["userReference"]["name"]: d["spec"]["permissions"]
        for d in docs
        if d["kind"] == "Permission"
    }


def _queues(service: ServiceQueues) -> list[str]:
    """Every queue the service declares: input (or one per replica, or one per partition with
    their headers exchange), dead letters, delays."""
    names = [service.dead_letter_queue]
    if service.per_instance:
        names.append(service.instance_queue("3f9a0c1d2e4b"))
    else:  # unpartitioned, and partitioned: the queues and the headers exchange in front
        names += [*service.input_queues(1), *service.input_queues(16), service.partitions_exchange]
    names += [delay_queue(service.service, t, 30_000) for t in COMMAND_TYPES]
    return names


def _allows(permission: str, name: str) -> bool:
    return re.search(permission, name) is not None


@pytest.mark.parametrize("service", ALL_SERVICES, ids=lambda s: s.service)
def test_a_service_may_do_what_its_topology_needs(service: ServiceQueues) -> None:
    granted = _permissions()[f"livechat-{service.service}"]
    for name in (*_queues(service), *EXCHANGES):  # declared by every replica at start-up
        assert _allows(granted["configure"], name), f"configure {name}"
        assert _allows(granted["read"], name), f"read {name} (consume, or bind from it)"
    for name in (*_queues(service), *EXCHANGES, DEFAULT_EXCHANGE):
        assert _allows(granted["write"], name), f"write {name} (bind to it, publish to it)"


@pytest.mark.parametrize("service", ALL_SERVICES, ids=lambda s: s.service)
def test_a_service_cannot_touch_another_services_queues(service: ServiceQueues) -> None:
    granted = _permissions()[f"livechat-{service.service}"]
    for other in ALL_SERVICES:
        if other is service:
            continue
        for name in _queues(other):
            for what, permission in granted.items():
                assert not _allows(permission, name), f"{what} on {name}"


def test_every_service_has_a_user_and_nothing_else_is_granted_by_surprise() -> None:
    users = set(_permissions())
    assert {f"livechat-{s.service}" for s in ALL_SERVICES} <= users
    assert users - {f"livechat-{s.service}" for s in ALL_SERVICES} == {"subscriber-crm"}


def test_a_subscriber_reads_events_through_its_own_queues_only() -> None:
    granted: dict[str, Any] = _permissions()["subscriber-crm"]
    own = ("crm.livechat-events", "crm.dead", "amq.gen-JhXq2uR1nZ8")
    for name in own:
        for what in ("configure", "write", "read"):
            assert _allows(granted[what], name), f"{what} {name}"
    assert _allows(granted["read"], EVENTS_EXCHANGE), "bind its queue to livechat.events"
    # It cannot delete or redeclare our exchange, publish into it, or see commands.
    assert not _allows(granted["configure"], EVENTS_EXCHANGE)
    assert not _allows(granted["write"], EVENTS_EXCHANGE)
    for name in (COMMANDS_EXCHANGE, DEAD_LETTER_EXCHANGE):
        for what in ("configure", "write", "read"):
            assert not _allows(granted[what], name), f"{what} {name}"
    for service in ALL_SERVICES:
        for name in _queues(service):
            for what in ("configure", "write", "read"):
                assert not _allows(granted[what], name), f"{what} {name}"


def test_the_regexes_are_anchored() -> None:
    """Unanchored, `queue-manager\\..+` would also grant `x.queue-manager.input`."""
    for user, granted in _permissions().items():
        for what, permission in granted.items():
            assert permission.startswith("^") and permission.endswith("$"), f"{user} {what}"

"""The system for end-to-end tests: queue manager, session service and two gateway replicas,
each its own process on the real RabbitMQ, started once per module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.clients import TOKEN_SECRET, Party
from tests.support.embedded import embedded_store_env
from tests.support.processes import ServiceProcess, behind_the_gateway

OFFER_TIMEOUT_SECONDS = 3
VISITOR_GRACE_SECONDS = 1
BROWSING_TIMEOUT_SECONDS = 5
INVITATION_TIMEOUT_SECONDS = 2
OPERATOR_DISCONNECT_GRACE_SECONDS = 2


@dataclass
class System:
    gateway: str
    second_gateway: str


@pytest.fixture
async def people() -> AsyncIterator[list[Party]]:
    """Everyone a test creates is registered here and disconnected afterwards."""
    created: list[Party] = []
    yield created
    async with AsyncExitStack() as stack:
        for party in created:
            stack.push_async_callback(party.close)


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    logs: Path = tmp_path_factory.mktemp("e2e")
    env = {
        "INTERNAL_API_TOKEN": "e2e-internal-token-0123456789",
        "VISITOR_GATEWAY_TOKEN_SECRET": TOKEN_SECRET,
        "QUEUE_MANAGER_OFFER_TIMEOUT_SECONDS": str(OFFER_TIMEOUT_SECONDS),
        **embedded_store_env(logs),
        "SESSION_SERVICE_VISITOR_GRACE_SECONDS": str(VISITOR_GRACE_SECONDS),
        "QUEUE_MANAGER_LOG_LEVEL": "WARNING",
        "SESSION_SERVICE_LOG_LEVEL": "WARNING",
        "VISITOR_GATEWAY_LOG_LEVEL": "WARNING",
        "OFFLINE_MESSAGES_LOG_LEVEL": "WARNING",
        "SUMMARY_PROJECTOR_LOG_LEVEL": "WARNING",
        "VISITOR_GATEWAY_BROWSING_TIMEOUT_SECONDS": str(BROWSING_TIMEOUT_SECONDS),
        "QUEUE_MANAGER_INVITATION_TIMEOUT_SECONDS": str(INVITATION_TIMEOUT_SECONDS),
        # the tests and the fuzzer come from one address with few identities: limits that
        # would only slow them down (tests/e2e/test_gateway_edge_limits.py tests the limits)
        "VISITOR_GATEWAY_IDENTITY_REQUESTS_PER_SECOND": "1000",
        "VISITOR_GATEWAY_IDENTITY_REQUEST_BURST": "10000",
        "VISITOR_GATEWAY_ADDRESS_REQUESTS_PER_SECOND": "10000",
        "VISITOR_GATEWAY_ADDRESS_REQUEST_BURST": "100000",
        "QUEUE_MANAGER_OPERATOR_DISCONNECT_GRACE_SECONDS": str(OPERATOR_DISCONNECT_GRACE_SECONDS),
    }
    # started one after another: each declares its queues before the next one publishes
    sessions, offline, projector = behind_the_gateway(env, logs)
    processes = [
        ServiceProcess("queue_manager", env, logs / "queue_manager.log"),
        sessions,
        offline,
        projector,
        ServiceProcess("visitor_gateway", env, logs / "gateway-1.log"),
        ServiceProcess("visitor_gateway", env, logs / "gateway-2.log"),
    ]
    try:
        for process in processes:
            process.start()
        yield System(gateway=processes[-2].url, second_gateway=processes[-1].url)
    finally:
        for process in processes:
            process.stop()

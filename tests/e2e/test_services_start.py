"""Every service starts as its own process, declares its queues, consumes, and reports health."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from livechat_shared.contracts import Presence, SetOperatorPresence, VisitorWaiting

from tests.support.broker import publish
from tests.support.embedded import embedded_store_env
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e

PACKAGES = [
    "visitor_gateway",
    "queue_manager",
    "session_service",
    "offline_messages",
    "summary_projector",
]


async def test_all_five_services_run_and_expose_health_readiness_and_metrics(
    tmp_path: Path, site_id: str
) -> None:
    env = {
        **embedded_store_env(tmp_path),
        "SUMMARY_PROJECTOR_LOG_LEVEL": "DEBUG",  # it logs each consumed event at debug level
    }
    services = [ServiceProcess(p, env, tmp_path / f"{p}.log") for p in PACKAGES]
    try:
        await asyncio.gather(*(asyncio.to_thread(s.start) for s in services))
        async with httpx.AsyncClient() as http:
            for service in services:
                assert (await http.get(f"{service.url}/healthz")).json() == {"status": "ok"}
                assert (await http.get(f"{service.url}/readyz")).status_code == 200
            await publish(
                SetOperatorPresence(site_id=site_id, operator_id="ann", presence=Presence.ONLINE)
            )
            await publish(
                VisitorWaiting(site_id=site_id, visitor_id="v0", correlation_id=f"corr-{site_id}")
            )
            queue_manager = services[PACKAGES.index("queue_manager")]
            projector = services[PACKAGES.index("summary_projector")]
            for _ in range(100):
                metrics = (await http.get(f"{queue_manager.url}/metrics")).text
                handled = (await http.get(f"{projector.url}/metrics")).text
                if (
                    f'livechat_offers_pending{{site="{site_id}"}} 1.0' in metrics
                    and 'livechat_event_handling_seconds_count{type="ChatOffered"}' in handled
                ):
                    break
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the offer did not show in the queue manager's and projector's metrics")
    finally:
        for service in services:
            service.stop()
    assert "embedded journal" in (tmp_path / "queue_manager.log").read_text()
    # structured logs carry the correlation id of the visitor's request down the chain
    lines = [
        json.loads(line)
        for line in (tmp_path / "summary_projector.log").read_text().splitlines()
        if line.startswith("{")
    ]
    assert {line["msg"] for line in lines if line.get("correlation_id") == f"corr-{site_id}"} == {
        "consumed"
    }
    # (the projector binds only the events its summary applies: not VisitorWaiting)
    assert {line["type"] for line in lines if line.get("correlation_id") == f"corr-{site_id}"} >= {
        "VisitorQueued",
        "ChatOffered",
    }

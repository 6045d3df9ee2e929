"""Wiring for the visitor gateway. Run with `uvicorn --factory visitor_gateway.main:create_app`."""

from __future__ import annotations

import logging
from datetime import timedelta

from aiormq.exceptions import AMQPError
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from livechat_shared.contracts import Message, VisitorBrowsing
from livechat_shared.contracts.services import (
    OFFLINE_MESSAGES,
    QUEUE_MANAGER,
    SESSION_SERVICE,
    VISITOR_GATEWAY,
)
from livechat_shared.runtime.app import create_service_app
from livechat_shared.runtime.broker import BrokerUnavailable, Bus, build_broker
from livechat_shared.runtime.consumer import subscribe
from livechat_shared.runtime.logging import configure_logging
from livechat_shared.runtime.metrics import ServiceMetrics
from livechat_shared.runtime.settings import warn_about_development_secrets

from visitor_gateway import (
    message_queue_api,
    monitor_api,
    operator_api,
    sockets,
    summary_api,
    visitor_api,
)
from visitor_gateway.gateway import Gateway
from visitor_gateway.hub import Hub
from visitor_gateway.publishing import OwnerCheckedPublisher
from visitor_gateway.sessions_client import (
    OfflineMessagesClient,
    SessionsClient,
    SessionsUnavailable,
    SummaryClient,
)
from visitor_gateway.settings import DEV_SECRET, Settings
from visitor_gateway.site_monitor import SiteMonitor

log = logging.getLogger(__name__)

COMMAND_OWNERS = (QUEUE_MANAGER, SESSION_SERVICE, OFFLINE_MESSAGES)
"""The services whose input queues receive what the gateway publishes: ready only if they exist."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("visitor-gateway", settings.log_level)
    warn_about_development_secrets(settings, log)
    if settings.token_secret == DEV_SECRET:
        log.warning("VISITOR_GATEWAY_TOKEN_SECRET is the development default: set your own")
    metrics = ServiceMetrics("visitor-gateway")
    broker = build_broker(settings.amqp_url, settings.prefetch, metrics.registry, "visitor-gateway")
    # A request nobody would receive, or sent while the broker is away, is refused (503),
    # never accepted and dropped, nor left waiting.
    bus = Bus(broker, VISITOR_GATEWAY, answers_callers=True)
    hub = Hub()
    monitor = SiteMonitor(timedelta(seconds=settings.browsing_timeout_seconds))

    async def consume(message: Message) -> None:
        if isinstance(message, VisitorBrowsing):
            monitor.heartbeat(message)
        else:
            await hub.deliver(message)

    sessions = SessionsClient(settings.session_service_url, settings.internal_api_token)
    offline_messages = OfflineMessagesClient(
        settings.offline_messages_url, settings.internal_api_token
    )

    summary = SummaryClient(settings.summary_projector_url, settings.internal_api_token)

    async def close_clients() -> None:
        for client in (sessions, offline_messages, summary):
            await client.close()

    consumer = subscribe(bus, metrics, consume, settings)

    async def reconnected() -> None:
        # Events published while this replica's queue was gone never reach its sockets.
        log.warning("the gateway consumes again; events of the outage may have been missed")

    bus.on_reconnected(reconnected)

    async def command_queues_exist() -> bool:
        return await consumer.queues_exist(tuple(q.input_queue for q in COMMAND_OWNERS))

    app = create_service_app(
        title="visitor-gateway",
        description="Public HTTP and WebSocket edge for visitors and operators.",
        broker=broker,
        bus=bus,
        consumer=consumer,
        metrics=metrics,
        after_stopping=close_clients,
        ready_when=(command_queues_exist,),
    )
    app.state.gateway = Gateway(
        settings=settings,
        publisher=OwnerCheckedPublisher(bus, consumer.queues_exist, COMMAND_OWNERS),
        hub=hub,
        sessions=sessions,
        offline_messages=offline_messages,
        summary=summary,
        monitor=monitor,
    )
    routers = (
        visitor_api.router,
        operator_api.router,
        message_queue_api.router,
        monitor_api.router,
        summary_api.router,
        sockets.router,
    )
    for routes in routers:
        app.include_router(routes)

    @app.exception_handler(BrokerUnavailable)
    @app.exception_handler(AMQPError)
    @app.exception_handler(SessionsUnavailable)
    async def unavailable(_: Request, error: Exception) -> JSONResponse:
        # Infrastructure, not the caller's input: say so, and that a retry may work.
        log.warning("a dependency is unavailable", extra={"error": str(error)})
        return JSONResponse(
            {"detail": "temporarily unavailable, retry shortly"},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    return app

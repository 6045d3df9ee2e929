"""Wiring for the visitor gateway. Run with `uvicorn --factory visitor_gateway.main:create_app`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiormq.exceptions import AMQPError
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from faststream.rabbit import RabbitBroker, RabbitRouter
from livechat_shared.contracts import Message, VisitorBrowsing
from livechat_shared.contracts.services import VISITOR_GATEWAY
from livechat_shared.runtime.app import create_service_app
from livechat_shared.runtime.broker import Bus, build_broker
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
from visitor_gateway.consoles import Consoles
from visitor_gateway.gateway import Gateway
from visitor_gateway.hub import Hub
from visitor_gateway.sessions_client import (
    OfflineMessagesClient,
    SessionsClient,
    SessionsUnavailable,
    SummaryClient,
)
from visitor_gateway.settings import DEV_SECRET, Settings
from visitor_gateway.site_monitor import SiteMonitor

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("visitor-gateway", settings.log_level)
    warn_about_development_secrets(settings, log)
    if settings.token_secret == DEV_SECRET:
        log.warning("VISITOR_GATEWAY_TOKEN_SECRET is the development default: set your own")
    metrics = ServiceMetrics("visitor-gateway")
    broker = build_broker(settings.amqp_url, settings.prefetch, metrics.registry, "visitor-gateway")
    bus = Bus(broker, VISITOR_GATEWAY)
    hub = Hub(settings.socket_buffer_frames, settings.socket_send_timeout_seconds)
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

    consoles = Consoles(hub, bus, bus.instance_id, settings.presence_refresh_seconds)
    renewing: set[asyncio.Task[None]] = set()

    async def start_renewing() -> None:
        renewing.add(asyncio.create_task(consoles.keep_announcing()))
        _when_reconnected(broker, reconnected)

    async def close_clients() -> None:
        for task in renewing:
            task.cancel()
        for client in (sessions, offline_messages, summary):
            await client.close()

    async def reconnected() -> None:
        """After the consumer's queue is back (a broker restart): events meanwhile are lost,
        so every socket is told to re-read, and the queue manager hears our consoles again.
        To be called by the runtime's reconnect hook (Bus.on_reconnected)."""
        await hub.resync_all("the gateway reconnected to the broker: events may have been missed")
        await consoles.announce_all()

    router = RabbitRouter()
    subscribe(router, bus, metrics, consume)
    broker.include_router(router)
    app = create_service_app(
        title="visitor-gateway",
        description="Public HTTP and WebSocket edge for visitors and operators.",
        broker=broker,
        bus=bus,
        metrics=metrics,
        before_consuming=start_renewing,
        after_stopping=close_clients,
    )
    app.state.consoles = consoles
    app.state.reconnected = reconnected
    app.state.gateway = Gateway(
        settings=settings,
        publisher=bus,
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


def _when_reconnected(broker: RabbitBroker, callback: Callable[[], Awaitable[None]]) -> None:
    """Run `callback` each time the connection came back with its channels, queues and consumers
    restored (aio-pika calls reconnect callbacks only then).

    Stand-in until the shared runtime offers this hook (Bus.on_reconnected): then register
    `reconnected` there and delete this function.
    """
    connection = getattr(broker, "_connection", None)
    if connection is None:
        log.warning("no broker connection to watch: sockets will not be told to resync")
        return

    async def on_reconnect(*_: object) -> None:
        await callback()

    connection.reconnect_callbacks.add(on_reconnect)

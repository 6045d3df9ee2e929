"""Wiring for the visitor gateway. Run with `uvicorn --factory visitor_gateway.main:create_app`."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from aiormq.exceptions import AMQPError
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from livechat_shared.contracts.envelope import utc_now
from livechat_shared.contracts.services import (
    OFFLINE_MESSAGES,
    QUEUE_MANAGER,
    SESSION_SERVICE,
    VISITOR_GATEWAY,
)
from livechat_shared.runtime.broker import BrokerUnavailable
from livechat_shared.runtime.service import service_base

from visitor_gateway.adapters import redaction
from visitor_gateway.adapters.hub import Hub
from visitor_gateway.adapters.identity_provider import IdentityProvider
from visitor_gateway.adapters.internal_api import ServiceUnavailable
from visitor_gateway.adapters.offline_messages import OfflineMessagesClient
from visitor_gateway.adapters.publishing import OwnerCheckedPublisher
from visitor_gateway.adapters.session_service import SessionServiceClient
from visitor_gateway.adapters.summary_projector import SummaryProjectorClient
from visitor_gateway.api.body_limit import BodyLimit
from visitor_gateway.api.gateway import Gateway
from visitor_gateway.api.routes import ROUTERS
from visitor_gateway.api.web import serve_web
from visitor_gateway.consoles import Consoles
from visitor_gateway.domain.site_monitor import SiteMonitor
from visitor_gateway.handlers import GatewayService
from visitor_gateway.monitor_push import SiteMonitorPush
from visitor_gateway.settings import DEV_SECRET, VisitorGatewaySettings
from visitor_gateway.subscribers import build_consumer

log = logging.getLogger(__name__)

COMMAND_OWNERS = (QUEUE_MANAGER, SESSION_SERVICE, OFFLINE_MESSAGES)
"""The services whose input queues receive what the gateway publishes: ready only if they exist."""


def create_app(settings: VisitorGatewaySettings | None = None) -> FastAPI:
    settings = settings or VisitorGatewaySettings()
    redaction.install()
    # A request nobody would receive, or sent while the broker is away, is refused (503),
    # never accepted and dropped, nor left waiting.
    base = service_base(VISITOR_GATEWAY, settings, answers_callers=True)
    if settings.token_secret == DEV_SECRET:
        log.warning("VISITOR_GATEWAY_TOKEN_SECRET is the development default: set your own")
    bus = base.bus
    hub = Hub(settings.socket_buffer_frames, settings.socket_send_timeout_seconds)
    monitor = SiteMonitor(
        timedelta(seconds=settings.browsing_timeout_seconds),
        memory=timedelta(seconds=settings.site_monitor_memory_seconds),
    )

    sessions = SessionServiceClient(settings.session_service_url, settings.internal_api_token)
    offline_messages = OfflineMessagesClient(
        settings.offline_messages_url, settings.internal_api_token
    )

    summary = SummaryProjectorClient(settings.summary_projector_url, settings.internal_api_token)

    consoles = Consoles(hub, bus, bus.instance_id, settings.presence_refresh_seconds)
    monitor_push = SiteMonitorPush(
        hub, monitor, settings.site_monitor_push_seconds, settings.site_monitor_shown
    )
    housekeeping: list[asyncio.Task[None]] = []

    async def start_housekeeping() -> None:
        gateway = app.state.gateway
        assert isinstance(gateway, Gateway)
        housekeeping.append(asyncio.create_task(forget_the_idle(gateway)))
        housekeeping.append(asyncio.create_task(consoles.keep_announcing()))
        housekeeping.append(asyncio.create_task(monitor_push.keep_pushing()))

    async def close_clients() -> None:
        for task in housekeeping:
            task.cancel()
        for client in (sessions, offline_messages, summary):
            await client.close()

    consumer = build_consumer(bus, base.metrics, GatewayService(hub, monitor), settings)

    async def reconnected() -> None:
        """After the consumer's queue is back (a broker restart): events meanwhile are lost,
        so every socket is told to re-read, and the queue manager hears our consoles again."""
        log.warning("the gateway consumes again; sockets are told to resync")
        await hub.resync_all("the gateway reconnected to the broker: events may have been missed")
        await consoles.announce_all()

    bus.on_reconnected(reconnected)

    async def command_queues_exist() -> bool:
        return await consumer.queues_exist(
            tuple(name for q in COMMAND_OWNERS for name in q.input_queues(settings.partitions))
        )

    app = base.app(
        consumer,
        description="Public HTTP and WebSocket edge for visitors and operators.",
        before_consuming=start_housekeeping,
        after_stopping=close_clients,
        ready_when=(command_queues_exist,),
    )
    app.state.consoles = consoles
    app.state.reconnected = reconnected
    app.state.gateway = Gateway(
        settings=settings,
        publisher=OwnerCheckedPublisher(
            bus, consumer.queues_exist, COMMAND_OWNERS, partitions=settings.partitions
        ),
        hub=hub,
        sessions=sessions,
        offline_messages=offline_messages,
        summary=summary,
        monitor=monitor,
        provider=identity_provider(settings),
    )
    for routes in ROUTERS:
        app.include_router(routes)
    serve_web(app, settings.web_dir)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.widget_origins:
        # The widget on another site's pages calls the visitor routes from that origin; a
        # bearer token is no ambient credential, so no cookies are allowed.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.widget_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )

    @app.exception_handler(BrokerUnavailable)
    @app.exception_handler(AMQPError)
    @app.exception_handler(ServiceUnavailable)
    async def unavailable(_: Request, error: Exception) -> JSONResponse:
        # Infrastructure, not the caller's input: say so, and that a retry may work.
        log.warning("a dependency is unavailable", extra={"error": str(error)})
        return JSONResponse(
            {"detail": "temporarily unavailable, retry shortly"},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    return app


def identity_provider(settings: VisitorGatewaySettings) -> IdentityProvider | None:
    if not settings.operator_jwks_url:
        return None
    assert (
        settings.operator_token_issuer and settings.operator_token_audience
    )  # see VisitorGatewaySettings
    return IdentityProvider(
        jwks_url=settings.operator_jwks_url,
        issuer=settings.operator_token_issuer,
        audience=settings.operator_token_audience,
        algorithms=tuple(settings.operator_token_algorithms),
        leeway=timedelta(seconds=settings.token_leeway_seconds),
        site_claim=settings.operator_site_claim,
        role_claim=settings.operator_role_claim,
        keys_cached_for=timedelta(seconds=settings.jwks_cache_seconds),
    )


HOUSEKEEPING_SECONDS = 5.0


async def forget_the_idle(gateway: Gateway) -> None:
    """Every few seconds, forget silent Site Monitor visitors and idle rate-limit buckets, so
    memory shrinks back after a flood even if nothing else happens."""
    while True:
        await asyncio.sleep(HOUSEKEEPING_SECONDS)
        gateway.monitor.forget_silent(utc_now())
        gateway.limits.forget_idle()

"""Every router of the gateway, in the order the app includes them."""

from __future__ import annotations

from fastapi import APIRouter

from visitor_gateway.api import (
    identity,
    message_queue,
    monitor,
    operator,
    settings,
    sockets,
    summary,
    visitor,
)

ROUTERS: tuple[APIRouter, ...] = (
    visitor.router,
    operator.router,
    message_queue.router,
    monitor.router,
    summary.router,
    settings.router,
    identity.router,
    sockets.router,
)

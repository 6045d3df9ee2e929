"""Every router of the gateway, in the order the app includes them."""

from __future__ import annotations

from fastapi import APIRouter

from visitor_gateway.api import (
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
    sockets.router,
)

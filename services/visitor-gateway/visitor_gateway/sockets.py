"""The WebSockets: visitors and operators receive their events here as JSON, one per frame."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from fastapi import APIRouter, HTTPException, Query, WebSocket, WebSocketDisconnect
from livechat_shared.contracts import VisitorDisconnected, VisitorReconnected

from visitor_gateway.auth import Role
from visitor_gateway.consoles import Consoles
from visitor_gateway.delivery import Recipient
from visitor_gateway.gateway import Gateway

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1")

POLICY_VIOLATION = 4401  # application close code: the token was refused


async def _serve(socket: WebSocket, role: Role, token: str | None) -> None:
    gateway = socket.app.state.gateway
    assert isinstance(gateway, Gateway)
    header = socket.headers.get("authorization", "")
    token = token or (header[7:] if header.lower().startswith("bearer ") else None)
    await socket.accept()
    try:
        caller = gateway.caller(token, role)
    except HTTPException as refused:
        await socket.close(code=POLICY_VIOLATION, reason=str(refused.detail))
        return
    who = (caller.site_id, role, caller.subject)
    greeting = [json.dumps({"type": "Connected", "role": role, "id": caller.subject})]
    if role == "visitor" and (place := gateway.hub.place_of(who)) is not None:
        greeting.append(json.dumps(place))
    consoles = socket.app.state.consoles
    assert isinstance(consoles, Consoles)
    first = gateway.hub.add(who, socket, greeting)
    try:
        if role == "operator" and first:
            await consoles.opened(who)
        if role == "visitor":
            await gateway.publisher.publish(
                VisitorReconnected(site_id=caller.site_id, visitor_id=caller.subject)
            )
        await _until_gone(gateway, who, socket)
    finally:
        last = gateway.hub.remove(who, socket)
        if role == "operator" and last:
            await consoles.closed(who)
        if role == "visitor" and last:
            await gateway.publisher.publish(
                VisitorDisconnected(site_id=caller.site_id, visitor_id=caller.subject)
            )


async def _until_gone(gateway: Gateway, who: Recipient, socket: WebSocket) -> None:
    """Until the client leaves, or the hub drops the socket for falling behind."""
    listening = asyncio.create_task(_listen(socket))
    dropped = asyncio.create_task(gateway.hub.until_dropped(who, socket))
    try:
        await asyncio.wait({listening, dropped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (listening, dropped):
            task.cancel()


async def _listen(socket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await socket.receive_text()  # clients only keep the connection alive


@router.websocket("/visitor/ws")
async def visitor_socket(socket: WebSocket, token: str | None = Query(default=None)) -> None:
    await _serve(socket, "visitor", token)


@router.websocket("/operator/ws")
async def operator_socket(socket: WebSocket, token: str | None = Query(default=None)) -> None:
    await _serve(socket, "operator", token)

"""The WebSockets: visitors and operators receive their events here as JSON, one per frame."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from fastapi import APIRouter, HTTPException, Query, WebSocket, WebSocketDisconnect
from livechat_shared.contracts import VisitorDisconnected, VisitorReconnected
from livechat_shared.runtime.broker import BrokerUnavailable

from visitor_gateway.api.gateway import Gateway
from visitor_gateway.consoles import Consoles
from visitor_gateway.domain.auth import Caller, Role
from visitor_gateway.domain.delivery import Recipient

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1")

POLICY_VIOLATION = 4401  # application close code: the token was refused
TRY_AGAIN_LATER = 1013  # the broker is away: the client reconnects after a pause
TOO_MANY_SOCKETS = 4429  # application close code: this identity holds its share of sockets
BEARER_PROTOCOL = "bearer"


def credentials(socket: WebSocket, query_token: str | None) -> tuple[str | None, str | None]:
    """The token and the subprotocol to answer with. Preferred: `Sec-WebSocket-Protocol:
    bearer, <token>` (never in a URL, so never in a log); then an Authorization header; then
    `?token=` for clients that can do neither (logs redact it)."""
    offered = list(socket.scope.get("subprotocols") or [])
    if len(offered) >= 2 and offered[0] == BEARER_PROTOCOL:
        return offered[1], BEARER_PROTOCOL
    header = socket.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:], None
    return query_token, None


async def _serve(socket: WebSocket, role: Role, token: str | None) -> None:
    gateway = socket.app.state.gateway
    assert isinstance(gateway, Gateway)
    token, subprotocol = credentials(socket, token)
    await socket.accept(subprotocol=subprotocol)
    try:
        caller = await gateway.caller(token, role)
    except HTTPException as refused:
        await socket.close(code=POLICY_VIOLATION, reason=str(refused.detail))
        return
    who = (caller.site_id, role, caller.subject)
    if not gateway.limits.sockets.acquire(who):
        await socket.close(code=TOO_MANY_SOCKETS, reason="too many sockets for this identity")
        return
    try:
        await _connected(socket, gateway, caller, role)
    finally:
        gateway.limits.sockets.release(who)


async def _connected(socket: WebSocket, gateway: Gateway, caller: Caller, role: Role) -> None:
    who = (caller.site_id, role, caller.subject)
    greeting = [json.dumps({"type": "Connected", "role": role, "id": caller.subject})]
    if role == "visitor" and (place := gateway.hub.place_of(who)) is not None:
        greeting.append(json.dumps(place))
    consoles = socket.app.state.consoles
    assert isinstance(consoles, Consoles)
    first = gateway.hub.add(who, socket, greeting)
    try:
        if role == "operator" and first:
            await consoles.opened(who)  # never raises: a claim lost now is renewed later
        if role == "visitor":
            try:
                await gateway.publisher.publish(
                    VisitorReconnected(site_id=caller.site_id, visitor_id=caller.subject)
                )
            except BrokerUnavailable as error:
                log.warning(
                    "refused a visitor socket: the broker is away", extra={"error": str(error)}
                )
                gateway.hub.finish(who, socket, TRY_AGAIN_LATER, "try again later")
                await gateway.hub.until_dropped(who, socket)  # after its greeting, in order
                return
        await _until_gone(gateway, who, socket)
    finally:
        last = gateway.hub.remove(who, socket)
        if role == "operator" and last:
            await consoles.closed(who)
        if role == "visitor" and last:
            try:
                await gateway.publisher.publish(
                    VisitorDisconnected(site_id=caller.site_id, visitor_id=caller.subject)
                )
            except BrokerUnavailable as error:
                log.warning("a visitor left while the broker was away", extra={"error": str(error)})


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

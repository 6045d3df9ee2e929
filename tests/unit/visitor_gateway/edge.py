"""The gateway app in this process without a broker: published messages are only collected."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from livechat_shared.contracts import Message
from visitor_gateway.api.gateway import Gateway
from visitor_gateway.main import create_app
from visitor_gateway.settings import VisitorGatewaySettings

SECRET = "unit-secret-0123456789-0123456789-xyz"


class Published:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def publish(self, message: Message) -> None:
        self.messages.append(message)


def gateway_app(**settings: Any) -> tuple[FastAPI, Published]:
    config = VisitorGatewaySettings.model_validate(
        {
            "token_secret": SECRET,
            "log_level": "WARNING",
            # nothing listens there: a read that gets that far answers 503
            "session_service_url": "http://127.0.0.1:9",
            "offline_messages_url": "http://127.0.0.1:9",
            "summary_projector_url": "http://127.0.0.1:9",
            **settings,
        }
    )
    app = create_app(config)
    published = Published()
    gateway = app.state.gateway
    assert isinstance(gateway, Gateway)
    gateway.publisher = published
    return app, published


@asynccontextmanager
async def client(app: FastAPI, **headers: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://gateway", headers=headers
    ) as http:
        yield http

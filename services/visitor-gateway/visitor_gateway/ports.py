"""The gateway's port: where the requests it accepts go (the bus, checked for their owners)."""

from __future__ import annotations

from typing import Protocol

from livechat_shared.contracts import Message


class Publisher(Protocol):
    async def publish(self, message: Message) -> None: ...

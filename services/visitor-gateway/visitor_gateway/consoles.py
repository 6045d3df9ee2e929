"""Tells the queue manager which operators have a console socket open on this replica.

The queue manager owns presence; it only hears facts from here: a console opened here
(`OperatorConnected`, renewed every refresh while one stays open, so the claim of a replica that
dies runs out) and the last one here closed (`OperatorDisconnected`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from livechat_shared.contracts import Message, OperatorConnected, OperatorDisconnected

from visitor_gateway.adapters.hub import Hub
from visitor_gateway.domain.delivery import Recipient

log = logging.getLogger(__name__)


class Publisher(Protocol):
    async def publish(self, message: Message) -> None: ...


class Consoles:
    def __init__(self, hub: Hub, publisher: Publisher, replica_id: str, refresh_seconds: float):
        self.hub = hub
        self.publisher = publisher
        self.replica_id = replica_id
        self.refresh_seconds = refresh_seconds

    async def opened(self, who: Recipient) -> None:
        await self._say(OperatorConnected, who)

    async def closed(self, who: Recipient) -> None:
        await self._say(OperatorDisconnected, who)

    async def announce_all(self) -> None:
        """Renew the claim of every operator with a socket here (also after a reconnect)."""
        for who in self.hub.holders():
            if who[1] == "operator" and self.hub.holds(who):
                await self._say(OperatorConnected, who)

    async def keep_announcing(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            await self.announce_all()

    async def _say(
        self, fact: type[OperatorConnected] | type[OperatorDisconnected], who: Recipient
    ) -> None:
        site_id, _, operator_id = who
        try:
            await self.publisher.publish(
                fact(site_id=site_id, operator_id=operator_id, replica_id=self.replica_id)
            )
        except Exception as error:  # the broker is away: the next renewal (or the lease) mends it
            log.warning(
                "could not tell the queue manager about a console",
                extra={"fact": fact.type_name(), "error": str(error)},
            )

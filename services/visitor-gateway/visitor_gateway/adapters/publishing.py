"""The gateway publishes a request only if the services that must act on it can receive it.

`mandatory` publishing catches a message no queue receives at all. It cannot catch one that
reaches *some* queue but not its owner's: `VisitorWaiting` also goes to the summary projector,
so with `queue-manager.input` deleted (the documented upgrade step) the visitor would get 202
and never be routed. So the gateway checks, at most once a second, that the owners' input queues
exist, and answers 503 (NotRouted) while one is missing. With partitions (PARTITIONS > 1) the
queue checked is the one of the message's site's partition.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from livechat_shared.contracts import Message
from livechat_shared.contracts.partitions import partition_of
from livechat_shared.contracts.topology import ServiceQueues
from livechat_shared.runtime.broker import NotRouted

from visitor_gateway.ports import Publisher

QueuesExist = Callable[[tuple[str, ...]], Awaitable[bool]]


class OwnerCheckedPublisher:
    def __init__(
        self,
        bus: Publisher,
        queues_exist: QueuesExist,
        owners: tuple[ServiceQueues, ...],
        recheck_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        partitions: int = 1,
    ) -> None:
        self.bus = bus
        self._queues_exist = queues_exist
        self._partitions = partitions
        self._owners: dict[str, tuple[ServiceQueues, ...]] = {}
        for owner in owners:
            for message_type in owner.consumes:
                name = message_type.type_name()
                self._owners[name] = (*self._owners.get(name, ()), owner)
        self._recheck_seconds = recheck_seconds
        self._clock = clock
        self._seen_until: dict[str, float] = {}
        self._checking = asyncio.Lock()

    async def publish(self, message: Message) -> None:
        partition = partition_of(message.site_id, self._partitions)
        needed = tuple(
            owner.partition_queue(partition, self._partitions)
            for owner in self._owners.get(message.type_name(), ())
        )
        if not await self._exist(needed):
            raise NotRouted(f"{message.type_name()}: a queue of its owner is missing: {needed}")
        await self.bus.publish(message)

    async def _exist(self, names: tuple[str, ...]) -> bool:
        stale = tuple(n for n in names if self._seen_until.get(n, 0.0) <= self._clock())
        if not stale:
            return True
        async with self._checking:  # one check at a time, however many requests wait
            stale = tuple(n for n in stale if self._seen_until.get(n, 0.0) <= self._clock())
            if not stale:
                return True
            if not await self._queues_exist(stale):
                return False
            until = self._clock() + self._recheck_seconds
            self._seen_until.update(dict.fromkeys(stale, until))
            return True

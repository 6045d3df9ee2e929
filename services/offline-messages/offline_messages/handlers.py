"""Use cases: a message left is stored; Next message, reply and close are decided and published.

Every write happens before its events are published, and event ids derive from the command id,
so a message redelivered after a crash stores nothing new and republishes the same events.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from livechat_shared.contracts import (
    CloseMessage,
    CommandRejected,
    Event,
    Message,
    MessageLeft,
    ReplyToMessage,
    TakeNextMessage,
    parse_message,
)

from offline_messages.domain import apply, decide, left, nothing_waiting, taken_event
from offline_messages.ports import (
    DuplicateTake,
    OfflineMessageStore,
    Outcome,
    Publisher,
    StaleMessage,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Observer = Callable[[str, str], Awaitable[None]]
"""Told (site id, outcome) of each new outcome: left, taken, empty, replied, closed, rejected."""

_ID_NAMESPACE = uuid.UUID("0c7f4a8e-5d2b-4e61-9f3a-7b1c2d9e4f50")
_SAVE_ATTEMPTS = 5


def event_id_for(command_id: uuid.UUID) -> uuid.UUID:
    """Each command causes one event; deciding it again yields the very same id."""
    return uuid.uuid5(_ID_NAMESPACE, str(command_id))


async def _ignore(_: str, __: str) -> None:
    return None


class OfflineMessageService:
    def __init__(
        self,
        store: OfflineMessageStore,
        publisher: Publisher,
        clock: Clock,
        observe: Observer = _ignore,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.clock = clock
        self.observe = observe

    async def handle(self, message: Message) -> None:
        use_case = _USE_CASES.get(type(message))
        if use_case is None:
            raise TypeError(f"offline-messages does not handle {message.type_name()}")
        await use_case(self, message)

    async def message_left(self, event: MessageLeft) -> None:
        if await self.store.add(left(event)):
            await self.observe(event.site_id, "left")

    async def take_next(self, command: TakeNextMessage) -> None:
        event_id = event_id_for(command.command_id)
        message = await self.store.taken_by(command.site_id, command.command_id)
        fresh = message is None
        if message is None:
            try:
                message = await self.store.take_next(
                    command.site_id, command.operator_id, command.command_id, self.clock()
                )
            except DuplicateTake:
                # Another copy of this command (another replica) took one: answer with that.
                log.warning("a copy of this TakeNextMessage took a message already")
                fresh = False
                message = await self.store.taken_by(command.site_id, command.command_id)
        if message is None:
            await self.observe(command.site_id, "empty")
            await self.publisher.publish(nothing_waiting(command, self.clock(), event_id))
            return
        # Counted before publishing: a redelivery after a failed publish only republishes.
        if fresh:
            await self.observe(command.site_id, "taken")
        await self.publisher.publish(taken_event(message, command, event_id))

    async def answer(self, command: ReplyToMessage | CloseMessage) -> None:
        """Reply or close: read, decide, save if nobody wrote in between (else decide again)."""
        for _ in range(_SAVE_ATTEMPTS):
            stored = await self.store.get(command.site_id, command.offline_message_id)
            if stored is not None and (done := stored.outcome_of(command.command_id)):
                await self._republish(done)
                return
            event = decide(
                stored.message if stored else None,
                command,
                self.clock(),
                event_id_for(command.command_id),
            )
            if stored is not None and not isinstance(event, CommandRejected):
                outcome = Outcome(str(command.command_id), [event.model_dump(mode="json")])
                try:
                    await self.store.save(stored, apply(stored.message, event), outcome)
                except StaleMessage:
                    continue
            await self.observe(command.site_id, _outcome_name(event))
            await self.publisher.publish(event)
            return
        raise StaleMessage(f"{command.offline_message_id} kept changing while being answered")

    async def _republish(self, outcome: Outcome) -> None:
        for raw in outcome.events:
            await self.publisher.publish(parse_message(raw))


_USE_CASES: dict[type[Message], Callable[[OfflineMessageService, Any], Awaitable[None]]] = {
    MessageLeft: OfflineMessageService.message_left,
    TakeNextMessage: OfflineMessageService.take_next,
    ReplyToMessage: OfflineMessageService.answer,
    CloseMessage: OfflineMessageService.answer,
}


def _outcome_name(event: Event) -> str:
    names = {"OfflineMessageReplied": "replied", "OfflineMessageClosed": "closed"}
    return names.get(event.type_name(), "rejected")

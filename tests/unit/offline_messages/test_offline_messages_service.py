"""The use cases against the in-memory store: taking, answering, and redelivery changing nothing."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from livechat_shared.contracts import (
    CloseMessage,
    CommandRejected,
    Message,
    MessageLeft,
    OfflineMessageClosed,
    OfflineMessageReplied,
    OfflineMessageTaken,
    ReplyToMessage,
    TakeNextMessage,
)
from offline_messages.adapters.memory_store import MemoryMessageStore
from offline_messages.domain import NOTHING_WAITING, TAKEN_BY_ANOTHER, OfflineMessage
from offline_messages.handlers import OfflineMessageService, event_id_for
from offline_messages.ports import Outcome, StaleMessage, StoredMessage

SITE = "acme"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Recorder:
    """Stands in for the bus and the metrics: what was published, and each outcome."""

    def __init__(self) -> None:
        self.published: list[Message] = []
        self.outcomes: list[str] = []

    async def publish(self, message: Message) -> None:
        self.published.append(message)

    async def observe(self, site_id: str, outcome: str) -> None:
        self.outcomes.append(outcome)

    def last(self) -> Message:
        return self.published[-1]


@pytest.fixture
def store() -> MemoryMessageStore:
    return MemoryMessageStore()


@pytest.fixture
def seen() -> Recorder:
    return Recorder()


@pytest.fixture
def service(store: MemoryMessageStore, seen: Recorder) -> OfflineMessageService:
    return OfflineMessageService(store, seen, lambda: T0 + timedelta(hours=1), observe=seen.observe)


def left_message(minutes_ago: int, text: str = "Hello?") -> MessageLeft:
    return MessageLeft(
        site_id=SITE,
        offline_message_id=uuid.uuid4(),
        visitor_id=f"v-{minutes_ago}",
        name="Ada",
        email="ada@example.com",
        text=text,
        occurred_at=T0 - timedelta(minutes=minutes_ago),
    )


async def take(service: OfflineMessageService, seen: Recorder, operator_id: str) -> Message:
    await service.handle(TakeNextMessage(site_id=SITE, operator_id=operator_id))
    return seen.last()


async def test_messages_are_taken_oldest_first(
    service: OfflineMessageService, seen: Recorder
) -> None:
    newer, oldest, middle = left_message(1), left_message(30), left_message(10)
    for event in (newer, oldest, middle):
        await service.handle(event)
    taken = [await take(service, seen, "ann") for _ in range(3)]
    assert [t.offline_message_id for t in taken if isinstance(t, OfflineMessageTaken)] == [
        oldest.offline_message_id,
        middle.offline_message_id,
        newer.offline_message_id,
    ]


async def test_a_redelivered_message_left_is_stored_once(
    service: OfflineMessageService, store: MemoryMessageStore, seen: Recorder
) -> None:
    event = left_message(5)
    await service.handle(event)
    await service.handle(event)
    assert await store.count_waiting(SITE) == {SITE: 1}
    assert seen.outcomes == ["left"]


async def test_an_empty_queue_is_answered(service: OfflineMessageService, seen: Recorder) -> None:
    command = TakeNextMessage(site_id=SITE, operator_id="ann")
    await service.handle(command)
    answer = seen.last()
    assert isinstance(answer, CommandRejected)
    assert (answer.reason, answer.command_id) == (NOTHING_WAITING, command.command_id)
    assert seen.outcomes == ["empty"]


async def test_a_redelivered_take_republishes_the_same_event_and_takes_nothing_more(
    service: OfflineMessageService, store: MemoryMessageStore, seen: Recorder
) -> None:
    first, second = left_message(20), left_message(10)
    await service.handle(first)
    await service.handle(second)
    command = TakeNextMessage(site_id=SITE, operator_id="ann")
    await service.handle(command)
    await service.handle(command)
    original, again = seen.published
    assert isinstance(original, OfflineMessageTaken)
    assert original == again
    assert original.event_id == event_id_for(command.command_id)
    assert await store.count_waiting(SITE) == {SITE: 1}
    assert seen.outcomes == ["left", "left", "taken"]


async def test_two_replicas_pressing_next_message_at_once_get_different_messages(
    store: MemoryMessageStore,
) -> None:
    seen = Recorder()
    # Two services on one store stand for two replicas racing on one database.
    replicas = [OfflineMessageService(store, seen, lambda: T0) for _ in range(2)]
    for minutes_ago in (3, 2, 1):
        await replicas[0].handle(left_message(minutes_ago))
    await asyncio.gather(
        *(
            replica.handle(TakeNextMessage(site_id=SITE, operator_id=operator))
            for replica in replicas
            for operator in ("ann", "bob")
        )
    )
    taken = [m for m in seen.published if isinstance(m, OfflineMessageTaken)]
    empty = [m for m in seen.published if isinstance(m, CommandRejected)]
    assert len({t.offline_message_id for t in taken}) == len(taken) == 3
    assert [e.reason for e in empty] == [NOTHING_WAITING]


async def test_reply_then_close_by_the_operator_who_took_it(
    service: OfflineMessageService, store: MemoryMessageStore, seen: Recorder
) -> None:
    event = left_message(5)
    await service.handle(event)
    await take(service, seen, "ann")
    message_id = event.offline_message_id
    for text in ("We ship on Monday.", "Tracking number follows."):
        await service.handle(
            ReplyToMessage(
                site_id=SITE, offline_message_id=message_id, operator_id="ann", text=text
            )
        )
        replied = seen.last()
        assert isinstance(replied, OfflineMessageReplied)
        assert (replied.email, replied.text) == ("ada@example.com", text)
    await service.handle(
        CloseMessage(site_id=SITE, offline_message_id=message_id, operator_id="ann")
    )
    assert isinstance(seen.last(), OfflineMessageClosed)
    stored = await store.get(SITE, message_id)
    assert stored is not None
    assert (stored.message.status, stored.message.reply) == ("closed", "Tracking number follows.")
    assert seen.outcomes[-3:] == ["replied", "replied", "closed"]


async def test_another_operator_is_told_why_it_may_not_reply(
    service: OfflineMessageService, store: MemoryMessageStore, seen: Recorder
) -> None:
    event = left_message(5)
    await service.handle(event)
    await take(service, seen, "ann")
    command = ReplyToMessage(
        site_id=SITE, offline_message_id=event.offline_message_id, operator_id="bob", text="Hi"
    )
    await service.handle(command)
    rejected = seen.last()
    assert isinstance(rejected, CommandRejected)
    assert (rejected.reason, rejected.operator_id) == (TAKEN_BY_ANOTHER, "bob")
    stored = await store.get(SITE, event.offline_message_id)
    assert stored is not None and stored.message.status == "taken"


async def test_a_message_of_another_site_is_not_found(
    service: OfflineMessageService, seen: Recorder
) -> None:
    event = left_message(5)
    await service.handle(event)
    await take(service, seen, "ann")
    await service.handle(
        CloseMessage(
            site_id="other", offline_message_id=event.offline_message_id, operator_id="ann"
        )
    )
    rejected = seen.last()
    assert isinstance(rejected, CommandRejected) and "no such message" in rejected.reason


async def test_a_redelivered_reply_republishes_the_same_event_and_replies_once(
    service: OfflineMessageService, store: MemoryMessageStore, seen: Recorder
) -> None:
    event = left_message(5)
    await service.handle(event)
    await take(service, seen, "ann")
    command = ReplyToMessage(
        site_id=SITE, offline_message_id=event.offline_message_id, operator_id="ann", text="Yes"
    )
    await service.handle(command)
    await service.handle(command)
    assert seen.published[-1] == seen.published[-2]
    stored = await store.get(SITE, event.offline_message_id)
    assert stored is not None and len(stored.outcomes) == 1
    assert seen.outcomes.count("replied") == 1


class InterferingStore(MemoryMessageStore):
    """Someone else writes the message between our read and our save, once."""

    def __init__(self) -> None:
        super().__init__()
        self.interfered = False

    async def save(self, stored: StoredMessage, message: OfflineMessage, outcome: Outcome) -> None:
        if not self.interfered:
            self.interfered = True
            closed = replace(stored.message, status="closed")
            await super().save(stored, closed, Outcome("someone-else", []))
        await super().save(stored, message, outcome)


async def test_an_answer_decides_again_when_the_message_changed_meanwhile() -> None:
    store, seen = InterferingStore(), Recorder()
    service = OfflineMessageService(store, seen, lambda: T0)
    event = left_message(5)
    await service.handle(event)
    await service.handle(TakeNextMessage(site_id=SITE, operator_id="ann"))
    await service.handle(
        ReplyToMessage(
            site_id=SITE, offline_message_id=event.offline_message_id, operator_id="ann", text="Hi"
        )
    )
    # The second decision saw the message closed by the interfering write.
    rejected = seen.last()
    assert isinstance(rejected, CommandRejected) and rejected.reason == "the message is closed"


async def test_a_message_that_keeps_changing_fails_loudly() -> None:
    class AlwaysStale(MemoryMessageStore):
        async def save(
            self, stored: StoredMessage, message: OfflineMessage, outcome: Outcome
        ) -> None:
            raise StaleMessage("changed")

    stale = AlwaysStale()
    service = OfflineMessageService(stale, Recorder(), lambda: T0)
    event = left_message(5)
    await service.handle(event)
    await service.handle(TakeNextMessage(site_id=SITE, operator_id="ann"))
    with pytest.raises(StaleMessage):
        await service.handle(
            CloseMessage(
                site_id=SITE, offline_message_id=event.offline_message_id, operator_id="ann"
            )
        )

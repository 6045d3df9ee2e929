"""Timers that fall due while the broker is down fire once it is back: none is lost.

On a private RabbitMQ node (never the shared one): offers are pending, the node stops for longer
than the offer timeout, then starts again; every offer must time out (visitor back in the queue,
the operator's slot free). Before the timer queues were quorum queues with at-least-once
dead-lettering, RabbitMQ dropped every one of them.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta

import aio_pika
import pytest
from livechat_shared.contracts import (
    Channel,
    ChatOffered,
    ChatStarted,
    ExpireOffer,
    OperatorPresenceChanged,
    Presence,
    SetOperatorPresence,
    VisitorDisconnected,
    VisitorWaiting,
)
from livechat_shared.contracts.services import QUEUE_MANAGER
from livechat_shared.contracts.topology import COMMANDS_EXCHANGE, binding_key, delay_queue
from queue_manager.domain import Site
from session_service.adapters.memory_store import MemorySessionStore

from tests.support.apps import queue_manager_app, routing_of, running
from tests.support.broker import Tap, publish
from tests.support.rabbit_node import RabbitNode
from tests.support.sessions import session_service_app

pytestmark = pytest.mark.integration

OPERATORS = 10
CHATS_EACH = 3
OFFER_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def node() -> Iterator[RabbitNode]:
    started = RabbitNode("timers").start()
    try:
        yield started
    finally:
        started.stop()


async def eventually(check: Callable[[], Awaitable[bool]], within: float) -> None:
    """Poll until `check` holds, for at most `within` seconds."""
    for _ in range(int(within / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {within} s")


async def messages_in(connection: aio_pika.abc.AbstractConnection, queue: str) -> int | None:
    """How many messages the queue holds (None: it does not exist yet)."""
    channel = await connection.channel()  # a passive declare that fails closes its channel
    try:
        found = await channel.declare_queue(queue, passive=True)
    except aio_pika.exceptions.ChannelNotFoundEntity:
        return None
    count = found.declaration_result.message_count
    await channel.close()
    return count


async def down_for(node: RabbitNode, seconds: float) -> float:
    """Stop the node's broker for `seconds`, start it again; how long it was unreachable."""
    began = time.monotonic()
    await asyncio.to_thread(node.restart, seconds)
    return time.monotonic() - began


async def test_offers_that_fall_due_while_the_broker_is_down_all_expire(
    node: RabbitNode, site_id: str
) -> None:
    visitors = [f"v{i:02d}" for i in range(OPERATORS * CHATS_EACH)]
    app = queue_manager_app(
        amqp_url=node.url, max_chats=CHATS_EACH, offer_timeout_seconds=OFFER_TIMEOUT
    )
    async with Tap(site_id, url=node.url) as tap, running(app):
        for n in range(OPERATORS):
            presence = SetOperatorPresence(
                site_id=site_id, operator_id=f"op{n}", presence=Presence.ONLINE
            )
            await publish(presence, url=node.url)
        await tap.wait_for(OperatorPresenceChanged, count=OPERATORS)
        for visitor in visitors:
            await publish(VisitorWaiting(site_id=site_id, visitor_id=visitor), url=node.url)
        offers = await tap.wait_for(ChatOffered, count=len(visitors))
        assert {o.visitor_id for o in offers} == set(visitors)

        # every offer falls due while the broker is down
        unreachable = await down_for(node, OFFER_TIMEOUT + 2)
        assert unreachable > OFFER_TIMEOUT

        # Read from the queue manager's state, not from our tap: the tap's own queue is gone
        # while the broker is down, and it may come back after the events are published.
        def site() -> Site:
            return routing_of(app).site(site_id)

        pending = {o.offer_id for o in offers}

        async def all_expired() -> bool:
            return not pending & set(site().offers)

        try:
            await eventually(all_expired, within=30)
        finally:
            lost = pending & set(site().offers)
            print(f"\noffers pending: {len(pending)}, down {unreachable:.1f} s, lost: {len(lost)}")
            if lost:  # where they are: still in a timer queue, or in the input queue
                print(node.ctl("list_queues", "name", "type", "messages", "consumers"))
        assert lost == set()

        async def settled() -> bool:
            return not site().offers and len(site().queues[Channel.CHAT]) == len(visitors)

        await eventually(settled, within=10)
        # every visitor back in the queue, every operator's slot free (and away: no answer)
        assert sorted(site().head(Channel.CHAT)) == visitors
        for operator in site().operators.values():
            assert operator.load(Channel.CHAT) == 0
            assert operator.presence is Presence.AWAY


async def test_timers_held_back_by_the_broker_are_rearmed_when_the_connection_comes_back(
    node: RabbitNode, site_id: str
) -> None:
    """RabbitMQ retries a timer it could not hand on only minutes later: re-arming on reconnect
    fires it at once. The input queue is unbound while the offers fall due (as when it is not
    back yet after a restart), then the connections drop and come back."""
    app = queue_manager_app(amqp_url=node.url, max_chats=1, offer_timeout_seconds=1.0)
    async with Tap(site_id, url=node.url) as tap, running(app):
        online = SetOperatorPresence(site_id=site_id, operator_id="ann", presence=Presence.ONLINE)
        await publish(online, url=node.url)
        await tap.wait_for(OperatorPresenceChanged)
        connection = await aio_pika.connect(node.url)
        async with connection:
            channel = await connection.channel()
            commands = await channel.get_exchange(COMMANDS_EXCHANGE)
            queue = await channel.get_queue(QUEUE_MANAGER.input_queue)
            await queue.unbind(commands, binding_key(ExpireOffer))
            await publish(VisitorWaiting(site_id=site_id, visitor_id="v0"), url=node.url)
            [offer] = await tap.wait_for(ChatOffered)
            timer_queue = delay_queue(QUEUE_MANAGER.service, ExpireOffer, 1000)
            published = False

            async def fell_due() -> bool:  # expired from its queue, held back: unroutable
                nonlocal published
                depth = await messages_in(connection, timer_queue)
                published = published or bool(depth)
                late = datetime.now(UTC) > offer.expires_at + timedelta(seconds=1)
                return depth == 0 and (published or late)

            await eventually(fell_due, within=10)
            assert offer.offer_id in routing_of(app).site(site_id).offers
            await queue.bind(commands, binding_key(ExpireOffer))
        await asyncio.to_thread(node.ctl, "close_all_connections", "a test drops every connection")

        async def expired() -> bool:
            return offer.offer_id not in routing_of(app).site(site_id).offers

        await eventually(expired, within=20)


async def test_a_visitor_gone_check_due_while_the_broker_is_down_ends_the_chat(
    node: RabbitNode, site_id: str
) -> None:
    store = MemorySessionStore()
    app = session_service_app(store, amqp_url=node.url, visitor_grace_seconds=2.0)
    started = [
        ChatStarted(
            site_id=site_id,
            session_id=uuid.uuid4(),
            visitor_id=f"v{n}",
            operator_id="ann",
            channel=Channel.CHAT,
            waited_seconds=1.0,
        )
        for n in range(5)
    ]
    async with running(app):
        for chat in started:
            await publish(chat, url=node.url)
        for chat in started:
            await publish(
                VisitorDisconnected(site_id=site_id, visitor_id=chat.visitor_id), url=node.url
            )

        async def all_gone() -> bool:
            return len(await store.visitor_gone_sessions()) == len(started)

        await eventually(all_gone, within=10)
        await down_for(node, 4.0)

        async def all_ended() -> bool:
            stored = [await store.get(site_id, chat.session_id) for chat in started]
            return all(s is not None and s.session.status == "ended" for s in stored)

        await eventually(all_ended, within=30)

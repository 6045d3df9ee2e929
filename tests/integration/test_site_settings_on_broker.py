"""The site's maximum number of chats on the real broker: stored in the journal, applied again
after a restart, and announced after every start (with the default in force) together with
each operator's slots, so read models never miss them."""

from __future__ import annotations

import pytest
from livechat_shared.contracts import (
    Channel,
    OperatorPresenceChanged,
    OperatorSlotsChanged,
    Presence,
    SetOperatorPresence,
    SetSiteMaxChats,
    SiteMaxChatsChanged,
)
from queue_manager.adapters.memory_journal import MemoryJournal

from tests.support.apps import queue_manager_app, running
from tests.support.broker import Tap, publish

pytestmark = pytest.mark.integration


def anns_chat_slots(slots: OperatorSlotsChanged) -> bool:
    return slots.operator_id == "ann" and slots.channel is Channel.CHAT


async def test_a_start_announces_the_default_in_force_and_every_operators_slots(
    site_id: str,
) -> None:
    journal = MemoryJournal()
    async with Tap(site_id) as tap:
        async with running(queue_manager_app(journal=journal, max_chats=1)):
            await publish(
                SetOperatorPresence(site_id=site_id, operator_id="ann", presence=Presence.ONLINE)
            )
            await tap.wait_for(OperatorPresenceChanged)
        tap.messages.clear()
        # restarted with another default: the read models hear of it, and of ann's new maximum
        async with running(queue_manager_app(journal=journal, max_chats=2)):
            [announced] = await tap.wait_for(SiteMaxChatsChanged)
            [slots] = await tap.wait_for(OperatorSlotsChanged, anns_chat_slots)
        assert (announced.max_chats, announced.from_default) == (2, True)
        assert (slots.max_slots, slots.used_slots, slots.free_slots) == (2, 0, 2)


async def test_the_sites_own_maximum_survives_a_restart(site_id: str) -> None:
    journal = MemoryJournal()
    async with Tap(site_id) as tap:
        async with running(queue_manager_app(journal=journal, max_chats=1)):
            await publish(
                SetOperatorPresence(site_id=site_id, operator_id="ann", presence=Presence.ONLINE)
            )
            await publish(SetSiteMaxChats(site_id=site_id, max_chats=4))
            [changed] = await tap.wait_for(SiteMaxChatsChanged)
            assert (changed.max_chats, changed.from_default) == (4, False)
            await tap.wait_for(
                OperatorSlotsChanged, lambda s: anns_chat_slots(s) and s.max_slots == 4
            )
        tap.messages.clear()
        async with running(queue_manager_app(journal=journal, max_chats=1)):
            [announced] = await tap.wait_for(SiteMaxChatsChanged)
            [slots] = await tap.wait_for(OperatorSlotsChanged, anns_chat_slots)
        assert (announced.max_chats, announced.from_default) == (4, False)
        assert slots.max_slots == 4

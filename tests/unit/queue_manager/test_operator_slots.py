"""OperatorSlotsChanged: the queue manager publishes an operator's slots whenever a decision
moves them, so the summary shows capacity without a copy of the rule."""

from __future__ import annotations

from livechat_shared.contracts import Channel, Event, OperatorSlotsChanged, Presence
from queue_manager.domain import RoutingPolicy

from tests.unit.queue_manager.desk import Desk
from tests.unit.summary_projector.workload import Workload


def chat_slots(events: list[Event]) -> list[tuple[str, int, int, int]]:
    return [
        (e.operator_id, e.max_slots, e.used_slots, e.free_slots)
        for e in events
        if isinstance(e, OperatorSlotsChanged) and e.channel is Channel.CHAT
    ]


def test_an_operator_first_seen_has_its_slots_published_in_both_channels() -> None:
    desk = Desk(RoutingPolicy(max_chats=2, max_calls=1))
    events = desk.online("ann")
    published = {
        (e.channel, e.max_slots, e.free_slots)
        for e in events
        if isinstance(e, OperatorSlotsChanged)
    }
    assert published == {(Channel.CHAT, 2, 2), (Channel.CALL, 1, 1)}
    assert chat_slots(desk.presence("ann", Presence.AWAY)) == []  # presence moves no slot


def test_an_offer_its_answer_and_the_chat_end_each_publish_the_new_slots() -> None:
    desk = Desk(RoutingPolicy(max_chats=2))
    desk.online("ann")
    assert chat_slots(desk.arrive("v1")) == [("ann", 2, 1, 1)]
    offer = desk.offer_to("ann")
    assert chat_slots(desk.accept(offer)) == []  # the offer's slot becomes the chat's
    assert chat_slots(desk.arrive("v2")) == [("ann", 2, 2, 0)]
    assert chat_slots(desk.decline(desk.offer_to("ann"))) == [("ann", 2, 1, 1)]
    started = desk.start_chat("v3")
    assert chat_slots(desk.end(started)) == [("ann", 2, 1, 1)]


def test_an_expired_offer_frees_its_slot_in_the_same_decision() -> None:
    desk = Desk(RoutingPolicy(max_chats=1))
    desk.online("ann")
    desk.arrive("v1")
    expired = desk.expire(desk.offer_to("ann"))
    assert ("ann", 1, 0, 1) in chat_slots(expired)


def test_a_new_maximum_is_published_with_what_it_leaves_free() -> None:
    desk = Desk(RoutingPolicy(max_chats=3))
    desk.online("ann")
    desk.start_chat("v1")
    assert chat_slots(desk.capacity("ann", 1)) == [("ann", 1, 1, 0)]
    assert chat_slots(desk.capacity("ann", None)) == [("ann", 3, 1, 2)]
    # lowered below what it leads: nothing free, never a negative count
    desk.start_chat("v2")
    assert chat_slots(desk.capacity("ann", 1)) == [("ann", 1, 2, 0)]


def test_a_call_that_blocks_chats_publishes_no_free_chat_slots() -> None:
    desk = Desk(RoutingPolicy(max_chats=3, calls_block_chats=True))
    desk.online("ann")
    assert chat_slots(desk.arrive("v1", Channel.CALL)) == [("ann", 3, 0, 0)]


def test_the_last_published_slots_always_equal_the_routing_state() -> None:
    """Random workloads: only the operators a decision names are looked at, and that misses
    no change (in either channel) that another decision's slots would have to correct."""
    for seed in range(15):
        workload = Workload(seed)
        published: dict[tuple[str, Channel], tuple[int, int, int]] = {}
        for _ in range(200):
            for event in workload.step():
                if isinstance(event, OperatorSlotsChanged):
                    key = (event.operator_id, event.channel)
                    published[key] = (event.max_slots, event.used_slots, event.free_slots)
            policy = workload.policy
            expected = {
                (operator.operator_id, channel): (
                    policy.capacity(channel, operator.max_chats, workload.site.max_chats),
                    operator.load(channel),
                    max(
                        0,
                        policy.free_slots(
                            channel,
                            operator.max_chats,
                            operator.load(Channel.CHAT),
                            operator.load(Channel.CALL),
                            workload.site.max_chats,
                        ),
                    ),
                )
                for operator in workload.site.operators.values()
                for channel in Channel
            }
            assert published == expected, seed

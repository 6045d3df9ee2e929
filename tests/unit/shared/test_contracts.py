"""Every contract survives JSON both ways; anything off-contract is refused with a reason."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from livechat_shared.contracts import (
    MESSAGE_TYPES,
    AcceptOffer,
    AnnounceSiteSettings,
    AnswerInvitation,
    Channel,
    ChatEnded,
    ChatHeld,
    ChatMessagePosted,
    ChatOffered,
    ChatResumed,
    ChatStarted,
    CheckOperatorConnection,
    CloseMessage,
    CommandRejected,
    DeclineOffer,
    EndChat,
    EndChatIfVisitorGone,
    ExpireInvitation,
    ExpireOffer,
    HoldChat,
    InvitationDeclined,
    InvitationExpired,
    InviteVisitor,
    Message,
    MessageLeft,
    NextChatRequested,
    OfferDeclined,
    OfferPutBack,
    OfferTimedOut,
    OfferWithdrawn,
    OfflineMessageClosed,
    OfflineMessageReplied,
    OfflineMessageTaken,
    OperatorCapacityChanged,
    OperatorConnected,
    OperatorDisconnected,
    OperatorFreed,
    OperatorPresenceChanged,
    OperatorSlotsChanged,
    PickVisitor,
    PostChatMessage,
    Presence,
    PutBackInQueue,
    QueuePositionsChanged,
    ReplyToMessage,
    RequestNextChat,
    ResumeChat,
    SetOperatorCapacity,
    SetOperatorPresence,
    SetSiteMaxChats,
    SiteMaxChatsChanged,
    TakeNextMessage,
    UnknownMessage,
    VisitorAbandoned,
    VisitorBadge,
    VisitorBrowsing,
    VisitorDisconnected,
    VisitorInvited,
    VisitorLeftQueue,
    VisitorQueued,
    VisitorReconnected,
    VisitorRequeued,
    VisitorWaiting,
    parse_message,
)
from livechat_shared.contracts.topology import binding_key, routing_key

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
OFFER = uuid.uuid4()
S = {"site_id": "acme", "occurred_at": NOW}

EXAMPLES: list[Message] = [
    VisitorWaiting(
        **S,
        visitor_id="v1",
        channel=Channel.CALL,
        badge=VisitorBadge(
            name="Ada",
            email="ada@example.com",
            current_page="https://shop.example.com/cart",
            referrer="https://search.example.org/?q=shoes",
            user_agent="Mozilla/5.0",
            location="Lisbon",
        ),
    ),
    VisitorLeftQueue(**S, visitor_id="v1"),
    VisitorQueued(**S, visitor_id="v1", channel=Channel.CHAT, waiting_since=NOW),
    VisitorRequeued(
        **S, visitor_id="v1", channel=Channel.CHAT, waiting_since=NOW, reason="declined"
    ),
    QueuePositionsChanged(
        **S, channel=Channel.CHAT, waiting=["v1", "v2"], total_waiting=2, seconds_per_position=30
    ),
    VisitorAbandoned(**S, visitor_id="v1", channel=Channel.CHAT, waited_seconds=12.5),
    ChatOffered(
        **S,
        offer_id=OFFER,
        visitor_id="v1",
        operator_id="op1",
        channel=Channel.CHAT,
        waiting_since=NOW,
        expires_at=NOW,
    ),
    ChatStarted(
        **S,
        session_id=OFFER,
        visitor_id="v1",
        operator_id="op1",
        channel=Channel.CHAT,
        waited_seconds=3,
    ),
    OfferDeclined(**S, offer_id=OFFER, visitor_id="v1", operator_id="op1"),
    OfferPutBack(**S, offer_id=OFFER, visitor_id="v1", operator_id="op1"),
    OfferTimedOut(**S, offer_id=OFFER, visitor_id="v1", operator_id="op1"),
    OfferWithdrawn(**S, offer_id=OFFER, visitor_id="v1", operator_id="op1", reason="visitor_left"),
    CommandRejected(
        **S, command_id=uuid.uuid4(), command_type="AcceptOffer", operator_id="op1", reason="gone"
    ),
    OperatorConnected(**S, operator_id="op1", replica_id="a1b2c3d4e5f6"),
    OperatorDisconnected(**S, operator_id="op1", replica_id="a1b2c3d4e5f6"),
    OperatorPresenceChanged(
        **S, operator_id="op1", presence=Presence.AWAY, reason="offer_timed_out"
    ),
    OperatorCapacityChanged(**S, operator_id="op1", max_chats=5),
    SiteMaxChatsChanged(**S, max_chats=4, from_default=False),
    OperatorSlotsChanged(
        **S, operator_id="op1", channel=Channel.CHAT, max_slots=3, used_slots=1, free_slots=2
    ),
    NextChatRequested(**S, operator_id="op1", channel=Channel.CALL),
    OperatorFreed(**S, operator_id="op1", channel=Channel.CHAT, free_slots=2),
    ChatHeld(**S, session_id=OFFER, visitor_id="v1", operator_id="op1"),
    ChatResumed(**S, session_id=OFFER, visitor_id="v1", operator_id="op1"),
    ChatMessagePosted(
        **S,
        session_id=OFFER,
        seq=1,
        author="visitor",
        client_message_id="c-1",
        text="Hello",
        visitor_id="v1",
        operator_id="op1",
    ),
    VisitorDisconnected(**S, visitor_id="v1"),
    VisitorReconnected(**S, visitor_id="v1"),
    PostChatMessage(
        **S,
        session_id=OFFER,
        author="operator",
        author_id="op1",
        client_message_id="c-2",
        text="Hi",
    ),
    HoldChat(**S, session_id=OFFER, operator_id="op1"),
    ResumeChat(**S, session_id=OFFER, operator_id="op1"),
    EndChat(**S, session_id=OFFER, by="visitor", by_id="v1"),
    EndChatIfVisitorGone(**S, visitor_id="v1", disconnected_at=NOW),
    ChatEnded(
        **S,
        session_id=OFFER,
        visitor_id="v1",
        operator_id="op1",
        channel=Channel.CHAT,
        ended_by="visitor",
    ),
    MessageLeft(
        **S,
        offline_message_id=uuid.uuid4(),
        visitor_id="v1",
        name="Ada",
        email="ada@example.com",
        text="Call me",
    ),
    SetOperatorPresence(**S, operator_id="op1", presence=Presence.ONLINE),
    SetOperatorCapacity(**S, operator_id="op1", max_chats=None),
    SetSiteMaxChats(**S, max_chats=4),
    AnnounceSiteSettings(**S),
    AcceptOffer(**S, offer_id=OFFER, operator_id="op1"),
    DeclineOffer(**S, offer_id=OFFER, operator_id="op1"),
    PutBackInQueue(**S, offer_id=OFFER, operator_id="op1"),
    RequestNextChat(**S, operator_id="op1", channel=Channel.CHAT),
    ExpireOffer(**S, offer_id=OFFER),
    CheckOperatorConnection(**S, operator_id="op1"),
    PickVisitor(**S, operator_id="op1", visitor_id="v1", channel=Channel.CALL),
    InviteVisitor(**S, operator_id="op1", visitor_id="v1"),
    AnswerInvitation(**S, invitation_id=OFFER, visitor_id="v1", accept=True),
    ExpireInvitation(**S, invitation_id=OFFER),
    VisitorInvited(
        **S,
        invitation_id=OFFER,
        visitor_id="v1",
        operator_id="op1",
        channel=Channel.CHAT,
        expires_at=NOW,
    ),
    InvitationDeclined(**S, invitation_id=OFFER, visitor_id="v1", operator_id="op1"),
    InvitationExpired(**S, invitation_id=OFFER, visitor_id="v1", operator_id="op1"),
    VisitorBrowsing(
        **S, visitor_id="v1", page="https://shop.example.com/", title="Shop", referrer=None
    ),
    OfflineMessageTaken(
        **S,
        offline_message_id=OFFER,
        operator_id="op1",
        visitor_id="v1",
        name="Ada",
        email="ada@example.com",
        text="Call me",
        left_at=NOW,
    ),
    OfflineMessageReplied(
        **S, offline_message_id=OFFER, operator_id="op1", email="ada@example.com", text="Sure"
    ),
    OfflineMessageClosed(**S, offline_message_id=OFFER, operator_id="op1"),
    TakeNextMessage(**S, operator_id="op1"),
    ReplyToMessage(**S, offline_message_id=OFFER, operator_id="op1", text="Sure"),
    CloseMessage(**S, offline_message_id=OFFER, operator_id="op1"),
]


def test_the_examples_cover_every_contract() -> None:
    assert {type(m).__name__ for m in EXAMPLES} == set(MESSAGE_TYPES)


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: type(m).__name__)
def test_every_contract_round_trips_through_json(message: Message) -> None:
    wire = message.model_dump_json()
    back = parse_message(wire)
    assert back == message
    assert type(back) is type(message)
    assert json.loads(wire)["type"] == type(message).__name__


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: type(m).__name__)
def test_unknown_fields_are_rejected(message: Message) -> None:
    raw = json.loads(message.model_dump_json())
    raw["surprise"] = 1
    with pytest.raises(UnknownMessage, match="surprise"):
        parse_message(json.dumps(raw))


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: type(m).__name__)
def test_the_envelope_is_complete(message: Message) -> None:
    raw = json.loads(message.model_dump_json())
    assert {"occurred_at", "correlation_id", "schema_version", "site_id", "type"} <= set(raw)
    assert ("event_id" in raw) if message.kind == "event" else ("event_id" not in raw)
    assert str(message.message_id) == raw["event_id" if message.kind == "event" else "command_id"]
    assert uuid.UUID(str(message.message_id))


def test_contracts_are_frozen() -> None:
    with pytest.raises(ValueError):
        EXAMPLES[0].site_id = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"not json", "json"),
        (b'{"type": "Unheard"}', "Unheard"),
        (b'{"type": "VisitorLeftQueue", "site_id": "acme"}', "visitor_id"),
        (
            b'{"type": "VisitorLeftQueue", "site_id": "acme", "visitor_id": "v1",'
            b' "occurred_at": "2026-11-25T09:30:00"}',
            "timezone",
        ),
        (b'{"type": "VisitorLeftQueue", "site_id": "a b", "visitor_id": "v1"}', "site_id"),
        (
            b'{"type": "SetOperatorCapacity", "site_id": "a", "operator_id": "o", "max_chats": 0}',
            "max_chats",
        ),
        (  # valid ISO 8601, but one hour before year 1 in UTC: OverflowError in conversion
            b'{"type": "VisitorLeftQueue", "site_id": "acme", "visitor_id": "v1",'
            b' "occurred_at": "0001-01-01T00:30:00+01:00"}',
            "overflow",
        ),
        (b'{"type": "VisitorLeftQueue", "site_id": "\xff\xfe"}', "unicode"),  # not UTF-8
    ],
)
def test_bad_messages_are_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(UnknownMessage) as error:
        parse_message(body)
    assert reason.lower() in str(error.value).lower()


def test_routing_keys_carry_kind_type_and_site_for_later_partitioning() -> None:
    message = EXAMPLES[0]
    assert routing_key(message) == "event.VisitorWaiting.acme"
    assert binding_key(AcceptOffer) == "command.AcceptOffer.*"

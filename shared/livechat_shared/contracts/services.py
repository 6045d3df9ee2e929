"""Each service's queues and what it consumes: the wiring every replica declares at start-up."""

from __future__ import annotations

from livechat_shared.contracts import commands as c
from livechat_shared.contracts import events as e
from livechat_shared.contracts.topology import ServiceQueues

QUEUE_MANAGER = ServiceQueues(
    service="queue-manager",
    consumes=(
        e.VisitorWaiting,
        e.VisitorLeftQueue,
        e.ChatEnded,
        e.OperatorConnected,
        e.OperatorDisconnected,
        c.SetOperatorPresence,
        c.SetOperatorCapacity,
        c.SetSiteMaxChats,
        c.AnnounceSiteSettings,
        c.AcceptOffer,
        c.DeclineOffer,
        c.PutBackInQueue,
        c.RequestNextChat,
        c.PickVisitor,
        c.InviteVisitor,
        c.AnswerInvitation,
        c.ExpireInvitation,
        c.ExpireOffer,
        c.CheckOperatorConnection,
    ),
    publishes=(
        e.VisitorQueued,
        e.VisitorRequeued,
        e.QueuePositionsChanged,
        e.VisitorAbandoned,
        e.ChatOffered,
        e.ChatStarted,
        e.VisitorInvited,
        e.InvitationDeclined,
        e.InvitationExpired,
        e.OfferDeclined,
        e.OfferPutBack,
        e.OfferTimedOut,
        e.OfferWithdrawn,
        e.OperatorPresenceChanged,
        e.OperatorCapacityChanged,
        e.SiteMaxChatsChanged,
        e.OperatorSlotsChanged,
        e.NextChatRequested,
        e.OperatorFreed,
        e.CommandRejected,
        c.ExpireInvitation,
        c.ExpireOffer,
        c.CheckOperatorConnection,
        c.AnnounceSiteSettings,
    ),
    # Routing decisions are serialized: one consumer at a time, further replicas stand by.
    single_active_consumer=True,
)

SESSION_SERVICE = ServiceQueues(
    service="session-service",
    consumes=(
        e.ChatStarted,
        e.VisitorDisconnected,
        e.VisitorReconnected,
        c.PostChatMessage,
        c.HoldChat,
        c.ResumeChat,
        c.EndChat,
        c.EndChatIfVisitorGone,
    ),
    publishes=(
        e.CommandRejected,
        e.ChatHeld,
        e.ChatResumed,
        e.ChatMessagePosted,
        e.ChatEnded,
        c.EndChatIfVisitorGone,
    ),
    # One session's messages get their sequence numbers one at a time.
    single_active_consumer=True,
)

VISITOR_GATEWAY = ServiceQueues(
    service="visitor-gateway",
    consumes=(
        e.VisitorQueued,
        e.VisitorRequeued,
        e.QueuePositionsChanged,
        e.VisitorAbandoned,
        e.ChatOffered,
        e.ChatStarted,
        e.OfferDeclined,
        e.OfferPutBack,
        e.OfferWithdrawn,
        e.OfferTimedOut,
        e.CommandRejected,
        e.OperatorPresenceChanged,
        e.ChatMessagePosted,
        e.ChatHeld,
        e.ChatResumed,
        e.ChatEnded,
        e.OfflineMessageTaken,
        e.VisitorInvited,
        e.InvitationDeclined,
        e.InvitationExpired,
        e.VisitorBrowsing,
    ),
    publishes=(
        e.VisitorWaiting,
        e.VisitorLeftQueue,
        e.VisitorDisconnected,
        e.VisitorReconnected,
        e.VisitorBrowsing,
        e.MessageLeft,
        e.OperatorConnected,
        e.OperatorDisconnected,
        c.SetOperatorPresence,
        c.SetOperatorCapacity,
        c.SetSiteMaxChats,
        c.AnnounceSiteSettings,
        c.AcceptOffer,
        c.DeclineOffer,
        c.PutBackInQueue,
        c.RequestNextChat,
        c.PickVisitor,
        c.InviteVisitor,
        c.AnswerInvitation,
        c.PostChatMessage,
        c.HoldChat,
        c.ResumeChat,
        c.EndChat,
        c.TakeNextMessage,
        c.ReplyToMessage,
        c.CloseMessage,
    ),
    per_instance=True,
)

OFFLINE_MESSAGES = ServiceQueues(
    service="offline-messages",
    consumes=(e.MessageLeft, c.TakeNextMessage, c.ReplyToMessage, c.CloseMessage),
    publishes=(
        e.CommandRejected,
        e.OfflineMessageTaken,
        e.OfflineMessageReplied,
        e.OfflineMessageClosed,
    ),
    # Next message hands out the oldest waiting message: one decision at a time.
    single_active_consumer=True,
)

SUMMARY_PROJECTOR = ServiceQueues(
    service="summary-projector",
    # Only what the summary rules apply (summary_projector.domain.evolve.EVENT_HANDLERS; a unit
    # test keeps the two equal): no heartbeats, chat messages or invitations sent.
    consumes=(
        e.VisitorQueued,
        e.VisitorRequeued,
        e.VisitorAbandoned,
        e.ChatOffered,
        e.VisitorInvited,
        e.OfferDeclined,
        e.OfferPutBack,
        e.OfferTimedOut,
        e.OfferWithdrawn,
        e.InvitationDeclined,
        e.InvitationExpired,
        e.MessageLeft,
        e.OfflineMessageTaken,
        e.OfflineMessageClosed,
        e.ChatStarted,
        e.ChatHeld,
        e.ChatResumed,
        e.ChatEnded,
        e.OperatorPresenceChanged,
        e.OperatorSlotsChanged,
        e.OperatorCapacityChanged,
        e.SiteMaxChatsChanged,
    ),
    publishes=(),  # a read model: it publishes nothing
    # The projection is order-sensitive (an offer before its chat start): one consumer at a time.
    single_active_consumer=True,
)

ALL_SERVICES = (
    QUEUE_MANAGER,
    SESSION_SERVICE,
    VISITOR_GATEWAY,
    OFFLINE_MESSAGES,
    SUMMARY_PROJECTOR,
)

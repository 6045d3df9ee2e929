"""Invitations: an operator invites a browsing visitor, who accepts, declines or lets it expire."""

from __future__ import annotations

from livechat_shared.contracts import (
    AnswerInvitation,
    ChatStarted,
    CommandRejected,
    ExpireInvitation,
    InvitationDeclined,
    InvitationExpired,
    InviteVisitor,
    Presence,
    VisitorInvited,
)

from queue_manager.domain.decision import Decision


def invite(decision: Decision, message: InviteVisitor) -> None:
    operator = decision.site.operators.get(message.operator_id)
    if operator is None or operator.presence is Presence.OFFLINE:
        decision.reject("the operator is offline", message.operator_id)
        return
    if message.visitor_id in decision.site.in_chat:
        decision.reject("the visitor is in a chat already", message.operator_id)
        return
    if message.visitor_id in decision.site.visitors:
        decision.reject("the visitor waits in the queue: pick it instead", message.operator_id)
        return
    if message.visitor_id in decision.site.invited:
        decision.reject("the visitor has a pending invitation", message.operator_id)
        return
    if decision.free_slots(operator, message.channel) <= 0:
        decision.reject(
            f"the operator has no free {message.channel.value} capacity", message.operator_id
        )
        return
    decision.emit(
        VisitorInvited,
        invitation_id=decision.new_id(),
        visitor_id=message.visitor_id,
        operator_id=message.operator_id,
        channel=message.channel,
        expires_at=decision.now + decision.policy.invitation_timeout,
    )


def answer_invitation(decision: Decision, message: AnswerInvitation) -> None:
    invitation = decision.site.invitations.get(message.invitation_id)
    if invitation is None or invitation.visitor_id != message.visitor_id:
        decision.emit(
            CommandRejected,
            command_id=message.command_id,
            command_type=message.type_name(),
            visitor_id=message.visitor_id,
            reason="the invitation is no longer open",
        )
        return
    if not message.accept:
        decision.end_invitation(invitation.invitation_id, InvitationDeclined)
        return
    decision.emit(
        ChatStarted,
        session_id=invitation.invitation_id,
        visitor_id=invitation.visitor_id,
        operator_id=invitation.operator_id,
        channel=invitation.channel,
        waited_seconds=0.0,
        origin="invitation",
    )


def expire_invitation(decision: Decision, message: ExpireInvitation) -> None:
    if message.invitation_id in decision.site.invitations:
        decision.end_invitation(message.invitation_id, InvitationExpired)

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


def invite(d: Decision, m: InviteVisitor) -> None:
    operator = d.site.operators.get(m.operator_id)
    if operator is None or operator.presence is Presence.OFFLINE:
        d.reject("the operator is offline", m.operator_id)
        return
    if m.visitor_id in d.site.in_chat:
        d.reject("the visitor is in a chat already", m.operator_id)
        return
    if m.visitor_id in d.site.visitors:
        d.reject("the visitor waits in the queue: pick it instead", m.operator_id)
        return
    if m.visitor_id in d.site.invited:
        d.reject("the visitor has a pending invitation", m.operator_id)
        return
    if d.free_slots(operator, m.channel) <= 0:
        d.reject(f"the operator has no free {m.channel.value} capacity", m.operator_id)
        return
    d.emit(
        VisitorInvited,
        invitation_id=d.new_id(),
        visitor_id=m.visitor_id,
        operator_id=m.operator_id,
        channel=m.channel,
        expires_at=d.now + d.policy.invitation_timeout,
    )


def answer_invitation(d: Decision, m: AnswerInvitation) -> None:
    invitation = d.site.invitations.get(m.invitation_id)
    if invitation is None or invitation.visitor_id != m.visitor_id:
        d.emit(
            CommandRejected,
            command_id=m.command_id,
            command_type=m.type_name(),
            visitor_id=m.visitor_id,
            reason="the invitation is no longer open",
        )
        return
    if not m.accept:
        d.end_invitation(invitation.invitation_id, InvitationDeclined)
        return
    d.emit(
        ChatStarted,
        session_id=invitation.invitation_id,
        visitor_id=invitation.visitor_id,
        operator_id=invitation.operator_id,
        channel=invitation.channel,
        waited_seconds=0.0,
        origin="invitation",
    )


def expire_invitation(d: Decision, m: ExpireInvitation) -> None:
    if m.invitation_id in d.site.invitations:
        d.end_invitation(m.invitation_id, InvitationExpired)

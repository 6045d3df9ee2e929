"""The read side: sessions and transcripts from the store, as the views in contracts.views."""

from __future__ import annotations

import uuid

from livechat_shared.contracts import ChatMessagePosted
from livechat_shared.contracts.views import (
    MessagePage,
    SessionList,
    SessionView,
    Transcript,
    TranscriptMessage,
)

from session_service.domain import Session
from session_service.ports import SessionStore


class SessionQueries:
    def __init__(self, store: SessionStore) -> None:
        self.store = store

    async def session(self, site_id: str, session_id: uuid.UUID) -> SessionView | None:
        stored = await self.store.get(site_id, session_id)
        return None if stored is None else session_view(stored.session)

    async def transcript(
        self, site_id: str, session_id: uuid.UUID, after_seq: int, limit: int
    ) -> Transcript | None:
        """The session's messages after `after_seq`, oldest first; None if no such session."""
        if await self.store.get(site_id, session_id) is None:
            return None
        found = await self.store.messages(site_id, session_id, after_seq, limit)
        return Transcript(session_id=session_id, messages=[transcript_message(m) for m in found])

    async def visitor_session(self, site_id: str, visitor_id: str) -> SessionView | None:
        """The visitor's current session, else its latest."""
        stored = await self.store.visitor_session(site_id, visitor_id)
        return None if stored is None else session_view(stored.session)

    async def operator_sessions(self, site_id: str, operator_id: str) -> SessionList:
        """My Communication: the sessions the operator leads now (active and held), oldest first."""
        sessions = await self.store.operator_sessions(site_id, operator_id)
        return SessionList(sessions=[session_view(s) for s in sessions])

    async def operator_messages(
        self, site_id: str, operator_id: str, page: int, page_size: int
    ) -> MessagePage:
        """Chat overview: the messages of the sessions the operator leads now, newest first."""
        sessions = await self.store.operator_sessions(site_id, operator_id)
        total, found = await self.store.latest_messages(
            site_id, [s.session_id for s in sessions], (page - 1) * page_size, page_size
        )
        return MessagePage(
            page=page,
            page_size=page_size,
            total=total,
            messages=[transcript_message(m) for m in found],
        )


def session_view(session: Session) -> SessionView:
    return SessionView(
        session_id=session.session_id,
        site_id=session.site_id,
        visitor_id=session.visitor_id,
        operator_id=session.operator_id,
        channel=session.channel,
        status=session.status,
        started_at=session.started_at,
        ended_at=session.ended_at,
        ended_by=session.ended_by,
        last_seq=session.last_seq,
    )


def transcript_message(message: ChatMessagePosted) -> TranscriptMessage:
    return TranscriptMessage(
        session_id=message.session_id,
        seq=message.seq,
        author=message.author,
        # Only the session's own operator or visitor may post, so the author is one of them.
        author_id=message.operator_id if message.author == "operator" else message.visitor_id,
        client_message_id=message.client_message_id,
        text=message.text,
        posted_at=message.occurred_at,
    )

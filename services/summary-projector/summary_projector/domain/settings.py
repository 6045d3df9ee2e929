"""The site's maximum number of chats and operators' own, as the queue manager announced them.

Shown, never decided: the maximum an operator gets is the one the queue manager last reported
in its slots (an operator it never reported has no record there, so the site's applies).
"""

from __future__ import annotations

from dataclasses import dataclass

from livechat_shared.contracts import SiteMaxChatsChanged

from summary_projector.domain.state import SiteMaxChats, SummaryState


@dataclass(frozen=True, slots=True)
class SiteSettings:
    site_id: str
    max_chats: int
    from_default: bool
    operators: tuple[tuple[str, int | None], ...]
    """(operator id, its own maximum or None), by id."""


@dataclass(frozen=True, slots=True)
class ChatLimit:
    site_max_chats: int
    operator_max_chats: int | None
    effective_max_chats: int


def site_maximum(state: SummaryState, event: SiteMaxChatsChanged) -> bool:
    announced = SiteMaxChats(event.max_chats, event.from_default)
    if state.max_chats == announced:
        return False
    state.max_chats = announced
    return True


def site_settings(state: SummaryState) -> SiteSettings | None:
    """None until the queue manager announced the site's maximum."""
    if state.max_chats is None:
        return None
    return SiteSettings(
        site_id=state.site_id,
        max_chats=state.max_chats.max_chats,
        from_default=state.max_chats.from_default,
        operators=tuple(
            (operator_id, status.own_max_chats)
            for operator_id, status in sorted(state.operators.items())
        ),
    )


def chat_limit(state: SummaryState, operator_id: str) -> ChatLimit | None:
    """None until the queue manager announced the site's maximum."""
    if state.max_chats is None:
        return None
    site = state.max_chats.max_chats
    status = state.operators.get(operator_id)
    if status is None:
        return ChatLimit(site, None, site)
    reported = status.max_chats if status.max_chats is not None else site
    return ChatLimit(site, status.own_max_chats, reported)

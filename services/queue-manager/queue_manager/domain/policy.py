"""The site's routing policy: how many chats and calls an operator leads, how long an offer stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from livechat_shared.contracts import Channel


@dataclass(frozen=True)
class RoutingPolicy:
    max_chats: int = 3
    """Default maximum number of chats per operator, for a site that never set its own; an
    operator may have its own too."""
    max_calls: int = 1
    offer_timeout: timedelta = timedelta(seconds=30)
    invitation_timeout: timedelta = timedelta(seconds=60)
    disconnect_grace: timedelta = timedelta(seconds=30)
    """How long an online operator may have no console socket before it is made away."""
    connection_lease: timedelta = timedelta(seconds=60)
    """How long one gateway replica's word that a console is connected counts; replicas renew
    it more often, so only the claims of a replica that crashed (or stopped) run out."""
    calls_block_chats: bool = False
    """How chats and calls combine for one operator. False: independently (chats up to their
    maximum and calls up to theirs, at the same time). True: an operator on a call, or with a
    call offered, gets no new chats (the chats it leads go on)."""

    def __post_init__(self) -> None:
        if not 1 <= self.max_chats <= 50:
            raise ValueError("max_chats must be between 1 and 50")
        if not 1 <= self.max_calls <= 10:
            raise ValueError("max_calls must be between 1 and 10")
        if self.offer_timeout <= timedelta(0) or self.invitation_timeout <= timedelta(0):
            raise ValueError("offer and invitation timeouts must be positive")
        if self.disconnect_grace <= timedelta(0) or self.connection_lease <= timedelta(0):
            raise ValueError("the disconnect grace and the connection lease must be positive")

    def free_slots(
        self,
        channel: Channel,
        operator_max_chats: int | None,
        chat_load: int,
        call_load: int,
        site_max_chats: int | None = None,
    ) -> int:
        """Free slots in a channel, given what the operator leads and is offered in both."""
        if channel is Channel.CHAT and self.calls_block_chats and call_load > 0:
            return 0
        load = call_load if channel is Channel.CALL else chat_load
        return self.capacity(channel, operator_max_chats, site_max_chats) - load

    def capacity(
        self, channel: Channel, operator_max_chats: int | None, site_max_chats: int | None = None
    ) -> int:
        """The operator's own maximum, else its site's, else this default."""
        if channel is Channel.CALL:
            return self.max_calls
        if operator_max_chats is not None:
            return operator_max_chats
        return self.site_max_chats(site_max_chats)

    def site_max_chats(self, own: int | None) -> int:
        """A site's maximum number of chats: its own if it set one, else the default."""
        return own if own is not None else self.max_chats

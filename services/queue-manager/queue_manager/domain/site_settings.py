"""The site's maximum number of chats per operator, set by its administrator, and announcing it.

A site that never set its own uses the policy's default (the environment's). Raising the
maximum offers waiting visitors at once to the operators who gained room; lowering it ends no
chat: an operator over the new maximum just gets no new offer until it is below it.
"""

from __future__ import annotations

from livechat_shared.contracts import (
    AnnounceSiteSettings,
    Channel,
    OperatorCapacityChanged,
    SetSiteMaxChats,
    SiteMaxChatsChanged,
)

from queue_manager.domain.decision import Decision


def set_site_max_chats(decision: Decision, message: SetSiteMaxChats) -> None:
    site = decision.site
    if site.max_chats == message.max_chats:
        return
    for operator_id in sorted(site.operators):  # every operator's slots may move
        decision.note_operator(operator_id)
    decision.emit(SiteMaxChatsChanged, max_chats=message.max_chats, from_default=False)
    _offer_waiting(decision)


def announce(decision: Decision, message: AnnounceSiteSettings) -> None:
    """Publish the settings in force, and the slots of every operator the site has a record of
    (offline ones too: their chat limit shows before they come online), as they stand: for a
    read model that has not seen them (a start after an upgrade, a site never announced)."""
    site = decision.site
    decision.emit(
        SiteMaxChatsChanged,
        max_chats=decision.policy.site_max_chats(site.max_chats),
        from_default=site.max_chats is None,
    )
    for operator_id, operator in sorted(site.operators.items()):
        if operator.max_chats is not None:
            decision.emit(
                OperatorCapacityChanged, operator_id=operator_id, max_chats=operator.max_chats
            )
        for channel in Channel:
            decision.publish_slots(operator_id, channel, decision.slots(operator, channel))


def _offer_waiting(decision: Decision) -> None:
    """Restore the invariant after a maximum changed for many operators at once: each waiting
    visitor, longest waiting first, goes to the least-loaded operator that now has room."""
    for channel in Channel:
        for visitor in decision.site.waiting(channel):
            if not any(
                decision.takes_offers(operator, channel)
                for operator in decision.site.operators.values()
            ):
                break
            decision.route(visitor)

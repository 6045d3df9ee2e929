"""Random workloads through the real routing rules: the projection always equals a recount."""

from __future__ import annotations

import pytest
from summary_projector.domain import SummaryState, apply, summarize, summarize_operator

from tests.unit.summary_projector.recount import recount, recount_operator
from tests.unit.summary_projector.workload import OPERATORS, SITE, Workload

SEEDS = range(40)
STEPS = 250


@pytest.mark.parametrize("seed", SEEDS)
def test_the_summary_equals_a_recount_of_the_owning_state_after_every_step(seed: int) -> None:
    workload = Workload(seed)
    state = SummaryState(SITE)
    for _ in range(STEPS):
        for event in workload.step():
            apply(state, event)
        assert summarize(state) == recount(workload)
        for operator_id in OPERATORS:
            assert summarize_operator(state, operator_id) == recount_operator(workload, operator_id)


def test_the_workloads_reach_every_situation_the_summary_counts() -> None:
    """Guards the generator itself: a recount that is always empty would prove nothing."""
    seen: dict[str, int] = {}
    for seed in SEEDS[:20]:
        workload = Workload(seed)
        state = SummaryState(SITE)
        for _ in range(STEPS):
            for event in workload.step():
                apply(state, event)
            summary = summarize(state)
            facts = {
                "active": summary.in_progress.active,
                "on_hold": summary.in_progress.on_hold,
                "chats_waiting": summary.queues.chats.waiting,
                "calls_waiting": summary.queues.calls.waiting,
                "messages_waiting": summary.queues.messages.waiting,
                "online": summary.operators.online,
                "away": summary.operators.away,
                "free": summary.operators.with_free_capacity,
                "offers": sum(1 for o in state.offers.values() if not o.invitation),
                "invitations": sum(1 for o in state.offers.values() if o.invitation),
                "full_operator": summary.operators.online - summary.operators.with_free_capacity,
            }
            for name, value in facts.items():
                seen[name] = max(seen.get(name, 0), value)
    assert all(value >= 2 for value in seen.values()), seen
    types = {type(e).__name__ for seed in SEEDS[:5] for e in Workload(seed).run(STEPS)}
    assert {
        "ChatStarted",
        "ChatHeld",
        "ChatResumed",
        "ChatEnded",
        "OfferDeclined",
        "OfferPutBack",
        "OfferTimedOut",
        "OfferWithdrawn",
        "VisitorRequeued",
        "VisitorAbandoned",
        "OperatorCapacityChanged",
        "OperatorSlotsChanged",
        "MessageLeft",
        "VisitorInvited",
        "InvitationDeclined",
        "InvitationExpired",
        "OfflineMessageTaken",
        "OfflineMessageClosed",
    } <= types

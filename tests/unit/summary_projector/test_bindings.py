"""The projector's queue receives exactly the events its rules apply, nothing it would only drop."""

from __future__ import annotations

from livechat_shared.contracts.services import SUMMARY_PROJECTOR
from summary_projector.domain.evolve import EVENT_HANDLERS


def test_the_projector_binds_exactly_the_events_its_rules_apply() -> None:
    assert set(SUMMARY_PROJECTOR.consumes) == set(EVENT_HANDLERS)
    assert len(SUMMARY_PROJECTOR.consumes) == len(EVENT_HANDLERS)  # each bound once

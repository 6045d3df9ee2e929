"""The rebuild use case: forget the read model, then fold the whole event archive into it again;
and, at start, the same rebuild when the read model is empty but the archive is not."""

from __future__ import annotations

import logging
from collections import Counter, deque
from dataclasses import dataclass

from summary_projector.domain import SummaryState, apply
from summary_projector.ports import (
    RECENT_EVENT_IDS,
    Save,
    SiteRecord,
    SummaryStore,
    WriteConflict,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rebuilt:
    events: int
    sites: int


async def rebuild(store: SummaryStore) -> Rebuilt:
    """Run it while no projector consumes: a change saved meanwhile would be overwritten."""
    await store.drop_summaries()
    return await _fold_archive(store)


async def _fold_archive(store: SummaryStore) -> Rebuilt:
    """Replay the archive into an empty read model; a site saved meanwhile is a WriteConflict."""
    states: dict[str, SummaryState] = {}
    versions: Counter[str] = Counter()
    recent: dict[str, deque[str]] = {}
    events = 0
    async for event in store.replay():
        events += 1
        site_id = event.site_id
        state = states.get(site_id)
        if state is None:
            state = states[site_id] = SummaryState(site_id)
            recent[site_id] = deque(maxlen=RECENT_EVENT_IDS)
        if apply(state, event):
            versions[site_id] += 1
            recent[site_id].append(str(event.event_id))
    saves = [
        Save(SiteRecord(states[site_id], version, tuple(recent[site_id])), expected_version=0)
        for site_id, version in versions.items()
    ]
    await store.commit(saves, [])
    return Rebuilt(events=events, sites=len(saves))


@dataclass(frozen=True)
class Start:
    """How the read model stood when the projector started."""

    kept: bool
    """It held summaries: they are current (events since wait in the queue)."""
    rebuilt: Rebuilt | None = None
    """It was empty and was rebuilt from the archive."""

    @property
    def from_nothing(self) -> bool:
        """Empty with no archive either: the summary shows only what happens from now on."""
        return not self.kept and self.rebuilt is None


async def start_read_model(store: SummaryStore) -> Start:
    """Before consuming: an empty read model beside a non-empty archive is rebuilt from it.

    An empty read model would otherwise show wrong numbers for good: an operator who went online
    before the restart shows offline until their presence changes again.
    """
    if await store.has_summaries():
        return Start(kept=True)
    if not await store.has_archive():
        return Start(kept=False)
    try:
        # Nothing to drop: a replica that starts at the same moment (a shared MongoDB) must not
        # lose what the other one saved; its first save makes ours conflict instead.
        return Start(kept=False, rebuilt=await _fold_archive(store))
    except WriteConflict:
        # Another replica (a shared MongoDB) projected meanwhile: its summaries are current.
        log.warning("another projector wrote summaries during the start-up rebuild; kept them")
        return Start(kept=True)

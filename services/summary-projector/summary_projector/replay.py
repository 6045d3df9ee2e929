"""The rebuild use case: forget the read model, then fold the whole event archive into it again."""

from __future__ import annotations

from dataclasses import dataclass

from summary_projector.domain import apply
from summary_projector.ports import SiteRecord, SummaryStore


@dataclass(frozen=True)
class Rebuilt:
    events: int
    sites: int


async def rebuild(store: SummaryStore) -> Rebuilt:
    """Run it while no projector consumes: a change saved meanwhile would be overwritten."""
    await store.drop_summaries()
    records: dict[str, SiteRecord] = {}
    events = 0
    async for event in store.replay():
        events += 1
        record = records.get(event.site_id) or SiteRecord.empty(event.site_id)
        state = apply(record.state, event)
        if state is not record.state:
            records[event.site_id] = record.after(str(event.event_id), state)
    for record in records.values():
        await store.save(record, expected_version=0)
    return Rebuilt(events=events, sites=len(records))

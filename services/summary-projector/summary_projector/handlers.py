"""The use case: project one consumed event into its site's summary, counting each event once.

The order of writes is what makes every event count once, however often it is delivered:
1. An event in the archive was applied already: it is archived only after its summary write.
2. Otherwise the site record's recent ids catch a redelivery after a crash between 3 and 4.
3. The changed record is saved conditionally on its version, with the event id in that write.
4. The event is archived (events that cannot change the summary are only archived).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from livechat_shared.contracts import Event, Message

from summary_projector.domain import affects_summary, apply
from summary_projector.ports import SummaryStore, WriteConflict

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Changed = Callable[[str], Awaitable[None]]
ATTEMPTS = 5
"""Writes tried per event when other writers keep changing the site; then the message is nacked."""


class Observer(Protocol):
    def applied_event(self, event: Event, lag_seconds: float) -> None: ...

    def duplicate_event(self, event: Event) -> None: ...

    def write_conflict(self) -> None: ...


async def _nobody(_: str) -> None:
    return None


class ProjectionService:
    def __init__(
        self,
        store: SummaryStore,
        clock: Clock,
        observer: Observer | None = None,
        changed: Changed = _nobody,
    ) -> None:
        self.store = store
        self.clock = clock
        self.observer = observer
        self.changed = changed

    async def handle(self, message: Message) -> None:
        log.debug("consumed", extra={"type": message.type_name(), "site_id": message.site_id})
        if isinstance(message, Event):
            await self.project(message)

    async def project(self, event: Event) -> bool:
        """Apply the event; False if it had been applied before (a redelivery or a replay)."""
        if affects_summary(event):
            applied = await self._apply(event, str(event.event_id))
        else:
            applied = await self.store.archive(event)
        if self.observer is not None:
            if applied:
                lag = (self.clock() - event.occurred_at).total_seconds()
                self.observer.applied_event(event, lag)
            else:
                self.observer.duplicate_event(event)
        if not applied:
            log.debug("duplicate event skipped", extra={"event_id": str(event.event_id)})
        return applied

    async def _apply(self, event: Event, event_id: str) -> bool:
        if await self.store.is_archived(event_id):
            return False
        for _ in range(ATTEMPTS):
            record = await self.store.load(event.site_id)
            if record.has_applied(event_id):
                await self.store.archive(event)  # the crash came between saving and archiving
                return False
            state = apply(record.state, event)
            if state is record.state:
                break  # nothing to count: a hold of an ended chat, a repeated presence
            try:
                await self.store.save(record.after(event_id, state), record.version)
            except WriteConflict:
                if self.observer is not None:
                    self.observer.write_conflict()
                continue  # another writer got there first: apply to what it stored
            await self.changed(event.site_id)
            break
        else:
            raise WriteConflict(f"{event.site_id}: gave up after {ATTEMPTS} conflicting writes")
        await self.store.archive(event)
        return True

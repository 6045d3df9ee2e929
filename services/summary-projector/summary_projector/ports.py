"""The projector's port: where the summary of each site and the archive of every event are kept.

The summary of a site is one record: its state, a version (events applied that changed it) and
the ids of the latest of those events. Saving a record is conditional on the version the change
was computed from, and the new event id travels in the same write, so a redelivered event is
recognised and two writers never lose each other's changes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from livechat_shared.contracts import Event

from summary_projector.domain import SummaryState

RECENT_EVENT_IDS = 256
"""How many applied event ids a record keeps. It only has to cover a redelivery after a crash
between saving the record and archiving the event: older repeats are caught by the archive."""


@dataclass(frozen=True)
class SiteRecord:
    state: SummaryState
    version: int = 0
    recent: tuple[str, ...] = ()
    """Ids of the latest events that changed the state, oldest first."""

    @classmethod
    def empty(cls, site_id: str) -> SiteRecord:
        return cls(SummaryState(site_id))

    @property
    def site_id(self) -> str:
        return self.state.site_id

    def has_applied(self, event_id: str) -> bool:
        return event_id in self.recent

    def after(self, event_id: str, state: SummaryState) -> SiteRecord:
        """The record once the event with this id changed the state."""
        return self.after_all((event_id,), state)

    def after_all(self, event_ids: Sequence[str], state: SummaryState) -> SiteRecord:
        """The record once the events with these ids (in order) each changed the state."""
        recent = (*self.recent, *event_ids)[-RECENT_EVENT_IDS:]
        return SiteRecord(state, self.version + len(event_ids), recent)


@dataclass(frozen=True)
class Save:
    """A record to store if the stored one still has `expected_version` (0: none).

    `check_only`: store nothing, only refuse the write if the stored version moved: a batch
    whose events changed nothing on a site (an end of a chat it had not seen start) decided so
    on the version it read, and archives them as applied; another writer (a replica that had
    the site a moment ago) may have changed the site since."""

    record: SiteRecord
    expected_version: int
    check_only: bool = False


class WriteConflict(Exception):
    """The stored record is no longer the one the change was computed from (or has the event)."""


class SummaryStore(Protocol):
    async def load(self, site_id: str) -> SiteRecord:
        """The site's record; an empty one (version 0) for a site never heard of.

        The caller must not change the record's state in place: copy it first (the store may
        hand out the very record it keeps)."""
        ...

    async def commit(self, saves: Sequence[Save], events: Sequence[Event]) -> set[str]:
        """One write for a batch: store every record, then archive the events; the ids of the
        events archived now (not before).

        A record is stored only if the stored one has its expected version and does not hold
        its newest event id yet (a `check_only` save: only if it has that version, and nothing
        is stored); otherwise raise WriteConflict and archive nothing. The
        embedded and memory stores then store no record either (one transaction); MongoDB has
        stored the records before the conflicting one, whose event ids a retry recognises.
        """
        ...

    async def save(self, record: SiteRecord, expected_version: int) -> None:
        """`commit` of one record and no event."""

    async def archive(self, event: Event) -> bool:
        """Keep the event for rebuilds; False if an event with its id is archived already."""
        ...

    async def is_archived(self, event_id: str) -> bool: ...

    async def archived_among(self, event_ids: Collection[str]) -> set[str]:
        """Which of these event ids are archived already (one read for a batch)."""
        ...

    def replay(self) -> AsyncIterator[Event]:
        """Every archived event, by occurred_at, ties in the order they were archived."""
        ...

    async def drop_summaries(self) -> None:
        """Forget every site's record (the read model); the archive stays."""

    async def has_summaries(self) -> bool:
        """Whether any site's record is stored."""
        ...

    async def has_archive(self) -> bool:
        """Whether any event is archived."""
        ...

    async def close(self) -> None: ...

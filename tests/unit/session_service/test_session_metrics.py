"""Session metrics: messages by author, ends by cause, and sessions in progress by status."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from livechat_shared.contracts.partitions import partition_of
from livechat_shared.runtime.metrics import ServiceMetrics, SiteGauges
from session_service.adapters.memory_store import MemorySessionStore
from session_service.adapters.metrics import SessionMetrics
from session_service.handlers import SessionService

from tests.unit.session_service.chat import SITE, RecordingPublisher, end, hold, post, started

OTHER = uuid.UUID("5e551011-0000-4000-8000-000000000002")


async def test_counters_and_the_in_progress_gauge_follow_the_sessions() -> None:
    store = MemorySessionStore()
    metrics = ServiceMetrics("session-service")
    observer = SessionMetrics(metrics, store)
    sessions = SessionService(
        store, RecordingPublisher(), lambda: datetime.now(UTC), 60.0, observe=observer
    )
    registry = metrics.registry

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    await sessions.handle(started())

    await sessions.handle(started(OTHER, visitor="v-bo"))
    assert value("livechat_chat_sessions", site=SITE, status="active") == 2
    command = post("hi")
    await sessions.handle(command)
    await sessions.handle(command)  # redelivered: not counted again
    await sessions.handle(post("hello", "operator"))
    await sessions.handle(hold())
    assert value("livechat_chat_sessions", site=SITE, status="active") == 1
    assert value("livechat_chat_sessions", site=SITE, status="on_hold") == 1
    await sessions.handle(end("visitor"))
    await sessions.handle(end(session_id=OTHER))
    assert value("livechat_chat_sessions", site=SITE, status="on_hold") == 0
    assert value("livechat_chat_sessions", site=SITE, status="active") == 0
    assert value("livechat_chat_messages_posted_total", author="visitor") == 1
    assert value("livechat_chat_messages_posted_total", author="operator") == 1
    assert value("livechat_chat_sessions_ended_total", ended_by="visitor") == 1
    assert value("livechat_chat_sessions_ended_total", ended_by="operator") == 1


async def test_the_gauge_is_counted_from_the_store_at_start_up() -> None:
    store = MemorySessionStore()
    first = SessionService(store, RecordingPublisher(), lambda: datetime.now(UTC), 60.0)
    await first.handle(started())
    await first.handle(hold())
    metrics = ServiceMetrics("session-service")
    await SessionMetrics(metrics, store).load()  # a restarted replica
    assert (
        metrics.registry.get_sample_value(
            "livechat_chat_sessions", {"site": SITE, "status": "on_hold"}
        )
        == 1
    )


async def test_a_partition_handed_back_or_lost_leaves_the_gauge() -> None:
    """Another replica writes those sites now: a count this replica no longer updates would
    stay at its last value for ever."""
    store = MemorySessionStore()
    metrics = ServiceMetrics("session-service")
    observer = SessionMetrics(metrics, store)
    sessions = SessionService(
        store, RecordingPublisher(), lambda: datetime.now(UTC), 60.0, observe=observer
    )
    await sessions.handle(started())
    partition = partition_of(SITE, 4)
    owned = [k for k in range(4) if k != partition][:2]
    gauges = SiteGauges([observer.sessions], 4, owned)

    def active() -> float | None:
        return metrics.registry.get_sample_value(
            "livechat_chat_sessions", {"site": SITE, "status": "active"}
        )

    await gauges.partition_released((partition + 1) % 4)  # another partition: kept
    assert active() == 1
    await gauges.partition_released(partition)
    assert active() is None
    await sessions.handle(started(OTHER, visitor="v-bo"))  # this replica counts it again
    assert active() == 2
    await gauges.consumer_lost()  # not among the partitions it owns: another's meanwhile
    assert active() is None

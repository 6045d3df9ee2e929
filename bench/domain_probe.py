"""Run in a fresh interpreter: the pure routing domain with a small and a large queue.

Builds two Sites with every operator busy (through `decide`) so the visitors stay in the queue
(filled with the VisitorQueued that `decide` would store), and reports the RSS growth of the large one, tracemalloc's bytes
per waiting visitor (on a third, smaller site, traced before the others are built) and the cost
of one decision on each:

- arrival: a new visitor starts waiting (queued; no operator has room);
- chat end: a chat ends, its operator is freed and offered the longest-waiting visitor.

The waiting count is held at N across the timed decisions (untimed steps undo each one), and
the median of many is reported, so the figures compare queue sizes and nothing else.

    python -m bench.domain_probe --small 100 --large 1000000 --repeats 3000
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import statistics
import time
import tracemalloc
import uuid
from collections import deque
from datetime import UTC, datetime
from typing import Any

from livechat_shared.contracts import (
    AcceptOffer,
    Channel,
    ChatEnded,
    ChatOffered,
    ChatStarted,
    Message,
    Presence,
    SetOperatorPresence,
    VisitorLeftQueue,
    VisitorQueued,
    VisitorWaiting,
)
from queue_manager.domain import RoutingPolicy, Site, apply, decide

from bench.processes import rss_bytes

SITE = "bench-domain"
OPERATORS = 10


class _Desk:
    def __init__(self, max_chats: int) -> None:
        self.site = Site(SITE)
        self.policy = RoutingPolicy(max_chats=max_chats)
        self._ids = itertools.count(1)
        self.chats: deque[ChatStarted] = deque()
        self._visitors = itertools.count()

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=next(self._ids))

    def decide(self, message: Message) -> list[Any]:
        return decide(self.site, message, datetime.now(UTC), self.policy, self.new_id)

    def waiting(self) -> VisitorWaiting:
        return VisitorWaiting(site_id=SITE, visitor_id=f"v-{next(self._visitors)}")

    def accept(self, offered: ChatOffered) -> None:
        events = self.decide(
            AcceptOffer(site_id=SITE, offer_id=offered.offer_id, operator_id=offered.operator_id)
        )
        self.chats.extend(e for e in events if isinstance(e, ChatStarted))

    def staff(self) -> None:
        """Every operator online and full, leading chats it took from the queue."""
        for i in range(OPERATORS):
            self.decide(
                SetOperatorPresence(site_id=SITE, operator_id=f"op-{i}", presence=Presence.ONLINE)
            )
        for _ in range(OPERATORS * self.policy.max_chats):
            for event in self.decide(self.waiting()):
                if isinstance(event, ChatOffered):
                    self.accept(event)

    def fill_queue(self, count: int) -> None:
        """`count` more visitors waiting: the VisitorQueued that `decide` stores for a visitor
        nobody can take, applied directly (built without validation), because a million
        decisions take minutes on this machine and leave the very same state. The cyclic
        collector is paused meanwhile: its full passes over a growing heap were most of it."""
        gc.disable()
        try:
            self._fill(count)
        finally:
            gc.enable()

    def _fill(self, count: int) -> None:
        for _ in range(count):
            now = datetime.now(UTC)
            queued = VisitorQueued.model_construct(
                event_id=self.new_id(),
                occurred_at=now,
                site_id=SITE,
                visitor_id=f"v-{next(self._visitors)}",
                channel=Channel.CHAT,
                waiting_since=now,
            )
            apply(self.site, queued)


def _ns(samples: list[int]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median": float(statistics.median(ordered)),
        "p99": float(ordered[int(len(ordered) * 0.99)]),
        "mean": round(statistics.fmean(ordered), 1),
    }


def time_arrivals(desk: _Desk, repeats: int) -> list[int]:
    samples = []
    for _ in range(repeats):
        message = desk.waiting()
        started = time.perf_counter_ns()
        desk.decide(message)
        samples.append(time.perf_counter_ns() - started)
        desk.decide(VisitorLeftQueue(site_id=SITE, visitor_id=message.visitor_id))
    return samples


def time_chat_ends(desk: _Desk, repeats: int) -> list[int]:
    samples = []
    for _ in range(repeats):
        chat = desk.chats.popleft()
        message = ChatEnded(
            site_id=SITE,
            session_id=chat.session_id,
            visitor_id=chat.visitor_id,
            operator_id=chat.operator_id,
            channel=Channel.CHAT,
            ended_by="operator",
        )
        started = time.perf_counter_ns()
        events = desk.decide(message)
        samples.append(time.perf_counter_ns() - started)
        [offered] = [e for e in events if isinstance(e, ChatOffered)]
        desk.accept(offered)  # the operator is full again, the queue one shorter ...
        desk.decide(desk.waiting())  # ... and one longer again
    return samples


TRACED_VISITORS = 20_000


def traced_bytes_per_waiting(count: int, max_chats: int) -> float:
    """Bytes tracemalloc sees allocated and kept per visitor added to a queue (its id and
    waiting time included, as a message brings them)."""
    desk = _Desk(max_chats)
    desk.staff()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        desk.fill_queue(count)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / count


def probe(small: int, large: int, repeats: int, max_chats: int = 3) -> dict[str, Any]:
    """Both sites in one process, timed in alternating blocks, so that whatever else the
    machine does at the time weighs on both sizes alike."""
    traced = traced_bytes_per_waiting(min(large, TRACED_VISITORS), max_chats)
    gc.collect()
    desks = {small: _Desk(max_chats), large: _Desk(max_chats)}
    for desk in desks.values():
        desk.staff()
    desks[small].fill_queue(small)
    gc.collect()
    rss_before = rss_bytes_self()
    started = time.perf_counter()
    desks[large].fill_queue(large)
    build_seconds = time.perf_counter() - started
    gc.collect()
    rss_after = rss_bytes_self()
    samples: dict[tuple[int, str], list[int]] = {
        (size, kind): [] for size in desks for kind in ("arrival", "chat_end")
    }
    for desk in desks.values():
        time_arrivals(desk, 100)  # warm-up
        time_chat_ends(desk, 100)
    block = max(1, min(20, repeats // 10))  # fine-grained, so both see the same machine
    for _ in range(max(1, repeats // block)):
        for size, desk in desks.items():
            samples[size, "arrival"] += time_arrivals(desk, block)
            samples[size, "chat_end"] += time_chat_ends(desk, block)
    for size, desk in desks.items():
        assert len(desk.site.queues[Channel.CHAT]) == size
    return {
        "operators": OPERATORS,
        "max_chats": max_chats,
        "build_seconds": round(build_seconds, 3),
        "build_decisions_per_s": round(large / build_seconds, 1) if build_seconds else None,
        "traced_visitors": min(large, TRACED_VISITORS),
        "traced_bytes_per_waiting_visitor": round(traced, 1),
        "rss_before_bytes": rss_before,
        "rss_after_bytes": rss_after,
        "decisions": {
            str(size): {kind: _ns(samples[size, kind]) for kind in ("arrival", "chat_end")}
            for size in desks
        },
    }


def rss_bytes_self() -> int:
    return rss_bytes(os.getpid())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3000)
    args = parser.parse_args()
    print(json.dumps(probe(args.small, args.large, args.repeats)))


if __name__ == "__main__":
    main()

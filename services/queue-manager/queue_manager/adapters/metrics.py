"""Queue manager metrics: counters fed by the decided events, gauges read from the state."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from livechat_shared.contracts import (
    Channel,
    ChatOffered,
    ChatStarted,
    Event,
    Message,
    OfferDeclined,
    OfferPutBack,
    OfferTimedOut,
    OfferWithdrawn,
    Presence,
    VisitorAbandoned,
)
from livechat_shared.runtime.metrics import ServiceMetrics
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from queue_manager.handlers import RoutingService

_WAIT_BUCKETS = (1, 5, 10, 20, 30, 60, 120, 300, 600, 1800)


class RoutingMetrics:
    def __init__(self, metrics: ServiceMetrics) -> None:
        registry = metrics.registry
        self.offers = Counter(
            "livechat_offers",
            "Chat offers by outcome.",
            ["channel", "outcome"],
            registry=registry,
        )
        self.wait = Histogram(
            "livechat_queue_wait_seconds",
            "Time visitors waited from asking until their chat started.",
            ["channel"],
            buckets=_WAIT_BUCKETS,
            registry=registry,
        )
        self.time_to_accept = Histogram(
            "livechat_offer_time_to_accept_seconds",
            "Time from an offer to the operator accepting it.",
            ["channel"],
            buckets=(0.5, 1, 2, 5, 10, 20, 30, 60),
            registry=registry,
        )
        self.abandoned = Counter(
            "livechat_visitors_abandoned",
            "Visitors who left the queue before a chat started.",
            ["channel"],
            registry=registry,
        )
        self._offered_at: dict[UUID, datetime] = {}

    def __call__(self, _: Message, events: list[Event], __: RoutingService) -> None:
        for event in events:
            match event:
                case ChatOffered():
                    self.offers.labels(event.channel.value, "offered").inc()
                    self._offered_at[event.offer_id] = event.occurred_at
                case ChatStarted():
                    self.offers.labels(event.channel.value, "accepted").inc()
                    self.wait.labels(event.channel.value).observe(event.waited_seconds)
                    if (offered := self._offered_at.pop(event.session_id, None)) is not None:
                        seconds = (event.occurred_at - offered).total_seconds()
                        self.time_to_accept.labels(event.channel.value).observe(seconds)
                case OfferDeclined() | OfferPutBack() | OfferTimedOut() | OfferWithdrawn():
                    self._offered_at.pop(event.offer_id, None)
                    outcome = {
                        OfferDeclined: "declined",
                        OfferPutBack: "put_back",
                        OfferTimedOut: "timed_out",
                        OfferWithdrawn: "withdrawn",
                    }[type(event)]
                    self.offers.labels("any", outcome).inc()
                case VisitorAbandoned():
                    self.abandoned.labels(event.channel.value).inc()
                case _:
                    pass


class RoutingStateCollector(Collector):
    """Gauges computed from the live routing state at scrape time."""

    def __init__(self, service: RoutingService) -> None:
        self.service = service

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "livechat_queue_depth",
            "Visitors waiting, by site and channel.",
            labels=["site", "channel"],
        )
        pending = GaugeMetricFamily(
            "livechat_offers_pending", "Offers awaiting an answer.", labels=["site"]
        )
        chats = GaugeMetricFamily(
            "livechat_sessions_in_progress",
            "Chats counted against capacity (active and on hold).",
            labels=["site", "channel"],
        )
        operators = GaugeMetricFamily(
            "livechat_operators", "Operators by presence.", labels=["site", "presence"]
        )
        utilization = GaugeMetricFamily(
            "livechat_operator_utilization_ratio",
            "Chats and offers held by online operators over their chat capacity.",
            labels=["site"],
        )
        policy = self.service.policy
        for site in self.service.sites.values():
            for channel in Channel:
                depth.add_metric([site.site_id, channel.value], len(site.queues[channel]))
                in_progress = sum(1 for c in site.chats.values() if c.channel is channel)
                chats.add_metric([site.site_id, channel.value], in_progress)
            pending.add_metric([site.site_id], len(site.offers))
            for presence in Presence:
                count = sum(1 for o in site.operators.values() if o.presence is presence)
                operators.add_metric([site.site_id, presence.value], count)
            online = [o for o in site.operators.values() if o.presence is Presence.ONLINE]
            capacity = sum(
                policy.capacity(Channel.CHAT, o.max_chats, site.max_chats) for o in online
            )
            load = sum(o.load(Channel.CHAT) for o in online)
            utilization.add_metric([site.site_id], load / capacity if capacity else 0.0)
        yield from (depth, pending, chats, operators, utilization)

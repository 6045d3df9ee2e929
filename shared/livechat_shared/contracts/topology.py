"""Where messages travel: exchange names, routing keys and each service's queues.

Routing keys read `<kind>.<Type>.<site_id>` (for example `event.ChatOffered.acme`), so a
subscriber binds `event.ChatOffered.*` for one type, `event.#` for everything, and partitioning
by site later only changes bindings, never the contracts.
"""

from __future__ import annotations

from dataclasses import dataclass

from livechat_shared.contracts.envelope import Message

EVENTS_EXCHANGE = "livechat.events"
"""Durable topic exchange of domain events; outside systems bind their own queues to it."""
COMMANDS_EXCHANGE = "livechat.commands"
"""Durable topic exchange of commands, each consumed by the one service that owns it."""
DEAD_LETTER_EXCHANGE = "livechat.dead-letter"
"""Durable direct exchange; routing key = service name, into that service's dead-letter queue."""
DELAYED_SITE = "delayed"
"""Last routing-key segment of a message that comes back from a delay queue (see delay_queue)."""

DEAD_LETTER_REASON_HEADER = "x-livechat-dead-letter-reason"
DELIVERY_LIMIT = 5
"""Redeliveries of a failing message before RabbitMQ dead-letters it (quorum queues)."""


def routing_key(message: Message) -> str:
    return f"{message.kind}.{message.type_name()}.{message.site_id}"


def binding_key(message_type: type[Message], site_id: str = "*") -> str:
    return f"{message_type.kind}.{message_type.type_name()}.{site_id}"


def delay_queue(service: str, message_type: type[Message], delay_ms: int) -> str:
    """A quorum queue where messages of one type wait `delay_ms`, then return to the exchange.

    One queue per delay, so a message never waits behind one with a longer delay (RabbitMQ
    expires messages only at the head of a queue). Named `.timer.`: the classic `.delay.`
    queues of earlier releases cannot turn into quorum queues under the same name.
    """
    return f"{service}.timer.{message_type.type_name()}.{delay_ms}ms"


def exchange_for(message_type: type[Message]) -> str:
    return EVENTS_EXCHANGE if message_type.kind == "event" else COMMANDS_EXCHANGE


@dataclass(frozen=True)
class ServiceQueues:
    """One service's input queue, what is bound to it, and where its failures go."""

    service: str
    consumes: tuple[type[Message], ...]
    single_active_consumer: bool = False
    per_instance: bool = False
    """Each replica gets its own short-lived queue with every consumed message (fan-out), e.g.
    the gateway, whose replicas each deliver to the sockets they hold."""
    publishes: tuple[type[Message], ...] = ()
    """What the service sends (documentation and the event docs' `PUBLISHERS`: the bus does not
    check it). A service's own timer commands count: it sends them to itself."""

    @property
    def input_queue(self) -> str:
        return f"{self.service}.input"

    def partition_queue(self, partition: int, partitions: int) -> str:
        """Partition `partition`'s input queue; with one partition, the single input queue."""
        if partitions == 1:
            return self.input_queue
        return f"{self.service}.input.{partition}"

    def input_queues(self, partitions: int) -> tuple[str, ...]:
        """Every input queue of a shared service (its partitions); one queue when unpartitioned."""
        return tuple(self.partition_queue(k, partitions) for k in range(partitions))

    def owner_marker(self, partition: int) -> str:
        """An exclusive queue the partition's owner holds while it lives (nothing is bound to
        it): a replica active on a partition not its own hands it back once it exists."""
        return f"{self.service}.owner.{partition}"

    @property
    def partitions_exchange(self) -> str:
        """Headers exchange that hands the service's messages to their partition's queue."""
        return f"{self.service}.partitions"

    def instance_queue(self, instance_id: str) -> str:
        return f"{self.service}.instance.{instance_id}"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.service}.dead-letter"

"""Subscribe to the live-chat events from outside: aio-pika only, none of this repository's code.

    python examples/subscriber.py                          # every event of every site
    python examples/subscriber.py --type ChatStarted --type ChatEnded --site acme
    python examples/subscriber.py --max 10 --seconds 60    # stop after 10 events or a minute
    python examples/subscriber.py --queue crm.livechat-events   # a durable queue, kept

It binds a queue of its own to the `livechat.events` topic exchange, prints each event as one
JSON line, acknowledges it only after processing, and drops redeliveries by `event_id`. The
queue is temporary unless you name one with --queue: RabbitMQ names it and deletes it when
the subscriber disconnects, so nothing is left behind. A --queue is durable and stays after
the subscriber exits, collecting events until it is consumed again or deleted
(`rabbitmqctl delete_queue <name>`). Needs `pip install aio-pika`; AMQP_URL (or --url) says
where the broker is.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractIncomingMessage

EXCHANGE = "livechat.events"
SCHEMA_VERSION = 1  # the version of the event schemas this subscriber understands


class SeenIds:
    """The most recent event ids, so a redelivered or republished event is handled once."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, event_id: str) -> bool:
        """Remember the id; False if it was already there."""
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True

    def discard(self, event_id: str) -> None:
        self._ids.pop(event_id, None)


def binding_keys(types: Sequence[str], sites: Sequence[str]) -> list[str]:
    """Routing keys read `event.<Type>.<site_id>`; `*` matches one word, `#` any number of them.

    Every site is `#`, not `*`: a site id may contain dots.
    """
    if not types and not sites:
        return ["event.#"]
    return [f"event.{t}.{s}" for t in (types or ["*"]) for s in (sites or ["#"])]


def handle(event: dict[str, Any]) -> None:
    """Your processing goes here: dispatch on event["type"] and ignore the types you do not
    know (new ones appear without notice). Raise to have the message retried once."""
    print(json.dumps(event, separators=(",", ":"), sort_keys=True), flush=True)


class Subscriber:
    def __init__(self, max_events: int | None) -> None:
        self.seen = SeenIds()
        self.handled = 0
        self.max_events = max_events
        self.done = asyncio.Event()

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        if self.done.is_set():  # prefetched after --max was reached: leave it for the next run
            await message.nack(requeue=True)
            return
        try:
            event = json.loads(message.body)
        except ValueError:
            print(f"not JSON, dropped: {message.body[:200]!r}", file=sys.stderr)
            await message.reject()  # requeueing would only bring it back
            return
        # Lenient on purpose: read the fields you need, ignore the rest (new optional fields
        # arrive without notice), skip schema versions you do not know. Filter on the version
        # before deduplicating: during a deprecation period one fact comes once per version.
        event_id = str(event.get("event_id"))
        if event.get("schema_version") != SCHEMA_VERSION or not self.seen.add(event_id):
            await message.ack()
            return
        try:
            handle(event)
        except Exception as error:
            self.seen.discard(event_id)  # not handled: its redelivery must not count as a duplicate
            print(f"handling {event_id} failed: {error!r}", file=sys.stderr)
            await message.nack(requeue=not message.redelivered)  # one more try, then drop it
            return
        await message.ack()  # only now: a crash before this line means redelivery, not loss
        self.handled += 1
        if self.max_events is not None and self.handled >= self.max_events:
            self.done.set()


async def run(args: argparse.Namespace) -> int:
    connection = await aio_pika.connect_robust(args.url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=args.prefetch)
        exchange: AbstractExchange
        if args.declare_exchange:  # needs the configure permission on it
            exchange = await channel.declare_exchange(
                EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
            )
        else:  # a passive declare: needs no permission on the exchange, fails if it is missing
            exchange = await channel.get_exchange(EXCHANGE)
        if args.queue is None:
            # Server-named (amq.gen-...), exclusive to this connection: gone when it closes.
            queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        else:
            # A quorum queue survives broker restarts and node failures; events published while
            # this subscriber is stopped wait in it, until it comes back or the queue is deleted.
            queue = await channel.declare_queue(
                args.queue, durable=True, arguments={"x-queue-type": "quorum"}
            )
        for key in binding_keys(args.type, args.site):
            await queue.bind(exchange, routing_key=key)
        subscriber = Subscriber(args.max)
        tag = await queue.consume(subscriber.on_message)
        print(
            f"consuming {queue.name} bound to {', '.join(binding_keys(args.type, args.site))}",
            file=sys.stderr,
        )
        with contextlib.suppress(TimeoutError):  # --seconds elapsed
            await asyncio.wait_for(subscriber.done.wait(), timeout=args.seconds)
        await queue.cancel(tag)
        print(f"handled {subscriber.handled} events", file=sys.stderr)
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Print the live-chat events as JSON lines.")
    parser.add_argument(
        "--url",
        default=os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
        help="the broker (default: $AMQP_URL, else the local one)",
    )
    parser.add_argument(
        "--queue",
        default=None,
        help="a durable queue of this name, kept after exit (events wait in it until you"
        " consume or delete it); default: a temporary queue deleted on exit",
    )
    parser.add_argument(
        "--temporary",
        action="store_true",
        help="a temporary queue, deleted on exit (the default unless --queue is given)",
    )
    parser.add_argument(
        "--declare-exchange",
        action="store_true",
        help=f"declare {EXCHANGE} (needs the configure permission on it) instead of only"
        " looking it up; for a broker where our services have not run yet",
    )
    parser.add_argument(
        "--type", action="append", default=[], help="only this event type (repeatable)"
    )
    parser.add_argument("--site", action="append", default=[], help="only this site (repeatable)")
    parser.add_argument("--max", type=int, default=None, help="stop after this many events")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--prefetch", type=int, default=50, help="unacknowledged events in flight")
    args = parser.parse_args(argv)
    if args.temporary and args.queue:
        parser.error("--temporary and --queue exclude each other")
    return args


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(run(parse_args())))
    except KeyboardInterrupt:
        sys.exit(130)

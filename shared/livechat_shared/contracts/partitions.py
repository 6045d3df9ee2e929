"""Sites split into partitions: which partition a site is in, and which partitions a replica owns.

A stateful service's input is split into P partition queues (`PARTITIONS`, the same for every
service and fixed per deployment). A site always lands in the same partition, so one consumer at
a time decides for it and its order and rules stay as they were. The publisher computes the
partition (this function, in every service) and puts it in a header; each service's headers
exchange routes on it. A hash of our own rather than the consistent-hash exchange: the services
need the same answer the broker gives (a queue manager that takes a partition over loads that
partition's sites, and a consumer can check that a message is in the right queue), and the
plugin's ring follows the order its bindings were made, which a re-declared exchange may change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

PARTITION_HEADER = "livechat-partition"
"""Header with the site's partition number (a decimal string). Not `x-`: a headers exchange
ignores headers that start with `x-` when it matches."""

PARTITIONS_HEADER = "livechat-partitions"
"""Header with the publisher's PARTITIONS (a decimal string), next to the partition: a consumer
that runs another number can tell the message was put in a partition by another hash."""

MAX_PARTITIONS = 256


def partition_of(site_id: str, partitions: int) -> int:
    """The site's partition in 0..partitions-1: a stable hash, the same in every process.

    Python's `hash` differs between processes (PYTHONHASHSEED); BLAKE2b never does.
    """
    if not 1 <= partitions <= MAX_PARTITIONS:
        raise ValueError(f"partitions must be 1..{MAX_PARTITIONS}, not {partitions}")
    if partitions == 1:
        return 0
    digest = hashlib.blake2b(site_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % partitions


def owned_partitions(ordinal: int, replicas: int, partitions: int) -> tuple[int, ...]:
    """The partitions replica `ordinal` of `replicas` consumes first: every `replicas`-th one.

    It joins the others only as a standby (later), so each partition has one owner while every
    replica lives, and about P/N partitions each.
    """
    if not 0 <= ordinal < replicas:
        raise ValueError(f"replica ordinal {ordinal} is not in 0..{replicas - 1}")
    return tuple(k for k in range(partitions) if k % replicas == ordinal)


def partition_mismatch(site_id: str, partitions: int, headers: Mapping[str, object]) -> str | None:
    """Why a message with these headers is not for a consumer of `partitions` partitions, or None.

    A message is for it when its publisher ran the same PARTITIONS (if it says) and put the site
    in the partition this consumer computes. Otherwise it sits in a partition whose owner is not
    the site's owner, and two replicas could decide for one site. A message without the headers
    (a PARTITIONS=1 publisher, or one from before the headers) is not checked.
    """
    theirs = headers.get(PARTITIONS_HEADER)
    published = headers.get(PARTITION_HEADER)
    expected = partition_of(site_id, partitions)
    if (theirs is None or _text(theirs) == str(partitions)) and (
        published is None or _text(published) == str(expected)
    ):
        return None
    where = "?" if published is None else _text(published)
    source = (
        f"partition {where}"
        if theirs is None
        else f"PARTITIONS={_text(theirs)} (partition {where})"
    )
    return (
        f"published for {source}; this service runs PARTITIONS={partitions}, where site "
        f"{site_id} is in partition {expected}: set PARTITIONS alike everywhere "
        "(README: changing PARTITIONS)"
    )


def _text(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="backslashreplace")
    return str(value)

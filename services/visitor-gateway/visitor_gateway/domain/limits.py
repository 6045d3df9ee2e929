"""Limits that protect everyone else from one client: a token bucket per identity or address,
and a cap on the sockets one identity holds. Pure bookkeeping: the clock is passed in."""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float  # when `tokens` was last brought up to date (monotonic seconds)


class RateLimit:
    """`rate` requests per second sustained, `burst` at once, per key.

    Memory is bounded twice: a key whose bucket has refilled is the same as one never seen, so
    it is forgotten; and at most `max_keys` are kept, the idlest dropped first (a flood of fresh
    identities forgets idle ones, it cannot grow memory)."""

    def __init__(self, rate: float, burst: int, max_keys: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()  # least recently used first

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, now: float) -> float | None:
        """Spend one request: None if allowed, else the seconds until one would be."""
        self.forget_idle(now)
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        self._buckets[key] = bucket
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self.rate

    def forget_idle(self, now: float) -> None:
        """Drop the keys whose buckets are full again (idle longer than a whole refill)."""
        refill = self.burst / self.rate
        while self._buckets:
            key, oldest = next(iter(self._buckets.items()))
            if now - oldest.at < refill:
                return
            del self._buckets[key]


def retry_after(seconds: float) -> str:
    """The Retry-After header: whole seconds, at least one."""
    return str(max(1, math.ceil(seconds)))


class SocketQuota:
    """How many sockets each identity holds on this replica, up to `per_identity`."""

    def __init__(self, per_identity: int) -> None:
        self.per_identity = per_identity
        self._held: dict[tuple[str, str, str], int] = {}

    def acquire(self, who: tuple[str, str, str]) -> bool:
        held = self._held.get(who, 0)
        if held >= self.per_identity:
            return False
        self._held[who] = held + 1
        return True

    def release(self, who: tuple[str, str, str]) -> None:
        held = self._held.get(who, 0) - 1
        if held > 0:
            self._held[who] = held
        else:
            self._held.pop(who, None)

"""Open-loop arrivals: each one starts at its scheduled time, whether earlier ones finished or not.

Latency is measured from the scheduled time, so a slow system cannot slow the arrivals down and
hide its own queueing (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def open_loop(count: int, rate: float, launch: Callable[[int, float], None]) -> None:
    """Call `launch(i, scheduled)` for i in 0..count-1 at `t0 + i / rate` (perf_counter time)."""
    t0 = time.perf_counter() + 0.01
    launched = 0
    while launched < count:
        due = min(count, int((time.perf_counter() - t0) * rate) + 1)
        while launched < due:
            launch(launched, t0 + launched / rate)
            launched += 1
        if launched < count:
            await asyncio.sleep(max(0.0, t0 + launched / rate - time.perf_counter()))

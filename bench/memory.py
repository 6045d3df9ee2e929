"""Queue-manager memory with many visitors waiting.

Two views: the pure domain built in a fresh interpreter (bench.domain_probe: the RSS growth of
the Site alone, and tracemalloc's bytes per waiting visitor), and the real queue-manager
process fed VisitorWaiting through the broker (no operator online, so all of them wait; each
with a badge, as the gateway sends them), its RSS sampled against its own queue-depth gauge.
The RSS target is judged only on a measured figure: if the process has not taken them all in
within the cap, the run says how many it reached, and an extrapolation along the measured
bytes per visitor is shown for reference only.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from typing import Any

import aio_pika
from livechat_shared.contracts import VisitorBadge, VisitorWaiting

from bench.processes import Service
from bench.rabbit import encode, publish_all
from bench.stats import sample_total

MB = 1024 * 1024


async def domain_probe(small: int, large: int, repeats: int) -> dict[str, Any]:
    """Run bench.domain_probe in a fresh interpreter and return what it reports."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.domain_probe",
        "--small",
        str(small),
        "--large",
        str(large),
        "--repeats",
        str(repeats),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"bench.domain_probe failed: {err.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(out)
    return result


def _fit(samples: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Least-squares line rss = a + b * depth; None with too few distinct depths."""
    if len({d for d, _ in samples}) < 2:
        return None
    n = len(samples)
    mean_d = sum(d for d, _ in samples) / n
    mean_r = sum(r for _, r in samples) / n
    var = sum((d - mean_d) ** 2 for d, _ in samples)
    slope = sum((d - mean_d) * (r - mean_r) for d, r in samples) / var
    return mean_r - slope * mean_d, slope


def _waiting(site: str, i: int) -> VisitorWaiting:
    badge = VisitorBadge(name=f"Visitor {i}", current_page=f"https://shop.example/item/{i}")
    return VisitorWaiting(site_id=site, visitor_id=f"v-{i}", badge=badge)


async def real_process(
    queue_manager: Service, amqp_url: str, visitors: int, within: float
) -> dict[str, Any]:
    """Feed `visitors` waiting visitors to a freshly started queue manager and sample its RSS
    until it has them all waiting or `within` seconds pass."""
    site = f"bench-memory-{uuid.uuid4().hex[:6]}"
    publish = visitors
    await asyncio.sleep(1.0)  # let start-up allocations settle
    baseline = queue_manager.rss()
    messages = (encode(_waiting(site, i)) for i in range(publish))
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        feeding = asyncio.create_task(publish_all(channel, messages))
        samples: list[tuple[float, float]] = [(0.0, float(baseline))]
        started = time.monotonic()
        depth = 0.0
        while time.monotonic() - started < within:
            await asyncio.sleep(1.0)
            text = await queue_manager.metrics()
            depth = sample_total(text, "livechat_queue_depth", site=site, channel="chat")
            samples.append((depth, float(queue_manager.rss())))
            if depth >= publish:
                break
        elapsed = time.monotonic() - started
        feeding.cancel()
        await asyncio.gather(feeding, return_exceptions=True)
    reached = int(depth)
    rss_now = samples[-1][1]
    fit = _fit([s for s in samples if s[0] > 0] or samples)
    per_visitor = fit[1] if fit else None
    measured = reached >= visitors
    extrapolated = fit[0] + fit[1] * visitors if fit is not None else None
    return {
        "site": site,
        "visitors_target": visitors,
        "visitors_waiting_reached": reached,
        "seconds": round(elapsed, 1),
        "decisions_per_s": round(reached / elapsed, 1) if elapsed else None,
        "rss_baseline_mb": round(baseline / MB, 1),
        "rss_reached_mb": round(rss_now / MB, 1),
        "bytes_per_waiting_visitor": round(per_visitor) if per_visitor else None,
        "rss_at_target_mb": round(rss_now / MB, 1) if measured else None,
        "rss_extrapolated_mb": round(extrapolated / MB, 1) if extrapolated else None,
        "samples": [(int(d), round(r / MB, 1)) for d, r in samples],
    }

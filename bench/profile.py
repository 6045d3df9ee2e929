"""Top functions of a py-spy speedscope profile: where a service's CPU went, as plain text.

py-spy samples the service's threads (idle ones left out); each sample is a stack. A function's
*own* share is the samples in which it is the innermost frame; its *total* share, the samples
in which it appears anywhere (counted once per sample, so recursion does not inflate it).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

TOP = 25


def _where(frame: dict[str, Any]) -> str:
    file = str(frame.get("file") or "?")
    for marker in ("site-packages/", "services/", "shared/", "lib/python3"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{frame.get('name', '?')} ({file}:{frame.get('line') or '?'})"


def top_functions(speedscope: Path, top: int = TOP) -> tuple[str, dict[str, Any]]:
    """(a text table, a summary for the JSON results) of a speedscope file written by py-spy."""
    document = json.loads(speedscope.read_text())
    frames = document["shared"]["frames"]
    own: Counter[int] = Counter()
    total: Counter[int] = Counter()
    samples = 0.0  # weighted: py-spy weighs each sample by its interval, in seconds
    count = 0
    for profile in document["profiles"]:  # one per thread
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            if not stack:
                continue
            count += 1
            samples += weight
            own[stack[-1]] += weight
            for index in set(stack):
                total[index] += weight
    if not samples:
        return "no samples\n", {"samples": 0, "busy_seconds": 0.0}

    def table(counts: Counter[int], title: str) -> list[str]:
        lines = [f"{title}:", f"{'share':>7}  function"]
        for index, weight in counts.most_common(top):
            lines.append(f"{weight / samples:7.1%}  {_where(frames[index])}")
        return lines

    lines = [
        f"{speedscope.name}: {count:,} samples, {samples:.1f} s of busy threads "
        "(idle ones left out)",
        "Own time in asyncio's Runner.run is the event loop's own C code (uvloop): I/O and "
        "callbacks that no Python frame shows.",
        "",
        *table(own, "own time (innermost frame)"),
        "",
        *table(total, "total time (anywhere on the stack)"),
    ]
    summary = {
        "samples": count,
        "busy_seconds": round(samples, 2),
        "own_top": [
            {"share": round(w / samples, 4), "function": _where(frames[i])}
            for i, w in own.most_common(10)
        ],
    }
    return "\n".join(lines) + "\n", summary

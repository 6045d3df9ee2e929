"""Timed blocks of chat requests summarized together (the partitions phase takes turns)."""

from __future__ import annotations

from bench.assignment import Timed, summarize


def _block(latencies: list[float], missing: int, cpu: dict[str, float]) -> Timed:
    return Timed(
        latencies=latencies,
        http_seconds=[0.001] * len(latencies),
        slip=[0.0] * len(latencies),
        outcomes={"202": len(latencies)},
        missing=missing,
        operators=3,
        send_seconds=1.0,
        wall=2.0,
        cpu=cpu,
        opened=2,
    )


def test_blocks_are_summarized_as_one_measurement() -> None:
    first = _block([0.010] * 100, 0, {"queue_manager": 0.5, "session_service": 0.0})
    second = _block([0.020] * 99 + [1.0], 1, {"queue_manager": 0.25, "session_service": 0.0})
    found = summarize([first, second], 100.0, 50, 40.0, "lean")
    assert found["visitors"] == 200
    assert found["offers_missing"] == 1 and found["offers_arrived"] == 199
    assert found["http_outcomes"] == {"202": 200}
    assert found["p50"] == 15.0  # between the blocks' 10 and 20 ms
    assert found["max"] == 1000.0
    # a service that used no CPU is still counted (the five services' sum needs all five)
    assert found["cpu_seconds"] == {"queue_manager": 0.75, "session_service": 0.0}
    assert found["timed_wall_s"] == 4.0 and found["blocks"] == 2

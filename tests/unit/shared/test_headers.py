"""Headers of a message being dead-lettered can always be published again."""

from __future__ import annotations

from datetime import UTC, datetime

from livechat_shared.runtime.headers import sanitize_headers
from pamqp.encode import field_table


def test_bytes_that_are_not_utf8_become_escaped_text_that_encodes() -> None:
    received = {
        "x-note": b"\xff\xfe not utf-8",
        "x-death": [{"count": 1, "time": datetime(2026, 1, 1, tzinfo=UTC), "queue": b"q"}],
        b"raw-key": None,
        "ok": "text",
        "n": 3,
    }
    clean = sanitize_headers(received)
    assert clean["x-note"] == "\\xff\\xfe not utf-8"
    assert clean["x-death"][0]["queue"] == "q"
    assert clean["x-death"][0]["time"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert clean["raw-key"] is None
    assert clean["ok"] == "text" and clean["n"] == 3
    field_table(clean)  # what aio-pika does on publish: raised TypeError for bytes before

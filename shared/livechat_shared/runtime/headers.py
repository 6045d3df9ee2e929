"""Message headers made safe to publish again, whatever a faulty sender put in them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any


def sanitize_headers(headers: dict[Any, Any]) -> dict[str, Any]:
    """Headers safe to publish again: text that is not UTF-8 is kept, escaped, as text."""
    return {_text(key): _header_value(value) for key, value in headers.items()}


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="backslashreplace")
    return str(value)


def _header_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str | datetime | Decimal):
        return value
    if isinstance(value, dict):
        return sanitize_headers(value)
    if isinstance(value, list | tuple):
        return [_header_value(item) for item in value]
    if isinstance(value, bytearray):
        return value  # sent as a byte array, as it came
    return _text(value)

"""Tokens never reach a log line: every record, from any logger (uvicorn's included), is
redacted as it is made, before any handler or formatter sees it."""

from __future__ import annotations

import logging
import re
from typing import Any

_QUERY_TOKEN = re.compile(r"(?i)([?&;](?:access_)?token=)[^&\s\"'#]*")
_BEARER = re.compile(r"(?i)(bearer[ ,]+)[A-Za-z0-9._~+/=-]{8,}")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    text = _QUERY_TOKEN.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    return _JWT.sub(REDACTED, text)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, tuple | list):
        return type(value)(_clean(v) for v in value)
    return value


_installed = False


def install() -> None:
    """Wrap the log record factory once per process (each uvicorn worker calls create_app)."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        for key, value in list(vars(record).items()):
            if key not in _PLAIN and isinstance(value, str):  # `extra=` fields
                setattr(record, key, redact(value))
        return record

    logging.setLogRecordFactory(redacted_record)
    _installed = True


_PLAIN = {"msg", "name", "levelname", "pathname", "filename", "module", "funcName"}

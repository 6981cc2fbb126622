"""Structured logs: one JSON object per line, with a service name and a level from the environment.

Only ids, counts, outcomes and timings are logged. Message text, tokens and secrets never are:
callers pass fields explicitly, and nothing here serialises a payload.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from .config import log_level_from_env

__all__ = ["get_logger", "log_event"]

_CONFIGURED: set[str] = set()


class JsonFormatter(logging.Formatter):
    """``{"ts": ..., "level": "info", "service": ..., "event": ..., <fields>}``."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "event": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        return json.dumps(line, ensure_ascii=False, default=str)


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (so test capture and Lambda both see it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def get_logger(service: str) -> logging.Logger:
    """The logger of one service (``tgpipe.webhook``...), writing JSON lines to stderr.

    Its level comes from ``TGPIPE_LOG_LEVEL`` (default INFO)."""
    logger = logging.getLogger(f"tgpipe.{service}")
    if service not in _CONFIGURED:
        handler = _StderrHandler()
        handler.setFormatter(JsonFormatter(f"tgpipe-{service}"))
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(log_level_from_env())
        _CONFIGURED.add(service)
    return logger


def log_event(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    """Log one event with structured fields (``None`` values are left out)."""
    if logger.isEnabledFor(level):
        logger.log(level, event, extra={"fields": {k: v for k, v in fields.items() if v is not None}})

"""Secrets kept in AWS Systems Manager Parameter Store, read once per process.

On Lambda the webhook's secret_token is not an environment variable (anyone who can read the
function's configuration would see it): ``TELEGRAM_WEBHOOK_SECRET_PARAM`` names an SSM SecureString
parameter instead, and :mod:`etl.config` reads it through :func:`parameter_value` when
``TELEGRAM_WEBHOOK_SECRET`` is not set. The value is decrypted by SSM (its default ``aws/ssm`` key
needs no extra permission), cached for the life of the container, and never logged or put in an
error message. boto3 is imported only when a parameter is actually read.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from .errors import TgpipeError

__all__ = ["SecretError", "clear_cache", "parameter_value"]

# What SSM accepts as a parameter name: a path of letters, digits and . - _ separated by /.
_NAME_RE = re.compile(r"/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
_cache: dict[str, str] = {}
_lock = threading.Lock()


class SecretError(TgpipeError):
    """A secret could not be read; the message names the parameter and the reason, never a value."""


def _client() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("ssm", config=Config(retries={"max_attempts": 3, "mode": "standard"}))


def parameter_value(name: str, *, client: Any | None = None) -> str:
    """The decrypted value of the SSM parameter ``name`` (cached per process after the first read)."""
    if not _NAME_RE.fullmatch(name):
        raise SecretError(
            f"{name!r} is not an SSM parameter name (e.g. /tgpipe/prod/telegram-webhook-secret)"
        )
    with _lock:
        if name in _cache:
            return _cache[name]
        try:
            response = (client or _client()).get_parameter(Name=name, WithDecryption=True)
        except Exception as exc:
            raise SecretError(f"cannot read SSM parameter {name}: {_reason(exc)}") from None
        value = response.get("Parameter", {}).get("Value")
        if not isinstance(value, str) or not value:
            raise SecretError(f"SSM parameter {name} is empty")
        _cache[name] = value
        return value


def clear_cache() -> None:
    """Forget every value read (tests; a rotated secret is picked up by the next container anyway)."""
    with _lock:
        _cache.clear()


def _reason(exc: Exception) -> str:
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        if code:
            return f"{code}: {message}".rstrip(": ") if message else str(code)
    return type(exc).__name__

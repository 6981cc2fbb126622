"""Configuration: every setting read from the environment and validated in one place.

A missing or invalid value raises :class:`ConfigError` whose message starts with the variable's
name, so the operator knows what to fix. Secrets are never part of an error message or a repr.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .telegram import INT64_MAX, INT64_MIN

__all__ = [
    "DEFAULT_ENRICHED_URI",
    "DEFAULT_FETCH_WORKERS",
    "DEFAULT_RAW_URI",
    "ConfigError",
    "EtlSettings",
    "WebhookSettings",
    "parse_chat_ids",
    "parse_timezone",
    "parse_uri",
    "raw_uri_from_env",
    "timezone_from_env",
]

DEFAULT_RAW_URI = "lake/raw"
DEFAULT_ENRICHED_URI = "lake/enriched"
DEFAULT_TIMEZONE = "UTC"
# Concurrent GETs while reading a day: an S3 GET waits ~10-50 ms, so 64 in flight keep one Lambda busy.
DEFAULT_FETCH_WORKERS = 64
MAX_FETCH_WORKERS = 256

# What Telegram accepts as setWebhook's secret_token.
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


def _required(env: Mapping[str, str], name: str, hint: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is required: {hint}")
    return value


def parse_chat_ids(value: str, name: str = "TELEGRAM_CHAT_ID") -> frozenset[int]:
    """``"-100123, -100456"`` -> ``frozenset({-100123, -100456})``; every item an int64."""
    ids: set[int] = set()
    for item in value.split(","):
        text = item.strip()
        try:
            chat_id = int(text, 10)
        except ValueError:
            raise ConfigError(
                f"{name} must be comma-separated integer chat ids (e.g. -1001234567890), got {text!r}"
            ) from None
        if not INT64_MIN <= chat_id <= INT64_MAX:
            raise ConfigError(f"{name}: chat id {chat_id} is outside the 64-bit integer range")
        ids.add(chat_id)
    return frozenset(ids)


def parse_uri(value: str, name: str) -> str:
    """A lake location: ``s3://bucket[/prefix]`` or a local path (other schemes are refused)."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        return value
    if scheme != "s3" or not rest.split("/", 1)[0]:
        raise ConfigError(f"{name} must be s3://bucket/prefix or a local path, got {value!r}")
    return value


def parse_timezone(value: str, name: str = "TGPIPE_TIMEZONE") -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{name} must be an IANA time zone such as UTC or America/Sao_Paulo, got {value!r}"
        ) from None


def _secret_from_parameter(name: str) -> str:
    """The secret kept in SSM Parameter Store (on Lambda), named by TELEGRAM_WEBHOOK_SECRET_PARAM."""
    from .secrets import SecretError, parameter_value

    try:
        value = parameter_value(name)
    except SecretError as exc:
        raise ConfigError(f"TELEGRAM_WEBHOOK_SECRET_PARAM: {exc}") from None
    if not _SECRET_RE.fullmatch(value):
        raise ConfigError(
            f"TELEGRAM_WEBHOOK_SECRET_PARAM: SSM parameter {name} must hold 1-256 characters of "
            "A-Z, a-z, 0-9, _ and - (what Telegram accepts as secret_token)"
        )
    return value


def raw_uri_from_env(env: Mapping[str, str] | None = None) -> str:
    """TGPIPE_RAW_URI, checked, or the default ``lake/raw``."""
    env = os.environ if env is None else env
    return parse_uri(env.get("TGPIPE_RAW_URI", "").strip() or DEFAULT_RAW_URI, "TGPIPE_RAW_URI")


def timezone_from_env(env: Mapping[str, str] | None = None) -> ZoneInfo:
    """TGPIPE_TIMEZONE, checked, or UTC."""
    env = os.environ if env is None else env
    return parse_timezone(env.get("TGPIPE_TIMEZONE", "").strip() or DEFAULT_TIMEZONE)


@dataclass(frozen=True)
class WebhookSettings:
    """What the webhook needs: who may post, which chats are kept, where they go, what a day is."""

    chat_ids: frozenset[int]
    webhook_secret: str = field(repr=False)
    raw_uri: str = DEFAULT_RAW_URI
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, require_secret: bool = True
    ) -> WebhookSettings:
        """Read and validate the settings. ``require_secret=False`` is for ingesting without a webhook
        (`tgpipe poll`, imports): a missing secret is then empty and authenticates nothing."""
        env = os.environ if env is None else env
        chat_ids = parse_chat_ids(
            _required(env, "TELEGRAM_CHAT_ID", "comma-separated chat ids, e.g. -1001234567890")
        )
        secret = env.get("TELEGRAM_WEBHOOK_SECRET", "")
        if not secret and (parameter := env.get("TELEGRAM_WEBHOOK_SECRET_PARAM", "").strip()):
            secret = _secret_from_parameter(parameter)
        if not secret and require_secret:
            raise ConfigError(
                "TELEGRAM_WEBHOOK_SECRET is required: the secret_token given to setWebhook "
                "(1-256 characters of A-Z, a-z, 0-9, _ and -)"
            )
        if secret and not _SECRET_RE.fullmatch(secret):
            raise ConfigError(
                "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
                "(what Telegram accepts as secret_token)"
            )
        raw_uri, timezone = raw_uri_from_env(env), timezone_from_env(env)
        return cls(chat_ids=chat_ids, webhook_secret=secret, raw_uri=raw_uri, timezone=timezone)


def _int_setting(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text, 10)
    except ValueError:
        raise ConfigError(f"{name} must be an integer from {low} to {high}, got {text!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be an integer from {low} to {high}, got {value}")
    return value


@dataclass(frozen=True)
class EtlSettings:
    """What the daily ETL needs: where raw updates are, where Parquet goes, what a day is, how many
    objects to fetch at once."""

    raw_uri: str = DEFAULT_RAW_URI
    enriched_uri: str = DEFAULT_ENRICHED_URI
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    fetch_workers: int = DEFAULT_FETCH_WORKERS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EtlSettings:
        """Read and validate TGPIPE_RAW_URI, TGPIPE_ENRICHED_URI, TGPIPE_TIMEZONE and
        TGPIPE_FETCH_WORKERS (all optional)."""
        env = os.environ if env is None else env
        raw_uri = raw_uri_from_env(env)
        enriched_uri = parse_uri(
            env.get("TGPIPE_ENRICHED_URI", "").strip() or DEFAULT_ENRICHED_URI, "TGPIPE_ENRICHED_URI"
        )
        if enriched_uri.rstrip("/") == raw_uri.rstrip("/"):
            raise ConfigError(
                f"TGPIPE_ENRICHED_URI must differ from TGPIPE_RAW_URI (both are {raw_uri!r}): "
                "Parquet written among the raw updates would be read back as updates"
            )
        timezone = timezone_from_env(env)
        workers = _int_setting(env, "TGPIPE_FETCH_WORKERS", DEFAULT_FETCH_WORKERS, 1, MAX_FETCH_WORKERS)
        return cls(raw_uri=raw_uri, enriched_uri=enriched_uri, timezone=timezone, fetch_workers=workers)

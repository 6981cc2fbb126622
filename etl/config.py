"""Configuration: every setting read from the environment and validated in one place.

A missing or invalid value raises :class:`ConfigError` whose message starts with the variable's
name, so the operator knows what to fix. Secrets are never part of an error message or a repr.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import TgpipeError
from .telegram.update import INT64_MAX, INT64_MIN

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_DUCKDB_PATH",
    "DEFAULT_ENRICHED_URI",
    "DEFAULT_FETCH_WORKERS",
    "DEFAULT_RAW_URI",
    "BotSettings",
    "ConfigError",
    "EtlSettings",
    "IngestSettings",
    "PrivacySettings",
    "WebhookSettings",
    "child_environment",
    "duckdb_path_from_env",
    "log_level_from_env",
    "parse_chat_ids",
    "parse_timezone",
    "parse_uri",
    "raw_uri_from_env",
    "timezone_from_env",
]

DEFAULT_RAW_URI = "lake/raw"
DEFAULT_ENRICHED_URI = "lake/enriched"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_DUCKDB_PATH = "lake/tgpipe.duckdb"
# Concurrent GETs while reading a day: an S3 GET waits ~10-50 ms, so 64 in flight keep one Lambda busy.
DEFAULT_FETCH_WORKERS = 64
DEFAULT_API_URL = "https://api.telegram.org"  # the Bot API, unless TELEGRAM_API_URL says otherwise
MAX_FETCH_WORKERS = 256

# What Telegram accepts as setWebhook's secret_token.
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ConfigError(TgpipeError, ValueError):
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
class IngestSettings:
    """What trusted ingestion needs (the webhook after its secret check, `tgpipe poll`): which chats
    are kept, where they go, what a day is."""

    chat_ids: frozenset[int]
    raw_uri: str = DEFAULT_RAW_URI
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IngestSettings:
        """Read and validate TELEGRAM_CHAT_ID (required), TGPIPE_RAW_URI and TGPIPE_TIMEZONE."""
        env = os.environ if env is None else env
        chat_ids = parse_chat_ids(
            _required(env, "TELEGRAM_CHAT_ID", "comma-separated chat ids, e.g. -1001234567890")
        )
        return cls(chat_ids=chat_ids, raw_uri=raw_uri_from_env(env), timezone=timezone_from_env(env))


@dataclass(frozen=True)
class WebhookSettings:
    """What the webhook needs: the secret Telegram proves itself with, then trusted ingestion's settings."""

    ingest: IngestSettings
    webhook_secret: str = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebhookSettings:
        """Read and validate the ingestion settings and the secret: TELEGRAM_WEBHOOK_SECRET, else the
        SSM parameter TELEGRAM_WEBHOOK_SECRET_PARAM names."""
        env = os.environ if env is None else env
        ingest = IngestSettings.from_env(env)
        secret = env.get("TELEGRAM_WEBHOOK_SECRET", "")
        if not secret and (parameter := env.get("TELEGRAM_WEBHOOK_SECRET_PARAM", "").strip()):
            secret = _secret_from_parameter(parameter)
        if not secret:
            raise ConfigError(
                "TELEGRAM_WEBHOOK_SECRET is required: the secret_token given to setWebhook "
                "(1-256 characters of A-Z, a-z, 0-9, _ and -)"
            )
        if not _SECRET_RE.fullmatch(secret):
            raise ConfigError(
                "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
                "(what Telegram accepts as secret_token)"
            )
        return cls(ingest=ingest, webhook_secret=secret)


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


@dataclass(frozen=True)
class BotSettings:
    """The bot's token (a secret: never in a repr or a message) and the Bot API's address."""

    token: str = field(repr=False)
    api_url: str | None = None  # None: Telegram's own (DEFAULT_API_URL)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, api_url: str | None = None) -> BotSettings:
        """TELEGRAM_BOT_TOKEN (may be empty: the command line then asks for it) and TELEGRAM_API_URL,
        unless ``api_url`` is given."""
        env = os.environ if env is None else env
        url = api_url or env.get("TELEGRAM_API_URL", "") or None
        return cls(token=env.get("TELEGRAM_BOT_TOKEN", ""), api_url=url)


def duckdb_path_from_env(env: Mapping[str, str] | None = None) -> str:
    """TGPIPE_DUCKDB_PATH: the DuckDB file dbt builds the local marts in (default lake/tgpipe.duckdb)."""
    env = os.environ if env is None else env
    return env.get("TGPIPE_DUCKDB_PATH", "").strip() or DEFAULT_DUCKDB_PATH


def log_level_from_env(env: Mapping[str, str] | None = None) -> int:
    """TGPIPE_LOG_LEVEL as a logging level (DEBUG, INFO, WARNING, ERROR; anything else is INFO)."""
    env = os.environ if env is None else env
    level = env.get("TGPIPE_LOG_LEVEL", "INFO").strip().upper()
    return logging.getLevelNamesMapping().get(level, logging.INFO)


def child_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment with ``settings`` on top: what a command started by tgpipe
    (`chalice local`, `dbt`, another `tgpipe`) is given, so it reads the same configuration."""
    return {**os.environ, **settings}


# ---- privacy (etl.privacy, issue 14): the salt of hashed ids, retention ---------------------------


def _salt_from_parameter(name: str) -> str:
    """The salt kept in SSM Parameter Store (a SecureString), named by TGPIPE_PRIVACY_SALT_PARAM."""
    from .secrets import SecretError, parameter_value

    try:
        return parameter_value(name)
    except SecretError as exc:
        raise ConfigError(f"TGPIPE_PRIVACY_SALT_PARAM: {exc}") from None


@dataclass(frozen=True)
class PrivacySettings:
    """How ids are hashed in the lake's privacy records (opt-outs, erasures) and how long data is kept.

    ``salt`` (a secret: never in a repr) comes from TGPIPE_PRIVACY_SALT, else the SSM parameter
    TGPIPE_PRIVACY_SALT_PARAM names; None means the salt stored once in the raw lake
    (``_privacy/salt``, see :mod:`etl.privacy.identity`)."""

    salt: str | None = field(default=None, repr=False)
    raw_retention_days: int | None = None
    text_retention_days: int | None = None
    # TGPIPE_PSEUDONYMISE=1: the enriched layer and marts carry keyed hashes of user ids, no names
    # (etl.privacy.pseudonym); the key (a secret) from TGPIPE_PSEUDONYMISE_KEY or its SSM parameter.
    pseudonymise_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PrivacySettings:
        """Read TGPIPE_PRIVACY_SALT or TGPIPE_PRIVACY_SALT_PARAM, TGPIPE_RAW_RETENTION_DAYS,
        TGPIPE_TEXT_RETENTION_DAYS (all optional; no retention setting: kept until forgotten) and
        TGPIPE_PSEUDONYMISE with TGPIPE_PSEUDONYMISE_KEY or TGPIPE_PSEUDONYMISE_KEY_PARAM."""
        env = os.environ if env is None else env
        salt = env.get("TGPIPE_PRIVACY_SALT", "") or None
        if salt is None and (parameter := env.get("TGPIPE_PRIVACY_SALT_PARAM", "").strip()):
            salt = _salt_from_parameter(parameter)
        if salt is not None and len(salt) < 16:
            raise ConfigError("TGPIPE_PRIVACY_SALT must be at least 16 characters (a random secret)")
        days = {
            name: _int_setting(env, name, 0, 1, 36_500) or None
            for name in ("TGPIPE_RAW_RETENTION_DAYS", "TGPIPE_TEXT_RETENTION_DAYS")
        }
        return cls(
            salt=salt,
            raw_retention_days=days["TGPIPE_RAW_RETENTION_DAYS"],
            text_retention_days=days["TGPIPE_TEXT_RETENTION_DAYS"],
            pseudonymise_key=_pseudonymise_key(env),
        )


def _pseudonymise_key(env: Mapping[str, str]) -> str | None:
    """The key when TGPIPE_PSEUDONYMISE is 1 (None when it is unset or 0)."""
    flag = env.get("TGPIPE_PSEUDONYMISE", "").strip()
    if flag in ("", "0"):
        return None
    if flag != "1":
        raise ConfigError(f"TGPIPE_PSEUDONYMISE must be 1 or 0, got {flag!r}")
    key = env.get("TGPIPE_PSEUDONYMISE_KEY", "")
    if not key and (parameter := env.get("TGPIPE_PSEUDONYMISE_KEY_PARAM", "").strip()):
        from .secrets import SecretError, parameter_value

        try:
            key = parameter_value(parameter)
        except SecretError as exc:
            raise ConfigError(f"TGPIPE_PSEUDONYMISE_KEY_PARAM: {exc}") from None
    if len(key) < 16:
        raise ConfigError(
            "TGPIPE_PSEUDONYMISE=1 needs TGPIPE_PSEUDONYMISE_KEY (or TGPIPE_PSEUDONYMISE_KEY_PARAM): "
            "a random secret of at least 16 characters"
        )
    return key

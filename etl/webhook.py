"""Ingestion of one webhook delivery: authenticate, route, keep the exact bytes, answer.

Telegram retries any non-2xx answer for about a day and delivers one chat's updates strictly in
order, so one update answered 4xx/5xx blocks the whole chat. Hence:

=====================================  ======  ===============================================
delivery                               status  what is kept
=====================================  ======  ===============================================
missing or wrong secret header         401     nothing; the body is not even parsed
not a JSON object with an update_id    200     the exact bytes under ``_quarantine/``
no chat, or a chat not allowed         200     nothing
an update of an allowed chat           200     the exact bytes at ``context_date=D/<id>.json``
storage failed (either case above)     503     nothing acknowledged: Telegram retries
=====================================  ======  ===============================================

``D`` is the day of receipt in the configured time zone: a retry that arrives late lands in
today's partition, never in a day the ETL has already processed. A redelivered update overwrites
its own key, so one update_id is one object per day.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from .config import WebhookSettings
from .logs import get_logger, log_event
from .storage import Storage, StorageError, open_storage
from .telegram import MalformedUpdate, parse_update

__all__ = [
    "QUARANTINE_PREFIX",
    "SECRET_HEADER",
    "Webhook",
    "WebhookResult",
    "quarantine_key",
    "raw_key",
]

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
QUARANTINE_PREFIX: Final = "_quarantine/"

_log = get_logger("webhook")


def raw_key(update_id: int, day: date) -> str:
    """Where an update received on ``day`` is kept: ``context_date=2026-10-05/101.json``."""
    return f"context_date={day.isoformat()}/{update_id}.json"


def quarantine_key(body: bytes, day: date) -> str:
    """Where an unreadable delivery is kept; named by its hash, so a retry overwrites itself."""
    return f"{QUARANTINE_PREFIX}{day.isoformat()}/{hashlib.sha256(body).hexdigest()}.bin"


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of the secret header with the configured secret (never equal to none)."""
    if given is None or not expected:
        return False
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """The answer to one delivery and what became of it."""

    status: int
    outcome: str  # stored | quarantined | ignored_chat | no_chat | unauthorized | storage_error
    update_id: int | None = None
    chat_id: int | None = None
    key: str | None = None

    @property
    def body(self) -> str:
        # Never a body with a "method" key: Telegram would execute it as a Bot API call.
        return "" if self.status < 400 else self.outcome.replace("_", " ")


class Webhook:
    """The webhook's work for one configuration and one store."""

    def __init__(
        self,
        settings: WebhookSettings,
        storage: Storage,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.clock = clock

    @classmethod
    def from_env(cls, base_dir: str | os.PathLike[str] | None = None) -> Webhook:
        """Settings from the environment; a relative local lake path is taken relative to ``base_dir``."""
        settings = WebhookSettings.from_env()
        return cls(settings, open_storage(settings.raw_uri, base_dir=base_dir))

    def today(self) -> date:
        """The day of receipt in the configured time zone."""
        return datetime.fromtimestamp(self.clock(), self.settings.timezone).date()

    def handle(self, body: bytes, secret_header: str | None) -> WebhookResult:
        """Process one webhook delivery and log one line about it (ids, outcome, latency; no text)."""
        started = time.perf_counter()
        if not secret_matches(secret_header, self.settings.webhook_secret):
            reason = "missing" if secret_header is None else "wrong"
            result = WebhookResult(401, "unauthorized")
            self._log("webhook", result, logging.WARNING, f"{reason} secret header", body, started)
            return result
        return self.ingest(body, source="webhook", started=started)

    def ingest(self, body: bytes, *, source: str = "webhook", started: float | None = None) -> WebhookResult:
        """Keep one update that is already trusted (authenticated delivery, or fetched with getUpdates)."""
        started = time.perf_counter() if started is None else started
        result, level, note = self._ingest(body)
        self._log(source, result, level, note, body, started)
        return result

    def _log(
        self, source: str, result: WebhookResult, level: int, note: str | None, body: bytes, started: float
    ) -> None:
        log_event(
            _log,
            level,
            source,
            outcome=result.outcome,
            status=result.status,
            update_id=result.update_id,
            chat_id=result.chat_id,
            key=result.key,
            bytes=len(body),
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            note=note,
        )

    def _store(self, key: str, body: bytes) -> str | None:
        try:
            self.storage.put(key, body)
        except StorageError as exc:
            return str(exc)
        return None

    def _ingest(self, body: bytes) -> tuple[WebhookResult, int, str | None]:
        try:
            update = parse_update(body)
        except MalformedUpdate as exc:
            key = quarantine_key(body, self.today())
            error = self._store(key, body)
            if error is not None:
                return WebhookResult(503, "storage_error", key=key), logging.ERROR, error
            return WebhookResult(200, "quarantined", key=key), logging.ERROR, str(exc)

        allowed = self.settings.chat_ids
        if update.chat_id is None or update.chat_id not in allowed:
            outcome = "no_chat" if update.chat_id is None else "ignored_chat"
            result = WebhookResult(200, outcome, update.update_id, update.chat_id)
            if update.migrate_from_chat_id in allowed:
                return result, logging.WARNING, _migration_note(update.migrate_from_chat_id, update.chat_id)
            return result, logging.INFO, None

        key = raw_key(update.update_id, self.today())
        error = self._store(key, body)
        if error is not None:
            return (
                WebhookResult(503, "storage_error", update.update_id, update.chat_id, key),
                logging.ERROR,
                error,
            )
        result = WebhookResult(200, "stored", update.update_id, update.chat_id, key)
        if update.migrate_to_chat_id is not None and update.migrate_to_chat_id not in allowed:
            return result, logging.WARNING, _migration_note(update.chat_id, update.migrate_to_chat_id)
        return result, logging.INFO, None


def _migration_note(old: int | None, new: int | None) -> str:
    return (
        f"chat {old} was migrated to supergroup {new}: add {new} to TELEGRAM_CHAT_ID "
        "or its updates will be ignored"
    )

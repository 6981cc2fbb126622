"""Trusted ingestion: one update that is already authenticated (a webhook delivery that passed its
secret check, an element of a getUpdates answer) -> the raw lake, byte-exact.

=====================================  ======  ===============================================
update                                 status  what is kept
=====================================  ======  ===============================================
not a JSON object with an update_id    200     the exact bytes under ``_quarantine/``
no chat, or a chat not allowed         200     nothing
an update of an allowed chat           200     the exact bytes at ``context_date=D/<id>.json``
storage failed (either case above)     503     nothing acknowledged: Telegram retries
=====================================  ======  ===============================================

With an opt-out list (:mod:`etl.privacy.optout`): an ``/optout`` or ``/optin`` of an allowed chat is
stored like any update, then its marker (a failed marker is a 503: Telegram retries, the update
overwrites its own key); any other update *from* a member who opted out is answered 200 and not
stored (outcome ``opted_out``). When the list cannot be read the update is stored (the ETL leaves
out what slips through) and the log line says so.

``D`` is the day of receipt in the configured time zone (see :mod:`etl.lake`). A redelivered update
overwrites its own key, so one update_id is one object per day. The status is what the webhook
answers; `tgpipe poll` reads it the same way (5xx: not stored, fetch it again).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from ..config import IngestSettings
from ..lake import quarantine_key, raw_key
from ..logs import get_logger, log_event
from ..storage import Storage, StorageError
from ..telegram.update import MalformedUpdate, parse_update

if TYPE_CHECKING:
    from ..privacy.optout import OptOutList

__all__ = ["IngestResult", "Router"]

_log = get_logger("webhook")


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The answer to one delivery and what became of it."""

    status: int
    # stored | quarantined | ignored_chat | no_chat | opted_out | unauthorized | storage_error
    outcome: str
    update_id: int | None = None
    chat_id: int | None = None
    key: str | None = None

    @property
    def body(self) -> str:
        # Never a body with a "method" key: Telegram would execute it as a Bot API call.
        return "" if self.status < 400 else self.outcome.replace("_", " ")


class Router:
    """Routes trusted updates of the allowed chats into one raw store, and logs one line per update
    (ids, outcome, latency; never the text)."""

    def __init__(
        self,
        settings: IngestSettings,
        storage: Storage,
        clock: Callable[[], float] = time.time,
        optouts: OptOutList | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.clock = clock
        self.optouts = optouts

    def today(self) -> date:
        """The day of receipt in the configured time zone."""
        return datetime.fromtimestamp(self.clock(), self.settings.timezone).date()

    def ingest(self, body: bytes, *, source: str = "webhook", started: float | None = None) -> IngestResult:
        """Keep one trusted update; ``source`` names who received it in the log line."""
        started = time.perf_counter() if started is None else started
        result, level, note = self._ingest(body)
        self.log(source, result, level, note, body, started)
        return result

    def log(
        self, source: str, result: IngestResult, level: int, note: str | None, body: bytes, started: float
    ) -> None:
        """The one log line of a delivery."""
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

    def _ingest(self, body: bytes) -> tuple[IngestResult, int, str | None]:
        try:
            update = parse_update(body)
        except MalformedUpdate as exc:
            key = quarantine_key(body, self.today())
            error = self._store(key, body)
            if error is not None:
                return IngestResult(503, "storage_error", key=key), logging.ERROR, error
            return IngestResult(200, "quarantined", key=key), logging.ERROR, str(exc)

        allowed = self.settings.chat_ids
        if update.chat_id is None or update.chat_id not in allowed:
            outcome = "no_chat" if update.chat_id is None else "ignored_chat"
            result = IngestResult(200, outcome, update.update_id, update.chat_id)
            if update.migrate_from_chat_id in allowed:
                return result, logging.WARNING, _migration_note(update.migrate_from_chat_id, update.chat_id)
            return result, logging.INFO, None

        command, note = None, None
        if self.optouts is not None and update.sender_id is not None:
            from ..privacy.optout import optout_command

            command = optout_command(update)
            try:
                if command is None and self.optouts.excludes(update.sender_id):
                    return (
                        IngestResult(200, "opted_out", update.update_id, update.chat_id),
                        logging.INFO,
                        None,
                    )
            except StorageError as exc:
                note = f"opt-out list not read, update kept: {exc}"

        key = raw_key(update.update_id, self.today())
        error = self._store(key, body)
        if (
            error is None
            and command is not None
            and self.optouts is not None
            and update.sender_id is not None
        ):
            try:
                self.optouts.record(update.sender_id, update.update_id, command)
                note = f"{command} recorded"
            except StorageError as exc:
                error = f"{command} marker not stored: {exc}"
        if error is not None:
            return (
                IngestResult(503, "storage_error", update.update_id, update.chat_id, key),
                logging.ERROR,
                error,
            )
        result = IngestResult(200, "stored", update.update_id, update.chat_id, key)
        if note is not None:
            return result, logging.WARNING if note.startswith("opt-out") else logging.INFO, note
        if update.migrate_to_chat_id is not None and update.migrate_to_chat_id not in allowed:
            return result, logging.WARNING, _migration_note(update.chat_id, update.migrate_to_chat_id)
        return result, logging.INFO, None


def _migration_note(old: int | None, new: int | None) -> str:
    return (
        f"chat {old} was migrated to supergroup {new}: add {new} to TELEGRAM_CHAT_ID "
        "or its updates will be ignored"
    )

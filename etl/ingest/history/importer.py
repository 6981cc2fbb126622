"""Import a Telegram Desktop JSON export of one chat into the raw lake, as Bot API updates.

Bots cannot read history from before they joined; a group that wants its past in the lake exports
it from Telegram Desktop ("Export chat history", JSON) and imports the ``result.json``::

    summary = import_export("result.json", -1001234567890, open_storage("lake/raw"), ZoneInfo("UTC"))

Each message becomes the update the webhook would have stored (see :mod:`etl.ingest.history.convert` for
the shape and the update-id scheme): a ``message`` (``channel_post`` for channels) and, when the
message was edited, an ``edited_message`` with ``edit_date`` (the export keeps only the final text),
and when it has reactions, a ``message_reaction_count``. An update goes to
``context_date=D/{update_id}.json``, D being the day of the message (of the edit for an
``edited_message``) in the configured time zone: the "receipt" of history is its own time. The
object is compact UTF-8 JSON.

Nothing is dropped silently: a message with neither text nor media the export kept is imported
without content fields (the ETL types it ``other media``); entries the import cannot carry (games,
invoices, ``unsupported`` entries...) are counted by kind; a message dated before Telegram existed
is refused and named in :attr:`ImportSummary.refusals`; a message whose id an earlier entry of the
export already had is counted in ``skipped_repeated_ids`` (the first is imported), so
``updates_written`` counts distinct objects.

The file is read three times, each time streaming (see :mod:`etl.ingest.history.reader`): the
header, a scan that checks every message, then the import. A malformed export therefore raises
:class:`~etl.ingest.history.reader.ExportError` before anything is written.

People erased with `tgpipe forget` stay erased: the erasure records under ``_erasures/`` name them
by salted id hash, and every converted update is judged as `forget` judges a stored one
(:func:`etl.privacy.scrub.judge`): an erased person's messages, edits and reactions are not written
(``skipped_erased``), other messages are written without the copies of them (a reply to them, a
recent reactor, a text mention: ``rewritten_erased``).

Messages the webhook already stored are skipped: before writing, the raw days from the first
message's day to the last one's day + 1 (a delivery is received on its day or the next) are listed
and their objects fetched concurrently; a message whose chat and id appear in a stored ``message``
or ``channel_post`` is not imported. Objects with an update id in the import range are not fetched
(they are earlier imports), so rerunning an import overwrites the same keys and changes nothing.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from ...config import PrivacySettings
from ...lake import partition_prefix, raw_key, update_id_of_key
from ...logs import get_logger, log_event
from ...privacy.identity import Hasher
from ...privacy.records import erased_people
from ...privacy.scrub import REMOVE, Person, judge
from ...storage import ObjectNotFound, Storage
from ...telegram.update import MalformedUpdate, parse_update
from .convert import IMPORT_UPDATE_ID_FLOOR, ExportChat, MessageConverter
from .reader import ExportError, check_chat, messages, read_header, scan

__all__ = ["ImportSummary", "Refusal", "import_export"]

_log = get_logger("import")

_DEDUPE_KINDS: Final = ("message", "channel_post")


@dataclass(frozen=True, slots=True)
class Refusal:
    """A message the import refused: its id in the export, the reason's key and the reason in words."""

    export_id: int
    reason: str
    detail: str


@dataclass
class ImportSummary:
    """What an import did. ``updates_written`` counts distinct objects (message, edit and reactions
    updates); ``by_kind`` counts the imported messages by the ETL's message_type; ``refused`` counts
    the refused messages by reason (``refusals`` names them); ``local_times`` counts the messages with
    a time the export kept only as a local time, read in the export's time zone."""

    messages_read: int = 0
    updates_written: int = 0
    edits_written: int = 0
    reactions_written: int = 0
    skipped_duplicates: int = 0
    skipped_repeated_ids: int = 0
    skipped_unsupported: int = 0
    skipped_erased: int = 0  # updates of a person erased by `tgpipe forget`, not written
    rewritten_erased: int = 0  # updates written without an erased person's data
    local_times: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    unsupported_by_kind: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    refusals: list[Refusal] = field(default_factory=list)
    first_day: date | None = None
    last_day: date | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (days as ISO strings), for the command line's one-line summary."""
        return {
            "messages_read": self.messages_read,
            "updates_written": self.updates_written,
            "edits_written": self.edits_written,
            "reactions_written": self.reactions_written,
            "skipped_duplicates": self.skipped_duplicates,
            "skipped_repeated_ids": self.skipped_repeated_ids,
            "skipped_unsupported": self.skipped_unsupported,
            "skipped_erased": self.skipped_erased,
            "rewritten_erased": self.rewritten_erased,
            "local_times": self.local_times,
            "by_kind": dict(sorted(self.by_kind.items())),
            "unsupported_by_kind": dict(sorted(self.unsupported_by_kind.items())),
            "refused": dict(sorted(self.refused.items())),
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "last_day": self.last_day.isoformat() if self.last_day else None,
            "seconds": self.seconds,
        }


class _SeenIds:
    """The (chat, message id) pairs already imported in this run: one bit per message id, in 4 KiB
    pages of 32,768 ids allocated as ids reach them, so memory grows with the span of the ids (125
    bytes per 1,000 consecutive ids), not with the number of messages; a lone large id costs a page."""

    _PAGE_BITS: Final = 15

    def __init__(self) -> None:
        self._pages: dict[tuple[int, int], bytearray] = {}

    def add(self, chat_id: int, message_id: int) -> bool:
        """Mark the pair; False when it was marked already."""
        key = (chat_id, message_id >> self._PAGE_BITS)
        page = self._pages.get(key)
        if page is None:
            page = self._pages[key] = bytearray(1 << (self._PAGE_BITS - 3))
        byte, bit = divmod(message_id & ((1 << self._PAGE_BITS) - 1), 8)
        if page[byte] >> bit & 1:
            return False
        page[byte] |= 1 << bit
        return True


def _day_keys(raw: Storage, day: date) -> list[str]:
    """Keys of one raw day that may be webhook deliveries (imports are in the reserved id range)."""
    keys = []
    for key in raw.list(partition_prefix(day)):
        update_id = update_id_of_key(key)
        if update_id is not None and update_id < IMPORT_UPDATE_ID_FLOOR:
            keys.append(key)
    return keys


def _stored_message(raw: Storage, key: str, chats: frozenset[int]) -> tuple[int, int] | None:
    """(chat id, message id) of the new message a stored object holds, read as the ETL reads it."""
    try:
        update = parse_update(raw.get(key))
    except ObjectNotFound:
        return None  # deleted since it was listed
    except MalformedUpdate:
        return None  # the ETL reports such objects; they hold no message to compare
    if update.kind in _DEDUPE_KINDS and update.chat_id in chats:
        message_id: int = update.payload["message_id"]
        return update.chat_id, message_id
    return None


def _stored_messages(
    raw: Storage, chats: frozenset[int], first: date, last: date, workers: int
) -> set[tuple[int, int]]:
    """(chat id, message id) of the messages of ``chats`` stored in raw days ``first``..``last``."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    found: set[tuple[int, int]] = set()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for start in range(0, len(days), workers):  # a window of days at a time: bounded memory
            window = days[start : start + workers]
            keys = [key for day_keys in pool.map(lambda d: _day_keys(raw, d), window) for key in day_keys]
            for hit in pool.map(lambda k: _stored_message(raw, k, chats), keys):
                if hit is not None:
                    found.add(hit)
    return found


class _Writer:
    """Puts objects with a small thread pool, at most ``4 * workers`` in flight; the first storage
    error is raised (later puts are cancelled)."""

    def __init__(self, raw: Storage, workers: int) -> None:
        self._raw = raw
        self._pool = ThreadPoolExecutor(max_workers=workers)
        self._limit = 4 * workers
        self._pending: set[Future[None]] = set()

    def put(self, key: str, body: bytes) -> None:
        while len(self._pending) >= self._limit:
            done, self._pending = wait(self._pending, return_when=FIRST_COMPLETED)
            self._check(done)
        self._pending.add(self._pool.submit(self._raw.put, key, body))

    def _check(self, done: Iterable[Future[None]]) -> None:
        for future in done:
            future.result()

    def close(self, *, cancel: bool = False) -> None:
        try:
            if not cancel:
                self._check(wait(self._pending).done)
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _day(stamp: int, timezone: ZoneInfo) -> date:
    return datetime.fromtimestamp(stamp, timezone).date()


def _erased(raw: Storage, chats: frozenset[int], privacy: PrivacySettings) -> Person | None:
    """The people erased from these chats (or every chat), as one :class:`Person`; None if nobody."""
    people = erased_people(raw, chats)
    if not people:
        return None
    hasher = Hasher.for_lake(raw, privacy)
    return Person(lambda user_id: hasher(user_id) in people)


def import_export(
    path: str | os.PathLike[str],
    chat_id: int,
    raw: Storage,
    timezone: ZoneInfo,
    *,
    migrated_from_chat_id: int | None = None,
    export_timezone: ZoneInfo | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int = 16,
    privacy: PrivacySettings | None = None,
) -> ImportSummary:
    """Import the export at ``path`` as chat ``chat_id`` into ``raw``; see the module docstring.

    ``migrated_from_chat_id`` is the id of the basic group a supergroup was migrated from: with it,
    the migrated history at the start of the export is imported into that chat; without it, those
    messages are skipped (counted as unsupported ``migrated_history``). ``export_timezone`` reads the
    times older exports kept only as local times (default: ``timezone``). ``progress`` is called with
    the number of bytes each read returned; the calls add up to :func:`progress_total`. ``privacy``
    says how erased people's ids are hashed (default: with the lake's salt).
    Raises :class:`ExportError` (nothing written) for a file that is not such an export, and
    :class:`~etl.storage.StorageError` when the lake fails (a rerun completes the import)."""
    started = time.perf_counter()
    source = Path(path)
    if not source.is_file():
        raise ExportError(f"{source} does not exist or is not a file")
    header = read_header(source)
    chat_type = check_chat(source, header, chat_id)
    local_zone = export_timezone or timezone
    found = scan(source, progress, local_zone)
    chat = ExportChat(
        chat_id, chat_type, header.name, header.export_id, migrated_from_chat_id, found.migrated_from_title
    )
    converter = MessageConverter(chat, found.people, local_zone)

    chats = frozenset(c for c in (chat_id, migrated_from_chat_id) if c is not None)
    stored: set[tuple[int, int]] = set()
    if found.first is not None and found.last is not None:
        first_day, last_day = _day(found.first, timezone), _day(found.last, timezone) + timedelta(days=1)
        stored = _stored_messages(raw, chats, first_day, last_day, workers)

    erased = _erased(raw, chats, privacy or PrivacySettings())
    summary = ImportSummary()
    by_kind: Counter[str] = Counter()
    unsupported: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    days: set[date] = set()
    seen = _SeenIds()
    writer = _Writer(raw, workers)
    try:
        for _index, item in messages(source, progress):
            summary.messages_read += 1
            converted = converter.convert(item)
            summary.local_times += converted.local_time
            if converted.refused is not None:
                refused[converted.kind] += 1
                summary.refusals.append(Refusal(item["id"], converted.kind, converted.refused))
                continue
            if not converted.supported:
                unsupported[converted.kind] += 1
                continue
            chat_key, message_key = converted.chat_id or 0, converted.message_id or 0  # set when supported
            if not seen.add(chat_key, message_key):
                summary.skipped_repeated_ids += 1  # the first message with that id was imported
                continue
            if (chat_key, message_key) in stored:
                summary.skipped_duplicates += 1
                continue
            by_kind[converted.kind] += 1
            for stamp, converted_update in converted.updates:
                update = converted_update
                if erased is not None:
                    verdict = judge(update, erased)
                    if verdict.action == REMOVE:
                        summary.skipped_erased += 1
                        continue
                    if verdict.update is not None:
                        update = verdict.update
                        summary.rewritten_erased += 1
                day = _day(stamp, timezone)
                days.add(day)
                body = json.dumps(update, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                writer.put(raw_key(update["update_id"], day), body)
                summary.updates_written += 1
                if "message_reaction_count" in update:
                    summary.reactions_written += 1
                elif "message" not in update and "channel_post" not in update:
                    summary.edits_written += 1
    except BaseException:
        writer.close(cancel=True)
        raise
    writer.close()

    summary.refused = dict(sorted(refused.items()))
    summary.skipped_unsupported = sum(unsupported.values())
    summary.by_kind = dict(sorted(by_kind.items()))
    summary.unsupported_by_kind = dict(sorted(unsupported.items()))
    summary.first_day, summary.last_day = (min(days), max(days)) if days else (None, None)
    summary.seconds = round(time.perf_counter() - started, 3)
    log_event(
        _log,
        logging.INFO,
        "import",
        file=source.name,
        chat_id=chat_id,
        **summary.as_dict(),
    )
    return summary

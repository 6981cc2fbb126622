"""Import a Telegram Desktop JSON export of one chat into the raw lake, as Bot API updates.

Bots cannot read history from before they joined; a group that wants its past in the lake exports
it from Telegram Desktop ("Export chat history", JSON) and imports the ``result.json``::

    summary = import_export("result.json", -1001234567890, open_storage("lake/raw"), ZoneInfo("UTC"))

Each message becomes the update the webhook would have stored (see :mod:`etl.export_convert` for
the shape and the update-id scheme): a ``message`` (``channel_post`` for channels) and, when the
message was edited, an ``edited_message`` with ``edit_date`` (the export keeps only the final text).
An update goes to ``context_date=D/{update_id}.json``, D being the day of the message (of the edit
for an ``edited_message``) in the configured time zone: the "receipt" of history is its own time.
The object is compact UTF-8 JSON.

The file is read three times, each time streaming (memory does not grow with the file): the header
(``name``, ``type``, ``id`` before ``messages``), then a scan that checks every message, learns the
senders' names (service messages name members only by name) and the range of days, then the
import. A malformed export therefore raises :class:`ExportError` before anything is written.

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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Final
from zoneinfo import ZoneInfo

import ijson  # type: ignore[import-untyped]

from .export_convert import (
    CHANNEL_ID_OFFSET,
    IMPORT_UPDATE_ID_FLOOR,
    ExportChat,
    MessageConverter,
    People,
    bot_api_chat_type,
)
from .logs import get_logger, log_event
from .storage import ObjectNotFound, Storage
from .webhook import raw_key

__all__ = ["ExportError", "ImportSummary", "import_export", "progress_total"]

_log = get_logger("import")

_DEDUPE_KINDS: Final = ("message", "channel_post")
_HINT: Final = "is it the result.json of Telegram Desktop's 'Export chat history' in JSON format?"


class ExportError(ValueError):
    """The file is not a Telegram Desktop JSON export of one chat we can import; nothing was written."""


@dataclass
class ImportSummary:
    """What an import did. ``by_kind`` counts the imported messages by the ETL's message_type."""

    messages_read: int = 0
    updates_written: int = 0
    edits_written: int = 0
    skipped_duplicates: int = 0
    skipped_unsupported: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    unsupported_by_kind: dict[str, int] = field(default_factory=dict)
    first_day: date | None = None
    last_day: date | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (days as ISO strings), for the command line's one-line summary."""
        return {
            "messages_read": self.messages_read,
            "updates_written": self.updates_written,
            "edits_written": self.edits_written,
            "skipped_duplicates": self.skipped_duplicates,
            "skipped_unsupported": self.skipped_unsupported,
            "by_kind": dict(sorted(self.by_kind.items())),
            "unsupported_by_kind": dict(sorted(self.unsupported_by_kind.items())),
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "last_day": self.last_day.isoformat() if self.last_day else None,
            "seconds": self.seconds,
        }


def progress_total(path: str | os.PathLike[str]) -> int:
    """The sum of the increments :func:`import_export` reports: the file is streamed twice in full."""
    return 2 * Path(path).stat().st_size


class _Reader:
    """A binary file that reports how many bytes each read returned."""

    def __init__(self, fh: IO[bytes], progress: Callable[[int], None] | None) -> None:
        self._fh = fh
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        if self._progress is not None and data:
            self._progress(len(data))
        return data


@dataclass(frozen=True, slots=True)
class _Header:
    name: str | None
    chat_type: str | None
    export_id: int | None


def _read_header(path: Path) -> _Header:
    """``name``, ``type`` and ``id`` of a single-chat export, read up to the start of ``messages``."""
    values: dict[str, Any] = {}
    with path.open("rb") as fh:
        try:
            events = ijson.parse(fh)
            first = next(events, None)
            if first is None or first[1] != "start_map":
                raise ExportError(f"{path.name} is not a JSON object: {_HINT}")
            for prefix, event, value in events:
                if prefix in ("name", "type", "id") and event in ("string", "number", "null"):
                    values[prefix] = value
                elif prefix == "messages" and event in ("start_map", "string", "number", "boolean", "null"):
                    raise ExportError(f'{path.name}: "messages" is not a list: {_HINT}')
                elif prefix == "messages" and event == "start_array":
                    break
                elif prefix == "" and event == "map_key" and value in ("chats", "personal_information"):
                    raise ExportError(
                        f"{path.name} is an export of a whole account; export one chat's history instead "
                        "(in the chat's menu: Export chat history, format JSON)"
                    )
            else:
                raise ExportError(f'{path.name} has no "messages" list: {_HINT}')
        except ijson.JSONError as exc:
            raise ExportError(f"{path.name} is not valid JSON: {_HINT}") from exc
    export_id = values.get("id")
    return _Header(
        name=values.get("name") if isinstance(values.get("name"), str) else None,
        chat_type=values.get("type") if isinstance(values.get("type"), str) else None,
        export_id=int(export_id) if isinstance(export_id, int) else None,
    )


def _messages(path: Path, progress: Callable[[int], None] | None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every entry of ``messages`` with its position, streamed; JSON errors become :class:`ExportError`."""
    with path.open("rb") as fh:
        items = ijson.items(_Reader(fh, progress), "messages.item", use_float=True)
        index = 0
        while True:
            try:
                item = next(items)
            except StopIteration:
                return
            except ijson.JSONError as exc:
                raise ExportError(f"{path.name} is not valid JSON: {_HINT}") from exc
            if not isinstance(item, dict):
                raise ExportError(f"{path.name}: message #{index} is not a JSON object")
            yield index, item
            index += 1


def _message_time(path: Path, index: int, item: dict[str, Any]) -> int:
    """The message's Unix time, checking the fields every message of an export has."""
    message_id = item.get("id")
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise ExportError(f'{path.name}: message #{index} has no integer "id"')
    if item.get("type") == "unsupported":  # Telegram Desktop writes only the id of those
        return 0
    stamp = item.get("date_unixtime")
    if isinstance(stamp, str) and stamp.isdigit():
        return int(stamp)
    if isinstance(stamp, int) and not isinstance(stamp, bool) and stamp >= 0:
        return stamp
    raise ExportError(
        f'{path.name}: message {message_id} has no "date_unixtime"; '
        "export again with a recent Telegram Desktop (older versions wrote local times only)"
    )


def _expected_chat_id(chat_type: str, export_id: int) -> int:
    if chat_type in ("supergroup", "channel"):
        return -(CHANNEL_ID_OFFSET + export_id)
    return -export_id if chat_type == "group" else export_id


def _check_chat(path: Path, header: _Header, chat_id: int) -> str:
    if header.chat_type is None:
        raise ExportError(f'{path.name} has no chat "type": {_HINT}')
    chat_type = bot_api_chat_type(header.chat_type)
    if chat_type is None:
        raise ExportError(
            f"{path.name} is an export of a {header.chat_type!r} chat, which cannot be imported "
            "(groups, supergroups, channels and private chats can)"
        )
    if header.export_id is not None and _expected_chat_id(chat_type, header.export_id) != chat_id:
        raise ExportError(
            f"{path.name} is the export of chat {_expected_chat_id(chat_type, header.export_id)} "
            f"({header.chat_type} {header.export_id}), not of chat {chat_id}"
        )
    return chat_type


@dataclass
class _Scan:
    messages: int = 0
    first: int | None = None
    last: int | None = None
    people: People = field(default_factory=People)
    migrated_from_title: str | None = None


def _scan(path: Path, progress: Callable[[int], None] | None) -> _Scan:
    scan = _Scan()
    for index, item in _messages(path, progress):
        scan.messages += 1
        stamp = _message_time(path, index, item)
        if stamp:
            scan.first = stamp if scan.first is None else min(scan.first, stamp)
            scan.last = stamp if scan.last is None else max(scan.last, stamp)
        scan.people.add(item.get("from"), item.get("from_id"))
        scan.people.add(item.get("actor"), item.get("actor_id"))
        if item.get("action") == "migrate_from_group" and isinstance(item.get("title"), str):
            scan.migrated_from_title = item["title"]
    return scan


def _day_keys(raw: Storage, day: date) -> list[str]:
    """Keys of one raw day that may be webhook deliveries (imports are in the reserved id range)."""
    keys = []
    for key in raw.list(f"context_date={day.isoformat()}/"):
        name = key.rsplit("/", 1)[-1]
        stem = name.removesuffix(".json")
        if name.endswith(".json") and stem.isdigit() and int(stem) < IMPORT_UPDATE_ID_FLOOR:
            keys.append(key)
    return keys


def _stored_message(raw: Storage, key: str, chats: frozenset[int]) -> tuple[int, int] | None:
    try:
        update = json.loads(raw.get(key))
    except ObjectNotFound:
        return None  # deleted since it was listed
    except (ValueError, RecursionError):
        return None  # not JSON: the ETL reports such objects, they hold no message to compare
    if not isinstance(update, dict):
        return None
    for kind in _DEDUPE_KINDS:
        message = update.get(kind)
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            chat_id, message_id = message["chat"].get("id"), message.get("message_id")
            if chat_id in chats and isinstance(message_id, int):
                return chat_id, message_id
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


def import_export(
    path: str | os.PathLike[str],
    chat_id: int,
    raw: Storage,
    timezone: ZoneInfo,
    *,
    migrated_from_chat_id: int | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int = 16,
) -> ImportSummary:
    """Import the export at ``path`` as chat ``chat_id`` into ``raw``; see the module docstring.

    ``migrated_from_chat_id`` is the id of the basic group a supergroup was migrated from: with it,
    the migrated history at the start of the export is imported into that chat; without it, those
    messages are skipped (counted as unsupported ``migrated_history``). ``progress`` is called with
    the number of bytes each read returned; the calls add up to :func:`progress_total`.
    Raises :class:`ExportError` (nothing written) for a file that is not such an export, and
    :class:`~etl.storage.StorageError` when the lake fails (a rerun completes the import)."""
    started = time.perf_counter()
    source = Path(path)
    if not source.is_file():
        raise ExportError(f"{source} does not exist or is not a file")
    header = _read_header(source)
    chat_type = _check_chat(source, header, chat_id)
    scan = _scan(source, progress)
    chat = ExportChat(
        chat_id, chat_type, header.name, header.export_id, migrated_from_chat_id, scan.migrated_from_title
    )
    converter = MessageConverter(chat, scan.people)

    chats = frozenset(c for c in (chat_id, migrated_from_chat_id) if c is not None)
    stored: set[tuple[int, int]] = set()
    if scan.first is not None and scan.last is not None:
        first_day, last_day = _day(scan.first, timezone), _day(scan.last, timezone) + timedelta(days=1)
        stored = _stored_messages(raw, chats, first_day, last_day, workers)

    summary = ImportSummary()
    by_kind: Counter[str] = Counter()
    unsupported: Counter[str] = Counter()
    days: set[date] = set()
    writer = _Writer(raw, workers)
    try:
        for _index, item in _messages(source, progress):
            summary.messages_read += 1
            converted = converter.convert(item)
            if not converted.supported:
                unsupported[converted.kind] += 1
                continue
            if (converted.chat_id, converted.message_id) in stored:
                summary.skipped_duplicates += 1
                continue
            by_kind[converted.kind] += 1
            for stamp, update in converted.updates:
                day = _day(stamp, timezone)
                days.add(day)
                body = json.dumps(update, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                writer.put(raw_key(update["update_id"], day), body)
                summary.updates_written += 1
                if "message" not in update and "channel_post" not in update:
                    summary.edits_written += 1
    except BaseException:
        writer.close(cancel=True)
        raise
    writer.close()

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
        **{k: v for k, v in summary.as_dict().items() if k not in ("by_kind", "unsupported_by_kind")},
        by_kind=summary.by_kind,
        unsupported_by_kind=summary.unsupported_by_kind,
    )
    return summary

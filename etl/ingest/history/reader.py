"""Reading a Telegram Desktop JSON export (``result.json`` of "Export chat history"), streaming.

The file is read in passes, each streaming with ijson (memory does not grow with the file): the
header (``name``, ``type``, ``id`` before ``messages``), then a scan that checks every message, learns
the senders' and reactors' names (service messages name members only by name) and the range of
days; the import
(:mod:`etl.ingest.history.importer`) then streams the messages once more. A malformed export raises
:class:`ExportError` before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final
from zoneinfo import ZoneInfo

import ijson  # type: ignore[import-untyped]

from ...errors import TgpipeError
from .convert import CHANNEL_ID_OFFSET, TELEGRAM_EPOCH, People, bot_api_chat_type, export_time

__all__ = ["ExportError", "Header", "Scan", "check_chat", "messages", "progress_total", "read_header", "scan"]

_HINT: Final = "is it the result.json of Telegram Desktop's 'Export chat history' in JSON format?"


class ExportError(TgpipeError, ValueError):
    """The file is not a Telegram Desktop JSON export of one chat we can import; nothing was written."""


def progress_total(path: str | os.PathLike[str]) -> int:
    """The sum of the increments the import reports to its ``progress``: the file is streamed twice."""
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
class Header:
    """What an export says of its chat."""

    name: str | None
    chat_type: str | None
    export_id: int | None


def read_header(path: Path) -> Header:
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
    return Header(
        name=values.get("name") if isinstance(values.get("name"), str) else None,
        chat_type=values.get("type") if isinstance(values.get("type"), str) else None,
        export_id=int(export_id) if isinstance(export_id, int) else None,
    )


def messages(path: Path, progress: Callable[[int], None] | None) -> Iterator[tuple[int, dict[str, Any]]]:
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


def message_time(path: Path, index: int, item: dict[str, Any], zone: ZoneInfo) -> int | None:
    """The message's Unix time (its local time read in ``zone`` when the export kept only that),
    checking the integer ``id`` every message of an export has; None for entries without a date
    (``unsupported`` ones, and messages the import refuses)."""
    message_id = item.get("id")
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise ExportError(f'{path.name}: message #{index} has no integer "id"')
    if item.get("type") == "unsupported":  # Telegram Desktop writes only the id of those
        return None
    stamp, _ = export_time(item, "date", zone)
    return stamp if stamp is not None and stamp >= TELEGRAM_EPOCH else None


def _expected_chat_id(chat_type: str, export_id: int) -> int:
    if chat_type in ("supergroup", "channel"):
        return -(CHANNEL_ID_OFFSET + export_id)
    return -export_id if chat_type == "group" else export_id


def check_chat(path: Path, header: Header, chat_id: int) -> str:
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
class Scan:
    """What a first pass over the messages learned."""

    messages: int = 0
    first: int | None = None
    last: int | None = None
    people: People = field(default_factory=People)
    migrated_from_title: str | None = None


def _reactors(item: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The ``recent`` entries of a message's reactions."""
    reactions = item.get("reactions")
    for reaction in reactions if isinstance(reactions, list) else []:
        recent = reaction.get("recent") if isinstance(reaction, dict) else None
        yield from (r for r in recent if isinstance(r, dict)) if isinstance(recent, list) else ()


def scan(path: Path, progress: Callable[[int], None] | None, zone: ZoneInfo) -> Scan:
    """Check every message of the export and learn what the import needs before it writes."""
    found = Scan()
    for index, item in messages(path, progress):
        found.messages += 1
        stamp = message_time(path, index, item, zone)
        if stamp is not None:
            found.first = stamp if found.first is None else min(found.first, stamp)
            found.last = stamp if found.last is None else max(found.last, stamp)
        found.people.add(item.get("from"), item.get("from_id"))
        found.people.add(item.get("actor"), item.get("actor_id"))
        for reactor in _reactors(item):
            found.people.add(reactor.get("from"), reactor.get("from_id"))
        if item.get("action") == "migrate_from_group" and isinstance(item.get("title"), str):
            found.migrated_from_title = item["title"]
    return found

"""Reading the dbt marts on DuckDB for the report: which schema holds them, which chat, and every row
the charts of one chat need, typed, in one short read-only session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from ..errors import TgpipeError

__all__ = ["MARTS", "Chat", "ReportData", "ReportError", "read_marts"]

MARTS = (
    "chats",
    "daily_messages",
    "user_daily_activity",
    "daily_message_length",
    "hourly_activity",
    "message_types",
    "bot_commands",
    "top_terms",
    "reply_times",
    "member_changes",
)
TOP_ITEMS = 12  # bars in the commands and terms charts


class ReportError(TgpipeError):
    """The report cannot be built (no database, no marts, no such chat); the message says why."""


@dataclass(frozen=True)
class Chat:
    """One row of the chats mart."""

    chat_id: int
    title: str | None
    chat_type: str
    messages: int
    users: int

    @property
    def label(self) -> str:
        """'-100123 (Title)' on one line, for error messages (plain text, not HTML)."""
        title = "".join(c if c.isprintable() else " " for c in self.title or "no title")
        title = " ".join(title.split())
        return f"{self.chat_id} ({title})"


def read_marts(db: Path, chat_id: int | None) -> tuple[Chat, ReportData]:
    """The chat (``chat_id``, or the only chat in the lake) and its data, from the marts in ``db``."""
    con = _connect(db)
    try:
        schema = _mart_schema(con, db)
        chat = _pick_chat(_chats(con, schema), chat_id, db)
        return chat, ReportData(con, schema, chat.chat_id)
    except duckdb.Error as exc:  # e.g. marts built by an older version of the dbt project
        raise ReportError(f"cannot read the marts in {db}: {_first_line(exc)}: run dbt build again") from None
    finally:
        con.close()


def _connect(db: Path) -> duckdb.DuckDBPyConnection:
    if not db.is_file():
        raise ReportError(f"no marts in {db}: run dbt build first")
    try:
        return duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        raise ReportError(f"cannot open {db}: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _mart_schema(con: duckdb.DuckDBPyConnection, db: Path) -> str:
    """The schema holding the marts (dbt's target schema), looked up rather than assumed."""
    rows = con.execute(
        "select table_schema, list(table_name) from information_schema.tables "
        "where table_catalog = current_database() and table_name in ? group by 1",
        [list(MARTS)],
    ).fetchall()
    if not rows:
        raise ReportError(f"no marts in {db}: run dbt build first")
    schema, tables = max(rows, key=lambda r: (len(r[1]), r[0] == "main", r[0]))
    missing = [m for m in MARTS if m not in tables]
    if missing:
        raise ReportError(f"{db} lacks the marts {', '.join(missing)}: run dbt build first")
    return str(schema)


def _chats(con: duckdb.DuckDBPyConnection, schema: str) -> list[Chat]:
    rows = _query(
        con, schema, "select chat_id, chat_title, chat_type, messages, users from {s}.chats order by 1"
    )
    return [Chat(int(r[0]), r[1], str(r[2]), int(r[3] or 0), int(r[4] or 0)) for r in rows]


def _pick_chat(chats: list[Chat], chat_id: int | None, db: Path) -> Chat:
    if chat_id is not None:
        for chat in chats:
            if chat.chat_id == chat_id:
                return chat
        known = ", ".join(c.label for c in chats) or "none"
        raise ReportError(f"chat {chat_id} is not in {db} (chats: {known})")
    if not chats:
        raise ReportError(f"no chats in {db}: the marts are empty (run the ETL and dbt build first)")
    if len(chats) > 1:
        listed = ", ".join(c.label for c in chats)
        raise ReportError(f"{db} holds {len(chats)} chats, pick one with --chat-id: {listed}")
    return chats[0]


def _query(con: duckdb.DuckDBPyConnection, schema: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """``sql`` with ``{s}`` standing for the marts' schema (a quoted identifier); values are parameters."""
    quoted = '"' + schema.replace('"', '""') + '"'
    return con.execute(sql.replace("{s}", quoted), list(params)).fetchall()


class ReportData:
    """Everything the charts of one chat need, read in one short read-only session."""

    def __init__(self, con: duckdb.DuckDBPyConnection, schema: str, chat_id: int) -> None:
        def rows(sql: str, *extra: object) -> list[tuple[Any, ...]]:
            return _query(con, schema, sql, chat_id, *extra)

        self.daily = rows(
            "select message_date, messages, active_users, edits from {s}.daily_messages "
            "where chat_id = ? order by 1"
        )
        self.user_days = rows(
            "select message_date, user_id, first_name, username, messages from {s}.user_daily_activity "
            "where chat_id = ? order by 1, 2"
        )
        self.lengths = rows(
            "select message_date, text_messages, avg_length, min_length, max_length "
            "from {s}.daily_message_length where chat_id = ? order by 1"
        )
        self.hourly = rows(
            "select day_of_week, hour_of_day, messages from {s}.hourly_activity where chat_id = ?"
        )
        self.types = rows(
            "select message_type, sum(messages) from {s}.message_types where chat_id = ? "
            "group by 1 order by 2 desc, 1"
        )
        self.commands = rows(
            "select bot_command, sum(uses) from {s}.bot_commands where chat_id = ? "
            "group by 1 order by 2 desc, 1 limit ?",
            TOP_ITEMS,
        )
        self.terms = rows(
            "select term, sum(uses) from {s}.top_terms where chat_id = ? "
            "group by 1 order by 2 desc, 1 limit ?",
            TOP_ITEMS,
        )
        self.replies = rows(
            "select message_date, messages, replied_messages, reply_rate, median_minutes_to_first_reply "
            "from {s}.reply_times where chat_id = ? order by 1"
        )
        self.members = rows(
            "select message_date, joined_members, left_members from {s}.member_changes "
            "where chat_id = ? order by 1"
        )
        days = [r[0] for t in (self.daily, self.members, self.replies) for r in t]
        self.start: date | None = min(days, default=None)
        self.end: date | None = max(days, default=None)

"""Reading the dbt marts on DuckDB for the report: which schema holds them, which chat, and every row
the charts of one chat need, typed, in one short read-only session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from ..errors import TgpipeError

__all__ = [
    "ENGAGEMENT_MARTS",
    "MARTS",
    "QUESTION_MARTS",
    "REPORT_MARTS",
    "Chat",
    "ReportData",
    "ReportError",
    "read_marts",
]

# The marts every report needs: without one of them the database is not a tgpipe build.
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
# Marts of later versions of the dbt project (issue 12): a database built before them still gets a
# report, their sections showing a "no data" panel that says which mart is missing.
ENGAGEMENT_MARTS = ("active_users", "retention_cohorts", "daily_reactions", "reply_pairs", "member_roster")
QUESTION_MARTS = ("daily_questions", "question_topics", "questions")
OPTIONAL_MARTS = ENGAGEMENT_MARTS + QUESTION_MARTS
REPORT_MARTS = MARTS + OPTIONAL_MARTS  # every mart the report reads: its dbt exposure's depends_on
TOP_ITEMS = 12  # bars in the commands, terms, reactions, repliers, topics and silent members charts
SILENT_DAYS = 5  # a member who posted, is still in the chat and has not posted for this many days
UNANSWERED_ROWS = 10  # the most recent unanswered questions listed


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
        schema, optional = _mart_schema(con, db)
        chat = _pick_chat(_chats(con, schema), chat_id, db)
        return chat, ReportData(con, schema, chat.chat_id, optional)
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


def _mart_schema(con: duckdb.DuckDBPyConnection, db: Path) -> tuple[str, frozenset[str]]:
    """The schema holding the marts (dbt's target schema), looked up rather than assumed, and which of
    the optional marts it holds."""
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
    present = con.execute(
        "select list(table_name) from information_schema.tables "
        "where table_catalog = current_database() and table_schema = ? and table_name in ?",
        [schema, list(OPTIONAL_MARTS)],
    ).fetchone()
    return str(schema), frozenset(present[0] if present and present[0] else ())


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

    def __init__(
        self, con: duckdb.DuckDBPyConnection, schema: str, chat_id: int, optional: frozenset[str]
    ) -> None:
        def rows(sql: str, *extra: object) -> list[tuple[Any, ...]]:
            return _query(con, schema, sql, chat_id, *extra)

        def rows_of(mart: str, sql: str, *extra: object) -> list[tuple[Any, ...]]:
            """Rows of an optional mart, none when the database lacks it."""
            return rows(sql, *extra) if mart in optional else []

        self.absent = tuple(m for m in OPTIONAL_MARTS if m not in optional)  # marts of a later build

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
        # Engagement
        self.active = rows_of(
            "active_users",
            "select message_date, dau, wau, mau, new_users from {s}.active_users "
            "where chat_id = ? order by 1",
        )
        self.retention = rows_of(
            "retention_cohorts",
            "select cohort_week, weeks_since, cohort_users, active_users from {s}.retention_cohorts "
            "where chat_id = ? order by 1, 2",
        )
        self.reactions = rows_of(
            "daily_reactions",
            "select reaction, sum(added), sum(removed), sum(net) from {s}.daily_reactions "
            "where chat_id = ? group by 1 order by 2 desc, 1 limit ?",
            TOP_ITEMS,
        )
        self.repliers = rows_of(
            "reply_pairs",
            "select replier_user_id, sum(replies), count(distinct replied_to_user_id) from {s}.reply_pairs "
            "where chat_id = ? group by 1 order by 2 desc, 1 limit ?",
            TOP_ITEMS,
        )
        self.silent = rows_of(
            "member_roster",
            "select user_id, days_silent, last_message_at, messages from {s}.member_roster "
            "where chat_id = ? and days_silent >= ? and is_member is not false "
            "order by 2 desc, 4 desc, 1 limit ?",
            SILENT_DAYS,
            TOP_ITEMS,
        )
        # Questions
        self.daily_questions = rows_of(
            "daily_questions",
            "select asked_date, questions, answered, resolved, unanswered, answered_by_bot, "
            "answered_by_people, median_minutes_to_first_answer, answer_rate, resolution_rate "
            "from {s}.daily_questions where chat_id = ? order by 1",
        )
        self.topics = rows_of(
            "question_topics",
            "select topic, sum(questions), sum(answered), sum(resolved), sum(unanswered) "
            "from {s}.question_topics where chat_id = ? group by 1 order by 2 desc, 1 limit ?",
            TOP_ITEMS,
        )
        self.unanswered = rows_of(
            "questions",
            "select asked_date, asked_at, user_id, topic, question_text from {s}.questions "
            "where chat_id = ? and status = 'unanswered' order by asked_at desc, message_id desc limit ?",
            UNANSWERED_ROWS,
        )
        dated = (self.daily, self.members, self.replies, self.active, self.daily_questions)
        days = [r[0] for t in dated for r in t]
        self.start: date | None = min(days, default=None)
        self.end: date | None = max(days, default=None)

"""`tgpipe report`: the HTML report built from the DuckDB marts, its chat selection, errors and CLI.

The marts are created here with SQL in a real DuckDB file, with exactly the columns of the dbt
models' YAML (every file under dbt_project/models/marts, checked below, types too where a contract
declares them), so every expected figure is known. A browser test opens the report in headless
Chromium.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from etl.cli import main
from etl.demo.traffic import Traffic
from etl.report.build import ReportSummary, build_report
from etl.report.marts import ENGAGEMENT_MARTS, MARTS, REPORT_MARTS, ReportError
from tests.helpers import ROOT

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
CHAT = -1001234567890
OTHER = -1009876543210
D = date(2026, 10, 5)  # a Monday

# The marts' columns, in the order and with the DuckDB types a real `dbt build` gives them
# (count_if is a HUGEINT on DuckDB 2).
MART_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "chats": [
        ("chat_id", "BIGINT"),
        ("chat_title", "VARCHAR"),
        ("chat_type", "VARCHAR"),
        ("first_message_date", "DATE"),
        ("last_message_date", "DATE"),
        ("messages", "HUGEINT"),
        ("users", "BIGINT"),
    ],
    "daily_messages": [
        ("chat_id", "BIGINT"),
        ("message_date", "DATE"),
        ("messages", "BIGINT"),
        ("active_users", "BIGINT"),
        ("text_messages", "HUGEINT"),
        ("media_messages", "HUGEINT"),
        ("forwarded_messages", "HUGEINT"),
        ("edits", "BIGINT"),
    ],
    "user_daily_activity": [
        ("chat_id", "BIGINT"),
        ("message_date", "DATE"),
        ("user_id", "BIGINT"),
        ("first_name", "VARCHAR"),
        ("username", "VARCHAR"),
        ("is_bot", "BOOLEAN"),
        ("messages", "BIGINT"),
        ("text_messages", "HUGEINT"),
        ("avg_text_length", "DOUBLE"),
    ],
    "daily_message_length": [
        ("chat_id", "BIGINT"),
        ("message_date", "DATE"),
        ("text_messages", "BIGINT"),
        ("avg_length", "DOUBLE"),
        ("min_length", "BIGINT"),
        ("max_length", "BIGINT"),
    ],
    "hourly_activity": [
        ("chat_id", "BIGINT"),
        ("day_of_week", "INTEGER"),
        ("hour_of_day", "INTEGER"),
        ("day_name", "VARCHAR"),
        ("messages", "BIGINT"),
        ("active_users", "BIGINT"),
        ("active_days", "BIGINT"),
    ],
    "message_types": [
        ("chat_id", "BIGINT"),
        ("message_date", "DATE"),
        ("message_type", "VARCHAR"),
        ("messages", "BIGINT"),
        ("users", "BIGINT"),
    ],
    "bot_commands": [
        ("chat_id", "BIGINT"),
        ("message_date", "DATE"),
        ("bot_command", "VARCHAR"),
        ("uses", "BIGINT"),
        ("users", "BIGINT"),
    ],
    "top_terms": [
        ("chat_id", "BIGINT"),
        ("message_date", "DATE"),
        ("term_rank", "BIGINT"),
        ("term", "VARCHAR"),
        ("uses", "BIGINT"),
        ("messages", "BIGINT"),
        ("users", "BIGINT"),
    ],
    "reply_times": [
        ("chat_id", "BIGINT"),
        ("message_date", "DATE"),
        ("messages", "BIGINT"),
        ("replied_messages", "HUGEINT"),
        ("reply_rate", "DOUBLE"),
        ("median_minutes_to_first_reply", "DOUBLE"),
        ("avg_minutes_to_first_reply", "DOUBLE"),
    ],
    "member_changes": [
        ("chat_id", "BIGINT"),
        ("message_date", "DATE"),
        ("joined_members", "BIGINT"),
        ("left_members", "BIGINT"),
        ("net_change", "BIGINT"),
    ],
    # The engagement marts (_marts__engagement.yml; contracts enforced, so these are its types).
    "active_users": [
        ("chat_id", "BIGINT"),
        ("message_date", "DATE"),
        ("dau", "BIGINT"),
        ("wau", "BIGINT"),
        ("mau", "BIGINT"),
        ("new_users", "BIGINT"),
    ],
    "retention_cohorts": [
        ("chat_id", "BIGINT"),
        ("cohort_week", "DATE"),
        ("weeks_since", "INTEGER"),
        ("activity_week", "DATE"),
        ("cohort_users", "BIGINT"),
        ("active_users", "BIGINT"),
    ],
    "daily_reactions": [
        ("chat_id", "BIGINT"),
        ("message_date", "DATE"),
        ("reaction", "VARCHAR"),
        ("added", "BIGINT"),
        ("removed", "BIGINT"),
        ("net", "BIGINT"),
    ],
    "reply_pairs": [
        ("chat_id", "BIGINT"),
        ("replier_user_id", "BIGINT"),
        ("replied_to_user_id", "BIGINT"),
        ("replies", "BIGINT"),
        ("first_reply_at", "TIMESTAMP"),
        ("last_reply_at", "TIMESTAMP"),
    ],
    "member_roster": [
        ("chat_id", "BIGINT"),
        ("user_id", "BIGINT"),
        ("first_seen_at", "TIMESTAMP"),
        ("joined_at", "TIMESTAMP"),
        ("left_at", "TIMESTAMP"),
        ("is_member", "BOOLEAN"),
        ("messages", "BIGINT"),
        ("reactions_given", "BIGINT"),
        ("last_message_at", "TIMESTAMP"),
        ("days_silent", "BIGINT"),
    ],
    # The questions marts (questions/_questions__models.yml; contracts enforced).
    "daily_questions": [
        ("chat_id", "BIGINT"),
        ("asked_date", "DATE"),
        ("questions", "BIGINT"),
        ("answered", "BIGINT"),
        ("resolved", "BIGINT"),
        ("unanswered", "BIGINT"),
        ("answered_by_bot", "BIGINT"),
        ("answered_by_people", "BIGINT"),
        ("median_minutes_to_first_answer", "DOUBLE"),
        ("answer_rate", "DOUBLE"),
        ("resolution_rate", "DOUBLE"),
    ],
    "question_topics": [
        ("chat_id", "BIGINT"),
        ("asked_date", "DATE"),
        ("topic", "VARCHAR"),
        ("questions", "BIGINT"),
        ("answered", "BIGINT"),
        ("resolved", "BIGINT"),
        ("unanswered", "BIGINT"),
    ],
    "questions": [
        ("chat_id", "BIGINT"),
        ("message_id", "BIGINT"),
        ("user_id", "BIGINT"),
        ("asked_at", "TIMESTAMP"),
        ("asked_date", "DATE"),
        ("question_text", "VARCHAR"),
        ("topic", "VARCHAR"),
        ("first_answer_message_id", "BIGINT"),
        ("first_answer_user_id", "BIGINT"),
        ("first_answer_is_bot", "BOOLEAN"),
        ("first_answer_at", "TIMESTAMP"),
        ("minutes_to_first_answer", "DOUBLE"),
        ("answers", "BIGINT"),
        ("resolved_at", "TIMESTAMP"),
        ("resolved_by", "VARCHAR"),
        ("status", "VARCHAR"),
    ],
}

Rows = dict[str, list[tuple[Any, ...]]]


def create_marts(db: Path, rows: Rows, schema: str = "main", tables: Sequence[str] = REPORT_MARTS) -> Path:
    """A DuckDB file with the mart tables in ``schema``, filled with ``rows``."""
    con = duckdb.connect(str(db))
    try:
        con.execute(f'create schema if not exists "{schema}"')
        for table in tables:
            columns = MART_COLUMNS[table]
            con.execute(f'create table "{schema}".{table} ({", ".join(f"{c} {t}" for c, t in columns)})')
            if rows.get(table):
                marks = ", ".join("?" * len(columns))
                insert = f'insert into "{schema}".{table} values ({marks})'  # noqa: S608 - test's own names
                con.executemany(insert, rows[table])
    finally:
        con.close()
    return db


def day(n: int) -> date:
    return D + timedelta(days=n)


def at(n: int, hour: int, minute: int) -> datetime:
    """A naive UTC timestamp (as the marts' TIMESTAMP columns give them) on day ``n``."""
    return datetime.combine(day(n), time(hour, minute))


LONG_QUESTION = "x" * 300 + "?"
# A question's columns after its topic: first answer (message, user, is_bot, at, minutes), answers,
# resolved (at, by), status; 99 is the bot.
RESOLVED = (2, 99, True, at(0, 9, 1), 1.0, 1, at(0, 9, 10), "message", "resolved")
ANSWERED = (4, 10, False, at(0, 10, 8), 8.0, 1, None, None, "answered")
UNANSWERED = (None, None, None, None, None, 0, None, None, "unanswered")


def known_rows() -> Rows:
    """A chat whose every figure is known: 5-8 Oct 2026, no messages on the 7th, only edits on the 8th."""
    c = CHAT
    return {
        "chats": [(c, HOSTILE, "supergroup", day(0), day(1), 8, 2)],
        "daily_messages": [
            (c, day(0), 5, 2, 4, 1, 0, 1),
            (c, day(1), 3, 2, 3, 0, 0, 0),
            (c, day(3), 0, 0, 0, 0, 0, 2),
        ],
        "user_daily_activity": [
            (c, day(0), 10, HOSTILE, "evil", False, 3, 3, 10.0),
            (c, day(0), 11, "Bia", None, False, 2, 1, 20.0),
            (c, day(1), 10, HOSTILE, "evil", False, 1, 1, 5.0),
            (c, day(1), 11, "Bia", None, False, 2, 2, 25.0),
        ],
        "daily_message_length": [(c, day(0), 4, 12.5, 2, 30), (c, day(1), 3, 20.0, 5, 41)],
        "hourly_activity": [(c, 1, 9, "Monday", 5, 2, 1), (c, 2, 21, "Tuesday", 3, 2, 1)],
        "message_types": [
            (c, day(0), "text", 4, 2),
            (c, day(0), "photo", 1, 1),
            (c, day(1), "text", 3, 2),
        ],
        "bot_commands": [
            (c, day(0), "/help", 2, 2),
            (c, day(1), "/help", 1, 1),
            (c, day(1), "/start", 1, 1),
        ],
        "top_terms": [
            (c, day(0), 1, HOSTILE, 3, 2, 2),
            (c, day(0), 2, "boleto", 2, 2, 1),
            (c, day(1), 1, "boleto", 4, 3, 2),
        ],
        "reply_times": [(c, day(0), 5, 2, 0.4, 10.0, 12.0), (c, day(1), 3, 0, 0.0, None, None)],
        "member_changes": [(c, day(0), 2, 0, 2), (c, day(3), 1, 1, 0)],
        "active_users": [(c, day(0), 2, 2, 2, 2), (c, day(1), 2, 2, 2, 0)],
        "retention_cohorts": [(c, day(0), 0, day(0), 2, 2)],
        "daily_reactions": [
            (c, day(0), "👍", 3, 1, 2),
            (c, day(1), "👍", 1, 0, 1),
            (c, day(1), "🔥", 2, 0, 2),
            (c, day(1), "custom:5368324170671202286", 1, 1, 0),
        ],
        "reply_pairs": [
            (c, 11, 10, 2, at(0, 9, 5), at(1, 21, 2)),
            (c, 10, 11, 1, at(0, 9, 30), at(0, 9, 30)),
        ],
        "member_roster": [  # nobody silent for five days in four days: see test_members_gone_silent
            (c, 10, at(0, 9, 0), at(0, 8, 0), None, True, 4, 0, at(1, 21, 40), 0),
            (c, 11, at(0, 9, 1), None, None, None, 4, 3, at(1, 21, 2), 0),
            (c, 12, at(3, 10, 0), at(3, 10, 0), at(3, 10, 5), False, 0, 0, None, None),
        ],
        "daily_questions": [
            (c, day(0), 3, 2, 1, 1, 1, 1, 4.5, 2 / 3, 1 / 3),
            (c, day(1), 2, 0, 0, 2, 0, 0, None, 0.0, 0.0),
        ],
        "question_topics": [
            (c, day(0), "boleto", 2, 2, 1, 0),
            (c, day(0), "other", 1, 0, 0, 1),
            (c, day(1), "boleto", 1, 0, 0, 1),
            (c, day(1), HOSTILE, 1, 0, 0, 1),
        ],
        "questions": [
            (
                c,
                1,
                10,
                at(0, 9, 0),
                day(0),
                "Como pago o boleto?",
                "boleto",
                *(2, 99, True, at(0, 9, 1), 1.0),
                1,
                at(0, 9, 10),
                "message",
                "resolved",
            ),
            (
                c,
                3,
                11,
                at(0, 10, 0),
                day(0),
                "E o prazo do boleto?",
                "boleto",
                *(4, 10, False, at(0, 10, 8)),
                8.0,
                1,
                None,
                None,
                "answered",
            ),
            (c, 5, 10, at(0, 23, 50), day(0), "alguém?", "other", *UNANSWERED),
            (c, 7, 11, at(1, 9, 0), day(1), f"{HOSTILE} como?\nlinha 2\x1b[31m", HOSTILE, *UNANSWERED),
            (c, 8, 10, at(1, 9, 0), day(1), LONG_QUESTION, "boleto", *UNANSWERED),
        ],
    }


@pytest.fixture
def known_db(tmp_path: Path) -> Path:
    return create_marts(tmp_path / "tgpipe.duckdb", known_rows())


@pytest.fixture
def known_report(known_db: Path, tmp_path: Path) -> tuple[ReportSummary, str]:
    summary = build_report(known_db, None, tmp_path / "out" / "report.html")
    return summary, summary.out_path.read_text(encoding="utf-8")


class _Marks(HTMLParser):
    """Per chart (figure id): its state and the hover text of each mark, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.state: dict[str, str] = {}
        self.marks: dict[str, list[str]] = {}
        self._figure: str | None = None
        self._in_mark_title = False
        self._mark_open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "figure":
            self._figure = str(a["id"]).removeprefix("chart-")
            self.state[self._figure] = str(a["data-state"])
            self.marks[self._figure] = []
        elif self._figure and a.get("class") == "mark":
            self._mark_open = True
        elif tag == "title" and self._mark_open:
            self._in_mark_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_mark_title = False
            self._mark_open = False
        elif tag == "figure":
            self._figure = None

    def handle_data(self, data: str) -> None:
        if self._in_mark_title and self._figure:
            self.marks[self._figure].append(data)


def parse_marks(page: str) -> _Marks:
    parser = _Marks()
    parser.feed(page)
    return parser


ENGAGEMENT_CHARTS = ("active-users", "retention", "reactions", "top-repliers", "silent-members")
QUESTION_CHARTS = ("question-rates", "answer-times", "answered-by", "question-topics", "unanswered-questions")
CHARTS = (
    "daily-messages",
    "user-messages",
    "message-length",
    "member-changes",
    *ENGAGEMENT_CHARTS,
    "heatmap",
    "reply-rate",
    "reply-times",
    *QUESTION_CHARTS,
    "message-types",
    "bot-commands",
    "top-terms",
)
KNOWN_EMPTY = ("silent-members",)  # the known chat's charts without data
DRAWN = tuple(c for c in CHARTS if c not in KNOWN_EMPTY)


def documented_marts() -> dict[str, list[tuple[str, str | None]]]:
    """Every model of every YAML file under models/marts: its columns and their contract types."""
    models: dict[str, list[tuple[str, str | None]]] = {}
    for path in sorted((ROOT / "dbt_project/models/marts").rglob("*.yml")):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            assert model["name"] not in models, f"{model['name']} documented twice"
            models[model["name"]] = [(c["name"], c.get("data_type")) for c in model["columns"]]
    return models


def test_test_schema_is_the_dbt_contract() -> None:
    """The tables built here are the marts the report reads, with exactly the columns their dbt YAML
    documents and, where a contract declares them, its types."""
    documented = documented_marts()
    assert set(MART_COLUMNS) == set(REPORT_MARTS)
    for mart, columns in MART_COLUMNS.items():
        assert sorted(c for c, _ in columns) == sorted(c for c, _ in documented[mart]), mart
        typed = {c: t.upper() for c, t in documented[mart] if t}
        assert typed == {c: t for c, t in columns if c in typed}, mart


def test_exposure_depends_on_every_mart_the_report_reads() -> None:
    """dbt's exposure of the HTML report names exactly the marts the report reads, in its order."""
    spec = yaml.safe_load((ROOT / "dbt_project/models/marts/_marts__exposures.yml").read_text())
    (exposure,) = spec["exposures"]
    assert (exposure["name"], exposure["type"]) == ("html_report", "dashboard")
    assert exposure["depends_on"] == [f"ref('{m}')" for m in REPORT_MARTS]


def test_summary_of_the_only_chat(known_report: tuple[ReportSummary, str], tmp_path: Path) -> None:
    """With one chat in the lake and no chat id, that chat is reported and the summary says what was drawn."""
    summary, _ = known_report
    assert summary == ReportSummary(
        out_path=tmp_path / "out" / "report.html",
        chat_id=CHAT,
        chat_title=HOSTILE,
        first_date=day(0),
        last_date=day(3),
        messages=8,
        users=2,
        charts=DRAWN,
        empty_charts=KNOWN_EMPTY,
    )


def test_report_file_replaced_whole(known_db: Path, tmp_path: Path) -> None:
    """A rerun replaces the file, leaves no temporary file behind, and the file is readable by others."""
    out = tmp_path / "r.html"
    out.write_text("old")
    build_report(known_db, None, out)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "tgpipe.duckdb"]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # an ordinary file, not a private temp file


def test_report_is_self_contained(known_report: tuple[ReportSummary, str]) -> None:
    """The file references nothing outside itself: no src/href, no script, no stylesheet link, no URL."""
    _, page = known_report
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"\b(src|href|srcset|xlink:href)\s*=", page, re.IGNORECASE)
    assert not re.search(r"<(script|link|iframe|img|object|embed)\b", page, re.IGNORECASE)
    assert "url(" not in page
    assert "@import" not in page
    assert "http://" not in page
    assert "https://" not in page


def test_hostile_text_is_escaped(known_report: tuple[ReportSummary, str]) -> None:
    """A chat title, a user name and a term holding markup appear as text, never as markup."""
    _, page = known_report
    assert HOSTILE not in page
    assert "<script" not in page.lower()
    assert f"<title>{ESCAPED} · tgpipe report</title>" in page
    assert f'<h1 id="chat-title">{ESCAPED}</h1>' in page
    assert f'<span class="swatch" style="background:#4263eb"></span>{ESCAPED}</li>' in page  # legend
    assert 'text-anchor="end">&lt;script&gt;alert(1…</text>' in page  # term label, shortened
    marks = parse_marks(page).marks
    assert marks["top-terms"][1] == f"{HOSTILE}: 3 uses"  # the parser decodes the entities back


@pytest.mark.parametrize(
    ("chart", "titles"),
    [
        pytest.param(
            "daily-messages",
            ["Mon 5 Oct 2026: 5 messages", "Tue 6 Oct 2026: 3 messages"],
            id="one-bar-per-day-with-messages",
        ),
        pytest.param(
            "user-messages",
            [
                f"Mon 5 Oct 2026 · {HOSTILE}: 3 messages",
                "Mon 5 Oct 2026 · Bia: 2 messages",
                f"Tue 6 Oct 2026 · {HOSTILE}: 1 messages",
                "Tue 6 Oct 2026 · Bia: 2 messages",
            ],
            id="stacked-per-user",
        ),
        pytest.param(
            "message-length",
            [
                "Mon 5 Oct 2026: 12 characters on average (4 texts, 2–30 characters)",
                "Tue 6 Oct 2026: 20 characters on average (3 texts, 5–41 characters)",
            ],
            id="a-dot-per-day-with-texts",
        ),
        pytest.param(
            "member-changes",
            ["Mon 5 Oct 2026: 2 joined", "Thu 8 Oct 2026: 1 joined", "Thu 8 Oct 2026: 1 left"],
            id="joins-up-leaves-down",
        ),
        pytest.param(
            "reply-rate",
            [
                "Mon 5 Oct 2026: 40% replied (2 of 5 messages answered)",
                "Tue 6 Oct 2026: 0% replied (0 of 3 messages answered)",
            ],
            id="zero-rate-still-marked",
        ),
        pytest.param(
            "reply-times",
            ["Mon 5 Oct 2026: 10 min (median) (2 of 5 messages answered)"],
            id="only-days-with-a-reply",
        ),
        pytest.param(
            "active-users",
            [
                "Mon 5 Oct 2026 · monthly: 2 people (2 new)",
                "Tue 6 Oct 2026 · monthly: 2 people",
                "Mon 5 Oct 2026 · weekly: 2 people (2 new)",
                "Tue 6 Oct 2026 · weekly: 2 people",
                "Mon 5 Oct 2026 · daily: 2 people (2 new)",
                "Tue 6 Oct 2026 · daily: 2 people",
            ],
            id="mau-wau-dau-daily-on-top",
        ),
        pytest.param(
            "retention",
            ["Cohort of Mon 5 Oct 2026 (2 people), week 0: 2 active (100%)"],
            id="a-cell-per-cohort-week",
        ),
        pytest.param(
            "reactions",
            [
                "👍: 4 added (1 taken back, net +3)",
                "🔥: 2 added (0 taken back, net +2)",
                "custom:5368324170671202286: 1 added (1 taken back, net +0)",
            ],
            id="reactions-summed",
        ),
        pytest.param(
            "top-repliers",
            ["Bia: 2 replies (to 1 person)", f"{HOSTILE}: 1 replies (to 1 person)"],
            id="repliers-by-name",
        ),
        pytest.param(
            "question-rates",
            [
                "Mon 5 Oct 2026 · answered: 67% (2 answered, 1 resolved of 3 questions)",
                "Tue 6 Oct 2026 · answered: 0% (0 answered, 0 resolved of 2 questions)",
                "Mon 5 Oct 2026 · resolved: 33% (2 answered, 1 resolved of 3 questions)",
                "Tue 6 Oct 2026 · resolved: 0% (0 answered, 0 resolved of 2 questions)",
            ],
            id="answer-and-resolution-rates",
        ),
        pytest.param(
            "answer-times",
            ["Mon 5 Oct 2026: 4.5 min (median) (2 of 3 questions answered)"],
            id="only-days-with-an-answer",
        ),
        pytest.param(
            "answered-by",
            ["Mon 5 Oct 2026 · bot: 1 questions", "Mon 5 Oct 2026 · people: 1 questions"],
            id="bot-and-people-stacked",
        ),
        pytest.param(
            "question-topics",
            [
                "boleto: 3 questions (2 answered, 1 resolved, 1 unanswered)",
                f"{HOSTILE}: 1 questions (0 answered, 0 resolved, 1 unanswered)",
                "other: 1 questions (0 answered, 0 resolved, 1 unanswered)",
            ],
            id="topics-summed",
        ),
        pytest.param("message-types", ["text: 7 messages", "photo: 1 messages"], id="types-summed"),
        pytest.param("bot-commands", ["/help: 3 uses", "/start: 1 uses"], id="commands-summed"),
        pytest.param("top-terms", ["boleto: 6 uses", f"{HOSTILE}: 3 uses"], id="terms-summed"),
    ],
)
def test_chart_marks(known_report: tuple[ReportSummary, str], chart: str, titles: list[str]) -> None:
    """Each chart draws one mark per data point of the known marts, with its figures as hover text."""
    _, page = known_report
    parsed = parse_marks(page)
    assert parsed.state[chart] == "chart"
    assert parsed.marks[chart] == titles


def test_unanswered_questions_table(known_report: tuple[ReportSummary, str]) -> None:
    """The most recent unanswered questions, newest first, each cell escaped, the text on one line and
    cut after 280 characters; answered and resolved questions are not listed."""
    _, page = known_report
    table = re.search(r'id="chart-unanswered-questions" data-state="table">.*?(<table.*?</table>)', page)
    assert table is not None
    assert table[1] == (
        '<table class="list"><thead><tr><th scope="col" class="col-asked">Asked</th>'
        '<th scope="col" class="col-by">By</th><th scope="col" class="col-topic">Topic</th>'
        '<th scope="col" class="col-question">Question</th></tr></thead><tbody>'
        f'<tr class="row"><td>Tue 6 Oct 2026</td><td>{ESCAPED}</td><td>boleto</td>'
        f"<td>{'x' * 279}…</td></tr>"
        f'<tr class="row"><td>Tue 6 Oct 2026</td><td>Bia</td><td>{ESCAPED}</td>'
        f"<td>{ESCAPED} como? linha 2 [31m</td></tr>"
        f'<tr class="row"><td>Mon 5 Oct 2026</td><td>{ESCAPED}</td><td>other</td>'
        "<td>alguém?</td></tr>"
        "</tbody></table>"
    )


def test_unanswered_questions_are_the_ten_latest(tmp_path: Path) -> None:
    """Of twelve unanswered questions the ten most recent are listed, the latest first."""
    rows = known_rows()
    rows["questions"] = [
        (CHAT, n, 11, at(0, n, 0), day(0), f"q{n}?", "other", *UNANSWERED) for n in range(12)
    ]
    page = build_report(create_marts(tmp_path / "t.duckdb", rows), None, tmp_path / "r.html").out_path
    cells = re.findall(r"<td>(q\d+\?)</td></tr>", page.read_text(encoding="utf-8"))
    assert cells == [f"q{n}?" for n in range(11, 1, -1)]


def test_members_gone_silent(tmp_path: Path) -> None:
    """Members who posted but not for five days or more, longest silent first (then most messages): not
    those who left, posted lately or never posted; a member without a name in the marts is 'user <id>'."""
    rows = known_rows()
    rows["member_roster"] = [
        (CHAT, 10, at(-30, 9, 0), None, None, True, 4, 0, at(-11, 8, 30), 12),
        (CHAT, 11, at(-30, 9, 0), None, None, None, 30, 0, at(-8, 23, 59), 9),
        (CHAT, 12, at(-30, 9, 0), None, None, None, 9, 0, at(-11, 10, 0), 12),
        (CHAT, 13, at(-30, 9, 0), at(-30, 9, 0), at(-2, 9, 0), False, 50, 0, at(-19, 10, 0), 20),
        (CHAT, 14, at(-30, 9, 0), None, None, True, 5, 0, at(-4, 10, 0), 4),
        (CHAT, 15, at(-30, 9, 0), at(-30, 9, 0), None, True, 0, 2, None, None),
    ]
    summary = build_report(create_marts(tmp_path / "t.duckdb", rows), None, tmp_path / "r.html")
    assert parse_marks(summary.out_path.read_text(encoding="utf-8")).marks["silent-members"] == [
        "user 12: 12 days silent (last message Thu 24 Sep 2026 10:00 UTC, 9 messages in all)",
        f"{HOSTILE}: 12 days silent (last message Thu 24 Sep 2026 08:30 UTC, 4 messages in all)",
        "Bia: 9 days silent (last message Sun 27 Sep 2026 23:59 UTC, 30 messages in all)",
    ]
    assert summary.empty_charts == ()


@pytest.mark.parametrize(
    "tables",
    [
        pytest.param(MARTS, id="before-engagement-and-questions"),
        pytest.param(MARTS + ENGAGEMENT_MARTS, id="before-questions"),
    ],
)
def test_older_build_shows_what_is_missing(tmp_path: Path, tables: tuple[str, ...]) -> None:
    """A database built before the engagement or questions marts still gets a report: their charts
    show a panel naming the missing mart, the rest are drawn as before."""
    db = create_marts(tmp_path / "t.duckdb", known_rows(), tables=tables)
    summary = build_report(db, None, tmp_path / "r.html")
    missing = {
        "active-users": "active_users",
        "retention": "retention_cohorts",
        "reactions": "daily_reactions",
        "top-repliers": "reply_pairs",
        "silent-members": "member_roster",
        "question-rates": "daily_questions",
        "answer-times": "daily_questions",
        "answered-by": "daily_questions",
        "question-topics": "question_topics",
        "unanswered-questions": "questions",
    }
    absent = {chart: mart for chart, mart in missing.items() if mart not in tables}
    assert summary.empty_charts == tuple(c for c in CHARTS if c in absent or c in KNOWN_EMPTY)
    assert summary.charts == tuple(c for c in DRAWN if c not in absent)
    panels = dict(
        re.findall(
            r'id="chart-([a-z-]+)" data-state="empty">.*?<div class="empty">([^<]*)</div>',
            summary.out_path.read_text(encoding="utf-8"),
        )
    )
    expected = {
        chart: f"This database has no {mart} mart (built by an older tgpipe): run dbt build again."
        for chart, mart in absent.items()
    }
    if "member_roster" in tables:
        expected["silent-members"] = "Everyone who posted did so in the last 5 days."
    assert panels == expected


def test_heatmap_has_a_cell_per_weekday_and_hour(known_report: tuple[ReportSummary, str]) -> None:
    """The heat map has 7 x 24 cells; only the two busy ones are coloured, the darkest the busiest."""
    _, page = known_report
    cells = parse_marks(page).marks["heatmap"]
    assert len(cells) == 168
    busy = [t for t in cells if not t.endswith(": 0 messages")]
    assert busy == ["Mon 09:00–09:59: 5 messages", "Tue 21:00–21:59: 3 messages"]
    figure = page[page.index('id="chart-heatmap"') :]
    assert figure.count('fill="#f1f3f5"><title>') == 166
    assert 'fill="#1b2466"><title>Mon 09:00–09:59: 5 messages' in figure


def test_header_and_key_figures(known_report: tuple[ReportSummary, str]) -> None:
    """The header gives the type, chat id and date range; the key figures add up the marts."""
    _, page = known_report
    assert (
        '<p class="meta" id="period">supergroup · chat id -1001234567890 · '
        "Mon 5 Oct 2026 – Thu 8 Oct 2026 · 4 days</p>"
    ) in page
    kpis = re.findall(
        r'<span class="kpi-label">([^<]*)</span><span class="kpi-value">([^<]*)</span>'
        r'<span class="kpi-note">([^<]*)</span>',
        page,
    )
    assert kpis == [
        ("Messages", "8", "new, edits excluded"),
        ("Active users", "2", "sent at least one message"),
        ("Active days", "2", "of 4 in the period"),
        ("Busiest hour", "09:00", "5 messages, local time"),
        ("Replied", "25%", "2 of 8 messages"),
        ("Members", "+2", "3 joined, 1 left"),
    ]


def test_empty_charts_show_a_no_data_panel(tmp_path: Path) -> None:
    """A chat with only joins gets its member chart and a clear panel, not a broken chart, everywhere else."""
    db = create_marts(
        tmp_path / "t.duckdb",
        {
            "chats": [(CHAT, "Quiet", "group", None, None, 0, 0)],
            "member_changes": [(CHAT, day(0), 3, 0, 3)],
        },
    )
    summary = build_report(db, CHAT, tmp_path / "r.html")
    page = summary.out_path.read_text(encoding="utf-8")
    assert summary.charts == ("member-changes",)
    assert summary.empty_charts == tuple(c for c in CHARTS if c != "member-changes")
    parsed = parse_marks(page)
    assert parsed.marks["member-changes"] == ["Mon 5 Oct 2026: 3 joined"]
    assert all(parsed.marks[c] == [] for c in summary.empty_charts)
    assert '<div class="empty">No messages in this period.</div>' in page
    assert '<div class="empty">No bot commands in this period.</div>' in page
    assert page.count('<div class="empty">') == len(CHARTS) - 1
    assert page.count("<svg") == 1


def test_chat_without_any_dated_row(tmp_path: Path) -> None:
    """A chat known only by its title (no dated row yet) still gets a report, every chart empty."""
    db = create_marts(tmp_path / "t.duckdb", {"chats": [(CHAT, None, "channel", None, None, 0, 0)]})
    summary = build_report(db, None, tmp_path / "r.html")
    page = summary.out_path.read_text(encoding="utf-8")
    assert (summary.first_date, summary.last_date, summary.charts) == (None, None, ())
    assert '<h1 id="chat-title">Chat -1001234567890</h1>' in page
    assert "channel · chat id -1001234567890 · no messages yet" in page


def two_chats(tmp_path: Path) -> Path:
    rows = known_rows()
    rows["chats"].append((OTHER, "Canal\nde\x1b[31m avisos", "channel", day(0), day(0), 1, 0))
    rows["daily_messages"].append((OTHER, day(9), 1, 0, 1, 0, 0, 0))
    return create_marts(tmp_path / "two.duckdb", rows)


def test_several_chats_need_a_chat_id(tmp_path: Path) -> None:
    """Several chats and no chat id: one line listing every chat's id and title."""
    db = two_chats(tmp_path)
    with pytest.raises(ReportError) as caught:
        build_report(db, None, tmp_path / "r.html")
    assert str(caught.value) == (
        f"{db} holds 2 chats, pick one with --chat-id: "
        f"-1009876543210 (Canal de [31m avisos), -1001234567890 ({HOSTILE})"
    )
    assert not (tmp_path / "r.html").exists()


def test_chat_id_picks_one_of_several(tmp_path: Path) -> None:
    """With a chat id, only that chat's rows are drawn (its dates, not the other chat's)."""
    db = two_chats(tmp_path)
    summary = build_report(db, CHAT, tmp_path / "r.html")
    assert (summary.chat_id, summary.first_date, summary.last_date) == (CHAT, day(0), day(3))
    other = build_report(db, OTHER, tmp_path / "o.html")
    assert (other.chat_title, other.first_date, other.last_date) == (
        "Canal\nde\x1b[31m avisos",
        day(9),
        day(9),
    )
    assert parse_marks(other.out_path.read_text()).marks["daily-messages"] == ["Wed 14 Oct 2026: 1 messages"]


@pytest.mark.parametrize(
    ("make", "chat_id", "message"),
    [
        pytest.param(
            lambda p: p / "missing.duckdb", None, "no marts in {db}: run dbt build first", id="no-database"
        ),
        pytest.param(
            lambda p: create_marts(p / "t.duckdb", {}, tables=()),
            None,
            "no marts in {db}: run dbt build first",
            id="no-marts",
        ),
        pytest.param(
            lambda p: create_marts(p / "t.duckdb", {}, tables=MARTS[:8]),
            None,
            "{db} lacks the marts reply_times, member_changes: run dbt build first",
            id="marts-missing",
        ),
        pytest.param(
            lambda p: create_marts(p / "t.duckdb", {}),
            None,
            "no chats in {db}: the marts are empty (run the ETL and dbt build first)",
            id="no-chats",
        ),
        pytest.param(
            lambda p: create_marts(p / "t.duckdb", known_rows()),
            42,
            f"chat 42 is not in {{db}} (chats: -1001234567890 ({HOSTILE}))",
            id="unknown-chat",
        ),
    ],
)
def test_errors(tmp_path: Path, make: Any, chat_id: int | None, message: str) -> None:
    """Each way of having nothing to report is one clear line naming the database, and writes no file."""
    db = make(tmp_path)
    with pytest.raises(ReportError) as caught:
        build_report(db, chat_id, tmp_path / "r.html")
    assert str(caught.value) == message.format(db=db)
    assert not (tmp_path / "r.html").exists()


def test_not_a_duckdb_file(tmp_path: Path) -> None:
    """A file that is not a DuckDB database is reported as such, on one line."""
    db = tmp_path / "t.duckdb"
    db.write_text("not a database\n" * 100)
    with pytest.raises(ReportError) as caught:
        build_report(db, None, tmp_path / "r.html")
    assert str(caught.value).startswith(f"cannot open {db}: ")
    assert "\n" not in str(caught.value)


def test_marts_of_another_shape(tmp_path: Path) -> None:
    """Marts without a column the report reads (an older dbt build) give one clear line, not a traceback."""
    db = create_marts(tmp_path / "t.duckdb", known_rows())
    con = duckdb.connect(str(db))
    con.execute("alter table main.reply_times drop column reply_rate")
    con.close()
    with pytest.raises(ReportError) as caught:
        build_report(db, None, tmp_path / "r.html")
    message = str(caught.value)
    assert message.startswith(f"cannot read the marts in {db}: Binder Error: ")
    assert message.endswith(": run dbt build again")
    assert "\n" not in message


def test_marts_found_in_the_schema_dbt_wrote(tmp_path: Path) -> None:
    """The marts are looked up in information_schema: a target schema other than main works too."""
    db = create_marts(tmp_path / "t.duckdb", known_rows(), schema="analytics")
    assert build_report(db, None, tmp_path / "r.html").charts == DRAWN


def test_database_is_opened_read_only(known_db: Path, tmp_path: Path) -> None:
    """Building a report leaves the database unchanged and usable by a writer afterwards."""
    before = known_db.read_bytes()
    build_report(known_db, None, tmp_path / "r.html")
    assert known_db.read_bytes() == before
    duckdb.connect(str(known_db)).close()


# --- the command line -------------------------------------------------------------------------


def test_cli_report(known_db: Path, tmp_path: Path) -> None:
    """`tgpipe report` writes the file, prints one summary line and names the charts without data."""
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", "--db", str(known_db), "--out", str(out)])
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        f"report of chat {CHAT} (2026-10-05 to 2026-10-08, 8 messages from 2 users) -> {out}\n",
        "no data for: silent-members\n",
    )
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_cli_default_paths(known_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --db the database is TGPIPE_DUCKDB_PATH; without --out the file is lake/report.html."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TGPIPE_DUCKDB_PATH", str(known_db))
    result = CliRunner().invoke(main, ["report", "--chat-id", str(CHAT)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "lake" / "report.html").is_file()


def test_cli_default_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no TGPIPE_DUCKDB_PATH the database is lake/tgpipe.duckdb; its absence is one clear error."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TGPIPE_DUCKDB_PATH", raising=False)
    result = CliRunner().invoke(main, ["report"])
    assert (result.exit_code, result.output) == (
        1,
        "Error: no marts in lake/tgpipe.duckdb: run dbt build first\n",
    )


def test_cli_several_chats(tmp_path: Path) -> None:
    """Several chats and no --chat-id: exit 1 with the list of chats."""
    db = two_chats(tmp_path)
    result = CliRunner().invoke(main, ["report", "--db", str(db), "--out", str(tmp_path / "r.html")])
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {db} holds 2 chats, pick one with --chat-id: "
        f"-1009876543210 (Canal de [31m avisos), -1001234567890 ({HOSTILE})\n",
    )


def test_cli_reports_charts_without_data(tmp_path: Path) -> None:
    """Charts without data are named on stderr, the report is still written."""
    db = create_marts(tmp_path / "t.duckdb", {"chats": [(OTHER, "Canal", "channel", None, None, 0, 0)]})
    result = CliRunner().invoke(main, ["report", "--db", str(db), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0
    assert (
        result.stdout
        == f"report of chat {OTHER} (no messages yet, 0 messages from 0 users) -> {tmp_path / 'r.html'}\n"
    )
    assert result.stderr == f"no data for: {', '.join(CHARTS)}\n"


def test_cli_help_ends_with_an_example() -> None:
    """The help text ends with a runnable example."""
    result = CliRunner().invoke(main, ["report", "--help"])
    assert result.exit_code == 0
    help_text = result.output.split("Options:")[0].rstrip()
    assert help_text.endswith("Example:\n      tgpipe report --chat-id -1001234567890 --out lake/report.html")


# --- in a real browser ------------------------------------------------------------------------


def realistic_rows(days: int = 21, seed: int = 7) -> Rows:
    """Three weeks of a lively group, generated per message (etl.demo.traffic) and aggregated like the
    marts; one sender and one word are hostile markup."""
    traffic = Traffic(ZoneInfo("UTC"), seed=seed)
    rng = traffic.rng
    people = [
        {"id": uid, "is_bot": False, "first_name": name, **({"username": username} if username else {})}
        for uid, name, username in [
            (101, "Ana", "ana_s"),
            (102, "Bruno", "bruno"),
            (103, "Carla", None),
            (104, "Diego", "dgo"),
            (105, "Emma", "emma"),
            (106, "Fernanda", None),
            (107, "Gus", "gus"),
            (108, "Helena", "helena"),
            (109, "Ícaro", None),
            (110, HOSTILE, "evil"),
        ]
    ]
    weights = [30, 22, 15, 12, 9, 7, 5, 4, 3, 2]
    kinds = ["text"] * 16 + ["photo"] * 3 + ["sticker"] * 2 + ["voice", "video", "document", "animation"]
    commands = ["/help", "/start", "/boleto", "/status", "/faq"]
    words = [
        "boleto",
        "pagamento",
        "prazo",
        "reunião",
        "obrigado",
        "amanhã",
        "meeting",
        "deploy",
        "cliente",
        "invoice",
        "entrega",
        "bug",
        "release",
        "café",
        HOSTILE,
    ]
    chat = {"id": CHAT, "title": f"Grupo Financeiro 💸 {HOSTILE}", "type": "supergroup"}
    rows: Rows = {t: [] for t in REPORT_MARTS}
    hourly: dict[tuple[int, int], list[Any]] = {}
    senders: dict[date, set[int]] = {}
    last_message: dict[int, tuple[datetime, int]] = {}
    for n in range(days):
        d = day(n)
        weekend = d.isoweekday() >= 6
        count = rng.randint(8, 25) if weekend else rng.randint(35, 90)
        msgs = []
        # Fernanda first posts in the second week and Emma in the third; Gus, Helena and Ícaro go silent.
        here = [
            i
            for i, p in enumerate(people)
            if n >= {105: 14, 106: 7}.get(p["id"], 0) and (n < 9 or p["id"] not in (107, 108, 109))
        ]
        pool = [people[i] for i in here]
        for _ in range(count):
            user = rng.choices(pool, [weights[i] for i in here])[0]
            hour = min(23, max(0, int(rng.gauss(15 if not weekend else 12, 3.5))))
            sent = datetime(d.year, d.month, d.day, hour, rng.randrange(60), tzinfo=UTC)
            kind = rng.choice(kinds)
            text = traffic.words(1, 30) if kind == "text" else None
            traffic.message(chat, sent, user=user, message_type=kind, text=text)
            msgs.append(((user["id"], user["first_name"], user.get("username")), kind, hour, len(text or "")))
        per_user: dict[int, list[Any]] = {}
        for user, kind, hour, length in msgs:
            u = per_user.setdefault(user[0], [user, 0, 0, 0])
            u[1] += 1
            if kind == "text":
                u[2] += 1
                u[3] += length
            h = hourly.setdefault((d.isoweekday(), hour), [0, set(), set()])
            h[0] += 1
            h[1].add(user[0])
            h[2].add(d)
        texts = [m for m in msgs if m[1] == "text"]
        rows["daily_messages"].append(
            (
                CHAT,
                d,
                count,
                len(per_user),
                len(texts),
                count - len(texts),
                rng.randint(0, 3),
                rng.randint(0, 5),
            )
        )
        for uid, (user, m, t, total) in sorted(per_user.items()):
            rows["user_daily_activity"].append(
                (CHAT, d, uid, user[1], user[2], False, m, t, total / t if t else None)
            )
        lengths = [m[3] for m in texts]
        rows["daily_message_length"].append(
            (CHAT, d, len(texts), sum(lengths) / len(lengths), min(lengths), max(lengths))
        )
        by_kind: dict[str, int] = {}
        for m in msgs:
            by_kind[m[1]] = by_kind.get(m[1], 0) + 1
        rows["message_types"] += [(CHAT, d, k, v, 1) for k, v in by_kind.items()]
        for cmd in rng.sample(commands, rng.randint(1, 4)):
            rows["bot_commands"].append((CHAT, d, cmd, rng.randint(1, 9), 1))
        for rank, term in enumerate(rng.sample(words, 8), start=1):
            rows["top_terms"].append((CHAT, d, rank, term, rng.randint(2, 20), 2, 1))
        replied = rng.randint(0, count // 2)
        median = rng.uniform(1.5, 45) if replied else None
        rows["reply_times"].append((CHAT, d, count, replied, replied / count, median, median))
        joined, left = rng.choice([0, 0, 0, 1, 2]), rng.choice([0, 0, 0, 0, 1])
        if joined or left:
            rows["member_changes"].append((CHAT, d, joined, left, joined - left))
        senders[d] = set(per_user)
        for user, *_ in msgs:
            at_ = at(n, 12, 0)
            last_message[user[0]] = (at_, last_message.get(user[0], (at_, 0))[1] + 1)
        for reaction in rng.sample(["👍", "❤️", "🔥", "😂", "🙏", "custom:5368324170671202286"], 3):
            added = rng.randint(1, 9)
            removed = rng.randint(0, min(2, added))
            rows["daily_reactions"].append((CHAT, d, reaction, added, removed, added - removed))
        asked = rng.randint(1, 6)
        statuses = [rng.choice(["resolved", "answered", "answered", "unanswered"]) for _ in range(asked)]
        by_bot = [s_ != "unanswered" and rng.random() < 0.4 for s_ in statuses]
        minutes = [rng.uniform(0.5, 90) for s_ in statuses if s_ != "unanswered"]
        answered = len(minutes)
        resolved = statuses.count("resolved")
        rows["daily_questions"].append(
            (
                CHAT,
                d,
                asked,
                answered,
                resolved,
                asked - answered,
                sum(by_bot),
                answered - sum(by_bot),
                sorted(minutes)[len(minutes) // 2] if minutes else None,
                answered / asked,
                resolved / asked,
            )
        )
        for i, status in enumerate(statuses):
            topic = rng.choice(["boleto", "login", "entrega", "other", HOSTILE])
            rows["question_topics"].append(
                (
                    CHAT,
                    d,
                    topic,
                    1,
                    int(status != "unanswered"),
                    int(status == "resolved"),
                    int(status == "unanswered"),
                )
            )
            asker = rng.choice(people)
            rows["questions"].append(
                (
                    CHAT,
                    n * 10 + i,
                    asker["id"],
                    at(n, 10 + i, 0),
                    d,
                    f"{traffic.words(3, 20)} {rng.choice(words)}?",
                    topic,
                    *UNANSWERED[:-1],
                    status,
                )
            )
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    rows["hourly_activity"] = [
        (CHAT, dow, hour, names[dow - 1], v[0], len(v[1]), len(v[2]))
        for (dow, hour), v in sorted(hourly.items())
    ]
    first: dict[int, date] = {}
    for d, who in sorted(senders.items()):
        for u in who:
            first.setdefault(u, d)
    for n in range(days):
        d = day(n)
        window = [senders.get(d - timedelta(days=k), set()) for k in range(30)]
        rows["active_users"].append(
            (
                CHAT,
                d,
                len(senders[d]),
                len(set().union(*window[:7])),
                len(set().union(*window)),
                sum(1 for f in first.values() if f == d),
            )
        )
    weeks = sorted({d - timedelta(days=d.weekday()) for d in senders})
    for i, cohort in enumerate(weeks):
        members = {u for u, f in first.items() if f - timedelta(days=f.weekday()) == cohort}
        if not members:
            continue
        for since, week in enumerate(weeks[i:]):
            active = {u for d, who in senders.items() if 0 <= (d - week).days < 7 for u in who}
            rows["retention_cohorts"].append((CHAT, cohort, since, week, len(members), len(members & active)))
    for replier in people[:6]:
        for replied in rng.sample(people, 3):
            if replied is not replier:
                when = at(rng.randrange(days), 9, 0)
                rows["reply_pairs"].append(
                    (CHAT, replier["id"], replied["id"], rng.randint(1, 40), when, when)
                )
    last_day = day(days - 1)
    for uid, (last_at, count) in sorted(last_message.items()):
        silent = (last_day - last_at.date()).days
        rows["member_roster"].append((CHAT, uid, at(0, 0, 0), None, None, True, count, 0, last_at, silent))
    total = sum(r[2] for r in rows["daily_messages"])
    rows["chats"] = [(CHAT, chat["title"], "supergroup", day(0), day(days - 1), total, len(people))]
    return rows


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("no Chromium on this machine: run `make chromium` (Debian's chromium package)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.mark.parametrize("width", [pytest.param(1280, id="desktop"), pytest.param(390, id="phone")])
def test_report_renders_in_chromium(browser: Any, tmp_path: Path, width: int) -> None:
    """Every chart (and the table of unanswered questions) renders with a visible box and its marks (its
    rows), offline, with no console error or dialog."""
    db = create_marts(tmp_path / "t.duckdb", realistic_rows())
    summary = build_report(db, None, tmp_path / "report.html")
    assert summary.empty_charts == ()
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems: list[str] = []
    requests: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(summary.out_path.as_uri())
    page.wait_for_load_state("load")
    charts = page.eval_on_selector_all(
        "figure.card",
        """figs => figs.map(f => {
            const drawn = f.querySelector('svg, table');
            const box = drawn ? drawn.getBoundingClientRect() : null;
            const marks = [...f.querySelectorAll('.mark, tr.row')];
            const visible = marks.filter(m => {
                const b = m instanceof SVGGraphicsElement ? m.getBBox() : m.getBoundingClientRect();
                return b.width > 0 && b.height > 0;
            });
            return {id: f.id, width: box ? box.width : 0, height: box ? box.height : 0,
                    marks: marks.length, visible: visible.length};
        })""",
    )
    assert [c["id"] for c in charts] == [f"chart-{c}" for c in CHARTS]
    for chart in charts:
        assert chart["width"] > 200, chart
        assert chart["height"] > 80, chart
        assert chart["marks"] > 0, chart
        assert chart["visible"] == chart["marks"], chart
    assert page.inner_text("#chat-title") == f"Grupo Financeiro 💸 {HOSTILE}"
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow == 0  # nothing wider than the screen
    assert problems == []
    assert requests == [summary.out_path.as_uri()]
    shot = tmp_path / f"report-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")

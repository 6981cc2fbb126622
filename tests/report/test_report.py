"""`tgpipe report`: the HTML report built from the DuckDB marts, its chat selection, errors and CLI.

The marts are created here with SQL in a real DuckDB file, with exactly the columns of the dbt
contract (dbt_project/models/marts/_marts__models.yml, checked below), so every expected figure is
known. A browser test opens the report in headless Chromium.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
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
from etl.report.marts import MARTS, ReportError
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
}

Rows = dict[str, list[tuple[Any, ...]]]


def create_marts(db: Path, rows: Rows, schema: str = "main", tables: Sequence[str] = MARTS) -> Path:
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


CHARTS = (
    "daily-messages",
    "user-messages",
    "message-length",
    "member-changes",
    "heatmap",
    "reply-rate",
    "reply-times",
    "message-types",
    "bot-commands",
    "top-terms",
)


def test_test_schema_is_the_dbt_contract() -> None:
    """The tables built here have exactly the columns the dbt marts document."""
    spec = yaml.safe_load((ROOT / "dbt_project/models/marts/_marts__models.yml").read_text())
    documented = {m["name"]: sorted(c["name"] for c in m["columns"]) for m in spec["models"]}
    assert documented == {t: sorted(c for c, _ in cols) for t, cols in MART_COLUMNS.items()}
    assert set(MARTS) == set(documented)


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
        charts=CHARTS,
        empty_charts=(),
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
    assert page.count('<div class="empty">') == 9
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
    assert build_report(db, None, tmp_path / "r.html").charts == CHARTS


def test_database_is_opened_read_only(known_db: Path, tmp_path: Path) -> None:
    """Building a report leaves the database unchanged and usable by a writer afterwards."""
    before = known_db.read_bytes()
    build_report(known_db, None, tmp_path / "r.html")
    assert known_db.read_bytes() == before
    duckdb.connect(str(known_db)).close()


# --- the command line -------------------------------------------------------------------------


def test_cli_report(known_db: Path, tmp_path: Path) -> None:
    """`tgpipe report` writes the file and prints one summary line."""
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", "--db", str(known_db), "--out", str(out)])
    assert (result.exit_code, result.output) == (
        0,
        f"report of chat {CHAT} (2026-10-05 to 2026-10-08, 8 messages from 2 users) -> {out}\n",
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
    rows: Rows = {t: [] for t in MARTS}
    hourly: dict[tuple[int, int], list[Any]] = {}
    for n in range(days):
        d = day(n)
        weekend = d.isoweekday() >= 6
        count = rng.randint(8, 25) if weekend else rng.randint(35, 90)
        msgs = []
        for _ in range(count):
            user = rng.choices(people, weights)[0]
            hour = min(23, max(0, int(rng.gauss(15 if not weekend else 12, 3.5))))
            at = datetime(d.year, d.month, d.day, hour, rng.randrange(60), tzinfo=UTC)
            kind = rng.choice(kinds)
            text = traffic.words(1, 30) if kind == "text" else None
            traffic.message(chat, at, user=user, message_type=kind, text=text)
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
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    rows["hourly_activity"] = [
        (CHAT, dow, hour, names[dow - 1], v[0], len(v[1]), len(v[2]))
        for (dow, hour), v in sorted(hourly.items())
    ]
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
    """Every chart renders with a visible box and its marks, offline, with no console error or dialog."""
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
            const svg = f.querySelector('svg');
            const box = svg ? svg.getBoundingClientRect() : null;
            const marks = [...f.querySelectorAll('.mark')];
            const visible = marks.filter(m => { const b = m.getBBox(); return b.width > 0 && b.height > 0; });
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

"""examples/queries/: the README's example questions as SQL files, each run against the demo's marts on
DuckDB with its whole result compared (the demo's week is seeded, so the answers are known), and the
README showing exactly these files."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.infra.aws_package import ROOT

QUERIES = ROOT / "examples" / "queries"
NAMES = sorted(p.name for p in QUERIES.glob("*.sql"))


def _rows(lake: Path, sql: str) -> list[tuple[Any, ...]]:
    import duckdb

    with duckdb.connect(str(lake / "tgpipe.duckdb"), read_only=True) as connection:
        return connection.execute(sql).fetchall()


EXPECTED: dict[str, list[tuple[Any, ...]]] = {
    "01_pick_a_group.sql": [
        (-1001000000001, "Comunidade tgpipe 🇧🇷", "supergroup", date(2026, 9, 28), date(2026, 10, 4), 421)
    ],
    "02_busiest_hours.sql": [
        ("Monday", 19, 14.0),
        ("Tuesday", 11, 11.0),
        ("Wednesday", 20, 11.0),
        ("Thursday", 10, 10.0),
        ("Thursday", 19, 10.0),
    ],
    "03_bot_commands.sql": [("/faq", 8), ("/help", 7), ("/start", 7), ("/stats", 5)],
    "04_top_terms.sql": [
        ("export", 32),
        ("amanhã", 31),
        ("app", 27),
        ("change", 26),
        ("segunda", 19),
        ("via", 19),
        ("10h", 16),
        ("hoje", 15),
        ("folks", 14),
        ("good", 14),
        ("address", 13),
        ("csv", 12),
        ("kkkkk", 12),
        ("monthly", 12),
        ("morning", 12),
        ("report", 12),
        ("ajuda", 11),
        ("anyone", 11),
        ("aviso", 10),
        ("boleto", 10),
    ],
    "05_reply_rate.sql": [
        (date(2026, 10, 4), 67, 13, 19.4, 7.0),
        (date(2026, 10, 3), 52, 9, 17.3, 30.0),
        (date(2026, 10, 2), 47, 8, 17.0, 11.0),
        (date(2026, 10, 1), 66, 10, 15.2, 7.0),
        (date(2026, 9, 30), 74, 16, 21.6, 15.0),
        (date(2026, 9, 29), 57, 10, 17.5, 4.0),
        (date(2026, 9, 28), 58, 12, 20.7, 15.0),
    ],
    "06_active_users.sql": [
        (1005, "Elena", 69, 7),
        (1004, "David", 68, 7),
        (1001, "Ana", 63, 7),
        (1002, "Bruno", 59, 7),
        (1003, "Carla", 52, 7),
        (1006, "Fábio", 50, 7),
        (1007, "Gabi", 50, 6),
        (1008, "Hugo", 9, 2),
        (1099, "Promo", 1, 1),
    ],
}


def test_every_query_file_has_its_expected_answer() -> None:
    """No query file goes untested, and no expectation names a missing file."""
    assert sorted(EXPECTED) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_each_example_question_answers_on_the_demo_s_marts(demo_lake: Path, name: str) -> None:
    """The query runs on DuckDB as written and returns exactly the demo week's answer."""
    assert _rows(demo_lake, (QUERIES / name).read_text(encoding="utf-8")) == EXPECTED[name]


def test_the_answers_agree_with_each_other(demo_lake: Path) -> None:
    """Cross-checks between the answers and other marts: the group's total is the sum of its days and
    of its senders' messages; the reply table has one row per day of the group's range."""
    (group,) = EXPECTED["01_pick_a_group.sql"]
    daily = _rows(demo_lake, "select sum(messages) from daily_messages where chat_id = -1001000000001")
    assert daily == [(group[5],)]
    assert sum(row[2] for row in EXPECTED["06_active_users.sql"]) == group[5]
    days = [row[0] for row in EXPECTED["05_reply_rate.sql"]]
    assert (days[0], days[-1], len(days)) == (group[4], group[3], 7)


def _readme_questions() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Example questions", 1)[1]
    block = re.search(r"```sql\n(.*?)```", section, re.DOTALL)
    assert block, "the README's Example questions have no sql block"
    return [q.strip() for q in re.split(r"\n(?=-- )", block.group(1).strip())]


def test_the_readme_shows_exactly_the_query_files() -> None:
    """The README's Example questions are the files, in order, character for character."""
    files = [(QUERIES / name).read_text(encoding="utf-8").strip() for name in NAMES]
    assert _readme_questions() == files


MODELS = {"chats", "daily_messages", "hourly_activity", "bot_commands", "top_terms", "reply_times"}
MODELS |= {"user_daily_activity"}


def test_make_check_athena_holds_each_example_to_trino() -> None:
    """The checker `make check-athena` runs finds every file and no problem in any of them, reading the
    models by name."""
    from tests.dbt.test_athena import checker

    queries = checker.example_queries()
    assert sorted(queries) == [f"examples/queries/{name}" for name in NAMES]
    assert {name: checker.example_query_problems(sql, MODELS) for name, sql in queries.items()} == {
        name: [] for name in queries
    }


@pytest.mark.parametrize(
    ("sql", "problems"),
    [
        (
            "select strftime(message_date, '%Y') as y from daily_messages",
            [
                "line 1: function strftime() is not a Trino function",
                "function strftime() is not a Trino function: STRFTIME(message_date, '%Y')",
            ],
        ),
        ("select * from messages_2025", ["table messages_2025 is not a model of the project"]),
        (
            "select 1 from chats; select 2 from chats",
            ["2 statements: an example is one query"],
        ),
        (
            "with recent as (select * from chats) select chat_id::varchar from recent",
            ["line 1: '::' cast (use cast(x as type))"],
        ),
    ],
    ids=["duckdb-function", "unknown-table", "two-statements", "duckdb-cast"],
)
def test_the_example_check_refuses_what_athena_would(sql: str, problems: list[str]) -> None:
    """A control: DuckDB-only functions and casts, a table that is no model, two statements."""
    from tests.dbt.test_athena import checker

    assert checker.example_query_problems(sql, MODELS) == problems

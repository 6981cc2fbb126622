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
        (-1001000000001, "Comunidade tgpipe 🇧🇷", "supergroup", date(2026, 9, 28), date(2026, 10, 4), 448),
    ],
    "02_busiest_hours.sql": [
        ("Tuesday", 10, 13.0),
        ("Monday", 19, 12.0),
        ("Monday", 9, 11.0),
        ("Friday", 9, 11.0),
        ("Tuesday", 9, 10.0),
    ],
    "03_bot_commands.sql": [
        ("/help", 14),
        ("/faq", 6),
        ("/stats", 6),
        ("/start", 3),
    ],
    "04_top_terms.sql": [
        ("amanhã", 33),
        ("valeu", 29),
        ("export", 28),
        ("app", 26),
        ("resolveu", 25),
        ("segunda", 23),
        ("via", 23),
        ("ajuda", 17),
        ("10h", 14),
        ("folks", 14),
        ("good", 14),
        ("meetup", 14),
        ("morning", 14),
        ("sexta", 14),
        ("worked", 14),
        ("acessar", 13),
        ("funcionou", 13),
        ("boleto", 11),
        ("emitir", 11),
        ("everyone", 11),
    ],
    "05_reply_rate.sql": [
        (date(2026, 10, 4), 71, 19, 26.8, 4.0),
        (date(2026, 10, 3), 57, 9, 15.8, 30.0),
        (date(2026, 10, 2), 62, 10, 16.1, 7.0),
        (date(2026, 10, 1), 60, 9, 15.0, 30.0),
        (date(2026, 9, 30), 62, 16, 25.8, 14.5),
        (date(2026, 9, 29), 73, 22, 30.1, 9.5),
        (date(2026, 9, 28), 63, 17, 27.0, 1.0),
    ],
    "06_active_users.sql": [
        (1002, "Bruno", 83, 7),
        (1003, "Carla", 80, 7),
        (1001, "Ana", 79, 7),
        (1005, "Elena", 75, 7),
        (1004, "David", 65, 7),
        (1007, "Gabi", 20, 3),
        (1006, "Fábio", 19, 2),
        (1008, "Hugo", 5, 2),
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
    of its people's messages and its bot's; the reply table has one row per day of the group's range."""
    (group,) = EXPECTED["01_pick_a_group.sql"]
    daily = _rows(demo_lake, "select sum(messages) from daily_messages where chat_id = -1001000000001")
    assert daily == [(group[5],)]
    bots = _rows(
        demo_lake,
        "select sum(messages) from user_daily_activity where chat_id = -1001000000001 and is_bot",
    )
    assert bots[0][0] > 0  # the demo's bot answers questions
    assert sum(row[2] for row in EXPECTED["06_active_users.sql"]) + bots[0][0] == group[5]
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

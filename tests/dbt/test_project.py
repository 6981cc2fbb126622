"""The dbt project's behaviour around the models: settings from the environment, the defaults a user
relies on, source freshness, and the clear errors of a bad configuration (DuckDB target, real dbt)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers import DBT_PROJECT

BIN = Path(sys.executable).parent


def write_partition(enriched: Path, day: str, processed_at: datetime) -> None:
    """One day of the enriched lake, as the ETL lays it out: two text messages in messages/, and the
    other tables' partitions empty. The schemas are the ETL's own declarations, so they cannot drift."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from etl.transform.schema import MESSAGES, TABLES

    base = {
        "update_kind": "message",
        "chat_id": -1001234567890,
        "chat_type": "supergroup",
        "chat_title": "Grupo",
        "from_id": 111,
        "from_is_bot": False,
        "from_first_name": "Ana",
        "message_type": "text",
        "is_forwarded": False,
        "entity_count": 0,
        "context_timestamp": processed_at,
    }
    messages = [
        {**base, "update_id": 1, "message_id": 10, "date": 1773057600, "text": "olá"},
        {**base, "update_id": 2, "message_id": 11, "date": 1773057660, "text": "tudo bem?"},
    ]
    for table in TABLES:
        rows = messages if table is MESSAGES else []
        rows = [{name: row.get(name) for name in table.schema.names} for row in rows]
        folder = enriched / table.name / f"context_date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), folder / "part-00000.parquet")


def clean_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TGPIPE_", "DBT_", "AWS_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    env.update(settings)
    return env


# The messages staging view and what it reads (seed chat_settings), with the tests of those alone.
BUILD_STAGING = ("build", "--select", "+stg_telegram__messages", "--indirect-selection", "cautious")


def dbt(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / "dbt"), *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)]
    command += ["--target-path", str(cwd / "target"), "--log-path", str(cwd / "logs")]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=300)


def test_defaults_read_lake_enriched_and_write_lake_duckdb_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no setting, dbt reads ./lake/enriched, builds ./lake/tgpipe.duckdb and cuts days in UTC."""
    import duckdb

    write_partition(tmp_path / "lake" / "enriched", "2026-03-09", datetime.now(UTC))
    result = dbt(*BUILD_STAGING, env=clean_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    monkeypatch.chdir(tmp_path)  # the staging view reads the relative default path, as dbt did
    with duckdb.connect(str(tmp_path / "lake" / "tgpipe.duckdb"), read_only=True) as connection:
        rows = connection.execute(
            "select update_id, cast(sent_at as varchar), cast(message_date as varchar), message_hour, "
            "cast(received_date as varchar) from main.stg_telegram__messages order by 1"
        ).fetchall()
    # 1773057600 is 2026-03-09 12:00:00 UTC.
    assert rows == [
        (1, "2026-03-09 12:00:00", "2026-03-09", 12, "2026-03-09"),
        (2, "2026-03-09 12:01:00", "2026-03-09", 12, "2026-03-09"),
    ]


def test_context_date_stays_a_string_like_on_athena(tmp_path: Path) -> None:
    """The hive partition column reaches SQL as VARCHAR (DuckDB would make it a DATE unless told)."""
    write_partition(tmp_path / "enriched", "2026-03-09", datetime.now(UTC))
    env = clean_env(
        TGPIPE_ENRICHED_URI=str(tmp_path / "enriched"), TGPIPE_DUCKDB_PATH=str(tmp_path / "t.duckdb")
    )
    result = dbt(
        "show",
        "--inline",
        "select typeof(context_date) as type from {{ source('telegram', 'messages') }}",
        "--limit",
        "1",
        "--output",
        "json",
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    payload = result.stdout[result.stdout.index("{") : result.stdout.rindex("}") + 1]
    assert json.loads(payload)["show"] == [{"type": "VARCHAR"}]


@pytest.mark.parametrize(
    ("age_hours", "status", "exit_code"),
    [(2, "pass", 0), (40, "warn", 0), (70, "error", 1)],
    ids=["fresh-2h", "warn-after-36h", "error-after-60h"],
)
def test_source_freshness(tmp_path: Path, age_hours: int, status: str, exit_code: int) -> None:
    """`dbt source freshness` warns after 36 h and errors after 60 h without newly processed data."""
    write_partition(tmp_path / "enriched", "2026-03-09", datetime.now(UTC) - timedelta(hours=age_hours))
    env = clean_env(
        TGPIPE_ENRICHED_URI=str(tmp_path / "enriched"), TGPIPE_DUCKDB_PATH=str(tmp_path / "t.duckdb")
    )
    result = dbt("source", "freshness", env=env, cwd=tmp_path)
    assert result.returncode == exit_code, result.stdout[-3000:]
    sources = json.loads((tmp_path / "target" / "sources.json").read_text(encoding="utf-8"))
    assert [(r["unique_id"], r["status"]) for r in sources["results"]] == [
        ("source.tgpipe.telegram.messages", status)
    ]


def test_timezone_that_is_not_an_iana_name_is_refused_before_any_sql_runs(tmp_path: Path) -> None:
    """A TGPIPE_TIMEZONE that cannot be a zone name (here an injection attempt) stops compilation clearly."""
    write_partition(tmp_path / "enriched", "2026-03-09", datetime.now(UTC))
    env = clean_env(
        TGPIPE_ENRICHED_URI=str(tmp_path / "enriched"),
        TGPIPE_DUCKDB_PATH=str(tmp_path / "t.duckdb"),
        TGPIPE_TIMEZONE="UTC' as timestamp) --",
    )
    result = dbt("compile", "--select", "stg_telegram__messages", env=env, cwd=tmp_path)
    assert result.returncode == 2  # dbt's exit status for a compilation error
    assert (
        "var 'timezone' (TGPIPE_TIMEZONE) must be an IANA time zone such as UTC or America/Sao_Paulo, "
        "got 'UTC' as timestamp) --'"
    ) in result.stdout


def test_timezone_var_overrides_the_environment(tmp_path: Path) -> None:
    """`--vars '{timezone: ...}'` wins over TGPIPE_TIMEZONE: 12:00 UTC is 17:30 in Asia/Kolkata."""
    import duckdb

    write_partition(tmp_path / "enriched", "2026-03-09", datetime.now(UTC))
    env = clean_env(
        TGPIPE_ENRICHED_URI=str(tmp_path / "enriched"),
        TGPIPE_DUCKDB_PATH=str(tmp_path / "t.duckdb"),
        TGPIPE_TIMEZONE="America/Sao_Paulo",
    )
    result = dbt(
        *BUILD_STAGING,
        "--vars",
        "{timezone: Asia/Kolkata}",
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(tmp_path / "t.duckdb"), read_only=True) as connection:
        hours = connection.execute(
            "select message_hour from stg_telegram__messages order by update_id"
        ).fetchall()
    assert hours == [(17,), (17,)]


def test_empty_lake_fails_naming_the_files_it_looked_for(tmp_path: Path) -> None:
    """With no enriched partition yet, the build fails and says which files it looked for."""
    enriched = tmp_path / "enriched"
    enriched.mkdir()
    env = clean_env(TGPIPE_ENRICHED_URI=str(enriched), TGPIPE_DUCKDB_PATH=str(tmp_path / "t.duckdb"))
    result = dbt("run", "--select", "stg_telegram__messages", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "No files found that match the pattern" in result.stdout
    assert f"{enriched}/messages/context_date=*/*.parquet" in result.stdout


def test_source_table_operation_is_a_no_op_on_the_local_target(tmp_path: Path) -> None:
    """`run-operation create_enriched_source_table` on DuckDB only explains that files are read in place."""
    env = clean_env(TGPIPE_DUCKDB_PATH=str(tmp_path / "t.duckdb"))
    result = dbt("run-operation", "create_enriched_source_table", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert (
        "create_enriched_source_table: nothing to do on the duckdb target, whose source reads "
        "the Parquet files of TGPIPE_ENRICHED_URI in place"
    ) in result.stdout

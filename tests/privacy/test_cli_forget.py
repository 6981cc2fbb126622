"""`tgpipe forget` as an admin runs it: the lake and the DuckDB marts lose every trace of the person,
the output says what went per layer (counts and days, never content)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
from click.testing import CliRunner

from etl.cli import main
from etl.storage import LocalStorage
from tests.helpers import DBT_PROJECT
from tests.privacy.conversation import ANA_ID, TRACES, fill

BIN = Path(sys.executable).parent


def _env(work: Path) -> dict[str, str]:
    return {
        "TGPIPE_RAW_URI": str(work / "raw"),
        "TGPIPE_ENRICHED_URI": str(work / "enriched"),
        "TGPIPE_DUCKDB_PATH": str(work / "tgpipe.duckdb"),
        "TGPIPE_TIMEZONE": "UTC",
    }


SEEDS = {p.stem for p in (DBT_PROJECT / "seeds").glob("*.csv")}  # configuration, not people's data


def _mart_values(db: Path) -> list[Any]:
    """Every value of every table and view dbt built from the lake (the seeds left out: their words,
    such as a topic keyword, are the project's configuration)."""
    with duckdb.connect(str(db), read_only=True) as connection:
        names = connection.execute(
            "select table_schema, table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall()
        values: list[Any] = []
        for schema, name in names:
            if name in SEEDS:
                continue
            for row in connection.execute(f'select * from "{schema}"."{name}"').fetchall():  # noqa: S608 - names dbt built
                values.extend(row)
    return values


def _traces(values: list[Any]) -> list[Any]:
    words = [t.decode() for t in TRACES]
    return [v for v in values if v == ANA_ID or (isinstance(v, str) and any(w in v for w in words))]


def test_forget_rebuilds_the_marts_and_a_rerun_finds_nothing(tmp_path: Path) -> None:
    """GIVEN marts built by dbt from a lake where Ana wrote; WHEN `tgpipe forget --user-id` runs;
    THEN it prints each layer's counts and days, rebuilds the marts, and no mart row holds her."""
    fill(LocalStorage(tmp_path / "raw"), LocalStorage(tmp_path / "enriched"))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("TGPIPE_", "DBT_"))}, **_env(tmp_path)}
    dbt = [str(BIN / "dbt"), "build", "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)]
    built = subprocess.run(
        [*dbt, "--quiet"], env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stdout[-3000:]
    db = tmp_path / "tgpipe.duckdb"
    assert _traces(_mart_values(db)) != []  # she is in the marts before

    result = CliRunner().invoke(
        main, ["forget", "--user-id", str(ANA_ID)], env=_env(tmp_path), catch_exceptions=False
    )

    assert result.exit_code == 0, result.output
    [record] = list((tmp_path / "raw" / "_erasures").iterdir())
    assert result.stdout.splitlines() == [
        "raw: 5 object(s) removed, 4 rewritten without the person (invite_link_creator 1, "
        "new_chat_member 1, reply_to_message 1, text_mention 1, username_mention 1); "
        "days: 2026-10-05, 2026-10-06",
        "quarantine: 1 body(ies) removed",
        "versions: 10 stored raw version(s) deleted",
        "enriched: 7 row(s) of the person; days rebuilt: 2026-10-05, 2026-10-06; days filtered: none",
        f"erasure record: _erasures/{record.name}",
        f"marts: rebuilt with dbt build (models and seeds) in {db}",
    ]
    assert _traces(_mart_values(db)) == []

    again = CliRunner().invoke(
        main, ["forget", "--user-id", str(ANA_ID)], env=_env(tmp_path), catch_exceptions=False
    )
    assert (again.exit_code, again.stdout) == (
        0,
        "nothing left of this person in the lake: nothing was removed\n",
    )


def test_forget_without_marts_says_what_to_run(tmp_path: Path) -> None:
    """No DuckDB file: the lake is erased and the output names the command that rebuilds the marts."""
    fill(LocalStorage(tmp_path / "raw"), LocalStorage(tmp_path / "enriched"))

    result = CliRunner().invoke(main, ["forget", "--user-id", str(ANA_ID), "--dry-run"], env=_env(tmp_path))
    assert result.stdout.splitlines()[-1] == "dry run: nothing was changed"

    result = CliRunner().invoke(main, ["forget", "--user-id", str(ANA_ID)], env=_env(tmp_path))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        f"marts: no DuckDB file at {tmp_path / 'tgpipe.duckdb'}; rebuild them where they are kept "
        "(`cd dbt_project && dbt build`, or on AWS the next nightly marts run / `make athena`)"
    )

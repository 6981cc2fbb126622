"""The Athena target without an AWS account: the project compiles offline for Athena, every compiled
model is Athena (Trino) SQL, and the source table's DDL (partition projection) is what Athena needs."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from etl.transform.schema import TABLES
from tests.helpers import DBT_PROJECT

BIN = Path(sys.executable).parent


def _load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "check_athena_sql", DBT_PROJECT / "scripts" / "check_athena_sql.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


checker = _load_checker()


def athena_env(**settings: str) -> dict[str, str]:
    """No AWS credentials at all, placeholder Athena settings: nothing may try to connect."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TGPIPE_", "DBT_", "AWS_"))}
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "TGPIPE_ATHENA_S3_STAGING_DIR": "s3://acme-athena/results/",
            "TGPIPE_ATHENA_REGION": "sa-east-1",
            "TGPIPE_ATHENA_DATABASE": "tgpipe_prod",
            "TGPIPE_ENRICHED_URI": "s3://acme-lake/tgpipe/enriched",
        }
    )
    env.update(settings)
    return {k: v for k, v in env.items() if v}


def run_operation(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / "dbt"), "--quiet", "run-operation", "create_enriched_source_table", *args]
    command += ["--target", "athena", "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)]
    command += ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    return subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300
    )


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("select make_timestamp(x * 1000000) from t", "function make_timestamp() is not a Trino function"),
        ("select quantile_cont(x, 0.5) from t", "function quantile_cont() is not a Trino function"),
        ("select median(x) from t", "function percentile_cont() is not a Trino function"),
        ("select isodow(x) from t", "line 1: function isodow() is not a Trino function"),
        ("select x::bigint from t", "line 1: '::' cast (use cast(x as type))"),
        ("select cast(x as string) from t", "type string (use varchar)"),
        ("select from where", "does not parse as Athena SQL"),
    ],
    ids=["make_timestamp", "quantile_cont", "median", "isodow", "double-colon-cast", "string-type", "syntax"],
)
def test_checker_reports_sql_athena_cannot_run(sql: str, problem: str) -> None:
    """DuckDB-only functions (even those sqlglot would translate), `::` casts, `string` and syntax errors."""
    problems = checker.athena_sql_problems(sql)
    assert any(p.startswith(problem) for p in problems), problems


def test_checker_accepts_the_trino_the_macros_produce() -> None:
    """What the adapter-dispatched macros render on Athena passes the check."""
    sql = """
        with words as (
            select m.chat_id, w.term,
                cast(with_timezone(cast(from_unixtime(m."date", 'UTC') as timestamp), 'UTC')
                    at time zone 'America/Sao_Paulo' as timestamp) as sent_at_local
            from messages as m
            cross join unnest(regexp_extract_all(lower(m."text"), '[\\p{L}\\p{N}]+')) as w (term)
            where regexp_like(w.term, '^[0-9]+$') and try_cast(m.context_date as date) is not null
        )
        select chat_id, day_of_week(sent_at_local) as d, count_if(term <> '') as n,
            approx_percentile(cast(n as double), 0.5) as p, max_by(term, sent_at_local) as t,
            date_diff('second', sent_at_local, sent_at_local) as s
        from words group by 1, 2
    """
    assert checker.athena_sql_problems(sql) == []


@pytest.fixture(scope="module")
def athena_compile(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """The offline check, once: its exit status, its output and the folder dbt compiled into."""
    target = tmp_path_factory.mktemp("athena_compile")
    env_before = dict(os.environ)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = checker.main(["--target-path", str(target)])
    assert dict(os.environ) == env_before
    return status, out.getvalue(), target


def test_every_compiled_model_and_data_test_is_athena_sql(athena_compile: tuple[int, str, Path]) -> None:
    """`dbt parse` and `dbt compile` for Athena run offline and every compiled model passes the check,
    as a full build and as a nightly build compile them."""
    status, out, _ = athena_compile
    assert status == 0, out
    assert "FAIL" not in out
    assert out.strip().splitlines()[-1].endswith("checked; 0 with problems")


INCREMENTAL = {
    "stg_telegram__messages": "context_date",
    "stg_telegram__reactions": "context_date",
    "stg_telegram__member_events": "context_date",
    "stg_telegram__message_entities": "context_date",
    "top_terms": "message_date",
}


def test_incremental_models_overwrite_partitions_on_athena(athena_compile: tuple[int, str, Path]) -> None:
    """On Athena each incremental model is a Hive table partitioned_by its day column, rebuilt by
    insert_overwrite with a pre-hook that drops the partitions it rebuilds; the partition column
    ends the select list (a CTAS requires it), and the nightly SQL reads only the changed days."""
    import sqlglot
    from sqlglot import exp

    _, _, target = athena_compile
    manifest = json.loads((target / "nightly" / "manifest.json").read_text(encoding="utf-8"))
    nodes = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    incremental = {name for name, n in nodes.items() if n["config"]["materialized"] == "incremental"}
    assert incremental == set(INCREMENTAL)
    for name, column in INCREMENTAL.items():
        config = nodes[name]["config"]
        assert (config["incremental_strategy"], config["partitioned_by"]) == ("insert_overwrite", [column]), (
            name
        )
        assert config.get("unique_key") is None, name
        assert [h["sql"].split("(")[0] for h in config["pre-hook"]] == ["{{ tgpipe.clear_partitions"], name
        path = Path(nodes[name]["original_file_path"]).relative_to("models").as_posix()
        full = (target / "full" / "compiled" / "tgpipe" / "models" / path).read_text(encoding="utf-8")
        nightly = (target / "nightly" / "compiled" / "tgpipe" / "models" / path).read_text(encoding="utf-8")
        for sql in (full, nightly):
            last_cte = list(sqlglot.parse_one(sql, read="athena").find_all(exp.CTE))[-1].this
            assert last_cte.selects[-1].alias_or_name == column, name
        assert "'2026-01-05'" in nightly, name
        assert "'2026-01-05'" not in full, name
        if column == "context_date":  # staging: the day and the next, and no copy of a kept day's update
            assert "context_date in ('2026-01-05', '2026-01-06')" in nightly, name
            assert "not exists (" in nightly, name
        else:  # top_terms: the local dates the rebuilt days' rows carry, now and in the last build
            assert "int_incremental_state" in nightly, name


def _athena_type(arrow_type: object) -> str:
    text = str(arrow_type)
    return {"int64": "bigint", "int32": "int", "string": "string", "bool": "boolean"}.get(
        text, "timestamp" if text.startswith("timestamp") else text
    )


def test_source_table_ddl_uses_partition_projection(tmp_path: Path) -> None:
    """The run-operation's DDL (dry run, offline) creates the database and one projected Parquet table
    per table of the enriched lake, over its own folder, with the ETL's declared columns."""
    result = run_operation(tmp_path, athena_env(), "--args", "{dry_run: true}")
    assert result.returncode == 0, result.stdout[-3000:]
    expected = "create database if not exists `tgpipe_prod`;\n"
    for table in sorted(TABLES, key=lambda t: t.name):
        columns = [f"`{field.name}` {_athena_type(field.type)}" for field in table.schema]
        location = f"s3://acme-lake/tgpipe/enriched/{table.name}/"
        expected += (
            f"create external table if not exists `tgpipe_prod`.`enriched_{table.name}` (\n    "
            + ",\n    ".join(columns)
            + "\n)\n"
            f"comment 'tgpipe enriched layer: {table.name}, partitioned by day of receipt'\n"
            "partitioned by (`context_date` string)\n"
            "stored as parquet\n"
            f"location '{location}'\n"
            "tblproperties (\n"
            "    'projection.enabled' = 'true',\n"
            "    'projection.context_date.type' = 'date',\n"
            "    'projection.context_date.format' = 'yyyy-MM-dd',\n"
            "    'projection.context_date.range' = '2020-01-01,NOW+1DAYS',\n"
            "    'projection.context_date.interval' = '1',\n"
            "    'projection.context_date.interval.unit' = 'DAYS',\n"
            f"    'storage.location.template' = '{location}context_date=${{context_date}}/'\n"
            ");\n"
        )
    assert result.stdout == expected
    assert checker.athena_ddl_problems(result.stdout) == []


def test_source_table_replace_drops_the_table_definition_first(tmp_path: Path) -> None:
    """`replace: true` drops the table definition (never the data) before creating it again."""
    env = athena_env(TGPIPE_ATHENA_SOURCE_DATABASE="raw_zone", TGPIPE_ATHENA_SOURCE_TABLE="tg_enriched")
    result = run_operation(tmp_path, env, "--args", "{dry_run: true, replace: true}")
    assert result.returncode == 0, result.stdout[-3000:]
    statements = [s.split("\n")[0] for s in result.stdout.split(";\n") if s]
    assert statements == [
        "create database if not exists `raw_zone`",
        "drop table if exists `raw_zone`.`enriched_member_events`",
        "create external table if not exists `raw_zone`.`enriched_member_events` (",
        "drop table if exists `raw_zone`.`enriched_message_entities`",
        "create external table if not exists `raw_zone`.`enriched_message_entities` (",
        "drop table if exists `raw_zone`.`tg_enriched`",
        "create external table if not exists `raw_zone`.`tg_enriched` (",
        "drop table if exists `raw_zone`.`enriched_reactions`",
        "create external table if not exists `raw_zone`.`enriched_reactions` (",
    ]


@pytest.mark.parametrize(
    "uri",
    ["lake/enriched", "s3://bucket/it's"],
    ids=["local-path", "quote"],
)
def test_source_table_needs_an_s3_enriched_uri(tmp_path: Path, uri: str) -> None:
    """On Athena the source table must point at S3: anything else is refused with the variable's name."""
    result = run_operation(tmp_path, athena_env(TGPIPE_ENRICHED_URI=uri), "--args", "{dry_run: true}")
    assert result.returncode == 1
    assert (
        "TGPIPE_ENRICHED_URI must be the s3://bucket/prefix the ETL writes to on the athena target, "
        f"got '{uri}'"
    ) in result.stdout


@pytest.mark.parametrize("name", ["TGPIPE_ATHENA_S3_STAGING_DIR", "TGPIPE_ATHENA_REGION"])
def test_athena_target_names_a_missing_setting(tmp_path: Path, name: str) -> None:
    """Without its staging folder or region (nor AWS_REGION) the athena target stops, naming the variable."""
    result = run_operation(tmp_path, athena_env(**{name: ""}), "--args", "{dry_run: true}")
    assert result.returncode == 2
    assert f"Env var required but not provided: '{name}'" in result.stdout


def test_the_offline_check_ignores_local_lake_settings() -> None:
    """A developer's TGPIPE_ENRICHED_URI=lake/enriched (from .env) cannot break the Athena compile check."""
    env = checker.athena_env({"TGPIPE_ENRICHED_URI": "lake/enriched", "TGPIPE_TIMEZONE": "UTC"})
    assert env == {
        "TGPIPE_ENRICHED_URI": "s3://tgpipe-compile-check/enriched",
        "TGPIPE_ATHENA_S3_STAGING_DIR": "s3://tgpipe-compile-check/athena-results/",
        "TGPIPE_ATHENA_REGION": "us-east-1",
        "TGPIPE_TIMEZONE": "UTC",
    }

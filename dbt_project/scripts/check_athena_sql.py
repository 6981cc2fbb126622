"""Athena correctness without an AWS account: compile the project for the athena target, then check
that every compiled model is Athena (Trino) SQL.

    python dbt_project/scripts/check_athena_sql.py [--target-path DIR]

Steps: `dbt parse` and `dbt compile --no-populate-cache` for the athena target (no connection is
opened: the cache is not populated and no model introspects), with placeholder settings for any
TGPIPE_ATHENA_* variable that is unset, twice: every model as a full build compiles it
(`--full-refresh`: an incremental model does not ask Athena whether its table exists), and the
incremental models as a nightly build does (var incremental_days names the days of receipt that
changed, which only the lake could say); then each compiled model is parsed by sqlglot's athena reader
and rejected if it uses a function Trino does not have (e.g. a DuckDB-only one that escaped an
adapter-dispatched macro), a `::` cast or the Hive-only `string` type. The DDL of
`run-operation create_enriched_source_table` is parsed too, and so is every query of
examples/queries/ (the README's example questions, as analysts and BI tools run them on Athena):
parsed by sqlglot's trino reader, held to the same functions, and reading only the project's models.
Exit status 0 when everything holds.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError
from sqlglot.tokens import TokenType

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLES = PROJECT.parent / "examples" / "queries"
DBT = Path(sys.executable).with_name("dbt")

# Placeholders so that an unconfigured machine (CI) can compile; real values win when set.
PLACEHOLDER_ENV = {
    "TGPIPE_ATHENA_S3_STAGING_DIR": "s3://tgpipe-compile-check/athena-results/",
    "TGPIPE_ATHENA_REGION": "us-east-1",
    "TGPIPE_ENRICHED_URI": "s3://tgpipe-compile-check/enriched",
}

# Trino (Athena engine 3) functions and expression keywords the models may use, by the name sqlglot's
# Trino generator gives them. Anything else is reported: extend the list only with a Trino function.
TRINO_FUNCTIONS = frozenset(
    [
        "abs",
        "approx_distinct",
        "approx_percentile",
        "arbitrary",
        "at_timezone",
        "array_agg",
        "array_join",
        "array_sort",
        "avg",
        "bool_and",
        "bool_or",
        "cardinality",
        "case",
        "cast",
        "ceil",
        "coalesce",
        "concat",
        "contains",
        "count",
        "count_if",
        "current_date",
        "current_timestamp",
        "date",
        "date_add",
        "date_diff",
        "date_format",
        "date_parse",
        "date_trunc",
        "day",
        "day_of_week",
        "day_of_year",
        "element_at",
        "exists",
        "exp",
        "extract",
        "filter",
        "floor",
        "format_datetime",
        "from_iso8601_timestamp",
        "from_unixtime",
        "hour",
        "if",
        "json_extract_scalar",
        "lag",
        "lead",
        "least",
        "greatest",
        "length",
        "ln",
        "log10",
        "lower",
        "lpad",
        "ltrim",
        "max",
        "max_by",
        "min",
        "min_by",
        "minute",
        "month",
        "nullif",
        "parse_datetime",
        "pow",
        "power",
        "rank",
        "dense_rank",
        "regexp_extract",
        "regexp_extract_all",
        "regexp_like",
        "regexp_replace",
        "regexp_split",
        "replace",
        "reverse",
        "round",
        "row_number",
        "rpad",
        "rtrim",
        "second",
        "sequence",
        "split",
        "split_part",
        "sqrt",
        "stddev",
        "strpos",
        "substr",
        "substring",
        "sum",
        "to_unixtime",
        "transform",
        "trim",
        "try",
        "try_cast",
        "unnest",
        "upper",
        "variance",
        "week",
        "with_timezone",
        "year",
    ]
)
# sqlglot types whose SQL Trino rejects in DML (Hive DDL spells VARCHAR as string).
FORBIDDEN_TYPES = {exp.DataType.Type.TEXT: "string (use varchar)"}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _function_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    match = _NAME.match(node.sql(dialect="trino"))
    return match.group(0).lower() if match else type(node).__name__.lower()


def athena_sql_problems(sql: str) -> list[str]:
    """What keeps this SELECT from running on Athena: syntax errors, unknown functions, casts."""
    problems: list[str] = []
    tokens = sqlglot.Dialect.get_or_raise("athena").tokenize(sql)
    for before, token, after in zip([None, *tokens[:-1]], tokens, [*tokens[1:], None], strict=True):
        if token.token_type == TokenType.DCOLON:
            problems.append(f"line {token.line}: '::' cast (use cast(x as type))")
        # A function call as written (sqlglot would translate some DuckDB names, e.g. isodow).
        is_call = (
            token.token_type == TokenType.VAR and after is not None and after.token_type == TokenType.L_PAREN
        )
        is_alias = before is not None and before.token_type in (TokenType.ALIAS, TokenType.DOT)
        if is_call and not is_alias and token.text.lower() not in TRINO_FUNCTIONS:
            problems.append(f"line {token.line}: function {token.text.lower()}() is not a Trino function")
    try:
        statements = sqlglot.parse(sql, read="athena", error_level=ErrorLevel.RAISE)
    except ParseError as error:
        return [*problems, f"does not parse as Athena SQL: {error}"]
    for statement in statements:
        if statement is None:
            continue
        for node in statement.find_all(exp.Func):
            if isinstance(node, exp.Binary | exp.Connector | exp.Not | exp.Paren):
                continue
            name = _function_name(node)
            if name not in TRINO_FUNCTIONS:
                problems.append(
                    f"function {name}() is not a Trino function: {node.sql(dialect='athena')[:80]}"
                )
        for data_type in statement.find_all(exp.DataType):
            if data_type.this in FORBIDDEN_TYPES:
                problems.append(f"type {FORBIDDEN_TYPES[data_type.this]}")
    return problems


def athena_ddl_problems(ddl: str) -> list[str]:
    """Syntax problems of Hive DDL statements (`;`-separated) as Athena runs them."""
    try:
        statements = [s for s in sqlglot.parse(ddl, read="athena", error_level=ErrorLevel.RAISE) if s]
    except ParseError as error:
        return [f"DDL does not parse: {error}"]
    return [] if statements else ["no DDL statement"]


def example_query_problems(sql: str, models: Iterable[str]) -> list[str]:
    """What keeps an example query from running on Athena: the checks of :func:`athena_sql_problems`,
    a parse by sqlglot's trino reader (Athena engine 3 is Trino), and a table that is not a model."""
    problems = athena_sql_problems(sql)
    try:
        statements = [s for s in sqlglot.parse(sql, read="trino", error_level=ErrorLevel.RAISE) if s]
    except ParseError as error:
        return [*problems, f"does not parse as Trino SQL: {error}"]
    if len(statements) != 1:
        problems.append(f"{len(statements)} statements: an example is one query")
    known = set(models)
    for statement in statements:
        ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
        for table in statement.find_all(exp.Table):
            if table.name not in known | ctes:
                problems.append(f"table {table.name} is not a model of the project")
    return problems


def example_queries(folder: Path = EXAMPLES) -> dict[str, str]:
    """{examples/queries/<file>: SQL} of every example query."""
    return {
        f"examples/queries/{path.name}": path.read_text(encoding="utf-8")
        for path in sorted(folder.glob("*.sql"))
    }


def athena_env(base: Mapping[str, str]) -> dict[str, str]:
    """The environment with the Athena placeholders always set: the check never connects, and a
    developer's local settings (say TGPIPE_ENRICHED_URI=lake/enriched from .env) must not break it."""
    return {**base, **PLACEHOLDER_ENV}


def dbt(args: Iterable[str], env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [str(DBT), *args, "--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT)]
    return subprocess.run(command, env=dict(env), cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603


# The nightly build of the incremental models, compiled as if these days of receipt had changed: an
# offline compile cannot ask Athena which tables exist (is_incremental) nor list the lake.
NIGHTLY_DAYS = "{incremental_days: ['2026-01-05']}"


def compile_for_athena(target_path: Path, env: Mapping[str, str]) -> dict[str, str]:
    """`dbt parse` + `dbt compile` for the athena target: {path: compiled SQL} of every model and of
    the data tests attached to them (they run on Athena too), as a full build compiles them, and of
    the incremental models as a nightly build does (``nightly/<path>``)."""
    common = ["--target", "athena", "--log-path", str(target_path), "--no-populate-cache"]
    full, nightly = target_path / "full", target_path / "nightly"
    for args in (
        ["parse", *common, "--target-path", str(full)],
        ["compile", *common, "--target-path", str(full), "--full-refresh", "--select", "resource_type:model"],
        ["compile", *common, "--target-path", str(nightly), "--vars", NIGHTLY_DAYS, "--select",
         "config.materialized:incremental", "--exclude", "resource_type:test"],
    ):  # fmt: skip
        result = dbt(args, env, target_path)
        if result.returncode != 0:
            raise RuntimeError(
                f"dbt {args[0]} --target athena failed:\n{result.stdout[-4000:]}{result.stderr[-2000:]}"
            )
    compiled = {}
    for prefix, root in (("", full), ("nightly/", nightly)):
        folder = root / "compiled" / "tgpipe" / "models"
        for path in sorted(folder.rglob("*.sql")):
            if prefix and path.parent.name.endswith(".yml"):
                continue  # the data tests are the same SQL as in the full compile
            compiled[prefix + path.relative_to(folder).as_posix()] = path.read_text(encoding="utf-8")
    return compiled


def source_table_ddl(target_path: Path, env: Mapping[str, str]) -> str:
    """The statements `run-operation create_enriched_source_table` would run (dry run, no connection)."""
    args = ["--quiet", "run-operation", "create_enriched_source_table", "--args", "{dry_run: true}"]
    result = dbt([*args, "--target", "athena", "--target-path", str(target_path / "full")], env, target_path)
    if result.returncode != 0:
        raise RuntimeError(f"dbt run-operation failed:\n{result.stdout[-4000:]}{result.stderr[-2000:]}")
    return result.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target-path", type=Path, help="where dbt writes (default: a temporary folder)")
    options = parser.parse_args(argv)
    env = athena_env(os.environ)
    with tempfile.TemporaryDirectory(prefix="tgpipe-athena-") as scratch:
        target_path = (options.target_path or Path(scratch)).resolve()
        target_path.mkdir(parents=True, exist_ok=True)
        models = compile_for_athena(target_path, env)
        failures = {name: athena_sql_problems(sql) for name, sql in models.items()}
        failures["create_enriched_source_table (DDL)"] = athena_ddl_problems(
            source_table_ddl(target_path, env)
        )
    # Data tests compile under their YAML file's name (marts/_marts__models.yml/<test>.sql).
    model_names = {
        Path(name).stem
        for name in models
        if not name.startswith("nightly/") and not Path(name).parent.name.endswith(".yml")
    }
    examples = example_queries()
    for name, sql in examples.items():
        failures[name] = example_query_problems(sql, model_names)
    bad = {name: problems for name, problems in failures.items() if problems}
    for name, problems in bad.items():
        sys.stdout.write(f"FAIL {name}:\n" + "".join(f"    {problem}\n" for problem in problems))
    sys.stdout.write(
        f"athena: {len(models)} compiled models and data tests, {len(examples)} example queries and the "
        f"source DDL checked; {len(bad)} with problems\n"
    )
    return 1 if bad or not models or not examples else 0


if __name__ == "__main__":
    sys.exit(main())

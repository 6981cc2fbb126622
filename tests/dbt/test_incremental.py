"""The incremental models on DuckDB: a nightly build after the lake changed ends with exactly the rows
of a --full-refresh, and rebuilds only the days that changed.

The lake is bench/dbt_bench.py's busy group (the ETL's schemas, redeliveries on the next day), with
the group's local days cut in Asia/Kolkata by seed chat_settings while days of receipt are cut in
America/Sao_Paulo, so local dates cross days of receipt. Between the first build and the nightly one
the lake changes as the ETL and the privacy commands change it: a new day; a day written late
(backfilled after the next day, whose copies of its updates are then not first receipts); a day
rebuilt without one person (`tgpipe forget`); a day whose texts are nulled (text retention); a day
whose member events are emptied; a day whose reactions are gone.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.helpers import DBT_PROJECT, ROOT

BIN = Path(sys.executable).parent
TZ_NAME = "America/Sao_Paulo"
DAYS = 12  # days 0..11 in the first build, less day 8 (backfilled later); day 12 is the new one
BACKFILLED, FORGOTTEN, RETAINED, EMPTIED, GONE = 8, 3, 5, 6, 2


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dbt_bench", ROOT / "bench" / "dbt_bench.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


def day(index: int) -> date:
    return bench.FIRST_DAY + timedelta(days=index)


@dataclass
class Lake:
    work: Path
    project: Path
    env: dict[str, str]
    rows: dict[int, Any]  # day index -> bench.Day, as generated
    forgotten: int = 0  # the person `tgpipe forget` took out of day FORGOTTEN

    @property
    def enriched(self) -> Path:
        return self.work / "enriched"

    def write(self, index: int, rows: Any = None) -> None:
        bench.write_day(self.enriched, day(index), rows if rows is not None else self.rows[index])

    def dbt(self, *args: str, db: str = "tgpipe.duckdb", target: str = "target") -> str:
        command = [
            str(BIN / "dbt"),
            *args,
            "--project-dir",
            str(self.project),
            "--profiles-dir",
            str(self.project),
        ]
        command += ["--target-path", str(self.work / target), "--log-path", str(self.work / "logs")]
        env = {**self.env, "TGPIPE_DUCKDB_PATH": str(self.work / db)}
        done = subprocess.run(command, env=env, cwd=self.work, capture_output=True, text=True, check=False)
        assert done.returncode == 0, (
            f"dbt {' '.join(args)} failed:\n{done.stdout[-5000:]}\n{done.stderr[-2000:]}"
        )
        return done.stdout

    def compiled(self, model: str, target: str = "target") -> str:
        """A model's SQL as the last dbt command in ``target`` compiled it."""
        models = self.work / target / "compiled" / "tgpipe" / "models"
        path = next(p for p in models.rglob(f"{model}.sql") if not p.parent.name.endswith(".yml"))
        return path.read_text(encoding="utf-8")


def rebuilt_days(sql: str) -> list[str] | None:
    """The days of receipt a staging model's compiled SQL reads: a list, or None for every day."""
    where = re.search(r"where (true|false|context_date in \(([^)]*)\))", sql)
    assert where, sql[:2000]
    if where.group(1) == "true":
        return None
    return re.findall(r"'(\d{4}-\d{2}-\d{2})'", where.group(2) or "")


def table_rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table and view dbt built, its rows sorted (doubles rounded: sums follow the order)."""
    import duckdb

    out = {}
    with duckdb.connect(str(db), read_only=True) as connection:
        names = connection.execute(
            "select table_name from information_schema.tables where table_schema = 'main' order by 1"
        ).fetchall()
        for (name,) in names:
            columns = ", ".join(
                f'round("{column}", 9)' if kind in ("DOUBLE", "FLOAT") else f'"{column}"'
                for column, kind in connection.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = 'main' and table_name = ? order by ordinal_position",
                    [name],
                ).fetchall()
            )
            rows = connection.execute(f'select {columns} from main."{name}"').fetchall()  # noqa: S608 - dbt's names
            out[name] = sorted(rows, key=repr)
    return out


def without_user(rows: Any, user: int) -> Any:
    """A day as `tgpipe forget` leaves it: the person's messages, edits, reactions, member events and
    the entities of their messages gone."""
    messages = [r for r in rows.messages if r[6] != user]
    kept = {r[0] for r in messages}
    return replace(
        rows,
        messages=messages,
        reactions=[r for r in rows.reactions if r[4] != user],
        member_events=[r for r in rows.member_events if r[2] != user],
        entities=[r for r in rows.entities if r[0] in kept],
    )


def without_text(rows: Any) -> Any:
    """A day as text retention leaves it: text and caption null, every row kept."""
    text, caption = bench.MESSAGES.schema.names.index("text"), bench.MESSAGES.schema.names.index("caption")
    return replace(
        rows,
        messages=[tuple(None if i in (text, caption) else v for i, v in enumerate(r)) for r in rows.messages],
    )


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """The first build: days 0..11 but day 8, every model built from scratch."""
    work = tmp_path_factory.mktemp("dbt_incremental")
    project = work / "dbt_project"
    shutil.copytree(DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (project / "seeds" / "chat_settings.csv").write_text(
        f"chat_id,timezone\n{bench.GROUP_ID},Asia/Kolkata\n", encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TGPIPE_", "DBT_"))}
    env.update(
        TGPIPE_ENRICHED_URI=str(work / "enriched"),
        TGPIPE_TIMEZONE=TZ_NAME,
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    group = bench.Group(seed=15)
    rows = {index: group.day(day(index), 260) for index in range(DAYS + 1)}
    result = Lake(work, project, env, rows)
    for index in range(DAYS):
        if index != BACKFILLED:
            result.write(index)
    result.dbt("build", "--exclude", "resource_type:test", "resource_type:unit_test")
    return result


@pytest.fixture(scope="module")
def nightly(lake: Lake) -> Lake:
    """The lake changes; a build of a selection, then the nightly `dbt build`, then a --full-refresh
    of a copy of the database (refreshed.duckdb)."""
    rows = lake.rows
    # The person with the most messages on the forgotten day.
    senders = [r[6] for r in rows[FORGOTTEN].messages if r[6] != bench.HELPER_BOT]
    forgotten = max(set(senders), key=senders.count)
    lake.forgotten = forgotten
    lake.write(BACKFILLED)
    lake.write(FORGOTTEN, without_user(rows[FORGOTTEN], forgotten))
    lake.write(RETAINED, without_text(rows[RETAINED]))
    lake.write(EMPTIED, replace(rows[EMPTIED], member_events=[]))
    shutil.rmtree(lake.enriched / "reactions" / f"context_date={day(GONE)}")
    lake.write(DAYS)
    # A selection first: the messages' models advance the state, the other tables' wait.
    lake.dbt("run", "--select", "+stg_telegram__messages+", target="target-selection")
    lake.dbt("build")
    shutil.copyfile(lake.work / "tgpipe.duckdb", lake.work / "refreshed.duckdb")
    lake.dbt("run", "--full-refresh", db="refreshed.duckdb", target="target-refresh")
    return lake


def iso(*indexes: int) -> list[str]:
    return [day(i).isoformat() for i in sorted(indexes)]


def test_nightly_rebuilds_only_the_days_that_changed_and_the_day_after(nightly: Lake) -> None:
    """Each staging model reads the changed days of its table and the next day of each; the
    selection's build already took the messages' changes, so the nightly build has none left there."""
    changed_messages = (FORGOTTEN, RETAINED, EMPTIED, BACKFILLED, DAYS)  # a day's files are all rewritten
    expected = iso(*{d + k for d in changed_messages for k in (0, 1)})
    assert rebuilt_days(nightly.compiled("stg_telegram__messages", "target-selection")) == expected
    assert rebuilt_days(nightly.compiled("stg_telegram__messages")) == []
    for model in ("stg_telegram__member_events", "stg_telegram__message_entities"):
        assert rebuilt_days(nightly.compiled(model)) == expected, model
    reactions = (GONE, *changed_messages)
    assert rebuilt_days(nightly.compiled("stg_telegram__reactions")) == iso(
        *{d + k for d in reactions for k in (0, 1)}
    )
    assert "message_date in (" in nightly.compiled("top_terms", "target-selection")


def test_nightly_build_equals_a_full_refresh(nightly: Lake) -> None:
    """Every table dbt built (staging, top_terms, every mart, the state) holds exactly the rows of a
    --full-refresh of the same lake."""
    incremental = table_rows(nightly.work / "tgpipe.duckdb")
    refreshed = table_rows(nightly.work / "refreshed.duckdb")
    assert sorted(incremental) == sorted(refreshed)
    for name in ("stg_telegram__messages", "stg_telegram__reactions", "top_terms", "int_incremental_state"):
        assert refreshed[name], name
    different = [name for name in refreshed if incremental[name] != refreshed[name]]
    assert different == []


def test_the_changes_reached_staging(nightly: Lake) -> None:
    """What the lake's changes mean, read back: the backfilled day's updates are first received on
    it (their copies on the next day left out), the forgotten person is gone from that day, the
    retained day has no text, the emptied and gone partitions have no rows."""
    import duckdb

    group = nightly.rows
    backfilled = {r[0] for r in group[BACKFILLED].messages}
    with duckdb.connect(str(nightly.work / "tgpipe.duckdb"), read_only=True) as connection:

        def one(sql: str, *args: object) -> Any:
            return connection.execute(sql, list(args)).fetchone()

        copies = backfilled & {r[0] for r in group[BACKFILLED + 1].messages}
        assert copies, "the next day holds redelivered copies of the backfilled day's updates"
        received = dict(
            connection.execute(
                "select update_id, context_date from stg_telegram__messages "
                "where list_contains(?, update_id)",
                [sorted(copies)],
            ).fetchall()
        )
        first = {u: min(i for i in group if u in {r[0] for r in group[i].messages}) for u in copies}
        assert received == {u: day(i).isoformat() for u, i in first.items()}
        assert BACKFILLED in first.values()
        assert one(
            "select count(*) from stg_telegram__messages where user_id = ? and context_date = ?",
            nightly.forgotten,
            day(FORGOTTEN).isoformat(),
        ) == (0,)
        assert (
            one(
                "select count(*), count(message_text) from stg_telegram__messages where context_date = ?",
                day(RETAINED).isoformat(),
            )[1]
            == 0
        )
        for table, index in (("stg_telegram__member_events", EMPTIED), ("stg_telegram__reactions", GONE)):
            assert one(f"select count(*) from {table} where context_date = ?", day(index).isoformat()) == (0,)  # noqa: S608
        assert (
            one("select count(*) from stg_telegram__messages where context_date = ?", day(DAYS).isoformat())[
                0
            ]
            > 0
        )


def test_a_rerun_without_changes_rebuilds_nothing(nightly: Lake) -> None:
    """Nothing changed since the nightly build: every incremental model reads no day, and the tables
    stay as they were."""
    before = table_rows(nightly.work / "tgpipe.duckdb")
    nightly.dbt("run", target="target-rerun")
    for model in ("stg_telegram__messages", "stg_telegram__reactions", "stg_telegram__member_events"):
        assert rebuilt_days(nightly.compiled(model, "target-rerun")) == [], model
    assert "where context_date in (cast(null as varchar))" in nightly.compiled("top_terms", "target-rerun")
    assert table_rows(nightly.work / "tgpipe.duckdb") == before


def test_other_settings_rebuild_everything(nightly: Lake) -> None:
    """A chat's zone changes (seed chat_settings): every local date moves, so the next build rebuilds
    every day, and still equals a full refresh."""
    (nightly.project / "seeds" / "chat_settings.csv").write_text(
        f"chat_id,timezone\n{bench.GROUP_ID},Asia/Tokyo\n", encoding="utf-8"
    )
    nightly.dbt("build", "--exclude", "resource_type:test", "resource_type:unit_test", target="target-zone")
    assert rebuilt_days(nightly.compiled("stg_telegram__messages", "target-zone")) is None
    shutil.copyfile(nightly.work / "tgpipe.duckdb", nightly.work / "zone.duckdb")
    nightly.dbt("run", "--full-refresh", db="zone.duckdb", target="target-zone-refresh")
    incremental = table_rows(nightly.work / "tgpipe.duckdb")
    assert incremental == table_rows(nightly.work / "zone.duckdb")
    assert _zones(nightly.work / "tgpipe.duckdb") == {"Asia/Tokyo"}


def _zones(db: Path) -> set[str]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as connection:
        return {
            z
            for (z,) in connection.execute(
                "select distinct chat_timezone from stg_telegram__messages"
            ).fetchall()
        }

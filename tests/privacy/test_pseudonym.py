"""Pseudonymised enriched layer and marts (TGPIPE_PSEUDONYMISE=1): equal to the plain ones once every
user id is mapped to its keyed hash and every name dropped; forget still finds the person."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl.config import ConfigError, EtlSettings, PrivacySettings
from etl.privacy.forget import forget
from etl.privacy.pseudonym import pseudonym
from etl.storage import LocalStorage, Storage
from etl.transform.job import EtlJob, rebuild_day
from tests.helpers import DBT_PROJECT
from tests.helpers.etl import NOW
from tests.privacy.conversation import ANA_ID, BOB_ID, CARL_ID, DAY1, DAY2, deliver

KEY = "a-pseudonymisation-key-for-tests"
PSEUDO = PrivacySettings(pseudonymise_key=KEY)
IDS = (ANA_ID, BOB_ID, CARL_ID)
NAMES = {"Ana", "Bob", "Carl", "anasouza", "carl_b", "@anasouza", "@carl_b", "Souza"}
BIN = Path(sys.executable).parent


def _mapped(value: Any, named: bool) -> Any:
    if value in IDS and not isinstance(value, bool):
        return pseudonym(KEY.encode(), value)
    if named and value in NAMES:
        return None
    return value


def _tables(store: Storage) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {}
    for key in store.list():
        rows.setdefault(key.split("/")[0], []).extend(
            pq.read_table(pa.BufferReader(store.get(key))).to_pylist()
        )
    return rows


def _etl(raw: Storage, enriched: Storage, privacy: PrivacySettings) -> None:
    settings = EtlSettings(timezone=ZoneInfo("UTC"))
    job = EtlJob(raw, enriched, settings=settings, processes=1, privacy=privacy, now=lambda: NOW)
    for day in (DAY1, DAY2):
        job.run_day(day)


@pytest.fixture
def two_lakes(tmp_path: Path) -> tuple[LocalStorage, LocalStorage, LocalStorage]:
    """One raw lake (filled through the webhook), its plain and its pseudonymised enriched layer."""
    raw = LocalStorage(tmp_path / "raw")
    deliver(raw)
    plain, pseudo = LocalStorage(tmp_path / "plain"), LocalStorage(tmp_path / "pseudo")
    _etl(raw, plain, PrivacySettings())
    _etl(raw, pseudo, PSEUDO)
    return raw, plain, pseudo


def test_the_enriched_rows_are_the_plain_ones_with_ids_mapped_and_names_dropped(
    two_lakes: tuple[LocalStorage, LocalStorage, LocalStorage],
) -> None:
    """Every table, row for row: the ids are pseudonyms, the names null, everything else equal."""
    _, plain, pseudo = two_lakes
    expected = {
        table: [
            {
                column: _mapped(value, column.endswith(("first_name", "username")) or column == "value")
                for column, value in row.items()
            }
            for row in rows
        ]
        for table, rows in _tables(plain).items()
    }
    got = _tables(pseudo)
    assert got == expected
    values = [v for rows in got.values() for row in rows for v in row.values()]
    assert [v for v in values if v in IDS or v in NAMES] == []


def test_forget_finds_a_person_by_the_pseudonym_of_their_id(
    two_lakes: tuple[LocalStorage, LocalStorage, LocalStorage],
) -> None:
    """The enriched layer has no real id; forget hashes the given one with the same key."""
    raw, _, pseudo = two_lakes
    report = forget(
        raw,
        pseudo,
        ANA_ID,
        etl_settings=EtlSettings(timezone=ZoneInfo("UTC")),
        privacy=PSEUDO,
        rebuild_day=rebuild_day,
    )
    assert (report.enriched_rows, report.enriched_days_rebuilt) == (7, ["2026-10-05", "2026-10-06"])
    ana = pseudonym(KEY.encode(), ANA_ID)
    values = [v for rows in _tables(pseudo).values() for row in rows for v in row.values()]
    assert ana not in values
    assert pseudonym(KEY.encode(), BOB_ID) in values


def test_pseudonymising_needs_a_key() -> None:
    with pytest.raises(ConfigError) as caught:
        PrivacySettings.from_env({"TGPIPE_PSEUDONYMISE": "1", "TGPIPE_PSEUDONYMISE_KEY": "short"})
    assert str(caught.value) == (
        "TGPIPE_PSEUDONYMISE=1 needs TGPIPE_PSEUDONYMISE_KEY (or TGPIPE_PSEUDONYMISE_KEY_PARAM): "
        "a random secret of at least 16 characters"
    )
    settings = PrivacySettings.from_env({"TGPIPE_PSEUDONYMISE": "1", "TGPIPE_PSEUDONYMISE_KEY": KEY})
    assert (settings.pseudonymise_key, repr(settings).count(KEY)) == (KEY, 0)


LAKE_LISTINGS = ("stg_telegram__partitions", "int_incremental_state")


def _marts(enriched: Path, db: Path, work: Path) -> dict[str, list[tuple[Any, ...]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TGPIPE_", "DBT_"))}
    env.update(TGPIPE_ENRICHED_URI=str(enriched), TGPIPE_DUCKDB_PATH=str(db), TGPIPE_TIMEZONE="UTC")
    command = [
        str(BIN / "dbt"),
        "build",
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
    ]
    command += ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test", "--quiet"]
    command += ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    built = subprocess.run(command, env=env, cwd=work, capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stdout[-3000:]
    with duckdb.connect(str(db), read_only=True) as connection:
        names = [
            n
            for (n,) in connection.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'main' and table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        return {n: connection.execute(f'select * from main."{n}"').fetchall() for n in names}  # noqa: S608


def test_the_marts_are_the_plain_ones_with_ids_mapped(
    two_lakes: tuple[LocalStorage, LocalStorage, LocalStorage], tmp_path: Path
) -> None:
    """dbt over both enriched layers: every mart table equal once ids are mapped and names dropped."""
    _, plain, pseudo = two_lakes
    plain_marts = _marts(plain.root, tmp_path / "plain.duckdb", tmp_path)
    pseudo_marts = _marts(pseudo.root, tmp_path / "pseudo.duckdb", tmp_path)
    # The incremental builds' record of the lake's files (sizes, times): the two lakes' files differ in
    # bytes, not in which partitions there are.
    for name in LAKE_LISTINGS:
        listed = [sorted({row[:2] for row in marts.pop(name)}) for marts in (plain_marts, pseudo_marts)]
        assert listed[0] == listed[1] != []
    expected = {
        name: sorted((tuple(_mapped(v, True) for v in row) for row in rows), key=repr)
        for name, rows in plain_marts.items()
    }
    assert {name: sorted(rows, key=repr) for name, rows in pseudo_marts.items()} == expected
    assert sum(len(rows) for rows in expected.values()) > 0

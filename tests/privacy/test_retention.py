"""Retention: raw days past TGPIPE_RAW_RETENTION_DAYS are deleted with every version, enriched text
past TGPIPE_TEXT_RETENTION_DAYS is nulled with every other column and row kept; on both backends."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

from etl.cli import main
from etl.config import PrivacySettings
from etl.privacy.retention import TEXT_COLUMNS, apply
from etl.storage import LocalStorage, Storage
from tests.privacy.conversation import Lake, fill

TODAY = date(2026, 10, 7)
LIMITS = PrivacySettings(raw_retention_days=1, text_retention_days=1)
MESSAGES_DAY1 = "messages/context_date=2026-10-05/part-00000.parquet"


def _rows(store: Storage, key: str) -> list[dict[str, Any]]:
    return pq.read_table(pa.BufferReader(store.get(key))).to_pylist()  # type: ignore[no-any-return]


def test_retention_deletes_old_raw_days_and_nulls_old_text(lake: Lake) -> None:
    """GIVEN days 2026-10-05 and 06 and limits of one day on 2026-10-07; THEN the 5th's raw updates
    and quarantined bodies are gone (every version), its messages keep every row and column but the
    text ones, and the 6th is untouched; a rerun changes nothing."""
    raw_before = {k: lake.raw.get(k) for k in lake.raw.list()}
    enriched_before = {k: lake.enriched.get(k) for k in lake.enriched.list()}
    rows_before = _rows(lake.enriched, MESSAGES_DAY1)

    report = apply(lake.raw, lake.enriched, LIMITS, TODAY)

    versions = 11 if hasattr(lake.raw, "bucket") else 9  # 8 updates and a body; two redelivered: 2 more on S3
    assert report.lines(LIMITS) == [
        f"raw: kept 1 day(s); 1 day(s) deleted ({versions} stored version(s)): 2026-10-05",
        "text: kept 1 day(s); text, caption and quote_text nulled on 1 day(s): 2026-10-05",
    ]
    assert {k: lake.raw.get(k) for k in lake.raw.list()} == {
        k: v for k, v in raw_before.items() if "2026-10-06" in k
    }
    assert [v.key for v in lake.raw.versions() if "2026-10-05" in v.key] == []
    assert _rows(lake.enriched, MESSAGES_DAY1) == [
        {**row, **dict.fromkeys(TEXT_COLUMNS)} for row in rows_before
    ]
    assert any(row["text"] for row in rows_before)
    assert {k: lake.enriched.get(k) for k in lake.enriched.list() if k != MESSAGES_DAY1} == {
        k: v for k, v in enriched_before.items() if k != MESSAGES_DAY1
    }
    assert [v.key for v in lake.enriched.versions() if v.key == MESSAGES_DAY1] == [MESSAGES_DAY1]

    again = apply(lake.raw, lake.enriched, LIMITS, TODAY)
    assert (again.raw_days, again.raw_versions_deleted, again.text_days) == ([], 0, [])


def test_tgpipe_retention_apply_on_a_local_lake(tmp_path: Path) -> None:
    """The command reads both limits from the environment and prints what it did per layer."""
    fill(LocalStorage(tmp_path / "raw"), LocalStorage(tmp_path / "enriched"))
    env = {
        "TGPIPE_RAW_URI": str(tmp_path / "raw"),
        "TGPIPE_ENRICHED_URI": str(tmp_path / "enriched"),
        "TGPIPE_DUCKDB_PATH": str(tmp_path / "none.duckdb"),
        "TGPIPE_TIMEZONE": "UTC",
        "TGPIPE_RAW_RETENTION_DAYS": "1",
        "TGPIPE_TEXT_RETENTION_DAYS": "1",
    }

    result = CliRunner().invoke(main, ["retention", "apply", "--today", "2026-10-07"], env=env)

    assert (result.exit_code, result.stdout.splitlines()) == (
        0,
        [
            "raw: kept 1 day(s); 1 day(s) deleted (9 stored version(s)): 2026-10-05",
            "text: kept 1 day(s); text, caption and quote_text nulled on 1 day(s): 2026-10-05",
            f"marts: no DuckDB file at {tmp_path / 'none.duckdb'}; rebuild them where they are kept "
            "(`cd dbt_project && dbt build`, or on AWS the next nightly marts run / `make athena`)",
        ],
    )
    unlimited = {k: v for k, v in env.items() if "RETENTION" not in k}
    result = CliRunner().invoke(
        main, ["retention", "apply"], env={**unlimited, "TGPIPE_RAW_RETENTION_DAYS": ""}
    )
    assert result.stdout.splitlines() == [
        "raw: no limit (TGPIPE_RAW_RETENTION_DAYS is not set)",
        "text: no limit (TGPIPE_TEXT_RETENTION_DAYS is not set)",
    ]

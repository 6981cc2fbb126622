"""The demo's lake, built once per session on a fixed last day: the same conversation every run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from etl.demo.run import run_demo

# A Sunday; the demo's week is 2026-09-28 .. 2026-10-04 in its time zone (America/Sao_Paulo).
DEMO_END = date(2026, 10, 4)


@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`tgpipe demo` (webhook over HTTP, ETL, dbt build on DuckDB) into a scratch folder."""
    lake = tmp_path_factory.mktemp("bi") / "demo"
    run_demo(lake, end=DEMO_END, echo=lambda _line: None)
    return lake

"""The lake's layout: every key of the raw and the enriched lake is built, and read back, in one place."""

from __future__ import annotations

from datetime import date

import pytest

from etl.lake import (
    days_between,
    enriched_part_key,
    enriched_partition,
    partition_prefix,
    quarantine_key,
    raw_key,
    update_id_of_key,
)


def test_raw_and_quarantine_keys() -> None:
    """An update is kept under its day of receipt and id; an unreadable body under its hash."""
    assert raw_key(42, date(2026, 1, 2)) == "context_date=2026-01-02/42.json"
    assert quarantine_key(b"x", date(2026, 1, 2)) == (
        "_quarantine/2026-01-02/2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881.bin"
    )


def test_day_partitions_of_both_lakes() -> None:
    """The raw and the enriched lake share one day folder; a day is given as a date or its ISO text."""
    assert partition_prefix(date(2026, 10, 5)) == "context_date=2026-10-05/"
    assert partition_prefix("2026-10-05") == "context_date=2026-10-05/"
    assert (
        enriched_part_key("reactions", "2026-10-05") == "reactions/context_date=2026-10-05/part-00000.parquet"
    )
    assert enriched_partition("messages", date(2026, 10, 5)) == "messages/context_date=2026-10-05/"


@pytest.mark.parametrize(
    ("key", "update_id"),
    [
        ("context_date=2026-10-05/101.json", 101),
        ("context_date=2026-10-05/4611686018427387905.json", 4611686018427387905),
        ("context_date=2026-10-05/101.bin", None),
        ("context_date=2026-10-05/abc.json", None),
        ("context_date=2026-10-05/-1.json", None),
        ("context_date=2026-10-05/\u00b2.json", None),  # a digit to str.isdigit, not to int()
        ("context_date=2026-10-05/.json", None),
        ("_quarantine/2026-10-05/ab12.bin", None),
    ],
    ids=["update", "imported", "not-json", "not-a-number", "negative", "superscript", "empty", "quarantine"],
)
def test_update_id_of_a_key(key: str, update_id: int | None) -> None:
    """Only ``<digits>.json`` names an update."""
    assert update_id_of_key(key) == update_id


def test_days_between_includes_both_ends() -> None:
    """A range of days for backfills and imports: both ends included, empty when reversed."""
    assert days_between(date(2026, 2, 27), date(2026, 3, 1)) == [
        date(2026, 2, 27),
        date(2026, 2, 28),
        date(2026, 3, 1),
    ]
    assert days_between(date(2026, 3, 1), date(2026, 3, 1)) == [date(2026, 3, 1)]
    assert days_between(date(2026, 3, 2), date(2026, 3, 1)) == []

"""Retention limits: raw updates kept TGPIPE_RAW_RETENTION_DAYS, message text TGPIPE_TEXT_RETENTION_DAYS.

Days are days of receipt (``context_date``); a day D is past a limit of N days on day T when
``D < T - N`` (so N = 30 keeps today and the 30 days before it).

* **Raw**: on S3 the lake bucket's lifecycle rules expire ``raw/context_date=*`` and
  ``raw/_quarantine/`` after ``RawRetentionDays`` (chalice_app/infra/data.yaml; their older versions a
  day later). :func:`apply` does the same on any store, at once: every version of every object of a
  day past the limit is deleted (a local lake has no lifecycle rules).
* **Text**: :func:`apply` rewrites each ``messages`` partition of a day past the limit with ``text``,
  ``caption`` and ``quote_text`` null, and deletes the partition's older versions. Every other column
  is kept: the message type, ``entity_count``, the ids, times and counts, and every row, so the
  marts' counts stay right. The messages table has no length column (its schema is the ETL's), so
  lengths the marts compute from the text are null for those days. The ``message_entities`` rows
  (their kinds and normalised values: hashtags, mentions, links) are kept.

Rerunning changes nothing: a day already without text is not rewritten.

**The scheduled ETL** (``EtlJob.run_scheduled``, when TGPIPE_TEXT_RETENTION_DAYS is set) nulls the text
of a bounded window after writing its day: the :data:`TEXT_WINDOW_DAYS` days that passed the limit
most recently (on day T with a limit of N: T-N-7 to T-N-1), so a week of missed runs is caught up and
each run reads at most seven partitions. An older day still holding text (a limit set or shortened
later, an old day rebuilt) is left to `tgpipe retention apply`. The ETL's role may not list or delete
object versions: on S3 the replaced version (with the text) is removed by the bucket's
``expire-replaced-enriched-messages`` lifecycle rule a day later, or at once by `tgpipe retention apply`.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Final

from ..config import PrivacySettings
from ..lake import QUARANTINE_PREFIX, enriched_part_key, enriched_partition
from ..storage import Storage

MESSAGES_TABLE: Final = "messages"  # the enriched table holding the texts (etl.transform.schema.MESSAGES)

__all__ = [
    "TEXT_COLUMNS",
    "TEXT_WINDOW_DAYS",
    "RetentionReport",
    "apply",
    "apply_text_window",
    "null_text",
    "text_window",
]

TEXT_COLUMNS: Final = ("text", "caption", "quote_text")
TEXT_WINDOW_DAYS: Final = 7  # the days the scheduled ETL checks, newest past the limit first
_DAYS = "context_date="


@dataclass
class RetentionReport:
    """What one run deleted and rewrote: days, objects, versions (never content)."""

    raw_days: list[str] = field(default_factory=list)
    raw_versions_deleted: int = 0
    text_days: list[str] = field(default_factory=list)  # messages partitions rewritten without text

    def lines(self, settings: PrivacySettings) -> list[str]:
        raw = (
            "raw: no limit (TGPIPE_RAW_RETENTION_DAYS is not set)"
            if settings.raw_retention_days is None
            else f"raw: kept {settings.raw_retention_days} day(s); {len(self.raw_days)} day(s) deleted "
            f"({self.raw_versions_deleted} stored version(s)): {', '.join(self.raw_days) or 'none'}"
        )
        text = (
            "text: no limit (TGPIPE_TEXT_RETENTION_DAYS is not set)"
            if settings.text_retention_days is None
            else f"text: kept {settings.text_retention_days} day(s); text, caption and quote_text nulled on "
            f"{len(self.text_days)} day(s): {', '.join(self.text_days) or 'none'}"
        )
        return [raw, text]


def _past(days: set[str], limit: int | None, today: date) -> list[str]:
    if limit is None:
        return []
    cutoff = (today - timedelta(days=limit)).isoformat()
    return sorted(day for day in days if day < cutoff)


def _days(store: Storage, prefix: str) -> set[str]:
    return {key[len(prefix) :].split("/", 1)[0] for key in store.list(prefix)}


def null_text(enriched: Storage, day: str, *, delete_old_versions: bool = True) -> bool:
    """Rewrite a day's messages partition with the text columns null; False when none had text.
    ``delete_old_versions`` also deletes the partition's older versions (which hold the text)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    key = enriched_part_key(MESSAGES_TABLE, day)
    if key not in set(enriched.list(enriched_partition(MESSAGES_TABLE, day))):
        return False
    # The file is rewritten with its own schema and compression: the ETL declared them when it wrote it.
    source = pq.ParquetFile(pa.BufferReader(enriched.get(key)))
    table = source.read()
    compression = (
        source.metadata.row_group(0).column(0).compression.lower() if source.num_row_groups else None
    )
    if not table.num_rows or all(pc.all(pc.is_null(table.column(c))).as_py() for c in TEXT_COLUMNS):
        return False
    for name in TEXT_COLUMNS:
        index = table.schema.get_field_index(name)
        table = table.set_column(index, table.schema.field(index), pa.nulls(table.num_rows, pa.string()))
    with tempfile.TemporaryDirectory(prefix="tgpipe-retention-") as tmp:
        path = Path(tmp) / "part.parquet"
        pq.write_table(table, os.fspath(path), compression=compression)
        enriched.put_file(key, path)
    if delete_old_versions:
        for version in list(enriched.versions(key)):
            if version.key == key and not version.is_latest:
                enriched.delete_version(version)
    return True


def text_window(limit: int, today: date, window: int = TEXT_WINDOW_DAYS) -> list[str]:
    """The ``window`` days, oldest first, that most recently passed a text limit of ``limit`` days on
    ``today``: ``today - limit - window`` to ``today - limit - 1``."""
    newest = today - timedelta(days=limit + 1)
    return [(newest - timedelta(days=back)).isoformat() for back in range(window - 1, -1, -1)]


def apply_text_window(enriched: Storage, limit: int, today: date) -> list[str]:
    """The scheduled ETL's text retention: null the text of the days of :func:`text_window` that still
    have it, keeping older versions (the ETL may not delete them); returns the days rewritten."""
    return [day for day in text_window(limit, today) if null_text(enriched, day, delete_old_versions=False)]


def apply(raw: Storage, enriched: Storage | None, settings: PrivacySettings, today: date) -> RetentionReport:
    """Apply both limits on ``today``; see the module docstring."""
    report = RetentionReport()
    raw_days = _past(_days(raw, _DAYS), settings.raw_retention_days, today)
    quarantine_days = _past(_days(raw, QUARANTINE_PREFIX), settings.raw_retention_days, today)
    for day in raw_days:
        for version in list(raw.versions(f"{_DAYS}{day}/")):
            raw.delete_version(version)
            report.raw_versions_deleted += 1
    for day in quarantine_days:
        for version in list(raw.versions(f"{QUARANTINE_PREFIX}{day}/")):
            raw.delete_version(version)
            report.raw_versions_deleted += 1
    report.raw_days = sorted(set(raw_days) | set(quarantine_days))
    if enriched is not None:
        text_days = _past(_days(enriched, f"messages/{_DAYS}"), settings.text_retention_days, today)
        report.text_days = [day for day in text_days if null_text(enriched, day)]
    return report

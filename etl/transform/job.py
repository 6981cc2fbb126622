"""The daily ETL: every raw update received on a day -> one typed, deduplicated Parquet partition.

One day D is read from ``{raw}/context_date=D/`` (the listing is paginated; objects are fetched by
threads in a bounded window and, for a large day, parsed by one worker process per CPU, see
:mod:`etl.transform.parallel`) and written to ``{enriched}/context_date=D/part-00000.parquet``:

* streamed: rows go to the Parquet file one row group at a time, so memory does not grow with the day;
* atomic: the file is written to a local temporary file, then stored in one put (a rename on a local
  folder, one upload on S3), so a reader sees the old partition or the new one, never half of one;
* rerunnable: a run replaces the partition and removes anything else in it, so running a day twice
  gives the same rows; a day with no updates leaves no partition;
* loud: an object that cannot be read as an update is counted, logged with its key, and does not stop
  the day; the summary says how many, and :class:`BadObjects` is raised after the good rows are
  written, so the command exits non-zero and the scheduled Lambda fails (a scheduler alarms).

A storage failure (listing, reading, writing) stops the day before anything is replaced.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from ..config import EtlSettings
from ..errors import TgpipeError
from ..lake import PART_NAME, enriched_part_key, partition_prefix
from ..logs import get_logger, log_event
from ..storage import Storage, open_storage
from .chunks import CHUNK_OBJECTS, Chunk, batched, enrich_chunk
from .parallel import available_cpus, map_ordered
from .schedule import day_before
from .schema import COMPRESSION, ENRICHED_SCHEMA, ROW_GROUP_ROWS

__all__ = ["TEMP_PREFIX", "BadObjects", "DaySummary", "EtlJob", "clear_leftovers"]

# A run's Parquet is written in a folder of its own under the temporary directory, named so: removed
# on every exit path Python sees, and by the next run when a killed one left it behind.
TEMP_PREFIX = "tgpipe-etl-"
LEFTOVER_AGE = 3600.0  # seconds: older than any run, so never the folder of one still going

_log = get_logger("etl")


@dataclass
class DaySummary:
    """What one day's run did; printed as one JSON line."""

    date: str
    objects: int = 0  # objects read from the raw partition
    rows: int = 0  # rows written to the enriched partition
    duplicates: int = 0  # objects whose update_id was already read that day
    skipped: dict[str, int] = field(default_factory=dict)  # updates without a Message, by kind
    degraded: dict[str, int] = field(default_factory=dict)  # fields nulled in kept rows, by name
    bad_objects: int = 0  # objects that are not an update of the documented shape
    seconds: float = 0.0
    output: str | None = None  # the Parquet part written, None when the day has no rows

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "objects": self.objects,
            "rows": self.rows,
            "duplicates": self.duplicates,
            "skipped": dict(sorted(self.skipped.items())),
            "degraded": dict(sorted(self.degraded.items())),
            "bad_objects": self.bad_objects,
            "seconds": self.seconds,
            "output": self.output,
        }

    def to_json(self) -> str:
        return orjson.dumps(self.as_dict()).decode()


class BadObjects(TgpipeError):
    """A day had objects that are not updates; its good rows are written, the run must still fail."""

    def __init__(self, summary: DaySummary) -> None:
        self.summary = summary
        super().__init__(
            f"{summary.bad_objects} bad object(s) in context_date={summary.date} of the raw lake "
            f"(their keys are in the etl_bad_object log lines); the {summary.rows} good rows were written"
        )


def _drop_seen(batch: pa.RecordBatch, seen: set[int]) -> tuple[pa.RecordBatch, int]:
    """``batch`` without the update ids in ``seen`` (which it then adds), and how many it dropped.

    Chunks are read in key order and keys are named by update id, so this finds something only when
    an object's update_id differs from its key's."""
    ids = batch.column(0).to_pylist()
    if seen.isdisjoint(ids):
        seen.update(ids)
        return batch, 0
    keep = []
    for update_id in ids:
        keep.append(update_id not in seen)
        seen.add(update_id)
    return batch.filter(pa.array(keep, pa.bool_())), keep.count(False)


def _write_row_group(
    writer: pq.ParquetWriter | None, part: Path, batches: list[pa.RecordBatch]
) -> pq.ParquetWriter:
    """Append ``batches`` to the Parquet file as one row group (creating the file on the first)."""
    if writer is None:
        writer = pq.ParquetWriter(os.fspath(part), ENRICHED_SCHEMA, compression=COMPRESSION)
    table = pa.Table.from_batches(batches, schema=ENRICHED_SCHEMA)
    writer.write_table(table, row_group_size=table.num_rows)
    return writer


def clear_leftovers(root: str | os.PathLike[str] | None = None, *, older_than: float = LEFTOVER_AGE) -> int:
    """Remove the folders of earlier runs that were killed (``TEMP_PREFIX``, untouched for
    ``older_than`` seconds) from the temporary directory; returns how many were removed."""
    folder = Path(tempfile.gettempdir() if root is None else root)
    cutoff = time.time() - older_than
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        try:
            if (
                entry.name.startswith(TEMP_PREFIX)
                and entry.is_dir(follow_symlinks=False)
                and entry.stat(follow_symlinks=False).st_mtime < cutoff
            ):
                shutil.rmtree(entry.path)
                removed += 1
        except OSError:  # removed meanwhile, or not ours to remove: the next run tries again
            continue
    if removed:
        log_event(_log, logging.WARNING, "etl_leftovers_removed", folder=str(folder), removed=removed)
    return removed


@dataclass
class EtlJob:
    """The daily ETL between a raw and an enriched store."""

    raw: Storage
    enriched: Storage
    settings: EtlSettings = field(default_factory=EtlSettings)
    clock: Callable[[], float] = time.perf_counter  # durations
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))  # context_timestamp
    # Worker processes for a large day (None: one per CPU). Parsing, and on S3 the client's own work
    # per request (signing, parsing responses), are CPU-bound; the waiting is done by threads.
    processes: int | None = None
    chunk_objects: int = CHUNK_OBJECTS
    row_group_rows: int = ROW_GROUP_ROWS

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, base_dir: str | os.PathLike[str] | None = None
    ) -> EtlJob:
        """The job configured by TGPIPE_RAW_URI, TGPIPE_ENRICHED_URI, TGPIPE_TIMEZONE and
        TGPIPE_FETCH_WORKERS (relative lake paths taken from ``base_dir``, else the working directory)."""
        settings = EtlSettings.from_env(env)
        s3 = {"max_pool_connections": settings.fetch_workers}
        return cls(
            raw=open_storage(settings.raw_uri, base_dir=base_dir, **s3),
            enriched=open_storage(settings.enriched_uri, base_dir=base_dir, **s3),
            settings=settings,
        )

    def run_day(self, day: date) -> DaySummary:
        """Rebuild the enriched partition of ``day`` from the raw one; never raises for bad objects
        (see :meth:`check`), raises :class:`~etl.storage.StorageError` when storage fails."""
        started = self.clock()
        summary = DaySummary(date=day.isoformat())
        prefix = partition_prefix(summary.date)
        keys = list(self.raw.list(prefix))
        # Listed in lexicographic order (S3's: 10.json before 9.json); a stable sort by length makes
        # it numeric for <update_id>.json, so rows come out sorted by update_id.
        keys.sort(key=len)
        target = enriched_part_key(summary.date)
        clear_leftovers()
        with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX) as tmp:
            part = Path(tmp) / PART_NAME
            self._write(self._chunks(keys), part, summary)
            if summary.rows:
                self.enriched.put_file(target, part)
                summary.output = f"{self.enriched.uri.rstrip('/')}/{target}"
        for stale in list(self.enriched.list(prefix)):
            if stale != target or not summary.rows:
                self.enriched.delete(stale)
        summary.seconds = round(self.clock() - started, 3)
        log_event(
            _log, logging.ERROR if summary.bad_objects else logging.INFO, "etl_day", **summary.as_dict()
        )
        return summary

    def _chunks(self, keys: list[str]) -> Iterator[Chunk]:
        """The day's objects, read and enriched a chunk at a time, in key order: in worker processes
        when the day is large and the machine has CPUs to spare, else in this one."""
        processed_at = pa.scalar(self.now(), ENRICHED_SCHEMA.field("context_timestamp").type)
        size = self.chunk_objects
        processes = available_cpus() if self.processes is None else self.processes
        raw = self.raw
        if processes > 1 and len(keys) > size:
            threads = -(-self.settings.fetch_workers // processes)  # the concurrency is shared
            store: list[Storage] = []  # each worker's own store, made on its first chunk

            def read_and_enrich(chunk_keys: list[str]) -> Chunk:
                if not store:
                    store.append(raw.for_new_process())
                return enrich_chunk(store[0].get_many(chunk_keys, workers=threads), processed_at)

            chunks = [keys[i : i + size] for i in range(0, len(keys), size)]
            return map_ordered(read_and_enrich, chunks, processes)
        objects = raw.get_many(keys, workers=self.settings.fetch_workers)
        return (enrich_chunk(pairs, processed_at) for pairs in batched(objects, size))

    def _write(self, chunks: Iterator[Chunk], part: Path, summary: DaySummary) -> None:
        """Write the chunks' rows to ``part``, one row group per ``row_group_rows`` rows, dropping
        update ids already written; count everything in ``summary``."""
        seen: set[int] = set()
        skipped: Counter[str] = Counter()
        degraded: Counter[str] = Counter()
        pending: list[pa.RecordBatch] = []
        pending_rows = 0
        writer: pq.ParquetWriter | None = None
        try:
            for chunk in chunks:
                summary.objects += chunk.objects
                summary.duplicates += chunk.duplicates
                skipped.update(chunk.skipped)
                degraded.update(chunk.degraded)
                for key, reason in chunk.bad:
                    self._bad(summary, key, reason)
                batch, repeated = _drop_seen(chunk.batch, seen)
                summary.duplicates += repeated
                if batch.num_rows:
                    pending.append(batch)
                    pending_rows += batch.num_rows
                if pending_rows >= self.row_group_rows:
                    writer = _write_row_group(writer, part, pending)
                    summary.rows += pending_rows
                    pending, pending_rows = [], 0
            if pending:
                writer = _write_row_group(writer, part, pending)
                summary.rows += pending_rows
        finally:
            if writer is not None:
                writer.close()
            if isinstance(chunks, Generator):
                chunks.close()  # stops worker processes, thread pools, if the loop stopped early
        summary.skipped = dict(skipped)
        summary.degraded = dict(degraded)

    def _bad(self, summary: DaySummary, key: str, reason: str) -> None:
        summary.bad_objects += 1
        log_event(
            _log,
            logging.ERROR,
            "etl_bad_object",
            date=summary.date,
            store=self.raw.uri,
            key=key,
            reason=reason,
        )

    @staticmethod
    def check(summary: DaySummary) -> DaySummary:
        """``summary``, or :class:`BadObjects` when the day had any."""
        if summary.bad_objects:
            raise BadObjects(summary)
        return summary

    def run_scheduled(self, event_time: str) -> dict[str, Any]:
        """The scheduled run: the day before ``event_time`` in TGPIPE_TIMEZONE. Returns the summary;
        raises :class:`BadObjects` (after writing the good rows) so the invocation counts as failed."""
        return self.check(self.run_day(day_before(event_time, self.settings.timezone))).as_dict()

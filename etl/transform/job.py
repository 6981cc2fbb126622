"""The daily ETL: every raw update received on a day -> one typed, deduplicated Parquet partition per
table of the enriched lake (messages, reactions, member_events, message_entities).

One day D is read once from ``{raw}/context_date=D/`` (the listing is paginated; objects are fetched by
threads in a bounded window and, for a large day, parsed by one worker process per CPU, see
:mod:`etl.transform.parallel`) and written to ``{enriched}/{table}/context_date=D/part-00000.parquet``:

* streamed: rows go to each table's Parquet file one row group at a time, so memory does not grow
  with the day;
* atomic: each file is written to a local temporary folder, then stored in one put (a rename on a
  local folder, one upload on S3), so a reader sees a table's old partition or its new one, never half
  of one;
* rerunnable: a run replaces each table's partition and removes anything else in it, so running a day
  twice gives the same rows; a day with rows gives every table a partition (empty where the table has
  no row that day), a day without rows none;
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

from ..config import EtlSettings, PrivacySettings
from ..errors import TgpipeError
from ..lake import enriched_part_key, enriched_partition, partition_prefix
from ..logs import get_logger, log_event
from ..storage import Storage, open_storage
from .chunks import CHUNK_OBJECTS, Chunk, batched, enrich_chunk
from .parallel import available_cpus, map_ordered
from .schedule import day_before
from .schema import MESSAGES, ROW_GROUP_ROWS, TABLES, Table, open_writer

if TYPE_CHECKING:
    from ..privacy.exclude import Exclusion
    from ..privacy.pseudonym import Pseudonymiser

__all__ = ["TEMP_PREFIX", "BadObjects", "DaySummary", "EtlJob", "clear_leftovers"]

# A run's Parquet is written in a folder of its own under the temporary directory, named so: removed
# on every exit path Python sees, and by the next run when a killed one left it behind.
TEMP_PREFIX = "tgpipe-etl-"
LEFTOVER_AGE = 3600.0  # seconds: older than any run, so never the folder of one still going
PARALLEL_FROM = 2000  # objects: see EtlJob.parallel_from
MIN_CHUNK_OBJECTS = 512  # a smaller chunk costs more in pipe round trips than it gains in balance

_log = get_logger("etl")


@dataclass
class DaySummary:
    """What one day's run did; printed as one JSON line."""

    date: str
    objects: int = 0  # objects read from the raw partition
    rows: dict[str, int] = field(default_factory=lambda: {t.name: 0 for t in TABLES})  # per table
    duplicates: int = 0  # objects whose update_id was already read that day
    skipped: dict[str, int] = field(default_factory=dict)  # updates of kinds no table holds, by kind
    degraded: dict[str, int] = field(default_factory=dict)  # fields nulled in kept rows, by name
    bad_objects: int = 0  # objects that are not an update of the documented shape
    seconds: float = 0.0
    output: dict[str, str | None] = field(default_factory=lambda: {t.name: None for t in TABLES})

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "objects": self.objects,
            "rows": dict(self.rows),
            "duplicates": self.duplicates,
            "skipped": dict(sorted(self.skipped.items())),
            "degraded": dict(sorted(self.degraded.items())),
            "bad_objects": self.bad_objects,
            "seconds": self.seconds,
            "output": dict(self.output),
        }

    def to_json(self) -> str:
        return orjson.dumps(self.as_dict()).decode()


class BadObjects(TgpipeError):
    """A day had objects that are not updates; its good rows are written, the run must still fail."""

    def __init__(self, summary: DaySummary) -> None:
        self.summary = summary
        super().__init__(
            f"{summary.bad_objects} bad object(s) in context_date={summary.date} of the raw lake "
            f"(their keys are in the etl_bad_object log lines); the {summary.rows['messages']} good messages "
            "and the rows of the other tables were written"
        )


def _repeated(ids: list[int], seen: set[int]) -> set[int]:
    """The update ids of ``ids`` already in ``seen`` (to which the others are then added).

    Chunks are read in key order and keys are named by update id, so this finds something only when
    an object's update_id differs from its key's."""
    if seen.isdisjoint(ids):
        seen.update(ids)
        return set()
    repeated = seen.intersection(ids)
    seen.update(ids)
    return repeated


def _without(batch: pa.RecordBatch, update_ids: set[int]) -> pa.RecordBatch:
    """``batch`` without the rows of ``update_ids`` (its first column is update_id)."""
    if not update_ids or not batch.num_rows:
        return batch
    keep = [update_id not in update_ids for update_id in batch.column(0).to_pylist()]
    return batch.filter(pa.array(keep, pa.bool_()))


@dataclass
class _TableFile:
    """One table's Parquet file of the day, filled one row group at a time."""

    table: Table
    path: Path
    row_group_rows: int
    rows: int = 0
    pending: list[pa.RecordBatch] = field(default_factory=list)
    pending_rows: int = 0
    writer: Any = None  # a pyarrow Parquet writer (schema.open_writer)

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows:
            self.pending.append(batch)
            self.pending_rows += batch.num_rows
        if self.pending_rows >= self.row_group_rows:
            self.flush()

    def flush(self) -> None:
        """Append what is pending as one row group (creating the file on the first)."""
        if not self.pending:
            return
        if self.writer is None:
            self.writer = open_writer(self.table, os.fspath(self.path))
        data = pa.Table.from_batches(self.pending, schema=self.table.schema)
        self.writer.write_table(data, row_group_size=data.num_rows)
        self.rows += self.pending_rows
        self.pending, self.pending_rows = [], 0

    def close(self, *, create: bool = False) -> None:
        """Close the file; ``create`` writes one with no row when nothing was written (the table then
        has a partition of the day, as every table of a day with rows does)."""
        if self.writer is None and create:
            self.writer = open_writer(self.table, os.fspath(self.path))
        if self.writer is not None:
            self.writer.close()


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
    # Worker processes from this many objects on: below it, starting them costs more than they save
    # (measured with bench/etl_bench.py: on 2 CPUs a day of 2,000 updates takes about as long either way).
    parallel_from: int = PARALLEL_FROM
    row_group_rows: int = ROW_GROUP_ROWS
    # Members who sent /optout are left out of every table (etl.privacy.exclude).
    privacy: PrivacySettings = field(default_factory=PrivacySettings)

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
            privacy=PrivacySettings.from_env(env),
        )

    def run_day(self, day: date) -> DaySummary:
        """Rebuild every table's partition of ``day`` from the raw day, read once; never raises for
        bad objects (see :meth:`check`), raises :class:`~etl.storage.StorageError` when storage fails
        (before any table is replaced when the raw day cannot be read)."""
        started = self.clock()
        summary = DaySummary(date=day.isoformat())
        keys = list(self.raw.list(partition_prefix(summary.date)))
        # Listed in lexicographic order (S3's: 10.json before 9.json); a stable sort by length makes
        # it numeric for <update_id>.json, so rows come out sorted by update_id.
        keys.sort(key=len)
        from ..privacy.exclude import exclusion_of

        exclusion = exclusion_of(self.raw, self.privacy)
        if self.privacy.pseudonymise_key is not None:
            from ..privacy.pseudonym import Pseudonymiser

            pseudonymiser: Pseudonymiser | None = Pseudonymiser(self.privacy.pseudonymise_key.encode())
        else:
            pseudonymiser = None
        clear_leftovers()
        with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX) as tmp:
            files = {
                t.name: _TableFile(t, Path(tmp) / f"{t.name}.parquet", self.row_group_rows) for t in TABLES
            }
            self._write(self._chunks(keys), files, summary, exclusion, pseudonymiser)
            # A day with rows gives every table a partition (an empty one where it has none), so each
            # table of the lake can be read as soon as one day is; a day without rows gives none.
            any_rows = any(written.rows for written in files.values())
            for name, written in files.items():
                target = enriched_part_key(name, summary.date)
                if any_rows:
                    self.enriched.put_file(target, written.path)  # one put or rename: old or new, whole
                    summary.output[name] = f"{self.enriched.uri.rstrip('/')}/{target}"
                for stale in list(self.enriched.list(enriched_partition(name, summary.date))):
                    if stale != target or not any_rows:
                        self.enriched.delete(stale)
        summary.seconds = round(self.clock() - started, 3)
        log_event(
            _log, logging.ERROR if summary.bad_objects else logging.INFO, "etl_day", **summary.as_dict()
        )
        return summary

    def _chunks(self, keys: list[str]) -> Iterator[Chunk]:
        """The day's objects, read and enriched a chunk at a time, in key order: in worker processes
        when the day is large and the machine has CPUs to spare, else in this one."""
        processed_at = pa.scalar(self.now(), MESSAGES.schema.field("context_timestamp").type)
        processes = available_cpus() if self.processes is None else self.processes
        raw = self.raw
        if processes > 1 and len(keys) >= self.parallel_from:
            # A few chunks per worker, so that they finish together (a day of 5,000 in chunks of 4,096
            # would leave one worker idle), none larger than chunk_objects.
            size = min(self.chunk_objects, max(MIN_CHUNK_OBJECTS, -(-len(keys) // (4 * processes))))
            threads = -(-self.settings.fetch_workers // processes)  # the concurrency is shared
            store: list[Storage] = []  # each worker's own store, made on its first chunk

            def read_and_enrich(chunk_keys: list[str]) -> Chunk:
                if not store:
                    store.append(raw.for_new_process())
                return enrich_chunk(store[0].get_many(chunk_keys, workers=threads), processed_at)

            chunks = [keys[i : i + size] for i in range(0, len(keys), size)]
            return map_ordered(read_and_enrich, chunks, processes)
        objects = raw.get_many(keys, workers=self.settings.fetch_workers)
        return (enrich_chunk(pairs, processed_at) for pairs in batched(objects, self.chunk_objects))

    def _write(
        self,
        chunks: Iterator[Chunk],
        files: dict[str, _TableFile],
        summary: DaySummary,
        exclusion: Exclusion | None = None,
        pseudonymiser: Pseudonymiser | None = None,
    ) -> None:
        """Write the chunks' rows to each table's file, one row group per ``row_group_rows`` rows,
        dropping updates already written; count everything in ``summary``."""
        seen: set[int] = set()
        skipped: Counter[str] = Counter()
        degraded: Counter[str] = Counter()
        try:
            for chunk in chunks:
                summary.objects += chunk.objects
                summary.duplicates += chunk.duplicates
                skipped.update(chunk.skipped)
                degraded.update(chunk.degraded)
                for key, reason in chunk.bad:
                    self._bad(summary, key, reason)
                repeated = _repeated(chunk.update_ids, seen)
                summary.duplicates += len(repeated)
                batches = chunk.batches if exclusion is None else exclusion.filter(chunk.batches)
                if pseudonymiser is not None:  # after the exclusion, which reads the real ids
                    batches = pseudonymiser.filter(batches)
                for name, batch in batches.items():
                    files[name].add(_without(batch, repeated))
            for written in files.values():
                written.flush()
        finally:
            for written in files.values():
                written.close(create=True)
            if isinstance(chunks, Generator):
                chunks.close()  # stops worker processes, thread pools, if the loop stopped early
        summary.rows = {name: written.rows for name, written in files.items()}
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
        """The scheduled run: the day before ``event_time`` in TGPIPE_TIMEZONE, then, when
        TGPIPE_TEXT_RETENTION_DAYS is set, the text retention of the days that just passed it (see
        :func:`etl.privacy.retention.apply_text_window`; listed under ``text_retention``). Returns the
        summary; raises :class:`BadObjects` (after writing the good rows and applying the retention)
        so the invocation counts as failed."""
        day = day_before(event_time, self.settings.timezone)
        summary = self.run_day(day)
        result = summary.as_dict()
        limit = self.privacy.text_retention_days
        if limit is not None:
            from ..privacy.retention import apply_text_window, text_window

            today = day + timedelta(days=1)  # the event's own day in TGPIPE_TIMEZONE
            checked = text_window(limit, today)
            nulled = apply_text_window(self.enriched, limit, today)
            result["text_retention"] = {
                "kept_days": limit,
                "checked": [checked[0], checked[-1]],
                "nulled": nulled,
            }
            log_event(_log, logging.INFO, "etl_text_retention", **result["text_retention"])
        self.check(summary)
        return result


def rebuild_day(
    raw: Storage, enriched: Storage, settings: EtlSettings, privacy: PrivacySettings, day: date
) -> DaySummary:
    """One day's partitions rebuilt from the raw lake (what ``tgpipe forget`` runs for each day it
    erased a person from: etl.privacy.forget takes it as ``rebuild_day``)."""
    return EtlJob(raw=raw, enriched=enriched, settings=settings, privacy=privacy).run_day(day)

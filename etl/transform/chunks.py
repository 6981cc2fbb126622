"""Raw objects -> an Arrow record batch, a chunk at a time: the per-object work of the ETL.

A chunk is a few thousand ``(key, bytes)`` pairs in key order. :func:`enrich_chunk` reads each one
as the webhook does (:func:`etl.telegram.update.decode`), turns it into a row
(:func:`etl.transform.enrich.to_row`), drops repeated update ids, and builds one typed record batch;
it counts what it read, skipped, degraded and rejected, with each bad object's key and reason. It
runs in the ETL's process or in a worker process (:mod:`etl.transform.parallel`) alike: its result
is small, picklable and independent of the other chunks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import TypeVar

import pyarrow as pa

from ..telegram.update import MalformedUpdate, decode
from .enrich import Tables, enrich
from .schema import TABLES, to_record_batch

__all__ = ["CHUNK_OBJECTS", "Chunk", "batched", "enrich_chunk"]

# Objects per chunk: large enough to amortise a record batch and a pipe round trip, small enough
# that workers stay busy and little is held in memory.
CHUNK_OBJECTS = 4096

T = TypeVar("T")


@dataclass
class Chunk:
    """What one chunk of raw objects gave."""

    batches: dict[str, pa.RecordBatch]  # per table; update ids unique within the chunk
    update_ids: list[int] = field(default_factory=list)  # every update read, whatever its kind
    objects: int = 0
    duplicates: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # kinds no table holds, by kind
    degraded: Counter[str] = field(default_factory=Counter)  # fields nulled, by name
    bad: list[tuple[str, str]] = field(default_factory=list)  # (key, reason): never the content


def enrich_chunk(objects: Iterable[tuple[str, bytes]], processed_at: pa.Scalar) -> Chunk:
    """Parse and enrich ``(key, bytes)`` pairs into one record batch per table."""
    loads = decode
    tables = Tables()
    seen: set[int] = set()
    ids: list[int] = []
    skipped: Counter[str] = Counter()
    degraded: Counter[str] = Counter()
    bad: list[tuple[str, str]] = []
    count = duplicates = 0
    for key, body in objects:
        count += 1
        try:
            update = loads(body)
            update_id = update.get("update_id") if type(update) is dict else None
            if type(update_id) is int and update_id in seen:
                duplicates += 1
                continue
            update_id, kind = enrich(update, tables, degraded)
        except MalformedUpdate as exc:
            bad.append((key, str(exc)))
            continue
        seen.add(update_id)
        ids.append(update_id)
        if kind is not None:
            skipped[kind] += 1
    batches = {t.name: to_record_batch(t, getattr(tables, t.name), processed_at) for t in TABLES}
    return Chunk(batches, ids, count, duplicates, skipped, degraded, bad)


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of ``size`` items (the last one shorter)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk

"""The lake's layout, in one place: where every object of the raw and the enriched lake is kept.

Raw lake (``TGPIPE_RAW_URI``), written by the webhook, ``tgpipe poll`` and the history import::

    context_date=2026-10-05/101.json          one update, the exact bytes Telegram sent
    _quarantine/2026-10-05/<sha256>.bin       a delivery that is not an update, kept byte-exact
    _privacy/salt                             the lake's salt for hashing user ids (etl.privacy)
    _optout/<hash>/<update_id>.optout         a stored /optout (``.optin``: /optin) of a member
    _erasures/<time>-<hash>-<nonce>.json      what one `tgpipe forget` removed: counts, no name

Enriched lake (``TGPIPE_ENRICHED_URI``), written by the daily ETL, one folder per table::

    messages/context_date=2026-10-05/part-00000.parquet
    reactions/context_date=2026-10-05/part-00000.parquet
    member_events/context_date=2026-10-05/part-00000.parquet
    message_entities/context_date=2026-10-05/part-00000.parquet

``context_date`` is the day of receipt in ``TGPIPE_TIMEZONE``: a retry that arrives late lands in
the day it arrived, never in a day the ETL has already processed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

__all__ = [
    "ERASURES_PREFIX",
    "IMPORTED_UPDATE_ID_FLOOR",
    "OPTOUT_PREFIX",
    "PART_NAME",
    "PRIVATE_PREFIXES",
    "QUARANTINE_PREFIX",
    "SALT_KEY",
    "days_between",
    "enriched_part_key",
    "enriched_partition",
    "erasure_key",
    "optout_key",
    "partition_prefix",
    "quarantine_key",
    "raw_key",
    "update_id_of_key",
]

QUARANTINE_PREFIX: Final = "_quarantine/"
PART_NAME: Final = "part-00000.parquet"
# Update ids from 2**62 up are the history import's (etl.ingest.history.convert): Telegram's own are
# small, so an imported update never takes the key of a received one.
IMPORTED_UPDATE_ID_FLOOR: Final = 2**62


def partition_prefix(day: date | str) -> str:
    """``context_date=2026-10-05/``: the folder of one day, in the raw and the enriched lake alike."""
    return f"context_date={day.isoformat() if isinstance(day, date) else day}/"


def raw_key(update_id: int, day: date) -> str:
    """Where an update received on ``day`` is kept: ``context_date=2026-10-05/101.json``."""
    return f"{partition_prefix(day)}{update_id}.json"


def quarantine_key(body: bytes, day: date) -> str:
    """Where an unreadable delivery is kept; named by its hash, so a retry overwrites itself."""
    import hashlib  # rare (a bad delivery): the ETL, which imports this module, never pays for it

    return f"{QUARANTINE_PREFIX}{day.isoformat()}/{hashlib.sha256(body).hexdigest()}.bin"


def enriched_partition(table: str, day: date | str) -> str:
    """The folder of one table's day: ``messages/context_date=2026-10-05/``."""
    return f"{table}/{partition_prefix(day)}"


def enriched_part_key(table: str, day: date | str) -> str:
    """The one Parquet part of a table's day: ``messages/context_date=2026-10-05/part-00000.parquet``."""
    return enriched_partition(table, day) + PART_NAME


def update_id_of_key(key: str) -> int | None:
    """The update id a raw key names (``context_date=D/101.json`` -> 101), None for any other key."""
    name = key.rsplit("/", 1)[-1]
    stem = name.removesuffix(".json")
    if stem == name or not stem.isdigit() or not stem.isascii():
        return None
    return int(stem)


def days_between(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end``, both included."""
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


# ---- privacy (etl.privacy, issue 14): the lake's own records, never read as updates -------------

SALT_KEY: Final = "_privacy/salt"
OPTOUT_PREFIX: Final = "_optout/"
ERASURES_PREFIX: Final = "_erasures/"
# Prefixes of the raw lake that hold the pipeline's records rather than deliveries.
PRIVATE_PREFIXES: Final = ("_privacy/", OPTOUT_PREFIX, ERASURES_PREFIX)


def optout_key(person: str, update_id: int, command: str) -> str:
    """``_optout/<hash>/<update_id>.optout`` (or ``.optin``): one stored command of a member; the one
    with the largest update id is the member's current choice."""
    return f"{OPTOUT_PREFIX}{person}/{update_id:020d}.{command}"


def erasure_key(stamp: str, person: str, nonce: str) -> str:
    """``_erasures/20261005T101500123456Z-<hash prefix>-<nonce>.json``: one erasure record (the nonce
    keeps two runs of the same microsecond apart: records are only ever added)."""
    return f"{ERASURES_PREFIX}{stamp}-{person[:16]}-{nonce}.json"

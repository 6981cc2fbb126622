"""`tgpipe forget`: erase one person from every layer of the lake, on request.

1. **Raw** (``{raw}/context_date=*/``): every object that holds the person's id or one of their
   usernames is judged by :func:`etl.privacy.scrub.judge`: the person's own updates (messages,
   edits, reactions, member events, poll answers, join requests...) are removed, with every stored
   version of them on a versioned bucket; other members' updates that carry a copy of the person's
   data are rewritten without it (the one exception to byte-exact raw, counted in the erasure
   record), their older versions deleted. Every other object is not touched: byte-identical.
2. **Quarantine** (``{raw}/_quarantine/``): bodies holding the person's id or username are removed
   (whatever the chat: they are unreadable), every version.
3. **Older versions**: on a versioned bucket, any remaining noncurrent version under the raw prefix
   that holds the id or a username (an overwritten or deleted object) is deleted.
4. **Enriched**: each day whose raw objects changed and that the ETL had written is rebuilt from the
   remaining raw objects with the ETL job itself; a day that still holds rows of the person although
   its raw objects did not (its raw day expired) has those rows filtered out of its Parquet. Older
   versions of the rebuilt partitions are deleted.
5. **Marts**: rebuilt by the command line (`dbt build` on DuckDB) when TGPIPE_DUCKDB_PATH exists;
   on AWS the next nightly marts run rebuilds Athena's.
6. **Record**: an erasure record (:mod:`etl.privacy.records`) is appended, so a re-imported export
   never brings the person back.

``dry_run`` reads everything and changes nothing. A rerun finds nothing left and removes nothing.
With ``chat_id``, only that chat's updates are judged (and its enriched rows filtered).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ..config import EtlSettings, PrivacySettings
from ..errors import TgpipeError
from ..lake import (
    PRIVATE_PREFIXES,
    QUARANTINE_PREFIX,
    enriched_part_key,
    enriched_partition,
)
from ..storage import Storage
from ..telegram.update import MalformedUpdate, decode, read_update
from .identity import lake_salt, person_hash
from .records import write_record
from .scrub import KEEP, REMOVE, Person, judge

# Rebuilds one enriched day from the raw lake: (raw, enriched, settings, privacy, day) -> anything.
RebuildDay = Callable[[Storage, Storage, EtlSettings, PrivacySettings, date], object]

__all__ = ["ForgetEventError", "ForgetReport", "forget", "forget_event"]

RAW_DAYS_PREFIX = "context_date="
# The enriched columns that hold a user id, per table.
PERSON_COLUMNS: dict[str, tuple[str, ...]] = {
    "messages": ("from_id", "left_chat_member_id"),
    "reactions": ("user_id",),
    "member_events": ("user_id", "actor_user_id"),
    "message_entities": ("user_id",),
}


@dataclass
class ForgetReport:
    """What one run removed (or, for a dry run, would remove), per layer: counts and days only."""

    dry_run: bool = False
    raw_removed: int = 0
    raw_rewritten: int = 0
    quarantine_removed: int = 0
    # Raw versions that no longer exist: every version of a removed object, the versions a rewritten
    # one replaced (its one version in a local folder), older versions that held the person.
    versions_deleted: int = 0
    scrubbed: dict[str, int] = field(default_factory=dict)  # what rewriting took out, by rule
    raw_days: list[str] = field(default_factory=list)
    enriched_rows: int = 0  # rows with the person's id found before the rebuild
    enriched_days_rebuilt: list[str] = field(default_factory=list)
    enriched_days_filtered: list[str] = field(default_factory=list)
    enriched_versions_deleted: int = 0  # older versions of the rebuilt partitions (a versioned bucket)
    record_key: str | None = None

    @property
    def found_nothing(self) -> bool:
        return not (
            self.raw_removed
            or self.raw_rewritten
            or self.quarantine_removed
            or self.versions_deleted
            or self.enriched_rows
            or self.enriched_days_rebuilt
            or self.enriched_days_filtered
            or self.enriched_versions_deleted
        )

    def counts(self) -> dict[str, Any]:
        """The erasure record's counts (no day, no name)."""
        return {
            "raw_removed": self.raw_removed,
            "raw_rewritten": self.raw_rewritten,
            "quarantine_removed": self.quarantine_removed,
            "versions_deleted": self.versions_deleted,
            "scrubbed": dict(sorted(self.scrubbed.items())),
            "enriched_rows": self.enriched_rows,
            "enriched_days": len(set(self.enriched_days_rebuilt) | set(self.enriched_days_filtered)),
            "enriched_versions_deleted": self.enriched_versions_deleted,
        }

    def lines(self) -> list[str]:
        """What the command prints, one line per layer (counts and days, never content)."""
        verb = "would be " if self.dry_run else ""
        if self.found_nothing:
            return ["nothing left of this person in the lake: nothing " + (verb or "was ") + "removed"]
        scrubbed = ", ".join(f"{name} {count}" for name, count in sorted(self.scrubbed.items()))
        days = ", ".join(self.raw_days) or "none"
        lines = [
            f"raw: {self.raw_removed} object(s) {verb}removed, {self.raw_rewritten} {verb}rewritten without "
            f"the person ({scrubbed or 'nothing scrubbed'}); days: {days}",
            f"quarantine: {self.quarantine_removed} body(ies) {verb}removed",
            f"versions: {self.versions_deleted} stored raw version(s) {verb}deleted",
            f"enriched: {self.enriched_rows} row(s) of the person; days {verb}rebuilt: "
            f"{', '.join(self.enriched_days_rebuilt) or 'none'}; days {verb}filtered: "
            f"{', '.join(self.enriched_days_filtered) or 'none'}"
            + (
                f"; {self.enriched_versions_deleted} older version(s) deleted"
                if self.enriched_versions_deleted
                else ""
            ),
        ]
        if self.record_key is not None:
            lines.append(f"erasure record: {self.record_key}")
        return lines


def _token(user_id: int) -> re.Pattern[bytes]:
    return re.compile(rb"(?<![0-9])" + str(user_id).encode() + rb"(?![0-9])")


def _usernames_of(user_id: int, value: Any, found: set[str]) -> None:
    """Collect the usernames of every user object of ``user_id`` in a decoded value."""
    if type(value) is dict:
        if value.get("id") == user_id and type(value.get("username")) is str:
            found.add(value["username"].lower())
        for item in value.values():
            _usernames_of(user_id, item, found)
    elif type(value) is list:
        for item in value:
            _usernames_of(user_id, item, found)


def _day_of(key: str) -> str | None:
    head = key.split("/", 1)[0]
    return head.removeprefix(RAW_DAYS_PREFIX) if head.startswith(RAW_DAYS_PREFIX) else None


@dataclass
class _Match:
    """Whether stored bytes may hold the person: their id as a number, or an @username."""

    token: re.Pattern[bytes]
    names: re.Pattern[bytes] | None = None

    def __call__(self, body: bytes) -> bool:
        return bool(self.token.search(body) or (self.names is not None and self.names.search(body)))


def _chat_of(body: bytes) -> int | None:
    try:
        return read_update(decode(body)).chat_id
    except MalformedUpdate:
        return None


def forget(
    raw: Storage,
    enriched: Storage | None,
    user_id: int,
    *,
    chat_id: int | None = None,
    usernames: Iterable[str] = (),
    dry_run: bool = False,
    etl_settings: EtlSettings | None = None,
    privacy: PrivacySettings | None = None,
    workers: int = 16,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    rebuild_day: RebuildDay | None = None,
) -> ForgetReport:
    """Erase ``user_id`` from ``raw`` and ``enriched`` (None: raw only); see the module docstring.
    ``rebuild_day`` rebuilds one enriched day from the raw lake (the ETL's
    :func:`etl.transform.job.rebuild_day`, given by the caller: the ETL stands above this package)."""
    privacy = privacy or PrivacySettings()
    report = ForgetReport(dry_run=dry_run)
    match = _Match(_token(user_id))

    # 1. Every raw object: those with the id are candidates (and tell the person's usernames).
    keys = list(raw.list(RAW_DAYS_PREFIX))
    candidates: dict[str, bytes] = {}
    with_at: list[str] = []
    names: set[str] = {u.lower().lstrip("@") for u in usernames}
    for key, body in raw.get_many(keys, workers=workers):
        if match.token.search(body):
            candidates[key] = body
            with contextlib.suppress(MalformedUpdate):
                _usernames_of(user_id, decode(body), names)
        elif b"@" in body:
            with_at.append(key)
    person = Person.of(user_id, names)
    if names:
        alternatives = b"|".join(re.escape(n.encode()) for n in sorted(names, key=len, reverse=True))
        match.names = re.compile(rb"(?i)(?<![\w@])@(" + alternatives + rb")(?!\w)")
        for key, body in raw.get_many(with_at, workers=workers):
            if match.names.search(body):
                candidates[key] = body

    scrubbed: Counter[str] = Counter()
    removed: list[str] = []
    rewritten: dict[str, bytes] = {}
    for key in sorted(candidates, key=lambda k: (len(k), k)):
        body = candidates[key]
        try:
            data = decode(body)
            update = read_update(data)
        except MalformedUpdate:
            if match.token.search(body):  # an unreadable object holding the id: removed whole
                removed.append(key)
            continue
        if chat_id is not None and update.chat_id != chat_id:
            continue
        verdict = judge(data, person)
        if verdict.action == REMOVE:
            removed.append(key)
        elif verdict.action != KEEP and verdict.update is not None:
            rewritten[key] = orjson.dumps(verdict.update)
            scrubbed.update(verdict.scrubbed)
    report.raw_removed, report.raw_rewritten = len(removed), len(rewritten)
    report.scrubbed = dict(sorted(scrubbed.items()))
    report.raw_days = sorted({d for k in [*removed, *rewritten] if (d := _day_of(k)) is not None})

    # 2. Quarantined bodies.
    quarantined = [
        k for k, body in raw.get_many(list(raw.list(QUARANTINE_PREFIX)), workers=workers) if match(body)
    ]
    report.quarantine_removed = len(quarantined)

    # Apply: remove (every version), rewrite (then delete the older versions).
    for key in [*removed, *quarantined]:
        report.versions_deleted += _count_versions(raw, key) if dry_run else raw.purge(key)
    for key, body in rewritten.items():
        report.versions_deleted += _count_versions(raw, key)  # each replaced by the rewritten object
        if not dry_run:
            raw.put(key, body)
            raw.purge(key, keep_latest=True)

    # 3. Older versions of anything else that hold the person.
    handled = {*removed, *quarantined, *rewritten}
    for version in list(raw.versions()):
        if version.is_latest or version.is_delete_marker or version.key in handled:
            continue
        if version.key.startswith(PRIVATE_PREFIXES):
            continue
        body = raw.get_version(version)
        if match(body) and (chat_id is None or _chat_of(body) in (None, chat_id)):
            report.versions_deleted += 1
            if not dry_run:
                raw.delete_version(version)

    # 4. Enriched days (a rebuilt day past the text retention limit loses its text again).
    if enriched is not None:
        settings = etl_settings or EtlSettings()
        enriched_id = user_id
        if privacy.pseudonymise_key is not None:  # the enriched layer holds their pseudonym
            from .pseudonym import pseudonym

            enriched_id = pseudonym(privacy.pseudonymise_key.encode(), user_id)
        _forget_enriched(raw, enriched, enriched_id, chat_id, report, settings, dry_run, privacy, rebuild_day)
        if privacy.text_retention_days is not None and not dry_run:
            from .retention import null_text

            cutoff = now().astimezone(settings.timezone).date() - timedelta(days=privacy.text_retention_days)
            for day in report.enriched_days_rebuilt:
                if day < cutoff.isoformat():
                    null_text(enriched, day)

    # 6. The record.
    if not dry_run:
        person_id = person_hash(lake_salt(raw, privacy), user_id)
        report.record_key = write_record(raw, person_id, chat_id, now(), report.counts())
    return report


def _count_versions(store: Storage, key: str) -> int:
    return sum(1 for v in store.versions(key) if v.key == key)


def _person_rows(table: Any, name: str, user_id: int, chat_id: int | None) -> Any:
    """A boolean mask of a table's rows that hold the person's id (in ``chat_id`` when given)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    mask = pa.array([False] * table.num_rows, pa.bool_())
    for column in PERSON_COLUMNS[name]:
        mask = pc.or_(mask, pc.fill_null(pc.equal(table.column(column), user_id), False))
    if chat_id is not None:
        mask = pc.and_(mask, pc.equal(table.column("chat_id"), chat_id))
    return mask


def _read(store: Storage, key: str, columns: list[str] | None = None) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pq.read_table(pa.BufferReader(store.get(key)), columns=columns)


def _forget_enriched(
    raw: Storage,
    enriched: Storage,
    user_id: int,
    chat_id: int | None,
    report: ForgetReport,
    settings: EtlSettings,
    dry_run: bool,
    privacy: PrivacySettings,
    rebuild_day: RebuildDay | None,
) -> None:
    import pyarrow.compute as pc

    written: set[str] = set()
    days_with_rows: set[str] = set()
    for name, columns in PERSON_COLUMNS.items():
        for key in enriched.list(f"{name}/{RAW_DAYS_PREFIX}"):
            day = key.split(RAW_DAYS_PREFIX, 1)[1].split("/", 1)[0]
            written.add(day)
            table = _read(enriched, key, ["update_id", "chat_id", *columns])
            found = pc.sum(_person_rows(table, name, user_id, chat_id)).as_py() or 0
            if found:
                report.enriched_rows += found
                days_with_rows.add(day)
    rebuild = sorted(d for d in report.raw_days if d in written)
    filtered = sorted(days_with_rows - set(report.raw_days))
    report.enriched_days_rebuilt, report.enriched_days_filtered = rebuild, filtered
    if dry_run:
        return
    if rebuild and rebuild_day is None:
        raise TypeError("forget needs rebuild_day (etl.transform.job.rebuild_day) to rebuild enriched days")
    for day in rebuild:
        assert rebuild_day is not None
        rebuild_day(raw, enriched, settings, privacy, date.fromisoformat(day))
    for day in filtered:
        _filter_day(enriched, day, user_id, chat_id)
    for day in [*rebuild, *filtered]:
        for name in PERSON_COLUMNS:
            for version in list(enriched.versions(enriched_partition(name, day))):
                if not version.is_latest or version.is_delete_marker:
                    enriched.delete_version(version)
                    report.enriched_versions_deleted += 1


def _filter_day(enriched: Storage, day: str, user_id: int, chat_id: int | None) -> None:
    """Rewrite a day's partitions without the person's rows (and the entities of their messages)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    dropped: list[int] = []
    for name in PERSON_COLUMNS:
        key = enriched_part_key(name, day)
        if key not in set(enriched.list(enriched_partition(name, day))):
            continue
        table = _read(enriched, key)
        mask = _person_rows(table, name, user_id, chat_id)
        if name == "messages":
            dropped = table.filter(mask).column("update_id").to_pylist()
        elif name == "message_entities" and dropped:
            mask = pc.or_(mask, pc.is_in(table.column("update_id"), pa.array(dropped, pa.int64())))
        if not pc.any(mask).as_py():
            continue
        with tempfile.TemporaryDirectory(prefix="tgpipe-forget-") as tmp:
            path = Path(tmp) / "part.parquet"
            pq.write_table(table.filter(pc.invert(mask)), os.fspath(path), compression="zstd")
            enriched.put_file(key, path)


class ForgetEventError(TgpipeError, ValueError):
    """The forget function's event does not say whom to forget; the message names the field."""


def _int_of(event: Mapping[str, Any], name: str, *, required: bool) -> int | None:
    value = event.get(name)
    if value is None and not required:
        return None
    if type(value) is str and value.lstrip("-").isdigit():
        value = int(value)
    if type(value) is not int:
        raise ForgetEventError(f"the event's {name} must be an integer (a Telegram id)")
    return value


def forget_event(
    event: Mapping[str, Any], env: Mapping[str, str] | None = None, *, rebuild_day: RebuildDay | None = None
) -> dict[str, Any]:
    """The forget function's work: ``{"user_id": ..., "chat_id"?: ..., "dry_run"?: bool}`` -> the
    counts and lines of :class:`ForgetReport` (never content), the lake from TGPIPE_RAW_URI and
    TGPIPE_ENRICHED_URI; logged as one line of counts (no id: the record names the person)."""
    from ..logs import get_logger, log_event
    from ..storage import open_storage

    user_id = _int_of(event, "user_id", required=True)
    assert user_id is not None
    chat_id = _int_of(event, "chat_id", required=False)
    dry_run = event.get("dry_run", False) is True
    settings, privacy = EtlSettings.from_env(env), PrivacySettings.from_env(env)
    report = forget(
        open_storage(settings.raw_uri),
        open_storage(settings.enriched_uri),
        user_id,
        chat_id=chat_id,
        dry_run=dry_run,
        etl_settings=settings,
        privacy=privacy,
        rebuild_day=rebuild_day,
    )
    result = {
        "dry_run": dry_run,
        "record": report.record_key,
        "counts": report.counts(),
        "lines": report.lines(),
    }
    log_event(
        get_logger("forget"),
        logging.INFO,
        "forget",
        dry_run=dry_run,
        record=report.record_key,
        **report.counts(),
    )
    return result

"""The day run: a mixed day typed, duplicates, reruns, bad objects, empty days, S3 and its failures."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pyarrow.parquet as pq
import pytest
from botocore.config import Config

from etl.config import EtlSettings
from etl.storage import LocalStorage, S3Storage, Storage, StorageError
from etl.transform.job import BadObjects, DaySummary, EtlJob
from etl.transform.schema import ENRICHED_SCHEMA
from tests.helpers.etl import (
    ANA,
    BOB,
    CHANNEL_CHAT,
    DAY,
    SENT,
    TICK,
    make_job,
    read_rows,
    stored_row,
    update,
    write_day,
)

PART = f"messages/context_date={DAY}/part-00000.parquet"
D = date.fromisoformat(DAY)


class FlakyStorage(Storage):
    """A store that delegates to another but fails reading one key, as S3 can mid-day."""

    def __init__(self, inner: Storage, failing_key: str) -> None:
        self.inner = inner
        self.failing_key = failing_key

    @property
    def uri(self) -> str:
        return self.inner.uri

    def put(self, key: str, data: bytes) -> None:
        self.inner.put(key, data)

    def get(self, key: str) -> bytes:
        if key == self.failing_key:
            raise StorageError(f"cannot read {key}: SlowDown (please reduce your request rate)")
        return self.inner.get(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        return self.inner.list(prefix)

    def delete(self, key: str) -> None:
        self.inner.delete(key)


@pytest.fixture
def raw(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "raw")


@pytest.fixture
def enriched(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "enriched")


def summary(
    *, rows: int = 0, output: str | None = None, tables: dict[str, int] | None = None, **values: Any
) -> dict[str, Any]:
    """The summary of a run over DAY, with ``values`` changed: ``rows`` of the messages table and
    ``tables`` those of the others; ``output`` the messages part, the other tables' parts beside it
    (a day with rows writes every table's partition)."""
    base = DaySummary(date=DAY, seconds=TICK).as_dict()
    base["rows"].update({"messages": rows, **(tables or {})})
    if output is not None:
        root = output.rsplit("/messages/", 1)[0]
        base["output"] = {
            name: f"{root}/{name}/context_date={DAY}/part-00000.parquet" for name in base["output"]
        }
    base.update(values)
    return base


def partition_files(store: LocalStorage, day: str = DAY, table: str = "messages") -> list[str]:
    return sorted(store.list(f"{table}/context_date={day}/"))


MIXED_DAY = {
    "900000001.json": update(900000001, text="Bom dia! Alguém sabe como emitir o boleto? 🙏"),
    "900000002.json": update(
        900000002, message_id=502, sender=BOB, photo=[{"file_id": "p"}], caption="print do erro"
    ),
    "900000003.json": update(900000003, message_id=503, sticker={"file_id": "s", "emoji": "👍"}),
    "900000004.json": update(900000004, message_id=504, sender=BOB, voice={"file_id": "v", "duration": 3}),
    "900000005.json": update(900000005, "edited_message", edit_date=SENT + 60, text="Bom dia!"),
    "900000006.json": {
        "update_id": 900000006,
        "channel_post": {
            "message_id": 31,
            "sender_chat": CHANNEL_CHAT,
            "chat": CHANNEL_CHAT,
            "date": SENT,
            "text": "Aviso",
        },
    },
    "900000007.json": {"update_id": 900000007, "my_chat_member": {"chat": {"id": -1, "type": "group"}}},
    "900000008.json": update(900000008, message_id=505, sender=BOB, new_chat_members=[BOB]),
    "900000010.json": update(
        900000010,
        message_id=506,
        text="/help@tgpipe_bot",
        entities=[{"offset": 0, "length": 16, "type": "bot_command"}],
    ),
    "900000009.json": {"update_id": 900000009, "message_reaction": {"chat": {"id": -1, "type": "group"}}},
}
MIXED_ROWS = [
    stored_row(text="Bom dia! Alguém sabe como emitir o boleto? 🙏"),
    stored_row(
        update_id=900000002,
        message_id=502,
        from_id=222222222,
        from_first_name="Bob",
        from_username=None,
        message_type="photo",
        caption="print do erro",
    ),
    stored_row(update_id=900000003, message_id=503, message_type="sticker"),
    stored_row(
        update_id=900000004,
        message_id=504,
        from_id=222222222,
        from_first_name="Bob",
        from_username=None,
        message_type="voice",
    ),
    stored_row(update_id=900000005, update_kind="edited_message", edit_date=SENT + 60, text="Bom dia!"),
    stored_row(
        update_id=900000006,
        update_kind="channel_post",
        message_id=31,
        chat_id=-1009876543210,
        chat_type="channel",
        chat_title="Anúncios",
        from_id=None,
        from_is_bot=None,
        from_first_name=None,
        from_username=None,
        sender_chat_id=-1009876543210,
        text="Aviso",
    ),
    stored_row(
        update_id=900000008,
        message_id=505,
        from_id=222222222,
        from_first_name="Bob",
        from_username=None,
        message_type="service",
        new_chat_members_count=1,
        service_kind="new_chat_members",
    ),
    stored_row(
        update_id=900000010, message_id=506, text="/help@tgpipe_bot", bot_command="/help", entity_count=1
    ),
]


def test_a_day_mixing_text_and_media_becomes_one_typed_partition(
    raw: LocalStorage, enriched: LocalStorage
) -> None:
    """The course's crash (a photo before any text) is an ordinary day: every row, typed, by update_id."""
    write_day(raw, MIXED_DAY)
    result = make_job(raw, enriched).run_day(D)
    assert result.as_dict() == summary(
        objects=10,
        rows=8,
        tables={"member_events": 1, "message_entities": 1},
        degraded={"message_reaction.message_id": 1, "my_chat_member.date": 1},
        output=f"{enriched.uri}/{PART}",
    )
    assert partition_files(enriched) == [PART]
    assert read_rows(enriched.root / PART) == MIXED_ROWS


def test_the_file_is_zstd_parquet_of_the_declared_schema(raw: LocalStorage, enriched: LocalStorage) -> None:
    """The written file's own schema is the declared one, compressed with zstd."""
    write_day(raw, MIXED_DAY)
    make_job(raw, enriched).run_day(D)
    parquet = pq.ParquetFile(enriched.root / PART)
    assert parquet.schema_arrow == ENRICHED_SCHEMA
    assert {parquet.metadata.row_group(0).column(i).compression for i in range(len(ENRICHED_SCHEMA))} == {
        "ZSTD"
    }


def test_objects_outside_the_day_and_quarantine_are_not_read(
    raw: LocalStorage, enriched: LocalStorage
) -> None:
    """Only context_date=D/ is read: not the next day, not _quarantine/."""
    write_day(raw, {"1.json": update(1, text="hoje")})
    write_day(raw, {"2.json": update(2, text="amanhã")}, day="2026-10-06")
    raw.put("_quarantine/2026-10-05/abc.json", b'{"update_id": 3')
    result = make_job(raw, enriched).run_day(D)
    assert (result.objects, result.rows["messages"], result.bad_objects) == (1, 1, 0)
    assert [r["update_id"] for r in read_rows(enriched.root / PART)] == [1]


def test_rows_are_sorted_by_update_id_not_by_key_text(raw: LocalStorage, enriched: LocalStorage) -> None:
    """S3 lists 10.json before 9.json; the rows still come out 9, 10, 100."""
    write_day(raw, {f"{n}.json": update(n, text=str(n)) for n in (100, 9, 10)})
    make_job(raw, enriched).run_day(D)
    assert [r["update_id"] for r in read_rows(enriched.root / PART)] == [9, 10, 100]


def test_an_update_kept_twice_gives_one_row(raw: LocalStorage, enriched: LocalStorage) -> None:
    """Deduplicated by update_id: a second object with the same update_id is counted, not written."""
    write_day(
        raw,
        {"7.json": update(7, text="oi"), "7-copy.json": update(7, text="oi"), "8.json": update(8, text="b")},
    )
    result = make_job(raw, enriched).run_day(D)
    assert result.as_dict() == summary(objects=3, rows=2, duplicates=1, output=f"{enriched.uri}/{PART}")
    assert [r["update_id"] for r in read_rows(enriched.root / PART)] == [7, 8]


def test_duplicates_across_chunks_and_row_groups_are_dropped(
    raw: LocalStorage, enriched: LocalStorage
) -> None:
    """The same update_id in two chunks (read far apart) is still one row."""
    objects = {f"{n}.json": update(n, text=str(n)) for n in range(1, 9)}
    objects["99.json"] = update(2, text="2")  # update 2 again, read in the last chunk
    write_day(raw, objects)
    result = make_job(raw, enriched, chunk_objects=2, row_group_rows=3, processes=1).run_day(D)
    assert (result.objects, result.rows["messages"], result.duplicates) == (9, 8, 1)
    assert [r["update_id"] for r in read_rows(enriched.root / PART)] == list(range(1, 9))


def test_a_rerun_replaces_the_partition_and_never_doubles(raw: LocalStorage, enriched: LocalStorage) -> None:
    """Running a day twice gives the same rows; parts a previous run left are removed."""
    write_day(raw, MIXED_DAY)
    job = make_job(raw, enriched)
    job.run_day(D)
    enriched.put(f"messages/context_date={DAY}/part-00001.parquet", b"stale part of an older run")
    second = job.run_day(D)
    assert (second.objects, second.rows) == (
        10,
        {"messages": 8, "reactions": 0, "member_events": 1, "message_entities": 1},
    )
    assert partition_files(enriched) == [PART]
    assert read_rows(enriched.root / PART) == MIXED_ROWS


def test_a_rerun_after_late_updates_includes_them(raw: LocalStorage, enriched: LocalStorage) -> None:
    """The partition always reflects the raw day as it is now."""
    write_day(raw, {"1.json": update(1, text="a")})
    job = make_job(raw, enriched)
    job.run_day(D)
    write_day(raw, {"2.json": update(2, text="b")})
    job.run_day(D)
    assert [r["text"] for r in read_rows(enriched.root / PART)] == ["a", "b"]


def test_a_corrupt_object_in_the_middle_does_not_stop_the_day(
    raw: LocalStorage, enriched: LocalStorage, capsys: pytest.CaptureFixture[str]
) -> None:
    """Good rows are written; the bad objects are counted and logged by key and reason, never content."""
    write_day(
        raw,
        {
            "1.json": update(1, text="segredo um"),
            "2.json": b'{"update_id": 2, "message": {"text": "segredo dois"',
            "3.json": update(3, chat=[1]),
            "4.json": update(4, text="segredo quatro"),
        },
    )
    job = make_job(raw, enriched)
    result = job.run_day(D)
    assert result.as_dict() == summary(objects=4, rows=2, bad_objects=2, output=f"{enriched.uri}/{PART}")
    assert [r["update_id"] for r in read_rows(enriched.root / PART)] == [1, 4]
    logs = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    bad = [(entry["key"], entry["reason"]) for entry in logs if entry["event"] == "etl_bad_object"]
    assert bad == [
        (
            f"context_date={DAY}/2.json",
            "body is not JSON (unexpected end of data: line 1 column 52 (char 51))",
        ),
        (f"context_date={DAY}/3.json", "message.chat is not an object"),
    ]
    assert all(entry["level"] == "error" for entry in logs)
    assert "segredo" not in json.dumps(logs)
    with pytest.raises(BadObjects) as caught:
        job.check(result)
    assert str(caught.value) == (
        f"2 bad object(s) in context_date={DAY} of the raw lake (their keys are in the etl_bad_object "
        "log lines); the 2 good messages and the rows of the other tables were written"
    )


def test_an_empty_day_writes_nothing_and_removes_an_old_partition(
    raw: LocalStorage, enriched: LocalStorage
) -> None:
    """No raw object: no error, no file, an earlier partition of the day removed, a summary of zeros."""
    enriched.put(PART, b"written by an earlier run")
    result = make_job(raw, enriched).run_day(D)
    assert result.as_dict() == summary()
    assert partition_files(enriched) == []


def test_a_day_of_skipped_updates_only_writes_no_partition(raw: LocalStorage, enriched: LocalStorage) -> None:
    """Updates of kinds no table holds are counted by kind; with no row there is no file in any table."""
    write_day(
        raw, {"1.json": {"update_id": 1, "poll_answer": {}}, "2.json": {"update_id": 2, "inline_query": {}}}
    )
    assert make_job(raw, enriched).run_day(D).as_dict() == summary(
        objects=2, skipped={"inline_query": 1, "poll_answer": 1}
    )
    assert list(enriched.list()) == []


def test_a_membership_update_without_what_identifies_it_is_degraded_not_bad(
    raw: LocalStorage, enriched: LocalStorage
) -> None:
    """A chat_member update without a chat gives no row and counts as degraded: the update is kept."""
    write_day(
        raw, {"1.json": {"update_id": 1, "chat_member": {}}, "2.json": {"update_id": 2, "chat_member": {}}}
    )
    assert make_job(raw, enriched).run_day(D).as_dict() == summary(
        objects=2, degraded={"chat_member.chat.id": 2}
    )


def test_a_large_day_is_written_in_row_groups(raw: LocalStorage, enriched: LocalStorage) -> None:
    """Rows are streamed: one row group per row_group_rows rows, not one table held in memory."""
    write_day(raw, {f"{n}.json": update(n, text=str(n)) for n in range(1, 11)})
    make_job(raw, enriched, chunk_objects=2, row_group_rows=3, processes=1).run_day(D)
    parquet = pq.ParquetFile(enriched.root / PART)
    assert [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)] == [4, 4, 2]
    assert [r["update_id"] for r in read_rows(enriched.root / PART)] == list(range(1, 11))


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_worker_processes_give_the_same_result_as_one_process(tmp_path: Path, raw: LocalStorage) -> None:
    """On a local lake chunks are enriched in worker processes: same rows, same counts, same order."""
    objects: dict[str, Any] = {
        f"{n}.json": update(n, text=f"m{n}", sender=ANA if n % 2 else BOB) for n in range(1, 40)
    }
    objects["17.json"] = b"not json"
    objects["18.json"] = {"update_id": 18, "poll_answer": {}}
    objects["99.json"] = update(5, text="m5")  # a duplicate, in another chunk
    write_day(raw, objects)
    runs = {}
    for processes in (1, 3):
        out = LocalStorage(tmp_path / f"enriched-{processes}")
        result = make_job(
            raw, out, chunk_objects=4, row_group_rows=8, processes=processes, parallel_from=1
        ).run_day(D)
        runs[processes] = ({**result.as_dict(), "output": None}, read_rows(out.root / PART))
    assert runs[3] == runs[1]
    assert runs[1][0] == {
        **summary(objects=40, rows=37, duplicates=1, skipped={"poll_answer": 1}, bad_objects=1),
        "output": None,
    }


def test_a_failing_read_stops_the_day_and_keeps_the_old_partition(
    raw: LocalStorage, enriched: LocalStorage
) -> None:
    """A storage error while reading is not a bad object: the run fails and replaces nothing."""
    write_day(raw, MIXED_DAY)
    make_job(raw, enriched).run_day(D)
    before = (enriched.root / PART).read_bytes()
    write_day(raw, {"900000011.json": update(900000011, text="late")})
    flaky = FlakyStorage(raw, f"context_date={DAY}/900000003.json")
    with pytest.raises(StorageError, match="SlowDown"):
        make_job(flaky, enriched).run_day(D)
    assert partition_files(enriched) == [PART]
    assert (enriched.root / PART).read_bytes() == before


def test_the_scheduled_run_processes_the_day_before_the_event(
    raw: LocalStorage, enriched: LocalStorage
) -> None:
    """run_scheduled: D-1 of the event time in TGPIPE_TIMEZONE, the summary as a dict."""
    write_day(raw, MIXED_DAY)
    settings = EtlSettings(timezone=ZoneInfo("America/Sao_Paulo"))
    job = make_job(raw, enriched, settings=settings)
    # 02:15 UTC on the 7th is 23:15 on the 6th in São Paulo: the day before is the 5th.
    assert job.run_scheduled("2026-10-07T02:15:00Z") == summary(
        objects=10,
        rows=8,
        tables={"member_events": 1, "message_entities": 1},
        degraded={"message_reaction.message_id": 1, "my_chat_member.date": 1},
        output=f"{enriched.uri}/{PART}",
    )


def test_the_scheduled_run_fails_after_writing_when_objects_are_bad(
    raw: LocalStorage, enriched: LocalStorage
) -> None:
    """Bad objects raise BadObjects, after the good rows are in place."""
    write_day(raw, {"1.json": update(1, text="a"), "2.json": b"[]"})
    with pytest.raises(BadObjects):
        make_job(raw, enriched).run_scheduled("2026-10-06T00:15:00Z")
    assert [r["update_id"] for r in read_rows(enriched.root / PART)] == [1]


def test_the_summary_is_one_json_line() -> None:
    """Keys in a fixed order, skipped kinds sorted."""
    result = DaySummary(date=DAY, objects=3, skipped={"poll_answer": 1, "inline_query": 1}, seconds=0.5)
    result.rows["messages"] = 1
    result.output["messages"] = "lake/enriched/messages/context_date=2026-10-05/part-00000.parquet"
    assert result.to_json() == (
        '{"date":"2026-10-05","objects":3,'
        '"rows":{"messages":1,"reactions":0,"member_events":0,"message_entities":0},"duplicates":0,'
        '"skipped":{"inline_query":1,"poll_answer":1},"degraded":{},"bad_objects":0,"seconds":0.5,'
        '"output":{"messages":"lake/enriched/messages/context_date=2026-10-05/part-00000.parquet",'
        '"reactions":null,"member_events":null,"message_entities":null}}'
    )


# --- S3 (moto) ----------------------------------------------------------------------------------


def _s3_read_rows(store: S3Storage, key: str) -> list[dict[str, Any]]:
    return pq.read_table(io.BytesIO(store.get(key))).to_pylist()


def test_more_than_1000_objects_on_s3_are_all_read(s3_bucket: str) -> None:
    """Listing is paginated (S3 pages hold 1,000 keys): 1,100 updates give 1,100 rows."""
    client = boto3.client("s3")
    for n in range(1, 1101):
        client.put_object(
            Bucket=s3_bucket,
            Key=f"raw/context_date={DAY}/{n}.json",
            Body=json.dumps(update(n, text=str(n))).encode(),
        )
    raw, enriched = S3Storage(s3_bucket, "raw"), S3Storage(s3_bucket, "enriched")
    result = make_job(raw, enriched).run_day(D)
    assert result.as_dict() == summary(objects=1100, rows=1100, output=f"s3://{s3_bucket}/enriched/{PART}")
    rows = _s3_read_rows(enriched, PART)
    assert [r["update_id"] for r in rows] == list(range(1, 1101))
    assert rows[0] == stored_row(update_id=1, text="1")
    assert list(enriched.list("messages/")) == [PART]


def test_s3_rerun_replaces_the_partition(s3_bucket: str) -> None:
    """On S3 too a rerun gives the same single part and removes stale ones."""
    raw, enriched = S3Storage(s3_bucket, "raw"), S3Storage(s3_bucket, "enriched")
    write_day(raw, MIXED_DAY)
    job = make_job(raw, enriched)
    job.run_day(D)
    enriched.put(f"messages/context_date={DAY}/part-00001.parquet", b"stale")
    job.run_day(D)
    assert list(enriched.list(f"messages/context_date={DAY}/")) == [PART]
    assert _s3_read_rows(enriched, PART) == MIXED_ROWS


def test_a_missing_raw_bucket_is_a_storage_error(s3_bucket: str) -> None:
    """Listing a bucket that does not exist fails the run with the S3 error, not an empty day."""
    enriched = S3Storage(s3_bucket, "enriched")
    enriched.put(PART, b"earlier partition")
    with pytest.raises(
        StorageError, match=r"cannot list s3://no-such-bucket/raw/context_date=2026-10-05/: .*NoSuchBucket"
    ):
        make_job(S3Storage("no-such-bucket", "raw"), enriched).run_day(D)
    assert enriched.get(PART) == b"earlier partition"


def test_an_s3_read_error_mid_day_replaces_nothing(s3_bucket: str) -> None:
    """One GET failing among many concurrent ones stops the day; the previous partition stays."""
    raw, enriched = S3Storage(s3_bucket, "raw"), S3Storage(s3_bucket, "enriched")
    write_day(raw, {f"{n}.json": update(n, text=str(n)) for n in range(1, 41)})
    make_job(raw, enriched).run_day(D)
    before = enriched.get(PART)
    write_day(raw, {"41.json": update(41, text="41")})
    with pytest.raises(StorageError, match="SlowDown"):
        make_job(FlakyStorage(raw, f"context_date={DAY}/20.json"), enriched).run_day(D)
    assert enriched.get(PART) == before


def test_an_s3_write_error_fails_the_run(s3_bucket: str) -> None:
    """The Parquet part cannot be stored (here: the enriched bucket is missing): StorageError."""
    raw = S3Storage(s3_bucket, "raw")
    write_day(raw, {"1.json": update(1, text="a")})
    with pytest.raises(
        StorageError,
        match=r"cannot write s3://no-such-bucket/enriched/messages/context_date=2026-10-05/part-00000.parquet",
    ):
        make_job(raw, S3Storage("no-such-bucket", "enriched")).run_day(D)


def test_from_env_reads_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """TGPIPE_* give the stores (relative paths under base_dir), the zone and the fetch workers."""
    job = EtlJob.from_env(
        {
            "TGPIPE_RAW_URI": "lake/raw",
            "TGPIPE_ENRICHED_URI": "s3://bucket/enriched",
            "TGPIPE_FETCH_WORKERS": "8",
        },
        base_dir=tmp_path,
    )
    assert isinstance(job.raw, LocalStorage)
    assert job.raw.root == tmp_path / "lake" / "raw"
    assert isinstance(job.enriched, S3Storage)
    assert (job.enriched.uri, job.settings.fetch_workers) == ("s3://bucket/enriched", 8)


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_worker_processes_read_s3_with_clients_of_their_own(s3_bucket: str) -> None:
    """On S3 too a large day is split among worker processes (each builds its own client): same result."""
    raw = S3Storage(s3_bucket, "raw")
    write_day(raw, {f"{n}.json": update(n, text=str(n)) for n in range(1, 12)})
    results = []
    for processes in (1, 2):
        enriched = S3Storage(s3_bucket, f"enriched-{processes}")
        result = make_job(raw, enriched, chunk_objects=3, processes=processes, parallel_from=1).run_day(D)
        results.append(({**result.as_dict(), "output": None}, _s3_read_rows(enriched, PART)))
    assert results[1] == results[0]
    assert results[0][0] == {**summary(objects=11, rows=11), "output": None}
    assert [r["update_id"] for r in results[0][1]] == list(range(1, 12))


def test_an_s3_store_for_a_new_process_has_a_client_of_its_own(s3_bucket: str) -> None:
    """Same bucket, prefix, endpoint, region and configuration; not the same client (nor its connections)."""
    client = boto3.client(
        "s3",
        region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:9",
        config=Config(max_pool_connections=7),
    )
    store = S3Storage(s3_bucket, "raw", client=client)
    copy = store.for_new_process()
    assert (copy.bucket, copy.prefix, copy.uri) == (s3_bucket, "raw", f"s3://{s3_bucket}/raw")
    assert copy.client is not client
    meta = copy.client.meta
    assert (meta.endpoint_url, meta.region_name, meta.config.max_pool_connections) == (
        "http://127.0.0.1:9",
        "eu-west-1",
        7,
    )
    plain = S3Storage(s3_bucket, "raw", max_pool_connections=8).for_new_process()
    assert plain.client.meta.config.max_pool_connections == 8

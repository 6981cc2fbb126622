"""One storage contract, held by both backends: the local folder and S3 (under moto)."""

from __future__ import annotations

import threading
from pathlib import Path

import boto3
import pytest

from etl.storage import LocalStorage, ObjectNotFound, S3Storage, Storage, StorageError, open_storage


def test_put_then_get_returns_the_exact_bytes(storage: Storage) -> None:
    """Objects come back byte for byte, including bytes that are not valid UTF-8."""
    data = b'{"update_id": 1, "text": "ol\xc3\xa1 \xf0\x9f\x91\x8b"}\xff\x00'
    storage.put("context_date=2026-10-05/1.json", data)
    assert storage.get("context_date=2026-10-05/1.json") == data


def test_put_replaces_an_existing_object(storage: Storage) -> None:
    """A second put of a key replaces the object whole: one object per key."""
    storage.put("a/1.json", b"first, longer version")
    storage.put("a/1.json", b"second")
    assert storage.get("a/1.json") == b"second"
    assert list(storage.list("a/")) == ["a/1.json"]


def test_get_of_a_missing_key_raises_object_not_found(storage: Storage) -> None:
    """A missing object is ObjectNotFound (a StorageError), not an empty result."""
    with pytest.raises(ObjectNotFound):
        storage.get("context_date=2026-10-05/404.json")


def test_list_yields_keys_under_a_prefix_in_lexicographic_order(storage: Storage) -> None:
    """Listing follows S3: a string prefix, keys relative to the store, sorted."""
    for key in [
        "context_date=2026-10-06/5.json",
        "context_date=2026-10-05/20.json",
        "context_date=2026-10-05/100.json",
        "_quarantine/2026-10-05/ab.bin",
        "context_date=2026-10-05x/1.json",
    ]:
        storage.put(key, b"{}")
    assert list(storage.list("context_date=2026-10-05/")) == [
        "context_date=2026-10-05/100.json",
        "context_date=2026-10-05/20.json",
    ]
    assert list(storage.list("context_date=2026-10-05")) == [
        "context_date=2026-10-05/100.json",
        "context_date=2026-10-05/20.json",
        "context_date=2026-10-05x/1.json",
    ]
    assert list(storage.list()) == [
        "_quarantine/2026-10-05/ab.bin",
        "context_date=2026-10-05/100.json",
        "context_date=2026-10-05/20.json",
        "context_date=2026-10-05x/1.json",
        "context_date=2026-10-06/5.json",
    ]


def test_list_of_an_empty_prefix_yields_nothing(storage: Storage) -> None:
    """A day with no objects lists as empty, not as an error."""
    assert list(storage.list("context_date=2030-01-01/")) == []


def test_list_returns_more_than_one_page(storage: Storage) -> None:
    """More than S3's 1,000 keys per page are all listed."""
    keys = sorted(f"day/{i:05d}.json" for i in range(1_050))
    for key in keys:
        storage.put(key, b"1")
    assert list(storage.list("day/")) == keys


def test_delete_removes_an_object_and_ignores_a_missing_one(storage: Storage) -> None:
    """Deleting is idempotent."""
    storage.put("x/1.json", b"1")
    storage.delete("x/1.json")
    storage.delete("x/1.json")
    assert list(storage.list("x/")) == []


@pytest.mark.parametrize("key", ["", "/abs", "a//b", "a/../b", "./a", "a/"], ids=repr)
def test_keys_that_could_escape_the_store_are_refused(storage: Storage, key: str) -> None:
    """Keys are relative, without empty, '.' or '..' parts."""
    with pytest.raises(ValueError, match="invalid storage key"):
        storage.put(key, b"1")


def test_concurrent_puts_of_one_key_leave_one_whole_object(tmp_path: Path) -> None:
    """Local writers racing on a key leave exactly one of their objects, never a mix or a partial.

    (S3 guarantees this for PUT itself; moto's in-memory objects are not safe to race on.)"""
    storage = LocalStorage(tmp_path)
    bodies = [bytes([65 + i]) * (10_000 + i) for i in range(8)]
    threads = [threading.Thread(target=storage.put, args=("race/1.json", b)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert storage.get("race/1.json") in bodies
    assert list(storage.list("race/")) == ["race/1.json"]


def test_local_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    """The temporary file of an atomic write is renamed away, never left beside the object."""
    store = LocalStorage(tmp_path)
    store.put("d/1.json", b"1")
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["1.json"]


def test_local_io_errors_are_storage_errors(tmp_path: Path) -> None:
    """A folder that cannot be written (here: a file in the way) raises StorageError."""
    (tmp_path / "blocked").write_text("a file where a folder should be")
    store = LocalStorage(tmp_path / "blocked")
    with pytest.raises(StorageError, match=r"^cannot write d/1\.json under .*blocked: "):
        store.put("d/1.json", b"1")
    with pytest.raises(StorageError, match=r"^cannot read d/1\.json under .*blocked: "):
        store.get("d/1.json")


def test_s3_errors_are_storage_errors(aws: None) -> None:
    """Any S3 failure (here: the bucket does not exist) raises StorageError naming the object."""
    store = S3Storage("no-such-bucket", "raw")
    with pytest.raises(
        StorageError, match=r"^cannot write s3://no-such-bucket/raw/d/1\.json: .*NoSuchBucket"
    ):
        store.put("d/1.json", b"1")
    with pytest.raises(StorageError, match=r"^cannot list s3://no-such-bucket/raw/d/: .*NoSuchBucket"):
        list(store.list("d/"))
    with pytest.raises(StorageError, match=r"^cannot read s3://no-such-bucket/raw/d/1\.json: "):
        store.get("d/1.json")


def test_s3_objects_live_under_the_prefix(s3_bucket: str) -> None:
    """The store's prefix is part of every S3 key and hidden from callers."""
    store = S3Storage(s3_bucket, "/lake/raw/")
    store.put("context_date=2026-10-05/1.json", b"1")
    listed = boto3.client("s3").list_objects_v2(Bucket=s3_bucket)["Contents"]
    assert [o["Key"] for o in listed] == ["lake/raw/context_date=2026-10-05/1.json"]
    assert store.uri == f"s3://{s3_bucket}/lake/raw"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://bucket/some/prefix", ("S3Storage", "s3://bucket/some/prefix")),
        ("s3://bucket", ("S3Storage", "s3://bucket")),
        ("/srv/lake/raw", ("LocalStorage", "/srv/lake/raw")),
        ("lake/raw", ("LocalStorage", "/base/lake/raw")),
    ],
)
def test_open_storage_chooses_the_backend_from_the_uri(uri: str, expected: tuple[str, str]) -> None:
    """s3:// is S3; anything else is a folder, a relative one under the given base."""
    store = open_storage(uri, base_dir="/base")
    assert (type(store).__name__, store.uri) == expected

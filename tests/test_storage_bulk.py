"""The Storage Protocol's bulk methods the ETL uses: get_many (ordered, concurrent, bounded), put_file and
for_new_process, on both backends and on a store that implements only the five basic operations."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from etl.storage import LocalStorage, ObjectNotFound, Storage, StorageError

KEYS = [f"context_date=2026-10-05/{n}.json" for n in (3, 1, 20, 2)]


def _fill(storage: Storage) -> None:
    for key in KEYS:
        storage.put(key, key.encode())


@pytest.mark.parametrize("workers", [1, 8], ids=["sequential", "8-workers"])
def test_get_many_yields_every_object_in_the_order_asked(storage: Storage, workers: int) -> None:
    """(key, exact bytes) for every key, in the order given, whatever the backend and concurrency."""
    _fill(storage)
    assert list(storage.get_many(KEYS, workers=workers)) == [(key, key.encode()) for key in KEYS]


@pytest.mark.parametrize("workers", [1, 8], ids=["sequential", "8-workers"])
def test_get_many_of_a_missing_key_raises_object_not_found(storage: Storage, workers: int) -> None:
    """A key that is not there stops the iteration with ObjectNotFound, after the objects before it."""
    _fill(storage)
    results = storage.get_many([KEYS[0], "context_date=2026-10-05/404.json", KEYS[1]], workers=workers)
    assert next(results) == (KEYS[0], KEYS[0].encode())
    with pytest.raises(ObjectNotFound, match=r"^no object .*context_date=2026-10-05/404\.json"):
        next(results)


@pytest.mark.parametrize("workers", [1, 8], ids=["sequential", "8-workers"])
def test_get_many_reads_keys_of_several_folders_in_any_order(storage: Storage, workers: int) -> None:
    """Keys that go back and forth between folders, nested folders and the store's root all read back
    exactly; a key in a folder that does not exist is ObjectNotFound, naming it."""
    keys = ["top.json", "a/1.json", "b/c/2.json", "a/3.json", "top2.json", "b/c/4.json", "a/1.json"]
    for key in dict.fromkeys(keys):
        storage.put(key, key.encode() * 3)
    assert list(storage.get_many(keys, workers=workers)) == [(key, key.encode() * 3) for key in keys]
    results = storage.get_many(["a/1.json", "nowhere/5.json"], workers=workers)
    assert next(results) == ("a/1.json", b"a/1.json" * 3)
    with pytest.raises(ObjectNotFound, match=r"^no object .*nowhere/5\.json"):
        next(results)


def test_local_get_many_refuses_keys_that_escape_the_store(tmp_path: Path) -> None:
    """The bulk read path validates keys like get does."""
    with pytest.raises(ValueError, match="invalid storage key"):
        list(LocalStorage(tmp_path).get_many(["a/../../etc/passwd"]))


def test_local_get_many_reads_objects_larger_than_one_read(tmp_path: Path) -> None:
    """An object bigger than the first read's buffer comes back whole."""
    store = LocalStorage(tmp_path)
    big = bytes(range(256)) * 1000  # 256,000 bytes
    store.put("big.json", big)
    assert list(store.get_many(["big.json"])) == [("big.json", big)]


def test_local_get_many_io_errors_are_storage_errors(tmp_path: Path) -> None:
    """A key naming a folder cannot be read: StorageError, not a bare OSError."""
    store = LocalStorage(tmp_path)
    store.put("day/a/1.json", b"1")
    with pytest.raises(StorageError, match="cannot read day/a under"):
        list(store.get_many(["day/a"]))


class SlowStore(Storage):
    """Every GET waits like a network round trip; records how many were in flight at once."""

    uri = "slow://"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0

    def get(self, key: str) -> bytes:
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        time.sleep(0.01)
        with self.lock:
            self.in_flight -= 1
        return key.encode()

    def put(self, key: str, data: bytes) -> None:
        raise NotImplementedError

    def list(self, prefix: str = "") -> Iterator[str]:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError


def test_get_many_keeps_exactly_workers_requests_in_flight() -> None:
    """On a networked store reads overlap, never more than `workers` at once."""
    store = SlowStore()
    keys = [f"{n}.json" for n in range(60)]
    assert [key for key, _ in store.get_many(keys, workers=6)] == keys
    assert store.most == 6


def test_put_file_stores_a_copy_of_the_file(storage: Storage, tmp_path: Path) -> None:
    """The object holds the file's exact bytes, replacing an earlier one; the file is left in place."""
    source = tmp_path / "part.parquet"
    source.write_bytes(b"PAR1" + bytes(range(256)) * 4000 + b"PAR1")
    storage.put("context_date=2026-10-05/part-00000.parquet", b"old")
    storage.put_file("context_date=2026-10-05/part-00000.parquet", source)
    assert storage.get("context_date=2026-10-05/part-00000.parquet") == source.read_bytes()
    assert source.exists()
    assert list(storage.list("context_date=2026-10-05/")) == ["context_date=2026-10-05/part-00000.parquet"]


def test_local_put_file_leaves_no_temporary_file(tmp_path: Path) -> None:
    """The copy is written beside the target and renamed over it."""
    source = tmp_path / "src.bin"
    source.write_bytes(b"x" * 10)
    store = LocalStorage(tmp_path / "lake")
    store.put_file("d/part.parquet", source)
    assert sorted(p.name for p in (tmp_path / "lake" / "d").iterdir()) == ["part.parquet"]


def test_put_file_of_a_missing_file_is_a_storage_error(storage: Storage, tmp_path: Path) -> None:
    """A source that cannot be read fails as storage, naming the key."""
    with pytest.raises(StorageError, match=r"^cannot write .*d/part\.parquet"):
        storage.put_file("d/part.parquet", tmp_path / "missing.parquet")


class DictStore(Storage):
    """A store with only the five basic operations: the Protocol gives it the bulk ones."""

    uri = "memory://"

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        self.objects[key] = data

    def get(self, key: str) -> bytes:
        return self.objects[key]

    def list(self, prefix: str = "") -> Iterator[str]:
        return iter(sorted(k for k in self.objects if k.startswith(prefix)))

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)


def test_put_file_on_a_store_without_streaming_puts_the_bytes(tmp_path: Path) -> None:
    """Any Storage works: the file is read and put whole; a missing file is a StorageError."""
    source = tmp_path / "f.bin"
    source.write_bytes(b"abc")
    store = DictStore()
    store.put_file("k", source)
    assert store.objects == {"k": b"abc"}
    with pytest.raises(StorageError) as caught:
        store.put_file("k", tmp_path / "missing")
    assert str(caught.value) == f"cannot read {tmp_path / 'missing'}: No such file or directory"


def test_a_store_of_the_basic_operations_reads_in_bulk_and_is_shared_with_worker_processes() -> None:
    """get_many reads one key after the other, or with threads; a worker process uses the same store."""
    store = DictStore()
    store.objects = {"a": b"1", "b": b"2", "c": b"3"}
    assert list(store.get_many(["c", "a"])) == [("c", b"3"), ("a", b"1")]
    assert list(store.get_many(["b", "c", "a"], workers=2)) == [("b", b"2"), ("c", b"3"), ("a", b"1")]
    assert store.for_new_process() is store


def test_a_local_folder_is_shared_with_worker_processes(tmp_path: Path) -> None:
    """A folder holds nothing a forked process must not share: the worker uses the same store."""
    store = LocalStorage(tmp_path)
    assert store.for_new_process() is store

"""Object storage behind one small interface: a local folder or an S3 prefix, chosen from a URI.

Keys are ``/``-separated and relative to the store's root (``context_date=2026-10-05/101.json``).
Both backends behave the same, and one test suite (tests/test_storage.py) holds them to it:

* ``put`` replaces an object whole; a reader never sees half of it.
* ``get`` of a missing key raises :class:`ObjectNotFound`.
* ``list`` yields every key under a string prefix in lexicographic order (S3 order), paginated.
* ``delete`` of a missing key is not an error.
* Anything the backend raises (OSError, botocore errors) comes out as :class:`StorageError`,
  so callers can tell "storage is down" from a bug.

Bulk work (the ETL) uses three more methods, which the Protocol implements for any store in terms of
the five above and each backend does better: ``get_many`` reads many objects (concurrently where a
read waits on the network), ``put_file`` stores a local file (a Parquet part) without holding it in
memory, and ``for_new_process`` gives the store to use in a forked worker process.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, runtime_checkable

from .errors import TgpipeError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = [
    "PATIENT",
    "LocalStorage",
    "ObjectNotFound",
    "ObjectVersion",
    "S3Storage",
    "S3Timeouts",
    "Storage",
    "StorageError",
    "open_storage",
]


class StorageError(TgpipeError):
    """The storage backend failed (I/O error, S3 error, network); usually worth a retry."""


class ObjectNotFound(StorageError):
    """``get`` of a key that does not exist."""


@dataclass(frozen=True, slots=True)
class ObjectVersion:
    """One stored version of a key: on a versioned bucket every overwrite and delete leaves one; a
    local folder (or an unversioned bucket) has exactly one version per key, ``version_id`` None."""

    key: str
    version_id: str | None
    is_latest: bool = True
    is_delete_marker: bool = False


@runtime_checkable
class Storage(Protocol):
    """What the pipeline needs of a place to keep objects."""

    @property
    def uri(self) -> str: ...

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def list(self, prefix: str = "") -> Iterator[str]: ...

    def delete(self, key: str) -> None: ...

    def get_many(self, keys: Iterable[str], *, workers: int = 1) -> Iterator[tuple[str, bytes]]:
        """``(key, bytes)`` for every key, in the order given, up to ``workers`` reads in flight (a
        thread each). The first read that fails stops the iteration with its :class:`StorageError`;
        nothing after it is yielded."""
        if workers <= 1:
            return ((key, self.get(key)) for key in keys)
        return _get_concurrently(self.get, keys, workers)

    def put_file(self, key: str, source: str | os.PathLike[str]) -> None:
        """Store a local file at ``key`` (read whole here; the backends stream it)."""
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise StorageError(f"cannot read {source}: {exc.strerror or exc}") from exc
        self.put(key, data)

    def for_new_process(self) -> Storage:
        """The store a forked worker process uses (this one, unless it holds what a process must not
        share, such as pooled connections)."""
        return self

    # ---- versions (erasure, etl.privacy): a versioned bucket keeps what a put or delete replaced ----

    def versions(self, prefix: str = "") -> Iterator[ObjectVersion]:
        """Every version of every key under ``prefix``, delete markers included, in key order (for
        an unversioned store: each key's one, current version)."""
        return (ObjectVersion(key, None) for key in self.list(prefix))

    def get_version(self, version: ObjectVersion) -> bytes:
        """The bytes of one version (not of a delete marker)."""
        return self.get(version.key)

    def delete_version(self, version: ObjectVersion) -> None:
        """Remove one version for good (not a delete marker on top of it)."""
        self.delete(version.key)

    def purge(self, key: str, *, keep_latest: bool = False) -> int:
        """Remove every version of ``key`` (with ``keep_latest``, every one but the current object);
        returns how many versions were removed."""
        removed = 0
        for version in list(self.versions(key)):
            if version.key == key and not (keep_latest and version.is_latest):
                self.delete_version(version)
                removed += 1
        return removed

    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Store ``data`` at ``key`` unless an object is there already; True when it was stored.
        (This default checks, then writes; the backends make it one atomic step.)"""
        try:
            self.get(key)
        except ObjectNotFound:
            self.put(key, data)
            return True
        return False


def _check_key(key: str) -> str:
    # No empty, "." or ".." part (so no leading, trailing or double slash): substring tests on
    # "/key/", cheap enough to run on every key of a 100,000-object day.
    framed = f"/{key}/"
    if framed == "//" or "//" in framed or "/./" in framed or "/../" in framed:
        raise ValueError(f"invalid storage key {key!r}")
    return key


def join_key(*parts: str) -> str:
    """Join key parts with ``/``, ignoring empty parts and stray slashes at the joins."""
    return "/".join(p.strip("/") for p in parts if p.strip("/"))


_TMP_SUFFIX = ".tgpipe-tmp"


class LocalStorage(Storage):
    """A folder standing in for S3. Writes go to a temporary file in the same folder, are flushed
    to disk, then renamed over the target: atomic on POSIX, so readers see the old or the new
    object, never a partial one."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @property
    def uri(self) -> str:
        return str(self.root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*_check_key(key).split("/"))

    def put(self, key: str, data: bytes) -> None:
        self._write(key, lambda fh: fh.write(data))

    def _write(self, key: str, fill: Callable[[BinaryIO], object]) -> None:
        """Fill a temporary file beside the target, flush it to disk, rename it over the target."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TMP_SUFFIX)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fill(fh)
                    fh.flush()
                    os.fsync(fh.fileno())
                Path(tmp).replace(path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StorageError(f"cannot write {key} under {self.root}: {exc.strerror or exc}") from exc

    def put_if_absent(self, key: str, data: bytes) -> bool:
        """A temporary file hard-linked to the target: the link fails when the target exists."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TMP_SUFFIX)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.link(tmp, path)
            except FileExistsError:
                return False
            finally:
                Path(tmp).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot write {key} under {self.root}: {exc.strerror or exc}") from exc
        return True

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectNotFound(f"no object {key} under {self.root}") from None
        except OSError as exc:
            raise StorageError(f"cannot read {key} under {self.root}: {exc.strerror or exc}") from exc

    def list(self, prefix: str = "") -> Iterator[str]:
        # Walk only the folder the prefix names, then filter on the whole string prefix (S3 semantics).
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root.joinpath(*folder.split("/")) if folder else self.root
        keys: list[str] = []
        try:
            for dirpath, _dirnames, filenames in os.walk(start, onerror=_raise):
                rel = Path(dirpath).relative_to(self.root).as_posix()
                base = "" if rel == "." else rel + "/"
                if not prefix.startswith(base) and not base.startswith(prefix):
                    continue
                # What a name in this folder must start with (nothing once the folder is under the prefix).
                head = prefix[len(base) :] if len(prefix) > len(base) else ""
                keys.extend(
                    [
                        base + name
                        for name in filenames
                        if name.startswith(head) and not name.endswith(_TMP_SUFFIX)
                    ]
                )
        except FileNotFoundError:
            return iter(())
        except OSError as exc:
            raise StorageError(f"cannot list {prefix!r} under {self.root}: {exc.strerror or exc}") from exc
        keys.sort()
        return iter(keys)

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot delete {key} under {self.root}: {exc.strerror or exc}") from exc

    def put_file(self, key: str, source: str | os.PathLike[str]) -> None:
        """Store a copy of a local file at ``key``, atomically (same temporary-then-rename as put)."""

        def copy(dst: BinaryIO) -> None:
            with Path(source).open("rb") as src:
                shutil.copyfileobj(src, dst, 1 << 20)

        self._write(key, copy)

    def get_many(self, keys: Iterable[str], *, workers: int = 1) -> Iterator[tuple[str, bytes]]:
        """Read objects one after the other with bare syscalls, whatever ``workers`` says: a local
        read costs microseconds, less than handing it to a thread would. Each file is opened relative
        to its folder's descriptor (held while the keys stay in that folder, as a day's do), so the
        kernel resolves one name per object instead of the whole path."""
        if os.open not in os.supports_dir_fd:  # pragma: no cover - every POSIX system has it
            yield from self._get_each(keys)
            return
        root = str(self.root) + os.sep
        folder: str | None = None
        folder_fd = -1
        try:
            for key in keys:
                head, _, name = _check_key(key).rpartition("/")
                try:
                    if head != folder:
                        if folder_fd >= 0:
                            os.close(folder_fd)
                            folder_fd = -1
                        folder_fd = os.open(root + head, _FOLDER_FLAGS)
                        folder = head
                    fd = os.open(name, _READ_FLAGS, dir_fd=folder_fd)
                    try:
                        data = _read_all(fd)
                    finally:
                        os.close(fd)
                except FileNotFoundError:
                    raise ObjectNotFound(f"no object {key} under {self.root}") from None
                except OSError as exc:
                    raise StorageError(f"cannot read {key} under {self.root}: {exc.strerror or exc}") from exc
                yield key, data
        finally:
            if folder_fd >= 0:
                os.close(folder_fd)

    def _get_each(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:  # pragma: no cover
        for key in keys:
            yield key, self.get(key)


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
_FOLDER_FLAGS = _READ_FLAGS | getattr(os, "O_DIRECTORY", 0)
_FIRST_READ = 1 << 16  # a Telegram update is a few KB: one read gets it whole


def _read_all(fd: int) -> bytes:
    data = os.read(fd, _FIRST_READ)
    if len(data) < _FIRST_READ:  # a regular file reads short only at its end
        return data
    parts = [data]
    while chunk := os.read(fd, 1 << 20):
        parts.append(chunk)
    return b"".join(parts)


def _raise(exc: OSError) -> None:
    raise exc


@dataclass(frozen=True)
class S3Timeouts:
    """How long one S3 call may take: seconds to connect and to wait for an answer, per attempt, and
    how many attempts (the first included). A caller with a deadline takes :meth:`within` its budget."""

    connect: float
    read: float
    attempts: int

    @staticmethod
    def _sleeps(attempts: int) -> float:
        """The longest botocore's standard retry mode sleeps between ``attempts`` attempts (up to
        1, 2, 4 ... seconds before each retry)."""
        return float(2 ** (attempts - 1) - 1)

    @classmethod
    def within(cls, budget: float) -> S3Timeouts:
        """Timeouts whose worst case (every attempt timing out, with the sleeps between them) fits in
        ``budget`` seconds: two attempts under 30 s, else five."""
        attempts = 2 if budget < 30 else 5
        per_attempt = (budget - cls._sleeps(attempts)) / attempts
        if per_attempt <= 0.2:
            raise ValueError(f"a storage budget of {budget} s leaves no time to call S3")
        connect = min(per_attempt / 3, 5.0)
        return cls(connect=round(connect, 3), read=round(per_attempt - connect, 3), attempts=attempts)

    @property
    def worst_case(self) -> float:
        """Seconds one call can take when S3 never answers."""
        return self.attempts * (self.connect + self.read) + self._sleeps(self.attempts)


# The ETL's patience: botocore's own defaults (60 s to connect or read) and five attempts.
PATIENT = S3Timeouts(connect=60.0, read=60.0, attempts=5)


class S3Storage(Storage):
    """An S3 bucket and key prefix. boto3 is imported only when the first client is built."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client: S3Client | None = None,
        max_pool_connections: int = 32,
        timeouts: S3Timeouts = PATIENT,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.timeouts = timeouts
        self._client = client
        self._max_pool_connections = max_pool_connections

    @property
    def uri(self) -> str:
        return f"s3://{join_key(self.bucket, self.prefix)}"

    @property
    def client(self) -> S3Client:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "s3",
                config=Config(
                    retries={"total_max_attempts": self.timeouts.attempts, "mode": "standard"},
                    connect_timeout=self.timeouts.connect,
                    read_timeout=self.timeouts.read,
                    max_pool_connections=self._max_pool_connections,
                ),
            )
            _without_expect_continue(self._client)
        return self._client

    def _key(self, key: str) -> str:
        return join_key(self.prefix, _check_key(key))

    def _error(self, action: str, full_key: str, exc: Exception) -> StorageError:
        return StorageError(f"cannot {action} s3://{self.bucket}/{full_key}: {exc}")

    def put(self, key: str, data: bytes) -> None:
        full = self._key(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=full, Body=data)
        except Exception as exc:  # botocore raises many unrelated classes: all mean "not stored"
            raise self._error("write", full, exc) from exc

    def get(self, key: str) -> bytes:
        full = self._key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=full)
            body: bytes = response["Body"].read()
        except Exception as exc:
            if _error_code(exc) in ("NoSuchKey", "404"):
                raise ObjectNotFound(f"no object s3://{self.bucket}/{full}") from None
            raise self._error("read", full, exc) from exc
        return body

    def list(self, prefix: str = "") -> Iterator[str]:
        full = join_key(self.prefix, prefix)
        if prefix.endswith("/") or (self.prefix and not prefix):
            full += "/"
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                for obj in page.get("Contents", []):
                    yield obj["Key"][strip:]
        except Exception as exc:
            raise self._error("list", full, exc) from exc

    def delete(self, key: str) -> None:
        full = self._key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=full)
        except Exception as exc:
            raise self._error("delete", full, exc) from exc

    def versions(self, prefix: str = "") -> Iterator[ObjectVersion]:
        """Every version and delete marker under the prefix (``list_object_versions``), in key order,
        each key's newest first."""
        full = join_key(self.prefix, prefix)
        if prefix.endswith("/") or (self.prefix and not prefix):
            full += "/"
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            paginator = self.client.get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                found = [
                    ObjectVersion(v["Key"][strip:], v["VersionId"], v["IsLatest"], marker)
                    for marker, entries in (
                        (False, page.get("Versions", [])),
                        (True, page.get("DeleteMarkers", [])),
                    )
                    for v in entries
                ]
                found.sort(key=lambda v: (v.key, not v.is_latest))
                yield from found
        except Exception as exc:
            raise self._error("list versions of", full, exc) from exc

    def get_version(self, version: ObjectVersion) -> bytes:
        full = self._key(version.key)
        try:
            if version.version_id is None:
                return self.get(version.key)
            response = self.client.get_object(Bucket=self.bucket, Key=full, VersionId=version.version_id)
            body: bytes = response["Body"].read()
        except StorageError:
            raise
        except Exception as exc:
            raise self._error("read", full, exc) from exc
        return body

    def delete_version(self, version: ObjectVersion) -> None:
        full = self._key(version.key)
        try:
            if version.version_id is None:
                self.client.delete_object(Bucket=self.bucket, Key=full)
            else:
                self.client.delete_object(Bucket=self.bucket, Key=full, VersionId=version.version_id)
        except Exception as exc:
            raise self._error("delete", full, exc) from exc

    def put_if_absent(self, key: str, data: bytes) -> bool:
        """One conditional put (``If-None-Match: *``): S3 refuses it with 412 when the key exists."""
        full = self._key(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=full, Body=data, IfNoneMatch="*")
        except Exception as exc:
            if _error_code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            raise self._error("write", full, exc) from exc
        return True

    def for_new_process(self) -> S3Storage:
        """The same store for a forked worker process, with a client of its own: a client's pooled
        connections must never be shared between processes. A client given to the constructor is
        rebuilt with the same endpoint, region and configuration (credentials: the default chain)."""
        if self._client is None:
            return S3Storage(
                self.bucket,
                self.prefix,
                max_pool_connections=self._max_pool_connections,
                timeouts=self.timeouts,
            )
        import boto3

        meta = self._client.meta
        client = boto3.client(
            "s3", endpoint_url=meta.endpoint_url, region_name=meta.region_name, config=meta.config
        )
        _without_expect_continue(client)
        return S3Storage(self.bucket, self.prefix, client=client, timeouts=self.timeouts)

    def put_file(self, key: str, source: str | os.PathLike[str]) -> None:
        """Upload a local file (multipart when large: the object appears whole when it completes)."""
        full = self._key(key)
        try:
            self.client.upload_file(Filename=os.fspath(source), Bucket=self.bucket, Key=full)
        except Exception as exc:
            raise self._error("write", full, exc) from exc


def _without_expect_continue(client: S3Client) -> None:
    """No ``Expect: 100-continue`` on uploads: botocore then waits up to a second per attempt for
    an interim answer before it sends the body, time a stalled S3 would add to every attempt. An
    update is a few KB; what the header saves (not sending a body S3 refuses) is not worth it."""
    from botocore.handlers import add_expect_header

    client.meta.events.unregister("before-call.s3", add_expect_header)


def _error_code(exc: Exception) -> str:
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _get_concurrently(
    get: Callable[[str], bytes], keys: Iterable[str], workers: int
) -> Iterator[tuple[str, bytes]]:
    # A bounded window of futures, consumed in order: memory stays at a few objects per worker
    # however long the day is, and the next GET starts as soon as one is taken.
    pending: deque[tuple[str, Future[bytes]]] = deque()
    todo = iter(keys)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tgpipe-get")
    try:
        pending.extend((key, pool.submit(get, key)) for key in islice(todo, workers * 2))
        while pending:
            key, future = pending.popleft()
            data = future.result()
            for nxt in islice(todo, 1):
                pending.append((nxt, pool.submit(get, nxt)))
            yield key, data
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def open_storage(uri: str, *, base_dir: str | os.PathLike[str] | None = None, **s3_options: Any) -> Storage:
    """``s3://bucket/prefix`` -> :class:`S3Storage`; anything else is a local folder, a relative
    one taken relative to ``base_dir`` when given (else to the working directory)."""
    if uri.startswith("s3://"):
        bucket, _, prefix = uri[len("s3://") :].partition("/")
        if not bucket:
            raise ValueError(f"no bucket in {uri!r}")
        return S3Storage(bucket, prefix, **s3_options)
    path = Path(uri).expanduser()
    return LocalStorage(path if base_dir is None or path.is_absolute() else Path(base_dir) / path)

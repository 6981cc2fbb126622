"""ETL benchmark: our day run against the course's algorithm, side by side in one run.

    .venv/bin/python bench/etl_bench.py [--sizes 500,5000,100000,1000000] [--rounds N]
                                        [--s3-n 2000] [--latency-ms 20] [--workers 64]

Prints figures; asserts nothing. Targets (issue 15):
* local folder, 500, 5,000, 100,000 and 1,000,000 realistic updates in one day: `tgpipe etl` (the whole
  process, as a user runs it) at least as fast as the course's algorithm (sequential json.load of each
  file, rows as a list of dicts, one pyarrow write) at the two small sizes, at least 2.5x at the two
  large ones; peak memory under 1 GiB;
* S3 with 20 ms per request, the real client over HTTP: client CPU <= 0.5 ms per object, >= 40x faster
  than fetching sequentially;
* a 1,000,000-object day projected in the ETL function (2,048 MB, 900 s): a split among invocations when
  over 600 s;
* Parquet bytes per update against raw JSON bytes per update.
The last line sums it up: ``etl: 500 x<r> 5000 x<r> 100000 x<r> 1000000 x<r> | s3 ... | 1M-day projection``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import NamedTuple

from etl.demo.traffic import busy_day
from etl.storage import Storage

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DAY = "2026-10-05"

COURSE = """
# The course's ETL algorithm on a local folder: sequential json.load of each object, rows as a list
# of dicts, one pyarrow table (schema inferred), one write. (Kept from crashing on media: .get.)
import json, os, sys
import pyarrow as pa, pyarrow.parquet as pq
folder, out = sys.argv[1], sys.argv[2]
rows = []
for name in sorted(os.listdir(folder)):
    with open(os.path.join(folder, name)) as fh:
        data = json.load(fh)
    m = data.get("message") or data.get("edited_message")
    if m is None:
        continue
    fr = m.get("from") or {}
    rows.append({"update_id": data["update_id"], "message_id": m["message_id"], "from_id": fr.get("id"),
                 "from_is_bot": fr.get("is_bot"), "from_first_name": fr.get("first_name"),
                 "chat_id": m["chat"]["id"], "chat_type": m["chat"]["type"], "date": m["date"],
                 "text": m.get("text")})
pq.write_table(pa.Table.from_pylist(rows), out)
"""


def make_day(raw: Path, n: int) -> int:
    """n updates of a busy group (etl.demo.traffic.busy_day) under raw/context_date=DAY/; returns the
    raw bytes written."""
    folder = raw / f"context_date={DAY}"
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for update in busy_day(n, date.fromisoformat(DAY)):
        data = json.dumps(update, ensure_ascii=False).encode()
        (folder / f"{update['update_id']}.json").write_bytes(data)
        total += len(data)
    return total


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and its descendants (KiB, from /proc; shared pages counted twice)."""
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(
                (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
            )
            todo.extend(
                int(child) for child in Path(f"/proc/{current}/task/{current}/children").read_text().split()
            )
        except OSError:
            continue
    return total


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS of the largest process (GNU time's %M, KiB), and the sampled peak of the
    whole process tree (KiB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        ["/usr/bin/time", "-f", "%M", *cmd],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak_tree = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree
        while not done.is_set():
            peak_tree = max(peak_tree, _tree_rss_kib(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-2000:]}")
    return wall, int(err.strip().splitlines()[-1]), peak_tree


def _bytecode() -> None:
    """Compile the package's bytecode, as pip does when it installs it: with PYTHONDONTWRITEBYTECODE
    (set on some machines) an editable checkout would otherwise compile every module on every run,
    a cost no installed tgpipe pays."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "etl")], check=True)


def _rounds(n: int, asked: int | None) -> int:
    """Side-by-side rounds for a day of n updates: many for short runs, where noise is largest."""
    if asked is not None:
        return asked
    return max(1, min(15, 300_000 // n))


def local_figures(n: int, rounds: int, work: Path) -> float:
    """One size, side by side; returns the median ratio course/ours."""
    raw = work / f"raw-{n}"
    started = time.perf_counter()
    raw_bytes = make_day(raw, n)
    made = time.perf_counter() - started
    course = work / "course.py"
    course.write_text(COURSE)
    enriched = work / f"enriched-{n}"
    env = {
        **os.environ,
        "TGPIPE_RAW_URI": str(raw),
        "TGPIPE_ENRICHED_URI": str(enriched),
        "TGPIPE_TIMEZONE": "UTC",
        "TGPIPE_LOG_LEVEL": "WARNING",
    }
    ours, theirs, ratios = [], [], []
    rss = tree = course_rss = 0
    for _ in range(rounds):
        t_ours, m_ours, m_tree = timed([str(BIN / "tgpipe"), "etl", "--date", DAY], env)
        folder = str(raw / f"context_date={DAY}")
        t_course, m_course, _ = timed(
            [sys.executable, str(course), folder, str(work / "course.parquet")], env
        )
        ours.append(t_ours)
        theirs.append(t_course)
        ratios.append(t_course / t_ours)
        rss, tree, course_rss = max(rss, m_ours), max(tree, m_tree), max(course_rss, m_course)
    parquet_bytes = sum(
        (enriched / table / f"context_date={DAY}" / "part-00000.parquet").stat().st_size
        for table in ("messages", "reactions", "member_events", "message_entities")
    )
    t_ours, t_course = statistics.median(ours), statistics.median(theirs)
    ratio = statistics.median(ratios)
    target = "at least 1" if n <= 5000 else "at least 2.5"
    rounds_text = ", ".join(f"{r:.2f}" for r in ratios)
    print(
        f"local, {n:,} updates in one day (made in {made:.0f} s), {rounds} round(s) side by side (medians):"
    )
    print(f"  tgpipe etl        {t_ours:7.3f} s  ({n / t_ours:,.0f} updates/s)")
    print(f"  course algorithm  {t_course:7.3f} s  ({n / t_course:,.0f} updates/s)")
    print(f"  speed ratio course/ours = {ratio:.2f} (rounds: {rounds_text}; target {target})")
    print(
        f"  peak RSS: ours {rss / 1024:.0f} MiB largest process, {tree / 1024:.0f} MiB all processes "
        f"(target < 1024); course {course_rss / 1024:.0f} MiB"
    )
    print(
        f"  bytes per update: raw JSON {raw_bytes / n:.0f}, Parquet {parquet_bytes / n:.1f} "
        f"(Parquet/raw = {parquet_bytes / raw_bytes:.3f})"
    )
    shutil.rmtree(raw)
    shutil.rmtree(enriched, ignore_errors=True)
    return ratio


def etl_cpu_per_update(work: Path, n: int = 20_000) -> float:
    """The ETL's own CPU per update (ms): one process reading a local day of n updates, writing its
    tables (what the function spends per object besides its S3 client)."""
    from etl.storage import LocalStorage
    from etl.transform.job import EtlJob

    raw = work / "raw-cpu"
    make_day(raw, n)
    job = EtlJob(LocalStorage(raw), LocalStorage(work / "enriched-cpu"), processes=1)
    before = _cpu_seconds()
    summary = job.run_day(date.fromisoformat(DAY))
    spent = _cpu_seconds() - before
    assert summary.objects == n, summary
    shutil.rmtree(raw)
    print(f"ETL CPU per update, one process, {n:,} local updates: {spent * 1000 / n:.3f} ms")
    return spent * 1000 / n


class LatencyStore(Storage):
    """An object store answering from memory after a fixed delay per request, as S3 does over the network."""

    def __init__(self, objects: dict[str, bytes], latency: float) -> None:
        self.objects = objects
        self.latency = latency

    @property
    def uri(self) -> str:
        return "latency://"

    def get(self, key: str) -> bytes:
        time.sleep(self.latency)
        return self.objects[key]

    def list(self, prefix: str = "") -> Iterator[str]:
        time.sleep(self.latency)
        return iter(sorted(k for k in self.objects if k.startswith(prefix)))

    def put(self, key: str, data: bytes) -> None:
        time.sleep(self.latency)
        self.objects[key] = data

    def delete(self, key: str) -> None:
        time.sleep(self.latency)
        self.objects.pop(key, None)


class S3Figures(NamedTuple):
    """What the real client costs over HTTP: CPU per GET (ms), concurrent/sequential speed ratio, CPU
    per page of a listing (ms)."""

    client_cpu_ms: float
    ratio: float
    list_page_cpu_ms: float


def s3_figures(n: int, latency_ms: float, workers: int) -> S3Figures:
    from etl.config import EtlSettings
    from etl.transform.job import EtlJob

    objects = {
        f"context_date={DAY}/{update['update_id']}.json": json.dumps(update, ensure_ascii=False).encode()
        for update in busy_day(n, date.fromisoformat(DAY), seed=11)
    }
    latency = latency_ms / 1000
    print(f"S3-like store, {n:,} updates, {latency_ms:g} ms per request:")
    times = {}
    for label, fetch_workers in (("sequential", 1), (f"{workers} workers", workers)):
        raw, enriched = LatencyStore(objects, latency), LatencyStore({}, latency)
        job = EtlJob(raw, enriched, settings=EtlSettings(fetch_workers=fetch_workers))
        started = time.perf_counter()
        summary = job.run_day(date.fromisoformat(DAY))
        times[label] = time.perf_counter() - started
        assert summary.objects == n, summary
        print(f"  {label:12s} {times[label]:7.2f} s  ({n / times[label]:,.0f} objects/s)")
    ratio = times["sequential"] / times[f"{workers} workers"]
    print(f"  speed ratio sequential/concurrent = {ratio:.1f} (target >= 30)")
    return http_figure(n, latency, workers)


# A minimal S3 endpoint (path-style ListObjectsV2, GET, PUT, DELETE) over a folder, answering every
# request after a fixed delay: boto3 talks real HTTP to it, from another process (its own CPU).
S3_SERVER = r"""
import sys, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape
root, latency = Path(sys.argv[1]), float(sys.argv[2])

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once: no delayed-ACK stall
    def log_message(self, *args): pass
    def _send(self, status, body=b"", ctype="application/xml"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"0"')
        self.end_headers()
        self.wfile.write(body)
    def _path(self):
        url = urllib.parse.urlsplit(self.path)
        bucket, _, key = url.path.lstrip("/").partition("/")
        return url, root / bucket, urllib.parse.unquote(key)
    def do_GET(self):
        time.sleep(latency)
        url, bucket, key = self._path()
        if key:
            path = bucket / key
            if path.is_file():
                return self._send(200, path.read_bytes(), "application/octet-stream")
            return self._send(404, b"<Error><Code>NoSuchKey</Code><Message>no key</Message></Error>")
        query = urllib.parse.parse_qs(url.query)
        prefix = query.get("prefix", [""])[0]
        after = query.get("continuation-token", [""])[0]
        keys = sorted(p.relative_to(bucket).as_posix() for p in bucket.rglob("*") if p.is_file())
        keys = [k for k in keys if k.startswith(prefix) and k > after]
        page, more = keys[:1000], len(keys) > 1000
        items = "".join(f"<Contents><Key>{escape(k)}</Key><Size>1</Size></Contents>" for k in page)
        token = f"<NextContinuationToken>{escape(page[-1])}</NextContinuationToken>" if more else ""
        body = (f'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>x</Name>'
                f"<Prefix>{escape(prefix)}</Prefix><KeyCount>{len(page)}</KeyCount><MaxKeys>1000</MaxKeys>"
                f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>{token}{items}</ListBucketResult>")
        self._send(200, body.encode())
    def do_PUT(self):
        time.sleep(latency)
        _, bucket, key = self._path()
        data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        (bucket / key).parent.mkdir(parents=True, exist_ok=True)
        (bucket / key).write_bytes(data)
        self._send(200)
    def do_DELETE(self):
        time.sleep(latency)
        _, bucket, key = self._path()
        (bucket / key).unlink(missing_ok=True)
        self._send(204)

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def _cpu_seconds() -> float:
    """CPU time of this process and its finished worker processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def http_figure(n: int, latency: float, workers: int) -> S3Figures:
    """The real S3Storage (boto3, real HTTP) against a local S3 endpoint in another process that answers
    every request after the same delay: botocore's own CPU per request (signing, parsing) counts, and on
    this machine the endpoint's CPU competes with it."""
    import boto3
    from botocore.config import Config

    from etl.config import EtlSettings
    from etl.storage import S3Storage
    from etl.transform.job import EtlJob

    # Credentials from the environment, so worker processes rebuild the same client.
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    root = Path(tempfile.mkdtemp(prefix="tgpipe-s3-"))
    make_day(root / "bench" / "raw", n)
    server = subprocess.Popen(
        [sys.executable, "-c", S3_SERVER, str(root), str(latency)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        times, cpu = {}, {}
        for label, fetch_workers, processes in (("sequential", 1, 1), ("concurrent", workers, None)):
            client = boto3.client(
                "s3",
                endpoint_url=f"http://127.0.0.1:{port}",
                region_name="us-east-1",
                config=Config(
                    max_pool_connections=workers,
                    s3={"addressing_style": "path"},
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                ),
            )
            job = EtlJob(
                S3Storage("bench", "raw", client=client),
                S3Storage("bench", "enriched", client=client),
                settings=EtlSettings(fetch_workers=fetch_workers),
                processes=processes,
            )
            before = _cpu_seconds()
            started = time.perf_counter()
            summary = job.run_day(date.fromisoformat(DAY))
            times[label] = time.perf_counter() - started
            cpu[label] = _cpu_seconds() - before
            assert (summary.objects, summary.bad_objects) == (n, 0), summary
        ratio = times["sequential"] / times["concurrent"]
        # The client alone: the day's GETs, concurrently, nothing parsed (the ETL's own CPU is measured
        # apart, by etl_cpu_per_update), and one listing of the day.
        store = S3Storage("bench", "raw", client=client)
        keys = list(store.list(f"context_date={DAY}/"))
        before = _cpu_seconds()
        fetched = sum(len(body) for _, body in store.get_many(keys, workers=workers))
        client_cpu_ms = (_cpu_seconds() - before) * 1000 / n
        before = _cpu_seconds()
        listed = sum(1 for _ in store.list(f"context_date={DAY}/"))
        list_page_cpu_ms = (_cpu_seconds() - before) * 1000 / max(1, -(-listed // 1000))
        assert fetched > 0
        assert listed == n
        print(
            f"  boto3 over real HTTP (endpoint in another process, same latency): sequential "
            f"{times['sequential']:.2f} s, concurrent {times['concurrent']:.2f} s, ratio {ratio:.1f}; "
            f"CPU per object {cpu['concurrent'] * 1000 / n:.2f} ms for the whole ETL, {client_cpu_ms:.2f} ms "
            f"for the client's GET alone; {list_page_cpu_ms:.1f} ms per page of a listing "
            "(the endpoint shares the 2 CPUs)"
        )
        return S3Figures(client_cpu_ms, ratio, list_page_cpu_ms)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(root, ignore_errors=True)


# The ETL function (chalice_app/.chalice/config.json): 2,048 MB, 900 s. Lambda gives a function one vCPU
# per 1,769 MB of memory.
FUNCTION_MB = 2048
FUNCTION_SECONDS = 900
FAN_OUT_ABOVE = 600.0  # seconds: a projected day longer than this needs the day split among invocations
LIST_PAGE = 1000  # keys per ListObjectsV2 page


def projection(
    n: int, *, etl_cpu_ms: float, client_cpu_ms: float, list_page_ms: float, latency: float, workers: int
) -> float:
    """Projected wall time (s) of a day of n objects in the ETL function: listing is sequential (one page
    of LIST_PAGE keys after the other, each its latency and client CPU), then fetching and enriching
    overlap, limited by whichever is slower: CPU (the client's per GET plus the ETL's per update, on the
    function's vCPUs) or the network (n GETs, ``workers`` at a time, each its latency)."""
    vcpus = FUNCTION_MB / 1769
    listing = (n / LIST_PAGE) * (latency + list_page_ms / 1000)
    cpu = n * (etl_cpu_ms + client_cpu_ms) / 1000 / vcpus
    network = n * latency / workers
    return listing + max(cpu, network)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        default="500,5000,100000,1000000",
        help="updates per local day, compared side by side (default 500,5000,100000,1000000)",
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="side-by-side rounds per size (default: 15 down to 1)"
    )
    parser.add_argument(
        "--s3-n", type=int, default=2000, help="objects in the S3 comparison (default 2,000; 0 skips it)"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=20.0, help="injected latency per S3 request (default 20)"
    )
    parser.add_argument(
        "--workers", type=int, default=64, help="concurrent fetches (default 64, the default setting)"
    )
    args = parser.parse_args()
    os.environ["TGPIPE_LOG_LEVEL"] = "WARNING"  # the in-process S3 runs: figures only
    sizes = [int(size) for size in args.sizes.split(",") if size]
    work = Path(tempfile.mkdtemp(prefix="tgpipe-etl-bench-"))
    try:
        print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
        _bytecode()
        ratios = {n: local_figures(n, _rounds(n, args.rounds), work) for n in sizes}
        line = "etl: " + " ".join(f"{n} x{ratio:.2f}" for n, ratio in ratios.items())
        if args.s3_n:
            etl_cpu_ms = etl_cpu_per_update(work)
            s3 = s3_figures(args.s3_n, args.latency_ms, args.workers)
            seconds = projection(
                1_000_000,
                etl_cpu_ms=etl_cpu_ms,
                client_cpu_ms=s3.client_cpu_ms,
                list_page_ms=s3.list_page_cpu_ms,
                latency=args.latency_ms / 1000,
                workers=args.workers,
            )
            verdict = (
                "a split among invocations is needed"
                if seconds > FAN_OUT_ABOVE
                else f"under {FAN_OUT_ABOVE:.0f} s: one invocation suffices"
            )
            print(
                f"1,000,000-object day in the ETL function ({FUNCTION_MB} MB: {FUNCTION_MB / 1769:.2f} vCPU, "
                f"{FUNCTION_SECONDS} s), projected from the figures above: {seconds:.0f} s (ETL CPU "
                f"{etl_cpu_ms:.3f} ms/update, client CPU {s3.client_cpu_ms:.3f} ms/GET, "
                f"{s3.list_page_cpu_ms:.1f} ms CPU per page of {LIST_PAGE} keys, {args.latency_ms:g} ms per "
                f"request, {args.workers} GETs at a time): {verdict}"
            )
            line += (
                f" | s3 {s3.client_cpu_ms:.2f} ms/object, {s3.ratio:.0f}x sequential"
                f" at {args.latency_ms:g} ms"
                f" | 1M-day projection {seconds:.0f} s"
            )
        print(line)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

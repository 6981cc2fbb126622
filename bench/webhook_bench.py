"""Webhook benchmark: handler latency and throughput in-process, and the cold import of the app.

    .venv/bin/python bench/webhook_bench.py [--requests 20000] [--imports 7]

Prints figures; asserts nothing (targets: handler work under 1 ms p50 excluding the storage call;
app import under 150 ms beyond boto3's own; pyarrow never imported by the webhook).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from etl.config import IngestSettings, WebhookSettings
from etl.ingest.webhook import Webhook
from etl.storage import LocalStorage, Storage

ROOT = Path(__file__).resolve().parent.parent

SECRET = "bench_secret_token"
GROUP = -1001234567890


def typical_update(update_id: int) -> bytes:
    """A ~1 KB text message update, shaped like Telegram's (user, chat, entities, reply)."""
    user = {"id": 5550001, "is_bot": False, "first_name": "Ana", "last_name": "Souza", "username": "anasouza"}
    chat = {"id": GROUP, "title": "Grupo de Suporte 💬", "type": "supergroup"}
    text = "Bom dia pessoal! Alguém sabe como emitir a segunda via do boleto pelo app? 🙏 " * 6
    message = {
        "message_id": update_id,
        "from": {**user, "language_code": "pt-br"},
        "chat": chat,
        "date": 1764000000,
        "reply_to_message": {"message_id": 1, "from": user, "chat": chat, "date": 1763999000, "text": "oi"},
        "text": text.strip(),
        "entities": [{"offset": 0, "length": 8, "type": "bold"}],
    }
    return json.dumps({"update_id": update_id, "message": message}, ensure_ascii=False).encode()


class NullStorage(Storage):
    """Accepts writes and forgets them: isolates the handler's own work from the storage call."""

    uri = "null://"

    def put(self, key: str, data: bytes) -> None:
        pass

    def get(self, key: str) -> bytes:
        raise KeyError(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        return iter(())

    def delete(self, key: str) -> None:
        pass


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_handler(label: str, hook: Webhook, n: int) -> None:
    """Time each request; the handler's JSON log line is written (to /dev/null), as in production."""
    bodies = [typical_update(900_000_000 + i) for i in range(n)]
    with Path(os.devnull).open("w") as devnull, contextlib.redirect_stderr(devnull):
        _bench_handler(label, hook, bodies)


def _bench_handler(label: str, hook: Webhook, bodies: list[bytes]) -> None:
    n = len(bodies)
    for body in bodies[:200]:  # warm up
        hook.handle(body, SECRET)
    times = []
    started = time.perf_counter()
    for body in bodies:
        t0 = time.perf_counter()
        result = hook.handle(body, SECRET)
        times.append(time.perf_counter() - t0)
        assert result.status == 200, result
    wall = time.perf_counter() - started
    print(
        f"{label:<34} {n / wall:>9,.0f} req/s   p50 {_percentile(times, 0.5) * 1e3:6.3f} ms"
        f"   p99 {_percentile(times, 0.99) * 1e3:6.3f} ms"
    )


IMPORT_PROBE = """
import sys, time
sys.path.insert(0, {chalice_dir!r})
t0 = time.perf_counter()
import app
t1 = time.perf_counter()
import boto3
t2 = time.perf_counter()
print(t1 - t0, t2 - t1, "pyarrow" in sys.modules)
"""

APP_ONLY = """
import sys
sys.path.insert(0, {chalice_dir!r})
import app
"""

BOTO_PROBE = """
import time
t0 = time.perf_counter()
import boto3
print(time.perf_counter() - t0)
"""


def _run(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    return subprocess.run(
        [sys.executable, *flags, "-c", code], capture_output=True, text=True, env=env, check=True
    )


def bench_imports(runs: int) -> None:
    probe = IMPORT_PROBE.format(chalice_dir=str(ROOT / "chalice_app"))
    _run(probe)  # compile the .pyc files once, as a deployed package has them
    app_s, boto_after_s, boto_alone_s = [], [], []
    for _ in range(runs):
        app_t, boto_t, has_pyarrow = _run(probe).stdout.split()
        app_s.append(float(app_t))
        boto_after_s.append(float(boto_t))
        boto_alone_s.append(float(_run(BOTO_PROBE).stdout))
        assert has_pyarrow == "False"
    trace = _run(APP_ONLY.format(chalice_dir=str(ROOT / "chalice_app")), "-X", "importtime").stderr
    modules = [line.rsplit("|", 1)[-1].strip() for line in trace.splitlines() if "|" in line]
    print(
        f"cold `import app` (median of {runs})   {statistics.median(app_s) * 1e3:7.1f} ms"
        f"   (boto3 alone: {statistics.median(boto_alone_s) * 1e3:.1f} ms; the app does not import it:"
        f" boto3 after the app took {statistics.median(boto_after_s) * 1e3:.1f} ms more)"
    )
    print(
        f"modules imported by the app        {len(modules)}; "
        f"pyarrow among them: {any(m.split('.')[0] == 'pyarrow' for m in modules)}; "
        f"boto3 among them: {any(m.split('.')[0] == 'boto3' for m in modules)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--imports", type=int, default=7)
    args = parser.parse_args()

    print(f"typical update: {len(typical_update(900_000_000))} bytes; {args.requests:,} requests per line")
    settings = WebhookSettings(IngestSettings(chat_ids=frozenset({GROUP})), webhook_secret=SECRET)
    bench_handler("handler, storage call excluded", Webhook(settings, NullStorage()), args.requests)
    with tempfile.TemporaryDirectory() as tmp:
        local = Webhook(settings, LocalStorage(tmp))
        bench_handler("handler + local storage (fsync)", local, args.requests)
    bench_imports(args.imports)


if __name__ == "__main__":
    main()

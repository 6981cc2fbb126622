"""The webhook as a new user runs it: `chalice local` over real HTTP, configured by the shell."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.helpers import CHALICE_DIR, CHAT_IDS, SECRET, update_bytes

BIN = Path(sys.executable).parent
TZ = "Asia/Kolkata"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _env(raw: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TGPIPE_"))}
    env.update(
        TELEGRAM_CHAT_ID=CHAT_IDS, TELEGRAM_WEBHOOK_SECRET=SECRET, TGPIPE_RAW_URI=str(raw), TGPIPE_TIMEZONE=TZ
    )
    env.update(extra)
    return env


def _post(url: str, body: bytes, secret: str | None = SECRET) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _wait_for(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not start within 30 s")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`chalice --project-dir chalice_app local` started as the README says, on a free port."""
    work = tmp_path_factory.mktemp("served")
    raw = work / "raw"
    port = _free_port()
    cmd = [str(BIN / "chalice"), "--project-dir", str(CHALICE_DIR), "local", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--no-autoreload"],
        cwd=work,
        env=_env(raw),
        stdout=subprocess.DEVNULL,
        stderr=(work / "server.log").open("wb"),
    )
    try:
        _wait_for(port, proc)
        yield f"http://127.0.0.1:{port}/webhook", raw
    finally:
        proc.terminate()
        proc.wait(10)


def test_an_update_posted_over_http_is_kept_byte_exact(served: tuple[str, Path]) -> None:
    """A Telegram-shaped POST is answered 200 and found unchanged in raw/context_date=<today>/."""
    url, raw = served
    body = update_bytes("edited_message")
    before = datetime.now(ZoneInfo(TZ)).date().isoformat()
    assert _post(url, body) == (200, b"")
    after = datetime.now(ZoneInfo(TZ)).date().isoformat()
    found = [p for d in {before, after} if (p := raw / f"context_date={d}" / "900000009.json").exists()]
    assert [p.read_bytes() for p in found] == [body]


def test_a_wrong_secret_over_http_is_401(served: tuple[str, Path]) -> None:
    """The secret header is checked by the served app."""
    url, raw = served
    assert _post(url, update_bytes("message_sticker"), secret="not-it") == (401, b"unauthorized")
    assert _post(url, update_bytes("message_sticker"), secret=None) == (401, b"unauthorized")
    assert not list(raw.rglob("900000007.json"))


def test_invalid_utf8_survives_the_http_path_into_quarantine(served: tuple[str, Path]) -> None:
    """Bytes that are not UTF-8 reach the quarantine exactly as they were sent."""
    url, raw = served
    body = b'{"update_id": 77, "message": {"text": "caf\xe9"}}'
    assert _post(url, body) == (200, b"")
    assert [p.read_bytes() for p in (raw / "_quarantine").rglob("*.bin")] == [body]


def test_chalice_local_refuses_to_start_without_configuration(tmp_path: Path) -> None:
    """A missing setting stops `chalice local` at start, with one line naming the variable."""
    env = _env(tmp_path / "raw")
    del env["TELEGRAM_CHAT_ID"]
    cmd = [str(BIN / "chalice"), "--project-dir", str(CHALICE_DIR), "local", "--port", str(_free_port())]
    result = subprocess.run(
        [*cmd, "--no-autoreload"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (
        2,
        "tgpipe: TELEGRAM_CHAT_ID is required: comma-separated chat ids, e.g. -1001234567890\n",
    )


def test_tgpipe_serve_refuses_to_start_without_configuration(tmp_path: Path) -> None:
    """`tgpipe serve` checks the same settings before starting the server."""
    env = _env(tmp_path / "raw", TELEGRAM_WEBHOOK_SECRET="bad secret!")
    result = subprocess.run(
        [str(BIN / "tgpipe"), "serve", "--port", str(_free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (
        1,
        "Error: TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
        "(what Telegram accepts as secret_token)\n",
    )


def test_tgpipe_serve_runs_the_same_webhook(tmp_path: Path) -> None:
    """`tgpipe serve --port` serves the Chalice app with the shell's configuration."""
    port = _free_port()
    raw = tmp_path / "raw"
    proc = subprocess.Popen(
        [str(BIN / "tgpipe"), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=_env(raw),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(port, proc)
        body = update_bytes("message_text")
        assert _post(f"http://127.0.0.1:{port}/webhook", body) == (200, b"")
        assert [p.read_bytes() for p in raw.rglob("900000001.json")] == [body]
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    lines = err.decode().splitlines()
    assert lines[0] == (
        f"webhook on http://127.0.0.1:{port}/webhook -> {raw} "
        "(chats -1009876543210,-1001234567890,-4001234567)"
    )
    logs = [json.loads(line) for line in lines if line.startswith("{")]
    assert [(r["outcome"], r["update_id"]) for r in logs] == [("stored", 900000001)]


def test_tgpipe_serve_holds_bursts_of_40_fresh_connections(tmp_path: Path) -> None:
    """Telegram opens up to 40 connections at once (setWebhook's max_connections): five bursts of 40
    simultaneous fresh connections are all answered 200, none reset, and every update is kept."""
    port = _free_port()
    raw = tmp_path / "raw"
    proc = subprocess.Popen(
        [str(BIN / "tgpipe"), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=_env(raw, TGPIPE_LOG_LEVEL="WARNING"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    template = json.loads(update_bytes("message_text"))
    answers: list[object] = []
    try:
        _wait_for(port, proc)
        for burst in range(5):
            barrier = threading.Barrier(40)

            def deliver(n: int, burst: int = burst, barrier: threading.Barrier = barrier) -> None:
                body = json.dumps({**template, "update_id": 1000 * burst + n}).encode()
                barrier.wait()
                try:
                    answers.append(_post(f"http://127.0.0.1:{port}/webhook", body))
                except OSError as exc:  # a reset connection
                    answers.append(type(exc).__name__)

            threads = [threading.Thread(target=deliver, args=(n,)) for n in range(40)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert answers == [(200, b"")] * 200
    assert len(list(raw.rglob("*.json"))) == 200

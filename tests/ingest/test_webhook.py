"""The webhook's decisions, one delivery at a time: what is answered, what is kept, what is logged."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from etl.config import IngestSettings, WebhookSettings
from etl.ingest.router import IngestResult, Router
from etl.ingest.webhook import Webhook, budget_split, secret_matches
from etl.lake import quarantine_key
from etl.storage import PATIENT, LocalStorage, S3Storage, S3Timeouts, Storage, StorageError
from tests.helpers import GROUP, OLD_GROUP, SECRET, update_bytes

# 2026-10-06 02:30 UTC is still 2026-10-05 in São Paulo (UTC-3).
NOW = datetime(2026, 10, 6, 2, 30, tzinfo=UTC).timestamp()
INGEST = IngestSettings(chat_ids=frozenset({GROUP, OLD_GROUP}), timezone=ZoneInfo("America/Sao_Paulo"))
SETTINGS = WebhookSettings(ingest=INGEST, webhook_secret=SECRET)


class BrokenStorage(Storage):
    """A store whose writes fail, as S3 does during an outage."""

    uri = "broken://"

    def __init__(self) -> None:
        self.attempts = 0

    def put(self, key: str, data: bytes) -> None:
        self.attempts += 1
        raise StorageError(f"cannot write {key}: service unavailable")

    def get(self, key: str) -> bytes:
        raise StorageError("unavailable")

    def list(self, prefix: str = "") -> Iterator[str]:
        raise StorageError("unavailable")

    def delete(self, key: str) -> None:
        raise StorageError("unavailable")


@pytest.fixture
def store(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "raw")


@pytest.fixture
def hook(store: Storage) -> Webhook:
    return Webhook(SETTINGS, store, clock=lambda: NOW)


def logged(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    lines = capsys.readouterr().err.splitlines()
    records = [json.loads(line) for line in lines]
    for record in records:
        del record["ts"], record["latency_ms"]
    return records


def test_an_allowed_update_is_stored_byte_exact_under_the_day_of_receipt(
    hook: Webhook, store: LocalStorage
) -> None:
    """The body's exact bytes go to context_date=<local day of receipt>/<update_id>.json."""
    body = update_bytes("message_text")
    assert hook.handle(body, SECRET) == IngestResult(
        200, "stored", 900000001, GROUP, "context_date=2026-10-05/900000001.json"
    )
    assert list(store.list()) == ["context_date=2026-10-05/900000001.json"]
    assert store.get("context_date=2026-10-05/900000001.json") == body


def test_the_day_is_the_day_of_receipt_not_the_message_date(store: LocalStorage) -> None:
    """A late retry of an old message lands in today's partition, never in a processed day."""
    late = Webhook(SETTINGS, store, clock=lambda: datetime(2026, 12, 1, 12, tzinfo=UTC).timestamp())
    assert late.handle(update_bytes("message_text"), SECRET).key == "context_date=2026-12-01/900000001.json"


def test_a_redelivered_update_overwrites_its_own_object(hook: Webhook, store: LocalStorage) -> None:
    """Telegram's retries of one update leave one object for that update_id and day."""
    body = update_bytes("message_photo")
    first = hook.handle(body, SECRET)
    second = hook.handle(body, SECRET)
    assert first == second
    assert list(store.list()) == ["context_date=2026-10-05/900000003.json"]


def test_two_concurrent_deliveries_of_one_update_leave_one_object(hook: Webhook, store: LocalStorage) -> None:
    """Deliveries racing on the same update end as one whole object."""
    body = update_bytes("message_reply")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: hook.handle(body, SECRET), range(8)))
    assert [r.status for r in results] == [200] * 8
    assert list(store.list()) == ["context_date=2026-10-05/900000004.json"]
    assert store.get("context_date=2026-10-05/900000004.json") == body


@pytest.mark.parametrize("header", [None, "", "wrong", SECRET + "x", SECRET[:-1], SECRET.lower()])
def test_a_missing_or_wrong_secret_is_refused_and_nothing_is_kept(
    hook: Webhook, store: LocalStorage, header: str | None
) -> None:
    """Without the exact secret the answer is 401 and nothing is written, not even to quarantine."""
    result = hook.handle(b'{"update_id": 1, "message": {"chat": {"id": %d}}}' % GROUP, header)
    assert (result, result.body) == (IngestResult(401, "unauthorized"), "unauthorized")
    assert list(store.list()) == []


def test_an_unauthenticated_body_is_not_even_parsed(hook: Webhook, store: LocalStorage) -> None:
    """A 401 comes before parsing: garbage with a wrong secret is refused the same way."""
    assert hook.handle(b"\xff not json", "nope") == IngestResult(401, "unauthorized")
    assert list(store.list()) == []


def test_secret_comparison_handles_non_ascii_headers() -> None:
    """A header with characters outside ASCII is simply wrong, not an exception."""
    assert secret_matches("sécret", "secret") is False
    assert secret_matches("secret", "secret") is True
    assert secret_matches(None, "secret") is False


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"update_id": 1', id="truncated-json"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'{"message": {"chat": {"id": 1}}}', id="no-update-id"),
        pytest.param(b'{"update_id": "1"}', id="string-update-id"),
        pytest.param(b'{"update_id": 1, "text": "\xe9"}', id="invalid-utf8"),
    ],
)
def test_an_authenticated_malformed_body_is_quarantined_and_acknowledged(
    hook: Webhook, store: LocalStorage, body: bytes
) -> None:
    """A body Telegram sent that we cannot read is kept as-is outside the day partitions, with a 200."""
    key = quarantine_key(body, date(2026, 10, 5))
    assert hook.handle(body, SECRET) == IngestResult(200, "quarantined", key=key)
    assert key.startswith("_quarantine/2026-10-05/")
    assert list(store.list()) == [key]
    assert store.get(key) == body


@pytest.mark.parametrize(
    ("name", "outcome", "chat_id"),
    [
        ("message_other_chat", "ignored_chat", -1005555555555),
        ("message_private", "ignored_chat", 222222222),
        ("inline_query", "no_chat", None),
        ("poll_answer", "no_chat", None),
    ],
)
def test_updates_of_other_chats_or_no_chat_are_acknowledged_and_dropped(
    hook: Webhook, store: LocalStorage, name: str, outcome: str, chat_id: int | None
) -> None:
    """200 (so Telegram moves on), nothing stored."""
    body = update_bytes(name)
    update_id = json.loads(body)["update_id"]
    assert hook.handle(body, SECRET) == IngestResult(200, outcome, update_id, chat_id)
    assert list(store.list()) == []


def test_a_storage_failure_is_a_503_and_nothing_is_acknowledged() -> None:
    """When the write fails Telegram gets a 5xx, so it retries the update later."""
    broken = BrokenStorage()
    result = Webhook(SETTINGS, broken, clock=lambda: NOW).handle(update_bytes("message_text"), SECRET)
    assert result == IngestResult(
        503, "storage_error", 900000001, GROUP, "context_date=2026-10-05/900000001.json"
    )
    assert (broken.attempts, result.body) == (1, "storage error")


def test_a_storage_failure_while_quarantining_is_a_503() -> None:
    """Even an unreadable body is only acknowledged once it is kept."""
    result = Webhook(SETTINGS, BrokenStorage(), clock=lambda: NOW).handle(b"{oops", SECRET)
    assert result == IngestResult(503, "storage_error", key=quarantine_key(b"{oops", date(2026, 10, 5)))


def test_an_s3_outage_is_a_503(aws: None) -> None:
    """A real S3 error (here: the bucket is gone) is a storage failure, answered 503."""
    hook = Webhook(SETTINGS, S3Storage("bucket-that-does-not-exist", "raw"), clock=lambda: NOW)
    assert hook.handle(update_bytes("message_text"), SECRET) == IngestResult(
        503, "storage_error", 900000001, GROUP, "context_date=2026-10-05/900000001.json"
    )


def test_one_json_log_line_per_delivery_with_ids_and_no_text(
    hook: Webhook, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each delivery logs ids, outcome and latency; never the message text or the secret."""
    body = update_bytes("message_text")
    hook.handle(body, SECRET)
    captured = capsys.readouterr()
    assert "boleto" not in captured.err
    assert SECRET not in captured.err
    record = json.loads(captured.err)
    assert isinstance(record.pop("latency_ms"), float)
    assert record.pop("ts").endswith("Z")
    assert record == {
        "level": "info",
        "service": "tgpipe-webhook",
        "event": "webhook",
        "outcome": "stored",
        "status": 200,
        "update_id": 900000001,
        "chat_id": GROUP,
        "key": "context_date=2026-10-05/900000001.json",
        "bytes": len(body),
    }


def test_log_lines_for_each_outcome(hook: Webhook, capsys: pytest.CaptureFixture[str]) -> None:
    """Refusals are warnings, quarantines and storage failures errors, drops informational."""
    hook.handle(b"{}", "bad")
    hook.handle(b"[1]", SECRET)
    hook.handle(update_bytes("message_other_chat"), SECRET)
    Webhook(SETTINGS, BrokenStorage(), clock=lambda: NOW).handle(update_bytes("message_text"), SECRET)
    records = logged(capsys)
    assert [(r["level"], r["outcome"], r.get("note")) for r in records] == [
        ("warning", "unauthorized", "wrong secret header"),
        ("error", "quarantined", "body is a JSON array, not an object"),
        ("info", "ignored_chat", None),
        (
            "error",
            "storage_error",
            "cannot write context_date=2026-10-05/900000001.json: service unavailable",
        ),
    ]


def test_a_group_migration_tells_the_operator_which_id_to_add(
    hook: Webhook, store: LocalStorage, capsys: pytest.CaptureFixture[str]
) -> None:
    """The old group's migrate_to_chat_id and the new supergroup's migrate_from_chat_id both warn."""
    stored = hook.handle(update_bytes("message_migrate_to"), SECRET)
    dropped = hook.handle(update_bytes("message_migrate_from"), SECRET)
    assert (stored.outcome, dropped.outcome) == ("stored", "ignored_chat")
    note = (
        f"chat {OLD_GROUP} was migrated to supergroup -1001234567891: add -1001234567891 to "
        "TELEGRAM_CHAT_ID or its updates will be ignored"
    )
    assert [(r["level"], r["note"]) for r in logged(capsys)] == [("warning", note), ("warning", note)]
    assert list(store.list()) == ["context_date=2026-10-05/900000017.json"]


def test_an_empty_configured_secret_authenticates_nothing(store: LocalStorage) -> None:
    """A webhook built with an empty secret can never accept a delivery, not even one with ''."""
    no_secret = WebhookSettings(ingest=INGEST, webhook_secret="")
    hook = Webhook(no_secret, store, clock=lambda: NOW)
    assert hook.handle(update_bytes("message_text"), "") == IngestResult(401, "unauthorized")
    assert list(store.list()) == []


def test_the_router_keeps_a_trusted_update_and_logs_its_source(
    store: LocalStorage, capsys: pytest.CaptureFixture[str]
) -> None:
    """Updates fetched with getUpdates go through the same router as the webhook's, logged as 'poll'."""
    body = update_bytes("message_sticker")
    router = Router(INGEST, store, clock=lambda: NOW)
    assert router.ingest(body, source="poll") == IngestResult(
        200, "stored", 900000007, GROUP, "context_date=2026-10-05/900000007.json"
    )
    assert store.get("context_date=2026-10-05/900000007.json") == body
    assert [(r["event"], r["outcome"]) for r in logged(capsys)] == [("poll", "stored")]


class _Stalled:
    """A real TCP server that accepts every connection and never answers: S3 on a bad day."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = self.server.accept()
                self.held.append(connection)

    def close(self) -> None:
        self.server.close()
        for connection in self.held:
            connection.close()


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.mark.parametrize("budget", [2.0, 4.0])
def test_a_stalled_s3_is_answered_503_within_the_storage_budget(
    budget: float, fake_aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """S3 accepts the connection and never answers: the webhook gives up inside its budget (one
    attempt to read the opt-out list, two to store the update) and answers 503, so Telegram retries
    instead of meeting a gateway timeout."""
    stalled = _Stalled()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{stalled.port}")
        monkeypatch.setenv("TELEGRAM_CHAT_ID", str(GROUP))
        monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
        monkeypatch.setenv("TGPIPE_RAW_URI", "s3://tgpipe-lake/raw")
        hook = Webhook.from_env(storage_budget=budget)
        started = time.perf_counter()
        result = hook.handle(update_bytes("message_text"), SECRET)
        elapsed = time.perf_counter() - started
    finally:
        stalled.close()
    assert (result.status, result.outcome) == (503, "storage_error")
    listing, storing = budget_split(budget)
    assert listing.read + 2 * storing.read <= elapsed < budget
    assert len(stalled.held) == 3  # one connection per attempt
    [line] = logged(capsys)
    assert line["note"].startswith("cannot write s3://tgpipe-lake/raw/context_date=")
    assert "Read timeout on endpoint URL" in line["note"]


def test_a_refused_s3_connection_is_answered_503_at_once(
    fake_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing listens where S3 should be: both attempts fail at once and the answer is a fast 503."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed when the block ends: nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{port}")
    store = S3Storage("tgpipe-lake", "raw", timeouts=S3Timeouts.within(4.0))
    hook = Webhook(SETTINGS, store, clock=lambda: NOW)
    started = time.perf_counter()
    result = hook.handle(update_bytes("message_text"), SECRET)
    assert (result.status, result.outcome) == (503, "storage_error")
    assert time.perf_counter() - started < 2.0


def test_the_webhook_s_timeouts_fit_its_budget_and_the_etl_is_patient() -> None:
    """Worst case of every webhook budget <= the budget; the ETL keeps botocore's patient defaults."""
    for budget in (2.0, 4.0, 8.0, 20.0):
        timeouts = S3Timeouts.within(budget)
        assert (timeouts.attempts, timeouts.worst_case <= budget) == (2, True)
    assert S3Timeouts.within(4.0) == S3Timeouts(connect=0.5, read=1.0, attempts=2)
    assert S3Storage("b").timeouts == PATIENT == S3Timeouts(connect=60.0, read=60.0, attempts=5)
    with pytest.raises(ValueError, match=r"^a storage budget of 1.2 s leaves no time to call S3$"):
        S3Timeouts.within(1.2)

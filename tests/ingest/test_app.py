"""POST /webhook through the real Chalice app (chalice.test.Client with the project's own config)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.config import IngestSettings, WebhookSettings
from etl.ingest.webhook import Webhook
from etl.lake import quarantine_key
from etl.storage import LocalStorage
from tests.helpers import CHALICE_DIR, GROUP, SECRET, update_bytes
from tests.ingest.test_webhook import BrokenStorage

NOW = datetime(2026, 10, 6, 2, 30, tzinfo=UTC).timestamp()  # 2026-10-05 in São Paulo
DAY = "2026-10-05"
HEADERS = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}

STORED = [
    "callback_query",
    "channel_post",
    "chat_join_request",
    "chat_member",
    "edited_channel_post",
    "edited_message",
    "message_command",
    "message_forwarded",
    "message_left_member",
    "message_migrate_to",
    "message_new_members",
    "message_photo",
    "message_reaction",
    "message_reply",
    "message_sticker",
    "message_text",
    "my_chat_member",
]


@pytest.fixture
def client(chalice_app: ModuleType) -> Iterator[Client]:
    with Client(chalice_app.app, stage_name="dev", project_dir=str(CHALICE_DIR)) as c:
        yield c


@pytest.fixture
def raw(chalice_app: ModuleType, webhook_env: Path) -> LocalStorage:
    """The app's webhook, configured from the environment, with the clock fixed at NOW."""
    store = LocalStorage(webhook_env)
    chalice_app._webhook = Webhook(WebhookSettings.from_env(), store, clock=lambda: NOW)
    return store


@pytest.mark.parametrize("name", STORED)
def test_every_kind_of_update_of_an_allowed_chat_is_kept_byte_exact(
    client: Client, raw: LocalStorage, name: str
) -> None:
    """200 with an empty body, and the request body stored unchanged at context_date=D/<id>.json."""
    body = update_bytes(name)
    response = client.http.post("/webhook", headers=HEADERS, body=body)
    assert (response.status_code, response.body) == (200, b"")
    key = f"context_date={DAY}/{json.loads(body)['update_id']}.json"
    assert list(raw.list()) == [key]
    assert raw.get(key) == body


def test_the_answer_never_carries_a_method(client: Client, raw: LocalStorage) -> None:
    """Telegram would execute a JSON reply with a method key; ours is empty text."""
    response = client.http.post("/webhook", headers=HEADERS, body=update_bytes("message_command"))
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.body == b""


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Content-Type": "application/json"}, id="missing"),
        pytest.param({**HEADERS, "X-Telegram-Bot-Api-Secret-Token": "guess"}, id="wrong"),
    ],
)
def test_without_the_secret_the_answer_is_401_and_nothing_is_kept(
    client: Client, raw: LocalStorage, headers: dict[str, str]
) -> None:
    """Anyone who knows the URL but not the secret cannot inject updates."""
    response = client.http.post("/webhook", headers=headers, body=update_bytes("message_text"))
    assert (response.status_code, response.body) == (401, b"unauthorized")
    assert list(raw.list()) == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"update_id": 1', id="malformed-json"),
        pytest.param(b'[{"update_id": 1}]', id="array"),
        pytest.param(b'{"message": {"message_id": 1}}', id="missing-update-id"),
        pytest.param(b'{"update_id": 1.0, "message": {}}', id="non-integer-update-id"),
        pytest.param(b'{"update_id": 5, "message": {"text": "\xc3\x28"}}', id="invalid-utf8"),
        pytest.param(b'{"update_id": 6, "x": 1' + b"0" * 5000 + b"}", id="integer-beyond-python-s-limit"),
    ],
)
def test_an_authenticated_malformed_body_is_quarantined_with_a_200(
    client: Client, raw: LocalStorage, body: bytes
) -> None:
    """A 4xx would be retried for a day and block the chat: keep the exact bytes aside instead."""
    response = client.http.post("/webhook", headers=HEADERS, body=body)
    assert (response.status_code, response.body) == (200, b"")
    key = quarantine_key(body, date(2026, 10, 5))
    assert list(raw.list()) == [key]
    assert raw.get(key) == body


@pytest.mark.parametrize("name", ["message_other_chat", "message_private", "inline_query", "poll_answer"])
def test_other_chats_and_chatless_updates_are_acknowledged_not_kept(
    client: Client, raw: LocalStorage, name: str
) -> None:
    """A 200 so Telegram moves on; nothing of a chat we were not asked to keep."""
    response = client.http.post("/webhook", headers=HEADERS, body=update_bytes(name))
    assert (response.status_code, response.body) == (200, b"")
    assert list(raw.list()) == []


def test_a_redelivery_leaves_one_object(client: Client, raw: LocalStorage) -> None:
    """The same update posted twice is one raw object."""
    for _ in range(2):
        assert (
            client.http.post("/webhook", headers=HEADERS, body=update_bytes("message_text")).status_code
            == 200
        )
    assert list(raw.list()) == [f"context_date={DAY}/900000001.json"]


def test_a_storage_failure_is_a_503_so_telegram_retries(
    client: Client, chalice_app: ModuleType, webhook_env: Path
) -> None:
    """Nothing is acknowledged that was not stored."""
    chalice_app._webhook = Webhook(WebhookSettings.from_env(), BrokenStorage(), clock=lambda: NOW)
    response = client.http.post("/webhook", headers=HEADERS, body=update_bytes("message_text"))
    assert (response.status_code, response.body) == (503, b"storage error")


class CrashingStorage(BrokenStorage):
    """A store with a bug: it raises something that is not a StorageError."""

    def put(self, key: str, data: bytes) -> None:
        raise RuntimeError(f"bug while writing {key}: {data[:20]!r}")


def test_an_unexpected_error_is_a_500_in_text_and_logs_no_content(
    client: Client, chalice_app: ModuleType, webhook_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug answers 500 (Telegram retries, the 5xx alarm fires), never Chalice's JSON turned 400."""
    chalice_app._webhook = Webhook(WebhookSettings.from_env(), CrashingStorage(), clock=lambda: NOW)
    response = client.http.post("/webhook", headers=HEADERS, body=update_bytes("message_text"))
    assert (response.status_code, response.body) == (500, b"internal error")
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    record = json.loads(capsys.readouterr().err)
    assert (record["level"], record["event"], record["error"]) == ("error", "webhook_crash", "RuntimeError")


def test_the_webhook_is_built_from_the_environment(
    client: Client, webhook_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no test double, the app reads its settings and writes under TGPIPE_RAW_URI, today."""
    zone = ZoneInfo("America/Sao_Paulo")
    before = datetime.now(zone).date().isoformat()
    response = client.http.post("/webhook", headers=HEADERS, body=update_bytes("channel_post"))
    after = datetime.now(zone).date().isoformat()
    assert response.status_code == 200
    found = sorted(p.relative_to(webhook_env).as_posix() for p in webhook_env.rglob("*") if p.is_file())
    assert found in ([f"context_date={d}/900000010.json"] for d in {before, after})


def test_a_missing_setting_is_a_500_naming_the_variable(
    client: Client, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Misconfigured, the webhook acknowledges nothing (Telegram keeps the update) and logs why."""
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("TELEGRAM_CHAT_ID", str(GROUP))
    response = client.http.post("/webhook", headers=HEADERS, body=update_bytes("message_text"))
    assert (response.status_code, response.body) == (500, b"webhook is not configured")
    record = json.loads(capsys.readouterr().err)
    assert (record["level"], record["event"], record["error"]) == (
        "error",
        "config_error",
        "TELEGRAM_WEBHOOK_SECRET is required: the secret_token given to setWebhook "
        "(1-256 characters of A-Z, a-z, 0-9, _ and -)",
    )


def test_a_relative_lake_path_means_the_checkout_s_lake(
    chalice_app: ModuleType, webhook_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`chalice local` runs inside chalice_app/; the default lake/raw still means <checkout>/lake/raw."""
    monkeypatch.delenv("TGPIPE_RAW_URI")
    assert chalice_app.get_webhook().router.storage.uri == str(CHALICE_DIR.parent / "lake" / "raw")


# --- property: whatever arrives, the webhook answers safely -------------------------------------

ALLOWED = [GROUP]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
chat_ids = st.sampled_from([GROUP, -1005555555555, 0]) | st.integers()
updates = st.fixed_dictionaries(
    {"update_id": st.integers(min_value=-5, max_value=2**64) | json_values},
    optional={
        "message": st.fixed_dictionaries(
            {"chat": st.fixed_dictionaries({"id": chat_ids}) | json_values}, optional={"text": st.text()}
        ),
        "callback_query": st.fixed_dictionaries(
            {"message": st.fixed_dictionaries({"chat": st.fixed_dictionaries({"id": chat_ids})})}
        ),
        "other": json_values,
    },
)
bodies = (
    st.binary(max_size=200)
    | json_values.map(lambda v: json.dumps(v).encode())
    | updates.map(lambda u: json.dumps(u, ensure_ascii=False).encode())
)


def _chat_ids_in(update: dict[str, Any]) -> set[int]:
    found = set()
    for payload in update.values():
        if isinstance(payload, dict):
            for holder in (payload, payload.get("message")):
                chat = holder.get("chat") if isinstance(holder, dict) else None
                if isinstance(chat, dict) and type(chat.get("id")) is int:
                    found.add(chat["id"])
    return found


def _kept(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, authenticated=st.booleans())
def test_property_no_5xx_without_a_storage_failure_and_nothing_foreign_is_kept(
    client: Client, chalice_app: ModuleType, body: bytes, authenticated: bool
) -> None:
    """Any body: never a 5xx while storage works; nothing unauthenticated or of another chat is kept."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ingest = IngestSettings(frozenset(ALLOWED), timezone=ZoneInfo("America/Sao_Paulo"))
        settings_ = WebhookSettings(ingest, SECRET)
        chalice_app._webhook = Webhook(settings_, LocalStorage(root), clock=lambda: NOW)
        headers = HEADERS if authenticated else {"Content-Type": "application/json"}
        response = client.http.post("/webhook", headers=headers, body=body)
        kept = _kept(root)

    assert response.status_code < 500
    if not authenticated:
        assert (response.status_code, kept) == (401, {})
        return
    assert response.status_code == 200
    for key, data in kept.items():
        assert data == body
        if key.startswith("context_date="):
            update: dict[str, Any] = json.loads(data)
            assert key == f"context_date={DAY}/{update['update_id']}.json"
            assert _chat_ids_in(update) & set(ALLOWED)
        else:
            assert key.startswith("_quarantine/")
    assert len(kept) <= 1


class _Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.mark.parametrize(
    ("context", "budget"),
    [(None, 4.0), (_Context(9_700), 4.85), (_Context(900_000), 8.0), (_Context(1_000), 2.0)],
    ids=["no-lambda", "webhook-10s", "long-timeout", "almost-out"],
)
def test_the_webhook_s_storage_budget_is_half_the_time_its_lambda_has(
    chalice_app: ModuleType, context: _Context | None, budget: float
) -> None:
    """On Lambda, half the first invocation's remaining time (capped at 8 s, at least 2 s); else 4 s."""
    chalice_app.app.lambda_context = context
    try:
        assert chalice_app._storage_budget() == budget
    finally:
        chalice_app.app.lambda_context = None

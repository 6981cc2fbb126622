"""Shared fixtures: settings, both storage backends, the Chalice app, a fake Telegram (see tests.helpers)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from etl.storage import LocalStorage, S3Storage, Storage
from tests.helpers import BUCKET, CHALICE_DIR, CHAT_IDS, SECRET
from tests.helpers.fake_telegram import FakeTelegram, serve


@pytest.fixture
def webhook_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A complete webhook configuration in the environment; returns the raw lake folder."""
    raw = tmp_path / "raw"
    monkeypatch.setenv("TELEGRAM_CHAT_ID", CHAT_IDS)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("TGPIPE_RAW_URI", str(raw))
    monkeypatch.setenv("TGPIPE_TIMEZONE", "America/Sao_Paulo")
    return raw


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-memory AWS with fake credentials (no request leaves the machine)."""
    from moto import mock_aws

    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield


@pytest.fixture
def s3_bucket(aws: None) -> str:
    import boto3

    boto3.client("s3").create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """Each storage test runs against the local folder and against S3 (moto)."""
    if request.param == "local":
        return LocalStorage(tmp_path / "lake")
    bucket = request.getfixturevalue("s3_bucket")
    return S3Storage(bucket, "lake/raw")


@pytest.fixture
def chalice_app() -> Iterator[ModuleType]:
    """The real chalice_app/app.py module, its lazily built webhook reset around each test."""
    if str(CHALICE_DIR) not in sys.path:
        sys.path.insert(0, str(CHALICE_DIR))
    module = importlib.import_module("app")
    module._webhook = None
    yield module
    module._webhook = None


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    """A local fake Telegram Bot API server (a real HTTP server on 127.0.0.1)."""
    fake = FakeTelegram()
    server = serve(fake)
    yield fake
    server.shutdown()
    server.server_close()

"""Configuration is read from the environment in one place and fails naming the variable."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

import pytest

from etl.config import (
    BotSettings,
    ConfigError,
    IngestSettings,
    WebhookSettings,
    child_environment,
    duckdb_path_from_env,
    log_level_from_env,
)

GOOD = {"TELEGRAM_CHAT_ID": "-1001234567890", "TELEGRAM_WEBHOOK_SECRET": "s3cret_-X"}


def test_defaults_when_only_the_required_settings_are_given() -> None:
    """With only the chat id and secret set, raw updates go to lake/raw and days are cut in UTC."""
    settings = WebhookSettings.from_env(GOOD)
    assert settings == WebhookSettings(
        ingest=IngestSettings(
            chat_ids=frozenset({-1001234567890}), raw_uri="lake/raw", timezone=ZoneInfo("UTC")
        ),
        webhook_secret="s3cret_-X",
    )


def test_every_setting_is_read() -> None:
    """A comma-separated list of chat ids (spaces allowed), an S3 URI and an IANA zone."""
    settings = WebhookSettings.from_env(
        {
            "TELEGRAM_CHAT_ID": "-1001234567890, -1009876543210,42",
            "TELEGRAM_WEBHOOK_SECRET": "x" * 256,
            "TGPIPE_RAW_URI": "s3://my-bucket/raw",
            "TGPIPE_TIMEZONE": "America/Sao_Paulo",
        }
    )
    assert settings.ingest == IngestSettings(
        chat_ids=frozenset({-1001234567890, -1009876543210, 42}),
        raw_uri="s3://my-bucket/raw",
        timezone=ZoneInfo("America/Sao_Paulo"),
    )


def test_the_secret_never_appears_in_the_repr() -> None:
    """Settings can be logged or printed in a traceback without leaking the webhook secret."""
    assert "s3cret" not in repr(WebhookSettings.from_env(GOOD))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        pytest.param(
            {"TELEGRAM_WEBHOOK_SECRET": "abc"},
            "TELEGRAM_CHAT_ID is required: comma-separated chat ids, e.g. -1001234567890",
            id="chat-id-missing",
        ),
        pytest.param(
            {"TELEGRAM_CHAT_ID": "  ", "TELEGRAM_WEBHOOK_SECRET": "abc"},
            "TELEGRAM_CHAT_ID is required: comma-separated chat ids, e.g. -1001234567890",
            id="chat-id-blank",
        ),
        pytest.param(
            {"TELEGRAM_CHAT_ID": "-100123,@mygroup", "TELEGRAM_WEBHOOK_SECRET": "abc"},
            "TELEGRAM_CHAT_ID must be comma-separated integer chat ids (e.g. -1001234567890), got '@mygroup'",
            id="chat-id-username",
        ),
        pytest.param(
            {"TELEGRAM_CHAT_ID": "-100123,", "TELEGRAM_WEBHOOK_SECRET": "abc"},
            "TELEGRAM_CHAT_ID must be comma-separated integer chat ids (e.g. -1001234567890), got ''",
            id="chat-id-trailing-comma",
        ),
        pytest.param(
            {"TELEGRAM_CHAT_ID": "-9223372036854775809", "TELEGRAM_WEBHOOK_SECRET": "abc"},
            "TELEGRAM_CHAT_ID: chat id -9223372036854775809 is outside the 64-bit integer range",
            id="chat-id-beyond-int64",
        ),
        pytest.param(
            {"TELEGRAM_CHAT_ID": "1"},
            "TELEGRAM_WEBHOOK_SECRET is required: the secret_token given to setWebhook "
            "(1-256 characters of A-Z, a-z, 0-9, _ and -)",
            id="secret-missing",
        ),
        pytest.param(
            {"TELEGRAM_CHAT_ID": "1", "TELEGRAM_WEBHOOK_SECRET": "has space"},
            "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
            "(what Telegram accepts as secret_token)",
            id="secret-bad-character",
        ),
        pytest.param(
            {"TELEGRAM_CHAT_ID": "1", "TELEGRAM_WEBHOOK_SECRET": "x" * 257},
            "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
            "(what Telegram accepts as secret_token)",
            id="secret-too-long",
        ),
        pytest.param(
            {**GOOD, "TGPIPE_RAW_URI": "gs://bucket/raw"},
            "TGPIPE_RAW_URI must be s3://bucket/prefix or a local path, got 'gs://bucket/raw'",
            id="uri-other-scheme",
        ),
        pytest.param(
            {**GOOD, "TGPIPE_RAW_URI": "s3:///raw"},
            "TGPIPE_RAW_URI must be s3://bucket/prefix or a local path, got 's3:///raw'",
            id="uri-no-bucket",
        ),
        pytest.param(
            {**GOOD, "TGPIPE_TIMEZONE": "UTC-3"},
            "TGPIPE_TIMEZONE must be an IANA time zone such as UTC or America/Sao_Paulo, got 'UTC-3'",
            id="timezone-not-iana",
        ),
        pytest.param(
            {**GOOD, "TGPIPE_TIMEZONE": "../../etc/passwd"},
            "TGPIPE_TIMEZONE must be an IANA time zone such as UTC or America/Sao_Paulo, "
            "got '../../etc/passwd'",
            id="timezone-path",
        ),
    ],
)
def test_invalid_settings_fail_naming_the_variable(env: dict[str, str], message: str) -> None:
    """Each missing or invalid value raises ConfigError with a message that starts with its name."""
    with pytest.raises(ConfigError) as excinfo:
        WebhookSettings.from_env(env)
    assert str(excinfo.value) == message


def test_ingesting_without_a_webhook_needs_no_secret() -> None:
    """`tgpipe poll` reads the ingestion settings alone: the same chats, lake and day, no secret."""
    assert IngestSettings.from_env({"TELEGRAM_CHAT_ID": "-100"}) == IngestSettings(chat_ids=frozenset({-100}))


def test_the_bot_s_settings() -> None:
    """The token (a secret, never in a repr) and the API URL, which --api-url overrides."""
    env = {"TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35, "TELEGRAM_API_URL": "http://127.0.0.1:9/"}
    settings = BotSettings.from_env(env)
    assert (settings.token, settings.api_url) == ("123456:" + "A" * 35, "http://127.0.0.1:9/")
    assert "AAAA" not in repr(settings)
    assert BotSettings.from_env(env, api_url="https://example.org").api_url == "https://example.org"
    assert BotSettings.from_env({}) == BotSettings(token="", api_url=None)


def test_local_paths_and_the_log_level() -> None:
    """TGPIPE_DUCKDB_PATH and TGPIPE_LOG_LEVEL, with their defaults; an unknown level is INFO."""
    assert duckdb_path_from_env({}) == "lake/tgpipe.duckdb"
    assert duckdb_path_from_env({"TGPIPE_DUCKDB_PATH": "/data/m.duckdb"}) == "/data/m.duckdb"
    assert [
        log_level_from_env(e) for e in ({}, {"TGPIPE_LOG_LEVEL": "warning"}, {"TGPIPE_LOG_LEVEL": "loud"})
    ] == [
        logging.INFO,
        logging.WARNING,
        logging.INFO,
    ]


def test_a_child_command_sees_this_environment_and_the_given_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What `tgpipe demo` gives `chalice local` and dbt: the environment, with its settings on top."""
    monkeypatch.setenv("TGPIPE_TIMEZONE", "UTC")
    monkeypatch.setenv("SOMETHING_ELSE", "kept")
    env = child_environment({"TGPIPE_TIMEZONE": "America/Sao_Paulo"})
    assert (env["TGPIPE_TIMEZONE"], env["SOMETHING_ELSE"]) == ("America/Sao_Paulo", "kept")

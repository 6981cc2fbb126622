"""The webhook secret from SSM Parameter Store: read once, decrypted, never shown (SSM under moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from chalice.test import Client

from etl.config import ConfigError, WebhookSettings
from etl.secrets import SecretError, clear_cache, parameter_value
from tests.helpers import CHALICE_DIR, CHAT_IDS, GROUP, update_bytes

PARAM = "/tgpipe/prod/telegram-webhook-secret"
STORED = "ssm_Stored-secret_42"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def ssm(aws: None) -> Any:
    client = boto3.client("ssm")
    client.put_parameter(Name=PARAM, Value=STORED, Type="SecureString")
    return client


def test_the_secret_comes_from_the_parameter_when_the_variable_is_absent(ssm: object) -> None:
    """TELEGRAM_WEBHOOK_SECRET_PARAM names a SecureString whose decrypted value becomes the secret."""
    settings = WebhookSettings.from_env(
        {"TELEGRAM_CHAT_ID": CHAT_IDS, "TELEGRAM_WEBHOOK_SECRET_PARAM": PARAM}
    )
    assert settings.webhook_secret == STORED
    assert STORED not in repr(settings)


def test_the_variable_wins_and_ssm_is_not_called(aws: None) -> None:
    """With TELEGRAM_WEBHOOK_SECRET set, the parameter (absent here) is never read."""
    env = {
        "TELEGRAM_CHAT_ID": CHAT_IDS,
        "TELEGRAM_WEBHOOK_SECRET": "from_env",
        "TELEGRAM_WEBHOOK_SECRET_PARAM": PARAM,
    }
    assert WebhookSettings.from_env(env).webhook_secret == "from_env"


def test_the_value_is_read_once_per_process(ssm: Any) -> None:
    """A second read is served from the cache: deleting the parameter afterwards changes nothing."""
    assert parameter_value(PARAM) == STORED
    ssm.delete_parameter(Name=PARAM)
    assert parameter_value(PARAM) == STORED
    clear_cache()
    with pytest.raises(SecretError) as caught:
        parameter_value(PARAM)
    assert str(caught.value) == (
        f"cannot read SSM parameter {PARAM}: ParameterNotFound: Parameter {PARAM} not found."
    )


def test_a_missing_parameter_fails_at_start_naming_the_variable(aws: None) -> None:
    """The configuration error names the variable and the parameter, like every other setting."""
    with pytest.raises(ConfigError) as caught:
        WebhookSettings.from_env({"TELEGRAM_CHAT_ID": CHAT_IDS, "TELEGRAM_WEBHOOK_SECRET_PARAM": PARAM})
    assert str(caught.value) == (
        f"TELEGRAM_WEBHOOK_SECRET_PARAM: cannot read SSM parameter {PARAM}: "
        f"ParameterNotFound: Parameter {PARAM} not found."
    )


def test_access_denied_is_reported_with_its_code() -> None:
    """An IAM denial comes out as the AWS error code and message, nothing else."""
    client = boto3.client("ssm", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_parameter", "AccessDeniedException", "not authorized to perform GetParameter"
        )
        with pytest.raises(SecretError) as caught:
            parameter_value(PARAM, client=client)
    assert str(caught.value) == (
        f"cannot read SSM parameter {PARAM}: AccessDeniedException: not authorized to perform GetParameter"
    )


def test_a_value_telegram_would_refuse_is_rejected_without_showing_it(aws: None) -> None:
    """A stored secret with characters secret_token does not allow fails; the value is not in the error."""
    boto3.client("ssm").put_parameter(Name=PARAM, Value="has spaces!", Type="SecureString")
    with pytest.raises(ConfigError) as caught:
        WebhookSettings.from_env({"TELEGRAM_CHAT_ID": CHAT_IDS, "TELEGRAM_WEBHOOK_SECRET_PARAM": PARAM})
    assert str(caught.value) == (
        f"TELEGRAM_WEBHOOK_SECRET_PARAM: SSM parameter {PARAM} must hold 1-256 characters of "
        "A-Z, a-z, 0-9, _ and - (what Telegram accepts as secret_token)"
    )


@pytest.mark.parametrize(
    "name", ["", "no spaces allowed", "/tgpipe//double"], ids=["empty", "spaces", "empty-part"]
)
def test_a_malformed_parameter_name_is_refused_before_any_call(name: str) -> None:
    """Only SSM-valid names are looked up."""
    with pytest.raises(SecretError) as caught:
        parameter_value(name, client=object())
    assert (
        str(caught.value)
        == f"{name!r} is not an SSM parameter name (e.g. /tgpipe/prod/telegram-webhook-secret)"
    )


def test_the_deployed_webhook_authenticates_with_the_stored_secret(
    ssm: Any, s3_bucket: str, chalice_app: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The route configured as on Lambda (secret parameter, S3 lake) stores an authenticated update."""
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("TELEGRAM_CHAT_ID", CHAT_IDS)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET_PARAM", PARAM)
    monkeypatch.setenv("TGPIPE_RAW_URI", f"s3://{s3_bucket}/raw")
    body = update_bytes("message_text")
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": STORED}
    with Client(chalice_app.app, project_dir=str(CHALICE_DIR)) as client:
        wrong = client.http.post(
            "/webhook", body=body, headers={**headers, "X-Telegram-Bot-Api-Secret-Token": "x"}
        )
        right = client.http.post("/webhook", body=body, headers=headers)
    assert (wrong.status_code, right.status_code, right.body) == (401, 200, b"")
    listed = boto3.client("s3").list_objects_v2(Bucket=s3_bucket, Prefix="raw/")
    keys = [item["Key"] for item in listed.get("Contents", [])]
    assert len(keys) == 1
    stored = boto3.client("s3").get_object(Bucket=s3_bucket, Key=keys[0])["Body"].read()
    assert stored == body
    assert json.loads(stored)["message"]["chat"]["id"] == GROUP

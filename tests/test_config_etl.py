"""EtlSettings: the ETL's settings read from the environment, each error naming its variable."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from etl.config import ConfigError, EtlSettings


def test_defaults_need_no_variable() -> None:
    """Nothing set: lake/raw -> lake/enriched, days in UTC, 64 concurrent reads."""
    assert EtlSettings.from_env({}) == EtlSettings(
        raw_uri="lake/raw", enriched_uri="lake/enriched", timezone=ZoneInfo("UTC"), fetch_workers=64
    )


def test_every_setting_is_read() -> None:
    """S3 URIs, an IANA zone and a worker count, surrounding spaces ignored."""
    settings = EtlSettings.from_env(
        {
            "TGPIPE_RAW_URI": "s3://tgpipe-lake-prod/raw",
            "TGPIPE_ENRICHED_URI": " s3://tgpipe-lake-prod/enriched ",
            "TGPIPE_TIMEZONE": "Asia/Kolkata",
            "TGPIPE_FETCH_WORKERS": "16",
        }
    )
    assert settings == EtlSettings(
        raw_uri="s3://tgpipe-lake-prod/raw",
        enriched_uri="s3://tgpipe-lake-prod/enriched",
        timezone=ZoneInfo("Asia/Kolkata"),
        fetch_workers=16,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        pytest.param(
            {"TGPIPE_ENRICHED_URI": "ftp://host/enriched"},
            "TGPIPE_ENRICHED_URI must be s3://bucket/prefix or a local path, got 'ftp://host/enriched'",
            id="enriched-scheme",
        ),
        pytest.param(
            {"TGPIPE_RAW_URI": "s3:///raw"},
            "TGPIPE_RAW_URI must be s3://bucket/prefix or a local path, got 's3:///raw'",
            id="raw-no-bucket",
        ),
        pytest.param(
            {"TGPIPE_RAW_URI": "s3://lake/x", "TGPIPE_ENRICHED_URI": "s3://lake/x/"},
            "TGPIPE_ENRICHED_URI must differ from TGPIPE_RAW_URI (both are 's3://lake/x'): "
            "Parquet written among the raw updates would be read back as updates",
            id="same-place",
        ),
        pytest.param(
            {"TGPIPE_TIMEZONE": "GMT+3"},
            "TGPIPE_TIMEZONE must be an IANA time zone such as UTC or America/Sao_Paulo, got 'GMT+3'",
            id="zone",
        ),
        pytest.param(
            {"TGPIPE_FETCH_WORKERS": "many"},
            "TGPIPE_FETCH_WORKERS must be an integer from 1 to 256, got 'many'",
            id="workers-text",
        ),
        pytest.param(
            {"TGPIPE_FETCH_WORKERS": "257"},
            "TGPIPE_FETCH_WORKERS must be an integer from 1 to 256, got 257",
            id="workers-too-many",
        ),
    ],
)
def test_an_invalid_setting_names_its_variable(env: dict[str, str], message: str) -> None:
    """ConfigError's message starts with the variable and says what is expected."""
    with pytest.raises(ConfigError) as caught:
        EtlSettings.from_env(env)
    assert str(caught.value) == message

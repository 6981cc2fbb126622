"""The privacy settings (salt a secret, retention days checked) and the version-aware storage methods
forget and retention use, held by both backends."""

from __future__ import annotations

import boto3
import pytest

from etl.config import ConfigError, PrivacySettings
from etl.privacy.identity import lake_salt
from etl.storage import LocalStorage, S3Storage, Storage
from tests.helpers import BUCKET


def test_every_privacy_setting_is_read_and_the_salt_never_shown() -> None:
    """The salt, both retention limits; the salt is not in the repr."""
    settings = PrivacySettings.from_env(
        {
            "TGPIPE_PRIVACY_SALT": "x" * 20,
            "TGPIPE_RAW_RETENTION_DAYS": "365",
            "TGPIPE_TEXT_RETENTION_DAYS": " 90 ",
        }
    )
    assert settings == PrivacySettings(salt="x" * 20, raw_retention_days=365, text_retention_days=90)
    assert repr(settings) == "PrivacySettings(raw_retention_days=365, text_retention_days=90)"
    assert PrivacySettings.from_env({}) == PrivacySettings()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"TGPIPE_PRIVACY_SALT": "short"},
            "TGPIPE_PRIVACY_SALT must be at least 16 characters (a random secret)",
        ),
        (
            {"TGPIPE_RAW_RETENTION_DAYS": "0"},
            "TGPIPE_RAW_RETENTION_DAYS must be an integer from 1 to 36500, got 0",
        ),
        (
            {"TGPIPE_TEXT_RETENTION_DAYS": "a year"},
            "TGPIPE_TEXT_RETENTION_DAYS must be an integer from 1 to 36500, got 'a year'",
        ),
    ],
    ids=["short-salt", "zero-days", "not-a-number"],
)
def test_invalid_privacy_settings_fail_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        PrivacySettings.from_env(env)
    assert str(caught.value) == message


def test_the_salt_can_come_from_ssm(aws: None) -> None:
    """TGPIPE_PRIVACY_SALT_PARAM names a SecureString, read when TGPIPE_PRIVACY_SALT is unset."""
    boto3.client("ssm").put_parameter(Name="/tgpipe/dev/privacy-salt", Value="s" * 32, Type="SecureString")
    settings = PrivacySettings.from_env({"TGPIPE_PRIVACY_SALT_PARAM": "/tgpipe/dev/privacy-salt"})
    assert settings.salt == "s" * 32


def test_put_if_absent_stores_once(storage: Storage) -> None:
    """The first put of a key wins; a second is refused and changes nothing."""
    assert storage.put_if_absent("_privacy/salt", b"first") is True
    assert storage.put_if_absent("_privacy/salt", b"second") is False
    assert storage.get("_privacy/salt") == b"first"


def test_the_lake_salt_is_created_once_and_then_read(storage: Storage) -> None:
    """Without a configured salt, the first caller stores 64 hex characters; every later one reads them."""
    first = lake_salt(storage, PrivacySettings())
    assert len(first) == 64
    assert lake_salt(storage, PrivacySettings()) == first
    assert lake_salt(storage, PrivacySettings(salt="c" * 16)) == b"c" * 16


def test_purge_removes_every_version_and_keep_latest_keeps_the_object(storage: Storage) -> None:
    """On a versioned bucket every overwrite is a version; purge deletes them all (or all but the
    current one); a local folder has one version per key."""
    for data in (b"v1", b"v2", b"v3"):
        storage.put("context_date=2026-10-05/1.json", data)
    storage.put("context_date=2026-10-05/10.json", b"other")
    versioned = isinstance(storage, S3Storage)
    assert storage.purge("context_date=2026-10-05/1.json", keep_latest=True) == (2 if versioned else 0)
    assert [storage.get_version(v) for v in storage.versions("context_date=2026-10-05/1.json")] == [b"v3"]
    storage.delete("context_date=2026-10-05/10.json")
    assert storage.purge("context_date=2026-10-05/10.json") == (2 if versioned else 0)
    assert storage.purge("context_date=2026-10-05/1.json") == 1
    assert list(storage.versions()) == []


@pytest.fixture
def storage(request: pytest.FixtureRequest, tmp_path: object) -> Storage:
    """Overrides the shared fixture: the S3 bucket here is versioned, as the lake's is."""
    if request.param == "local":
        return LocalStorage(tmp_path / "lake")  # type: ignore[operator]
    request.getfixturevalue("aws")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return S3Storage(BUCKET, "lake/raw")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "storage" in metafunc.fixturenames:
        metafunc.parametrize("storage", ["local", "s3"], indirect=True)

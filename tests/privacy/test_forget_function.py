"""The forget Lambda function: invoked with an event naming the person, it erases them from the S3
lake (every version) and answers with counts per layer, never content."""

from __future__ import annotations

from types import ModuleType

import boto3
import pytest
from chalice.test import Client

from etl.privacy.forget import ForgetEventError
from etl.storage import S3Storage
from tests.helpers import BUCKET, CHALICE_DIR
from tests.privacy.conversation import ANA_ID, TRACES, fill


@pytest.fixture
def versioned_lake(aws: None, monkeypatch: pytest.MonkeyPatch) -> tuple[S3Storage, S3Storage]:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    monkeypatch.setenv("TGPIPE_RAW_URI", f"s3://{BUCKET}/raw")
    monkeypatch.setenv("TGPIPE_ENRICHED_URI", f"s3://{BUCKET}/enriched")
    monkeypatch.setenv("TGPIPE_TIMEZONE", "UTC")
    raw, enriched = S3Storage(BUCKET, "raw"), S3Storage(BUCKET, "enriched")
    fill(raw, enriched)
    return raw, enriched


def test_the_forget_function_erases_the_person_and_answers_counts(
    chalice_app: ModuleType, versioned_lake: tuple[S3Storage, S3Storage]
) -> None:
    """GIVEN a versioned lake; WHEN forget is invoked with {"user_id": ...}; THEN its answer holds the
    counts and lines, no stored version holds her, and a second invocation finds nothing."""
    raw, _ = versioned_lake
    with Client(chalice_app.app, stage_name="dev", project_dir=str(CHALICE_DIR)) as client:
        dry = client.lambda_.invoke("forget", {"user_id": ANA_ID, "dry_run": True}).payload
        answer = client.lambda_.invoke("forget", {"user_id": str(ANA_ID)}).payload
        again = client.lambda_.invoke("forget", {"user_id": ANA_ID}).payload

    assert (dry["dry_run"], dry["record"], dry["counts"]["raw_removed"]) == (True, None, 5)
    assert answer["record"].startswith("_erasures/")
    assert answer["counts"] == {
        "raw_removed": 5,
        "raw_rewritten": 4,
        "quarantine_removed": 1,
        "versions_deleted": 11,
        "scrubbed": {
            "invite_link_creator": 1,
            "new_chat_member": 1,
            "reply_to_message": 1,
            "text_mention": 1,
            "username_mention": 1,
        },
        "enriched_rows": 7,
        "enriched_days": 2,
        "enriched_versions_deleted": 8,
    }
    assert answer["lines"][0].startswith("raw: 5 object(s) removed, 4 rewritten")
    assert again["lines"] == ["nothing left of this person in the lake: nothing was removed"]
    bodies = [raw.get_version(v) for v in raw.versions() if not v.is_delete_marker]
    assert [t for data in bodies for t in TRACES if t in data] == []


def test_an_event_without_a_user_id_is_refused(
    chalice_app: ModuleType, versioned_lake: tuple[S3Storage, S3Storage]
) -> None:
    """No user_id: the invocation fails, naming the field, and nothing is erased."""
    raw, _ = versioned_lake
    before = sorted(raw.list())
    with (
        Client(chalice_app.app, stage_name="dev", project_dir=str(CHALICE_DIR)) as client,
        pytest.raises(ForgetEventError) as caught,
    ):
        client.lambda_.invoke("forget", {"chat_id": -100})
    assert str(caught.value) == "the event's user_id must be an integer (a Telegram id)"
    assert sorted(raw.list()) == before

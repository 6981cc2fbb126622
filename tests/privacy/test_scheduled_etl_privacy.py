"""The scheduled ETL function (chalice_app etl_daily) applies the privacy settings it is deployed with:
TGPIPE_TEXT_RETENTION_DAYS nulls the text of the days that just passed the limit (local lake and
versioned S3), and TGPIPE_PSEUDONYMISE=1 reads its key from the SSM SecureString
TGPIPE_PSEUDONYMISE_KEY_PARAM names (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from types import ModuleType
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from chalice.test import Client

from etl import secrets
from etl.privacy.pseudonym import pseudonym
from etl.privacy.retention import TEXT_COLUMNS, text_window
from etl.storage import S3Storage, Storage
from tests.helpers import BUCKET, CHALICE_DIR
from tests.privacy.conversation import ANA_ID, BOB_ID, CARL_ID, Lake, deliver

DAY1_MESSAGES = "messages/context_date=2026-10-05/part-00000.parquet"
DAY2_MESSAGES = "messages/context_date=2026-10-06/part-00000.parquet"
KEY_PARAMETER = "/tgpipe/prod/pseudonymise-key"
KEY = "a-pseudonymisation-key-kept-in-ssm"
DAY1_SENDERS = [
    BOB_ID,
    ANA_ID,
    BOB_ID,
    CARL_ID,
    BOB_ID,
]  # the senders of 2026-10-05's messages, in update order


@pytest.fixture
def app(chalice_app: ModuleType) -> Iterator[ModuleType]:
    """The real app module, its ETL built from the environment of each test; SSM values forgotten."""
    chalice_app._etl = None
    secrets.clear_cache()
    yield chalice_app
    chalice_app._etl = None
    secrets.clear_cache()


def _invoke(app: ModuleType, time: str) -> dict[str, Any]:
    with Client(app.app, stage_name="dev", project_dir=str(CHALICE_DIR)) as client:
        event = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
        event["time"] = time
        payload: dict[str, Any] = client.lambda_.invoke("etl_daily", event).payload
    return payload


def _table(store: Storage, key: str) -> pa.Table:
    return pq.read_table(pa.BufferReader(store.get(key)))


def _environment(monkeypatch: pytest.MonkeyPatch, lake: Lake, **settings: str) -> None:
    monkeypatch.setenv("TGPIPE_RAW_URI", lake.raw.uri)
    monkeypatch.setenv("TGPIPE_ENRICHED_URI", lake.enriched.uri)
    monkeypatch.setenv("TGPIPE_TIMEZONE", "UTC")
    for name, value in settings.items():
        monkeypatch.setenv(name, value)


def test_the_window_is_the_seven_days_that_last_passed_the_limit() -> None:
    """A limit of 2 days on 2026-10-08: 2026-10-05 is the newest day past it, 2026-09-29 the oldest
    the run checks."""
    assert text_window(2, date(2026, 10, 8)) == [
        "2026-09-29",
        "2026-09-30",
        "2026-10-01",
        "2026-10-02",
        "2026-10-03",
        "2026-10-04",
        "2026-10-05",
    ]


def test_the_scheduled_etl_nulls_the_text_of_the_day_past_the_limit(
    app: ModuleType, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN the conversation's days 2026-10-05 and 06 and TGPIPE_TEXT_RETENTION_DAYS=2; WHEN the
    function runs at 00:15 UTC on the 8th (writing the 7th, which has no update); THEN the 5th's
    messages keep every row, column type and count with text, caption and quote_text null, every
    other enriched object is byte-identical, the summary names the day, and a rerun rewrites nothing.
    On S3 the replaced version stays for the bucket's lifecycle rule (the ETL may not delete versions)."""
    _environment(monkeypatch, lake, TGPIPE_TEXT_RETENTION_DAYS="2")
    before = {key: lake.enriched.get(key) for key in lake.enriched.list()}
    day1 = _table(lake.enriched, DAY1_MESSAGES)

    payload = _invoke(app, "2026-10-08T00:15:00Z")
    again = _invoke(app, "2026-10-08T00:15:00Z")

    assert {k: v for k, v in payload.items() if k != "seconds"} == {
        "date": "2026-10-07",
        "objects": 0,
        "rows": {"messages": 0, "reactions": 0, "member_events": 0, "message_entities": 0},
        "duplicates": 0,
        "skipped": {},
        "degraded": {},
        "bad_objects": 0,
        "output": {"messages": None, "reactions": None, "member_events": None, "message_entities": None},
        "text_retention": {"kept_days": 2, "checked": ["2026-09-29", "2026-10-05"], "nulled": ["2026-10-05"]},
    }
    assert again["text_retention"] == {
        "kept_days": 2,
        "checked": ["2026-09-29", "2026-10-05"],
        "nulled": [],
    }
    after = _table(lake.enriched, DAY1_MESSAGES)
    assert after.schema == day1.schema
    assert after.to_pylist() == [{**row, **dict.fromkeys(TEXT_COLUMNS)} for row in day1.to_pylist()]
    assert [row["text"] is not None for row in day1.to_pylist()].count(True) == 4
    assert {key: lake.enriched.get(key) for key in lake.enriched.list() if key != DAY1_MESSAGES} == {
        key: data for key, data in before.items() if key != DAY1_MESSAGES
    }
    assert any(row["text"] for row in _table(lake.enriched, DAY2_MESSAGES).to_pylist())
    versions = [v for v in lake.enriched.versions(DAY1_MESSAGES) if v.key == DAY1_MESSAGES]
    assert len(versions) == (2 if isinstance(lake.enriched, S3Storage) else 1)


def test_without_a_text_limit_the_scheduled_etl_keeps_the_text(
    app: ModuleType, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TGPIPE_TEXT_RETENTION_DAYS unset: no text_retention in the summary, every enriched byte kept."""
    _environment(monkeypatch, lake)
    before = {key: lake.enriched.get(key) for key in lake.enriched.list()}

    payload = _invoke(app, "2026-10-08T00:15:00Z")

    assert ("text_retention" in payload, payload["date"]) == (False, "2026-10-07")
    assert {key: lake.enriched.get(key) for key in lake.enriched.list()} == before


def test_the_scheduled_etl_reads_its_pseudonymisation_key_from_ssm(
    app: ModuleType, aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN the key as an SSM SecureString and only its name in TGPIPE_PSEUDONYMISE_KEY_PARAM; WHEN the
    function runs for 2026-10-05 on an S3 lake; THEN every user id it writes is the keyed hash under
    that key and no first name or username is left."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    boto3.client("ssm").put_parameter(Name=KEY_PARAMETER, Value=KEY, Type="SecureString")
    lake = Lake(S3Storage(BUCKET, "raw"), S3Storage(BUCKET, "enriched"))
    deliver(lake.raw)
    _environment(monkeypatch, lake, TGPIPE_PSEUDONYMISE="1", TGPIPE_PSEUDONYMISE_KEY_PARAM=KEY_PARAMETER)
    monkeypatch.delenv("TGPIPE_PSEUDONYMISE_KEY", raising=False)

    payload = _invoke(app, "2026-10-06T00:15:00Z")

    rows = _table(lake.enriched, DAY1_MESSAGES).to_pylist()
    person = {pseudonym(KEY.encode(), user): user for user in (ANA_ID, BOB_ID, CARL_ID)}
    assert (payload["date"], payload["rows"]["messages"]) == ("2026-10-05", 5)
    assert [person[row["from_id"]] for row in rows] == DAY1_SENDERS  # KeyError: not a pseudonym
    assert {(row["from_first_name"], row["from_username"]) for row in rows} == {(None, None)}

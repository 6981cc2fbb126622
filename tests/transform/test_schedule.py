"""The scheduled ETL: which day a run processes, its cron, and the real Chalice function invoked with
hand-built EventBridge events (dev stage on a local lake, prod stage on S3 under moto)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pyarrow.parquet as pq
import pytest
from chalice.test import Client

from etl.storage import LocalStorage
from etl.transform.job import BadObjects
from etl.transform.schedule import day_before, utc_cron_after_midnight
from etl.transform.schema import TABLES
from tests.helpers import CHALICE_DIR
from tests.helpers.etl import TICK, make_job, stored_row, update, write_day

CONFIG = json.loads((CHALICE_DIR / ".chalice" / "config.json").read_text())
TABLE_NAMES = ("messages", "reactions", "member_events", "message_entities")
DAY = "2026-10-05"
PART = f"messages/context_date={DAY}/part-00000.parquet"


@pytest.mark.parametrize(
    ("event_time", "zone", "day"),
    [
        pytest.param("2026-10-06T00:15:00Z", "UTC", date(2026, 10, 5), id="utc"),
        pytest.param("2026-10-05T18:45:00Z", "Asia/Kolkata", date(2026, 10, 5), id="kolkata-after-midnight"),
        pytest.param(
            "2026-10-06T00:15:00Z", "America/Sao_Paulo", date(2026, 10, 4), id="sao-paulo-still-the-5th"
        ),
        pytest.param("2026-03-01T00:15:00+00:00", "UTC", date(2026, 2, 28), id="month-boundary"),
        pytest.param("2027-01-01T05:15:00Z", "America/New_York", date(2026, 12, 31), id="year-boundary"),
    ],
)
def test_a_run_processes_the_local_day_before_the_event(event_time: str, zone: str, day: date) -> None:
    """D-1 is taken from the event's time in TGPIPE_TIMEZONE, never from the clock."""
    assert day_before(event_time, ZoneInfo(zone)) == day


@pytest.mark.parametrize(
    ("event_time", "message"),
    [
        pytest.param("yesterday", "event time 'yesterday' is not an ISO 8601 date and time", id="text"),
        pytest.param("2026-10-06T00:15:00", "event time '2026-10-06T00:15:00' has no time zone", id="naive"),
    ],
)
def test_an_unreadable_event_time_is_an_error(event_time: str, message: str) -> None:
    """A malformed event does not silently process some other day."""
    with pytest.raises(ValueError, match=f"^{message}$"):
        day_before(event_time, ZoneInfo("UTC"))


@pytest.mark.parametrize(
    ("zone", "minute_hour"),
    [
        pytest.param("UTC", (15, 0), id="utc"),
        pytest.param("Asia/Kolkata", (45, 18), id="kolkata-half-hour"),
        pytest.param("America/Sao_Paulo", (15, 3), id="sao-paulo"),
        pytest.param("Europe/Berlin", (15, 23), id="berlin-winter-time"),
        pytest.param("America/New_York", (15, 5), id="new-york"),
        pytest.param("Australia/Sydney", (15, 14), id="sydney-southern-dst"),
    ],
)
def test_the_utc_cron_just_after_local_midnight(zone: str, minute_hour: tuple[int, int]) -> None:
    """00:15 local at the zone's smallest offset: under daylight saving time it is 01:15, never 23:15."""
    assert utc_cron_after_midnight(ZoneInfo(zone)) == minute_hour


# --- the Chalice function -------------------------------------------------------------------------


@pytest.fixture
def app(chalice_app: ModuleType) -> Iterator[ModuleType]:
    """The real app module, its lazily built ETL reset around each test."""
    chalice_app._etl = None
    yield chalice_app
    chalice_app._etl = None


def _event(client: Client, time: str) -> dict[str, Any]:
    event = client.events.generate_cw_event(
        source="aws.events",
        detail_type="Scheduled Event",
        detail={},
        resources=["arn:aws:events:us-east-1:123456789012:rule/tgpipe-prod-etl_daily-event"],
        region="us-east-1",
    )
    event["time"] = time
    return event


def test_the_app_schedules_the_etl_just_after_midnight_in_prod_s_zone(app: ModuleType) -> None:
    """One schedule, etl_daily, whose UTC cron is 00:15 in the prod stage's TGPIPE_TIMEZONE."""
    zone = ZoneInfo(CONFIG["stages"]["prod"]["environment_variables"]["TGPIPE_TIMEZONE"])
    minute, hour = utc_cron_after_midnight(zone)
    schedules = [
        (source.name, source.schedule_expression.to_string())
        for source in app.app.event_sources
        if hasattr(source, "schedule_expression")
    ]
    assert schedules == [("etl_daily", f"cron({minute} {hour} * * ? *)")]


def test_the_schedule_runs_the_day_before_the_event_through_the_test_client(
    app: ModuleType, tmp_path: Path
) -> None:
    """A hand-built event at 00:15 UTC on the 6th writes the 5th's partition and returns the summary."""
    raw, enriched = LocalStorage(tmp_path / "raw"), LocalStorage(tmp_path / "enriched")
    write_day(raw, {"1.json": update(1, text="oi"), "2.json": {"update_id": 2, "poll_answer": {}}})
    app._etl = make_job(raw, enriched)
    with Client(app.app, stage_name="dev", project_dir=str(CHALICE_DIR)) as client:
        response = client.lambda_.invoke("etl_daily", _event(client, "2026-10-06T00:15:00Z"))
    assert response.payload == {
        "date": DAY,
        "objects": 2,
        "rows": {"messages": 1, "reactions": 0, "member_events": 0, "message_entities": 0},
        "duplicates": 0,
        "skipped": {"poll_answer": 1},
        "degraded": {},
        "bad_objects": 0,
        "seconds": TICK,
        "output": {t: f"{enriched.uri}/{PART.replace('messages/', f'{t}/')}" for t in TABLE_NAMES},
    }
    assert pq.read_table(enriched.root / PART).to_pylist() == [stored_row(update_id=1, text="oi")]


def test_the_schedule_fails_the_invocation_after_writing_when_objects_are_bad(
    app: ModuleType, tmp_path: Path
) -> None:
    """Bad objects: the good rows are written, then the invocation raises so the Lambda alarm fires."""
    raw, enriched = LocalStorage(tmp_path / "raw"), LocalStorage(tmp_path / "enriched")
    write_day(raw, {"1.json": update(1, text="oi"), "2.json": b"\xff\xfe"})
    app._etl = make_job(raw, enriched)
    expected = r"^1 bad object\(s\) in context_date=2026-10-05 of the raw lake"
    with Client(app.app, stage_name="dev", project_dir=str(CHALICE_DIR)) as client:
        event = _event(client, "2026-10-06T00:15:00Z")
        with pytest.raises(BadObjects, match=expected):
            client.lambda_.invoke("etl_daily", event)
    assert [r["update_id"] for r in pq.read_table(enriched.root / PART).to_pylist()] == [1]


def test_the_dev_stage_builds_the_etl_from_the_shell_s_environment(
    app: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing replaced: the function reads TGPIPE_* (São Paulo here, so 00:15 UTC is still the 5th there)."""
    monkeypatch.setenv("TGPIPE_RAW_URI", str(tmp_path / "raw"))
    monkeypatch.setenv("TGPIPE_ENRICHED_URI", str(tmp_path / "enriched"))
    monkeypatch.setenv("TGPIPE_TIMEZONE", "America/Sao_Paulo")
    write_day(LocalStorage(tmp_path / "raw"), {"7.json": update(7, text="a")}, day="2026-10-04")
    with Client(app.app, stage_name="dev", project_dir=str(CHALICE_DIR)) as client:
        payload = client.lambda_.invoke("etl_daily", _event(client, "2026-10-06T00:15:00Z")).payload
    assert (payload["date"], payload["rows"]["messages"], payload["output"]["messages"]) == (
        "2026-10-04",
        1,
        f"{tmp_path / 'enriched'}/messages/context_date=2026-10-04/part-00000.parquet",
    )


def test_the_prod_stage_reads_and_writes_its_s3_lake(app: ModuleType, aws: None) -> None:
    """With prod's own settings (s3://tgpipe-lake-prod/raw -> /enriched, UTC) on moto's S3."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="tgpipe-lake-prod")
    for n in (1, 2, 3):
        s3.put_object(
            Bucket="tgpipe-lake-prod",
            Key=f"raw/context_date={DAY}/{n}.json",
            Body=json.dumps(update(n, text=str(n))),
        )
    s3.put_object(Bucket="tgpipe-lake-prod", Key="raw/_quarantine/2026-10-05/x.json", Body=b"{")
    with Client(app.app, stage_name="prod", project_dir=str(CHALICE_DIR)) as client:
        payload = client.lambda_.invoke("etl_daily", _event(client, "2026-10-06T00:15:00Z")).payload
    assert {k: v for k, v in payload.items() if k != "seconds"} == {
        "date": DAY,
        "objects": 3,
        "rows": {"messages": 3, "reactions": 0, "member_events": 0, "message_entities": 0},
        "duplicates": 0,
        "skipped": {},
        "degraded": {},
        "bad_objects": 0,
        "output": {
            t: f"s3://tgpipe-lake-prod/enriched/{PART.replace('messages/', f'{t}/')}" for t in TABLE_NAMES
        },
    }
    body = s3.get_object(Bucket="tgpipe-lake-prod", Key=f"enriched/{PART}")["Body"].read()
    assert [r["text"] for r in pq.read_table(io.BytesIO(body)).to_pylist()] == ["1", "2", "3"]


def test_pyarrow_is_imported_only_when_the_etl_runs(tmp_path: Path) -> None:
    """Importing the app (the webhook's cold start) loads no pyarrow; the first ETL run does."""
    probe = f"""
import os, sys
sys.path.insert(0, {str(CHALICE_DIR)!r})
os.environ["TGPIPE_RAW_URI"] = {str(tmp_path / "raw")!r}
os.environ["TGPIPE_ENRICHED_URI"] = {str(tmp_path / "enriched")!r}
import app
before = "pyarrow" in sys.modules
from chalice.test import Client
with Client(app.app, stage_name="dev", project_dir={str(CHALICE_DIR)!r}) as client:
    event = client.events.generate_cw_event("aws.events", "Scheduled Event", {{}}, [])
    event["time"] = "2026-10-06T00:15:00Z"
    client.lambda_.invoke("etl_daily", event)
print(before, "pyarrow" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout == "False True\n"


# --- its AWS configuration ------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_etl_function_has_its_own_policy_memory_and_timeout(stage: str) -> None:
    """etl_daily: its own policy file, 2 GB (more CPU for a day of GETs), Lambda's 15-minute maximum."""
    assert CONFIG["stages"][stage]["lambda_functions"]["etl_daily"] == {
        "iam_policy_file": f"policy-etl-{stage}.json",
        "lambda_memory_size": 2048,
        "lambda_timeout": 900,
    }


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_etl_may_read_raw_days_and_replace_enriched_ones_only(stage: str) -> None:
    """Its S3 access, all of it: list both day prefixes and the opt-out markers, get raw days (not the
    quarantine) and the privacy salt, get the enriched messages days (text retention), put and delete
    enriched objects. Plus its own log group (other services' statements are the deployment's)."""
    bucket = f"tgpipe-lake-{stage}"
    policy = json.loads((CHALICE_DIR / ".chalice" / f"policy-etl-{stage}.json").read_text())
    s3 = [st for st in policy["Statement"] if any(a.startswith("s3:") for a in _actions(st))]
    assert s3 == [
        {
            "Sid": "ListRawAndEnrichedDays",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{bucket}",
            "Condition": {
                "StringLike": {
                    "s3:prefix": [
                        "raw/context_date=*",
                        *(f"enriched/{table.name}/context_date=*" for table in TABLES),
                        "raw/_optout/*",
                    ]
                }
            },
        },
        {
            "Sid": "ReadRawUpdates",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [
                f"arn:aws:s3:::{bucket}/raw/context_date=*",
                f"arn:aws:s3:::{bucket}/raw/_privacy/salt",
            ],
        },
        {
            "Sid": "ReadEnrichedMessagesForTextRetention",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/enriched/messages/context_date=*",
        },
        {
            "Sid": "ReplaceEnrichedPartitions",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            "Resource": f"arn:aws:s3:::{bucket}/enriched/*",
        },
    ]
    assert {
        "Sid": "WriteOwnLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [
            f"arn:aws:logs:*:*:log-group:/aws/lambda/tgpipe-{stage}-etl_daily",
            f"arn:aws:logs:*:*:log-group:/aws/lambda/tgpipe-{stage}-etl_daily:log-stream:*",
        ],
    } in policy["Statement"]
    assert all(st["Effect"] == "Allow" and "*" not in _actions(st) for st in policy["Statement"])


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_prod_names_the_enriched_lake_and_dev_leaves_it_to_the_shell() -> None:
    """prod: s3://tgpipe-lake-prod/enriched beside its raw prefix; dev sets no TGPIPE_ variable."""
    prod = CONFIG["stages"]["prod"]["environment_variables"]
    assert (prod["TGPIPE_RAW_URI"], prod["TGPIPE_ENRICHED_URI"]) == (
        "s3://tgpipe-lake-prod/raw",
        "s3://tgpipe-lake-prod/enriched",
    )
    assert "environment_variables" not in CONFIG["stages"]["dev"]

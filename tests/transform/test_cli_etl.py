"""`tgpipe etl` and `tgpipe backfill` run in-process: exit codes, the JSON summary, errors, data read back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from etl.cli import main
from etl.config import IngestSettings
from etl.demo.traffic import busy_day
from etl.ingest.router import Router
from etl.storage import LocalStorage
from etl.transform.job import TEMP_PREFIX, clear_leftovers
from etl.transform.schema import ENRICHED_SCHEMA
from tests.helpers import CHAT_IDS, update_bytes, update_names
from tests.helpers.etl import update, write_day

TABLE_NAMES = ("messages", "reactions", "member_events", "message_entities")
DAY = "2026-10-05"
NOON = datetime(2026, 10, 5, 15, 0, tzinfo=UTC).timestamp()  # 12:00 in São Paulo


@pytest.fixture
def lake(tmp_path: Path) -> dict[str, str]:
    return {
        "TGPIPE_RAW_URI": str(tmp_path / "raw"),
        "TGPIPE_ENRICHED_URI": str(tmp_path / "enriched"),
        "TGPIPE_TIMEZONE": "America/Sao_Paulo",
    }


def run(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def summaries(result: Result) -> list[dict[str, Any]]:
    """The JSON lines on stdout, with `seconds` checked and removed (it is the only measured value)."""
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    for line in lines:
        assert isinstance(line.pop("seconds"), float)
    return lines


def test_etl_of_a_lake_filled_by_the_webhook(lake: dict[str, str], tmp_path: Path) -> None:
    """Every update the webhook kept that day: one row per message, the other kinds counted, exit 0."""
    settings = IngestSettings.from_env({"TELEGRAM_CHAT_ID": CHAT_IDS, **lake})
    router = Router(settings, LocalStorage(tmp_path / "raw"), clock=lambda: NOON)
    for name in update_names():
        router.ingest(update_bytes(name))
    result = run(["etl", "--date", DAY], lake)
    assert (result.exit_code, result.stderr.count('"event": "etl_day"')) == (0, 1)
    enriched = tmp_path / "enriched"
    part = enriched / "messages" / f"context_date={DAY}" / "part-00000.parquet"
    rows = {"messages": 23, "reactions": 6, "member_events": 8, "message_entities": 12}
    assert summaries(result) == [
        {
            "date": DAY,
            "objects": 33,
            "rows": rows,
            "duplicates": 0,
            "skipped": {"callback_query": 1},
            "degraded": {"message.chat.type": 1, "message.from.is_bot": 1},
            "bad_objects": 0,
            "output": {t: str(enriched / t / f"context_date={DAY}" / "part-00000.parquet") for t in rows},
        }
    ]
    table = pq.read_table(part)
    assert table.schema == ENRICHED_SCHEMA
    assert [(r["update_id"], r["update_kind"], r["message_type"]) for r in table.to_pylist()] == [
        (900000001, "message", "text"),
        (900000002, "message", "text"),
        (900000003, "message", "photo"),
        (900000004, "message", "text"),
        (900000005, "message", "service"),
        (900000006, "message", "service"),
        (900000007, "message", "sticker"),
        (900000008, "message", "text"),
        (900000009, "edited_message", "text"),
        (900000010, "channel_post", "text"),
        (900000011, "edited_channel_post", "text"),
        (900000017, "message", "service"),
        (900000101, "message", "checklist"),
        (900000102, "channel_post", "giveaway"),
        (900000103, "channel_post", "paid_media"),
        (900000104, "message", "story"),
        (900000105, "message", "other media"),
        (900000106, "message", "text"),
        (900000107, "message", "service"),
        (900000108, "message", "service"),
        (900000109, "message", "text"),
        (900000110, "message", "photo"),
        (900000116, "message", "other media"),
    ]
    command = next(r for r in table.to_pylist() if r["update_id"] == 900000002)
    assert (command["bot_command"], command["from_first_name"]) == ("/help", "Bob")


def test_etl_exits_non_zero_after_writing_the_good_rows_when_objects_are_bad(
    lake: dict[str, str], tmp_path: Path
) -> None:
    """The summary is printed, the good rows are in the partition, the error is one line on stderr."""
    write_day(
        LocalStorage(tmp_path / "raw"),
        {"1.json": update(1, text="a"), "2.json": b"{", "3.json": update(3, text="c")},
    )
    result = run(["etl", "--date", DAY], lake)
    assert result.exit_code == 1
    part = tmp_path / "enriched" / "messages" / f"context_date={DAY}" / "part-00000.parquet"
    assert summaries(result) == [
        {
            "date": DAY,
            "objects": 3,
            "rows": {"messages": 2, "reactions": 0, "member_events": 0, "message_entities": 0},
            "duplicates": 0,
            "skipped": {},
            "degraded": {},
            "bad_objects": 1,
            "output": {t: str(part).replace("/messages/", f"/{t}/") for t in TABLE_NAMES},
        }
    ]
    assert result.stderr.splitlines()[-1] == (
        f"Error: 1 bad object(s) in context_date={DAY} of the raw lake (their keys are in the etl_bad_object "
        "log lines); the 2 good messages and the rows of the other tables were written"
    )
    assert [row["update_id"] for row in pq.read_table(part).to_pylist()] == [1, 3]


def test_etl_defaults_to_yesterday_in_the_configured_zone(lake: dict[str, str]) -> None:
    """Without --date the day is yesterday in TGPIPE_TIMEZONE (here UTC+14), not in UTC."""
    env = {**lake, "TGPIPE_TIMEZONE": "Pacific/Kiritimati"}
    expected = (datetime.now(ZoneInfo("Pacific/Kiritimati")).date() - timedelta(days=1)).isoformat()
    result = run(["etl"], env)
    assert (result.exit_code, summaries(result)[0]["date"]) == (0, expected)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        pytest.param(
            {"TGPIPE_FETCH_WORKERS": "0"},
            "TGPIPE_FETCH_WORKERS must be an integer from 1 to 256, got 0",
            id="workers",
        ),
        pytest.param(
            {"TGPIPE_TIMEZONE": "Mars/Olympus"},
            "TGPIPE_TIMEZONE must be an IANA time zone such as UTC or America/Sao_Paulo, got 'Mars/Olympus'",
            id="zone",
        ),
        pytest.param(
            {"TGPIPE_ENRICHED_URI": "gs://bucket/enriched"},
            "TGPIPE_ENRICHED_URI must be s3://bucket/prefix or a local path, got 'gs://bucket/enriched'",
            id="uri",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(
    lake: dict[str, str], env: dict[str, str], message: str
) -> None:
    """A missing or invalid setting: exit 1, one line, nothing run."""
    result = run(["etl", "--date", DAY], {**lake, **env})
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"Error: {message}\n")


def test_an_invalid_date_is_a_usage_error(lake: dict[str, str]) -> None:
    """--date must be YYYY-MM-DD."""
    result = run(["etl", "--date", "05/10/2026"], lake)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--date': '05/10/2026' does not match the format '%Y-%m-%d'."
    )


def test_a_storage_failure_is_one_line_saying_to_run_again(lake: dict[str, str], tmp_path: Path) -> None:
    """The raw lake cannot be listed (here its day is a file, not a folder): exit 1, one clear line."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / f"context_date={DAY}").write_bytes(b"")
    result = run(["etl", "--date", DAY], lake)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"Error: etl of {DAY} failed: cannot list 'context_date={DAY}/' under {raw}: Not a directory; "
        "run it again (a run replaces the whole partition)\n"
    )


def test_backfill_prints_a_summary_per_day_and_fails_on_bad_objects(
    lake: dict[str, str], tmp_path: Path
) -> None:
    """Days in order, one JSON line each; a day with bad objects does not stop the others."""
    raw = LocalStorage(tmp_path / "raw")
    write_day(raw, {"1.json": update(1, text="a")}, day="2026-10-04")
    write_day(raw, {"2.json": update(2, text="b"), "3.json": b"[1, 2]"}, day="2026-10-05")
    result = run(["backfill", "--start", "2026-10-04", "--end", "2026-10-06"], lake)
    assert result.exit_code == 1
    assert [(s["date"], s["rows"]["messages"], s["bad_objects"]) for s in summaries(result)] == [
        ("2026-10-04", 1, 0),
        ("2026-10-05", 1, 1),
        ("2026-10-06", 0, 0),
    ]
    assert result.stderr.splitlines()[-1] == (
        "Error: bad objects on 1 day(s): 2026-10-05 (1); their good rows were written "
        "and the bad objects' keys are in the etl_bad_object log lines"
    )


def test_backfill_stops_at_a_storage_failure_and_resumes_from_there(
    lake: dict[str, str], tmp_path: Path
) -> None:
    """It names the failed day and the command that resumes; that command then finishes the range."""
    raw = LocalStorage(tmp_path / "raw")
    write_day(raw, {"1.json": update(1, text="a")}, day="2026-10-05")
    broken = tmp_path / "raw" / "context_date=2026-10-06"
    broken.write_bytes(b"")
    first = run(["backfill", "--start", "2026-10-05", "--end", "2026-10-07"], lake)
    assert first.exit_code == 1
    assert [s["date"] for s in summaries(first)] == ["2026-10-05"]
    assert first.stderr.splitlines()[-1] == (
        "Error: backfill stopped at 2026-10-06 "
        f"(cannot list 'context_date=2026-10-06/' under {tmp_path / 'raw'}: Not a directory); "
        "days before it are done. Resume with: tgpipe backfill --start 2026-10-06 --end 2026-10-07"
    )
    broken.unlink()
    write_day(raw, {"2.json": update(2, text="b")}, day="2026-10-06")
    resumed = run(["backfill", "--start", "2026-10-06", "--end", "2026-10-07"], lake)
    assert resumed.exit_code == 0
    assert [(s["date"], s["rows"]["messages"]) for s in summaries(resumed)] == [
        ("2026-10-06", 1),
        ("2026-10-07", 0),
    ]


def test_backfill_refuses_a_reversed_range(lake: dict[str, str]) -> None:
    """--start after --end is a usage error."""
    result = run(["backfill", "--start", "2026-10-07", "--end", "2026-10-05"], lake)
    assert result.exit_code == 2
    assert (
        result.stderr.splitlines()[-1]
        == "Error: Invalid value for '--start': --start 2026-10-07 is after --end 2026-10-05"
    )


@pytest.mark.parametrize("command", ["etl", "backfill"])
def test_help_ends_with_an_example(command: str) -> None:
    """Each command's help ends with a runnable example."""
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    description = result.stdout.split("Options:")[0].rstrip().splitlines()
    assert description[-2].strip() == "Example:"
    assert f"tgpipe {command}" in description[-1]


def test_the_command_line_does_not_import_pyarrow_until_the_etl_runs() -> None:
    """`tgpipe` starts without pyarrow (webhook, bot commands); only etl and backfill load it."""
    probe = "import sys, etl.cli; print(sorted(m for m in sys.modules if m.split('.')[0] == 'pyarrow'))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"


# What a short day's run never needs, and what importing it would cost before a row is read: the
# HTTP client of the Bot API, pyarrow.parquet's file systems (S3, GCS, TLS), worker processes, strptime,
# the opt-out's hashing (no one opted out), the modules of erasure and retention.
NOT_FOR_A_SHORT_DAY = (
    "etl.telegram.botapi",
    "http.client",
    "pyarrow.parquet",
    "pyarrow.fs",
    "ssl",
    "multiprocessing",
    "_strptime",
    "etl.privacy.identity",
    "etl.privacy.forget",
    "etl.privacy.retention",
)


def test_a_short_day_s_run_imports_only_what_it_uses(tmp_path: Path) -> None:
    """The fixed cost of `tgpipe etl` is mostly imports: a day of a few updates loads none of
    NOT_FOR_A_SHORT_DAY, and writes its tables all the same."""
    folder = tmp_path / "raw" / f"context_date={DAY}"
    folder.mkdir(parents=True)
    for generated in busy_day(50, date.fromisoformat(DAY)):
        (folder / f"{generated['update_id']}.json").write_bytes(json.dumps(generated).encode())
    probe = (
        "import sys\n"
        "from etl.cli import main\n"
        f"sys.argv = ['tgpipe', 'etl', '--date', '{DAY}']\n"
        "try:\n    main()\n"
        "finally:\n"
        f"    print(sorted(m for m in {NOT_FOR_A_SHORT_DAY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    env = {**os.environ, "TGPIPE_LOG_LEVEL": "ERROR"}
    env.update(TGPIPE_RAW_URI=str(tmp_path / "raw"), TGPIPE_ENRICHED_URI=str(tmp_path / "enriched"))
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, "[]\n")
    assert json.loads(result.stdout)["objects"] == 50
    assert (tmp_path / "enriched" / "messages" / f"context_date={DAY}" / "part-00000.parquet").is_file()


def test_importing_the_package_loads_none_of_its_modules() -> None:
    """`import etl` is free (its public names load on first use), and every public name resolves."""
    probe = (
        "import sys, etl\n"
        "print(sorted(m for m in sys.modules if m.startswith('etl.')))\n"
        "print(all(getattr(etl, name) is not None for name in etl.__all__), sorted(dir(etl)) == dir(etl))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\nTrue True\n"


def _big_day(raw: Path, n: int) -> None:
    folder = raw / f"context_date={DAY}"
    folder.mkdir(parents=True)
    for generated in busy_day(n, date.fromisoformat(DAY)):
        (folder / f"{generated['update_id']}.json").write_bytes(json.dumps(generated).encode())


def _start_etl(tmp_path: Path, scratch: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "TMPDIR": str(scratch), "TGPIPE_LOG_LEVEL": "ERROR"}
    env.update(TGPIPE_RAW_URI=str(tmp_path / "raw"), TGPIPE_ENRICHED_URI=str(tmp_path / "enriched"))
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("tgpipe")), "etl", "--date", DAY],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_run_folder(scratch: Path, proc: subprocess.Popen[str]) -> Path:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        found = [p for p in scratch.glob(f"{TEMP_PREFIX}*") if (p / "messages.parquet").exists()]
        if found:
            return found[0]
        time.sleep(0.005)
    raise AssertionError(f"no run folder appeared (exit {proc.poll()})")


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_run_stopped_by_sigterm_removes_its_temporary_folder(tmp_path: Path) -> None:
    """SIGTERM mid-run: exit 143, the run's folder is gone, the old partition (none here) untouched."""
    _big_day(tmp_path / "raw", 60_000)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = _start_etl(tmp_path, scratch)
    folder = _wait_for_run_folder(scratch, proc)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert (proc.returncode, folder.exists(), list(scratch.iterdir())) == (143, False, [])
    assert not (tmp_path / "enriched").exists()


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_killed_run_s_leftovers_are_removed_by_a_later_run(tmp_path: Path) -> None:
    """SIGKILL leaves the folder behind; the next run removes it once it is an hour old, and only it."""
    _big_day(tmp_path / "raw", 60_000)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = _start_etl(tmp_path, scratch)
    leftover = _wait_for_run_folder(scratch, proc)
    proc.kill()
    proc.communicate(timeout=60)
    recent = scratch / f"{TEMP_PREFIX}still-running"
    recent.mkdir()
    unrelated = scratch / "someone-else-old"
    unrelated.mkdir()
    hours_ago = time.time() - 2 * 3600
    for folder in (leftover, unrelated):
        os.utime(folder, (hours_ago, hours_ago))
    rerun = _start_etl(tmp_path, scratch)
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert sorted(p.name for p in scratch.iterdir()) == ["someone-else-old", recent.name]
    assert clear_leftovers(scratch, older_than=0) == 1  # the recent one, once old enough

"""`tgpipe import-export`: a Telegram Desktop export into the raw lake, from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from etl.cli import main
from tests.helpers import ROOT

EXPORT = ROOT / "tests" / "data" / "export" / "result.json"
CHAT = "-1001234567890"


def run(args: list[str], raw: Path, **env: str) -> Result:
    return CliRunner().invoke(main, ["import-export", *args], env={"TGPIPE_RAW_URI": str(raw), **env})


def summary_of(result: Result) -> dict[str, Any]:
    """The JSON summary on stdout, its timing checked and removed."""
    summary: dict[str, Any] = json.loads(result.stdout)
    assert summary.pop("seconds") >= 0
    return summary


def warnings(result: Result) -> list[str]:
    """The warning lines on stderr (the progress bar's lines left out)."""
    return [line for line in result.stderr.replace("\r", "\n").splitlines() if line.startswith("Warning: ")]


def test_an_export_is_imported_and_summarised_in_one_json_line(tmp_path: Path) -> None:
    """Exit 0, the whole JSON summary on stdout, one raw object per update it says it wrote, and the
    refused message and the local times named on stderr."""
    result = run([str(EXPORT), "--chat-id", CHAT], tmp_path / "raw")
    assert result.exit_code == 0, result.stderr
    assert summary_of(result) == {
        "messages_read": 37,
        "updates_written": 33,
        "edits_written": 2,
        "reactions_written": 2,
        "skipped_duplicates": 0,
        "skipped_repeated_ids": 1,
        "skipped_unsupported": 6,
        "skipped_erased": 0,
        "rewritten_erased": 0,
        "local_times": 1,
        "by_kind": {
            "animation": 1,
            "audio": 1,
            "contact": 1,
            "document": 1,
            "game": 1,
            "location": 1,
            "other media": 1,
            "photo": 1,
            "poll": 1,
            "service": 6,
            "sticker": 1,
            "text": 9,
            "venue": 1,
            "video": 1,
            "video_note": 1,
            "voice": 1,
        },
        "unsupported_by_kind": {
            "migrated_history": 4,
            "service:migrate_from_group": 1,
            "unsupported": 1,
        },
        "refused": {"date_before_telegram": 1},
        "first_day": "2025-11-24",
        "last_day": "2025-11-25",
    }
    files = sorted((tmp_path / "raw").rglob("*.json"))
    assert len(files) == 33
    assert {f.parent.name for f in files} == {"context_date=2025-11-24", "context_date=2025-11-25"}
    assert warnings(result) == [
        "Warning: 1 message(s) have times the export kept as local times only; "
        "read in UTC (--export-timezone)",
        "Warning: message 32 refused: its date, 1970-01-01 00:00:00 UTC, "
        "is before Telegram existed (2013-08-01)",
    ]
    assert "import: 100%" in result.stderr  # the progress bar


OLD_EXPORT = {  # Telegram Desktop before date_unixtime: local times of the exporting computer only
    "name": "Grupo de Suporte 💬",
    "type": "private_supergroup",
    "id": 1234567890,
    "messages": [
        {
            "id": 7,
            "type": "message",
            "date": "2020-01-02T03:04:05",
            "edited": "2020-01-02T03:10:00",
            "from": "Bob",
            "from_id": "user222222222",
            "text": "Mensagem antiga",
        },
        {
            "id": 8,
            "type": "message",
            "date": "2020-01-02T23:30:00",
            "from": "Bob",
            "from_id": "user222222222",
        },
    ],
}


@pytest.mark.parametrize(
    ("args", "env", "stamps", "zone"),
    [
        (
            ["--export-timezone", "America/Sao_Paulo"],
            {},
            (1577945045, 1577945400, 1578018600),
            "America/Sao_Paulo",
        ),
        ([], {"TGPIPE_TIMEZONE": "Asia/Tokyo"}, (1577901845, 1577902200, 1577975400), "Asia/Tokyo"),
        ([], {}, (1577934245, 1577934600, 1578007800), "UTC"),
    ],
    ids=["option", "setting", "default-utc"],
)
def test_an_old_export_is_read_in_the_export_time_zone(
    tmp_path: Path, args: list[str], env: dict[str, str], stamps: tuple[int, int, int], zone: str
) -> None:
    """Local times are read in --export-timezone (default TGPIPE_TIMEZONE, else UTC), counted in a warning."""
    path = tmp_path / "result.json"
    path.write_text(json.dumps(OLD_EXPORT, ensure_ascii=False), encoding="utf-8")
    result = run([str(path), "--chat-id", CHAT, *args], tmp_path / "raw", **env)
    assert result.exit_code == 0, result.stderr
    objects = [json.loads(f.read_bytes()) for f in sorted((tmp_path / "raw").rglob("*.json"))]
    dates = sorted(
        [o["message"]["date"] for o in objects if "message" in o]
        + [o["edited_message"]["edit_date"] for o in objects if "edited_message" in o]
    )
    assert tuple(dates) == stamps
    assert warnings(result) == [
        "Warning: 2 message(s) have times the export kept as local times only; "
        f"read in {zone} (--export-timezone)"
    ]
    assert summary_of(result)["local_times"] == 2
    assert "Mensagem antiga" not in result.stderr


def test_an_unknown_export_time_zone_is_one_clear_line(tmp_path: Path) -> None:
    """A --export-timezone that is no IANA zone: exit 1, say why, write nothing."""
    result = run([str(EXPORT), "--chat-id", CHAT, "--export-timezone", "Mars/Olympus"], tmp_path / "raw")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: --export-timezone must be an IANA time zone such as UTC or America/Sao_Paulo, "
        "got 'Mars/Olympus'"
    )
    assert not (tmp_path / "raw").exists()


def test_a_second_import_writes_the_same_objects(tmp_path: Path) -> None:
    """Rerunning an import changes nothing in the lake."""
    run([str(EXPORT), "--chat-id", CHAT], tmp_path / "raw")
    before = {p: p.read_bytes() for p in (tmp_path / "raw").rglob("*.json")}
    assert run([str(EXPORT), "--chat-id", CHAT], tmp_path / "raw").exit_code == 0
    assert {p: p.read_bytes() for p in (tmp_path / "raw").rglob("*.json")} == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [str(EXPORT), "--chat-id", "-100123"],
            "Error: result.json is the export of chat -1001234567890 (private_supergroup 1234567890), "
            "not of chat -100123",
        ),
        (
            ["missing.json", "--chat-id", CHAT],
            "Error: Invalid value for 'EXPORT': File 'missing.json' does not exist.",
        ),
    ],
    ids=["wrong-chat", "missing-file"],
)
def test_errors_are_one_clear_line_and_nothing_is_written(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """A wrong chat id or a missing file: exit non-zero, say why, write nothing."""
    result = run(args, tmp_path / "raw")
    assert result.exit_code != 0
    assert result.stderr.splitlines()[-1] == message
    assert not (tmp_path / "raw").exists()


def test_a_file_that_is_not_an_export_is_refused(tmp_path: Path) -> None:
    """Malformed JSON is reported, not half-imported."""
    bad = tmp_path / "result.json"
    bad.write_text('{"name": "x", "type": "private_supergroup", "id": 1, "messages": [{"id": 1,')
    result = run([str(bad), "--chat-id", "-1000000000001"], tmp_path / "raw")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith("Error: result.json")
    assert not (tmp_path / "raw").exists()

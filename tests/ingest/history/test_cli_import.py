"""`tgpipe import-export`: a Telegram Desktop export into the raw lake, from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from etl.cli import main
from tests.helpers import ROOT

EXPORT = ROOT / "tests" / "data" / "export" / "result.json"
CHAT = "-1001234567890"


def run(args: list[str], raw: Path) -> Result:
    return CliRunner().invoke(main, ["import-export", *args], env={"TGPIPE_RAW_URI": str(raw)})


def test_an_export_is_imported_and_summarised_in_one_json_line(tmp_path: Path) -> None:
    """Exit 0, a JSON summary on stdout, and one raw object per update it says it wrote."""
    result = run([str(EXPORT), "--chat-id", CHAT], tmp_path / "raw")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    files = sorted((tmp_path / "raw").rglob("*.json"))
    assert (len(files), summary["updates_written"], summary["edits_written"]) == (29, 29, 2)
    assert {f.parent.name for f in files} == {"context_date=2025-11-24", "context_date=2025-11-25"}
    assert (summary["messages_read"], summary["skipped_duplicates"]) == (35, 0)
    assert "import: 100%" in result.stderr  # the progress bar


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

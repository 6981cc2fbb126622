"""`tgpipe demo` guards its folder: it clears only what it made itself."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from etl.cli import main


def test_the_demo_refuses_to_clear_a_folder_it_did_not_make(tmp_path: Path) -> None:
    """--lake pointing at real data (here: a raw lake) stops with one line and deletes nothing."""
    lake = tmp_path / "lake"
    (lake / "raw" / "context_date=2026-10-05").mkdir(parents=True)
    (lake / "raw" / "context_date=2026-10-05" / "1.json").write_bytes(b"{}")
    result = CliRunner().invoke(main, ["demo", "--lake", str(lake)])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {lake} is not empty and was not made by tgpipe demo: choose another --lake folder\n",
    )
    assert (lake / "raw" / "context_date=2026-10-05" / "1.json").read_bytes() == b"{}"

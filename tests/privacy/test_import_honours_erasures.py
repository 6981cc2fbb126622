"""A re-imported Telegram Desktop export never brings an erased person back: the history import
judges every converted update against the erasure records, as `forget` judged the stored ones."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from etl.config import PrivacySettings
from etl.ingest.history.importer import import_export
from etl.privacy.forget import forget
from etl.storage import LocalStorage
from tests.helpers import GROUP, ROOT

EXPORT = ROOT / "tests" / "data" / "export" / "result.json"
ANA_ID = 111111111  # "Ana Souza", user111111111 in the export
UTC = ZoneInfo("UTC")


def test_an_export_imported_again_after_forget_brings_nothing_of_her_back(tmp_path: Path) -> None:
    """GIVEN an imported export, then Ana forgotten; WHEN the same export is imported again; THEN
    every object is exactly what forget left (her updates not written, the others written without
    her), and the summary counts what it left out."""
    raw = LocalStorage(tmp_path / "raw")
    first = import_export(EXPORT, GROUP, raw, UTC)
    erased = forget(raw, None, ANA_ID)
    assert (erased.raw_removed, erased.raw_rewritten) == (15, 0)  # her messages, edits, joins
    after_forget = {key: raw.get(key) for key in raw.list()}

    again = import_export(EXPORT, GROUP, raw, UTC, privacy=PrivacySettings())

    assert {key: raw.get(key) for key in raw.list()} == after_forget
    assert (again.skipped_erased, again.rewritten_erased) == (erased.raw_removed, erased.raw_rewritten)
    assert again.updates_written == first.updates_written - erased.raw_removed
    assert not [key for key, data in after_forget.items() if b"111111111" in data or b"Ana Souza" in data]


def test_an_erasure_in_another_chat_does_not_filter_this_one(tmp_path: Path) -> None:
    """A record of one chat applies to imports into that chat only."""
    raw = LocalStorage(tmp_path / "raw")
    forget(raw, None, ANA_ID, chat_id=-1009999999999)

    summary = import_export(EXPORT, GROUP, raw, UTC)

    assert (summary.skipped_erased, summary.rewritten_erased) == (0, 0)
    assert [key for key in raw.list("context_date=") if b"111111111" in raw.get(key)] != []

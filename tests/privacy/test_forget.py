"""`forget` erases a person from a lake filled through the real webhook and ETL: no raw object, no
stored version, no enriched row holds them any more; every other object is byte-identical; the
copies of them in others' messages are scrubbed as documented; a rerun finds nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from etl.config import PrivacySettings
from etl.lake import ERASURES_PREFIX, SALT_KEY
from etl.privacy.forget import ForgetReport, forget
from etl.privacy.identity import person_hash
from etl.storage import LocalStorage, S3Storage, Storage
from etl.transform.job import rebuild_day
from tests.privacy.conversation import (
    ANA,
    ANA_ID,
    BOB_ADDS,
    BOB_REPLY,
    CARL,
    CARL_THANKS,
    CHAT,
    DELIVERIES,
    T1,
    TRACES,
    Lake,
    at,
    body,
    deliver,
    msg,
)

DATETIME = at(1791374400)  # 2026-10-07 12:00 UTC: when forget runs


def objects(store: Storage, prefix: str = "") -> dict[str, bytes]:
    return {key: store.get(key) for key in store.list(prefix)}


def every_version(store: Storage) -> list[bytes]:
    return [store.get_version(v) for v in store.versions() if not v.is_delete_marker]


def enriched_rows(store: Storage) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, partition by partition."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for key in store.list():
        table = pq.read_table(pa.BufferReader(store.get(key)))
        rows.setdefault(key.split("/", 1)[0], []).extend(table.to_pylist())
    return rows


def run(lake: Lake, **options: Any) -> ForgetReport:
    return forget(
        lake.raw,
        lake.enriched,
        ANA_ID,
        etl_settings=lake.settings,
        now=lambda: DATETIME,
        rebuild_day=rebuild_day,
        **options,
    )


def _update(update_id: int, kind: str, payload: dict[str, Any]) -> bytes:
    return orjson.dumps({"update_id": update_id, kind: payload})


def test_forget_removes_the_person_from_every_layer(lake: Lake) -> None:
    """GIVEN Ana's messages, edit, reaction, membership, photo and a quarantined body, and others'
    messages that embed her; WHEN she is forgotten; THEN exactly her objects are gone, the others'
    are rewritten without her or kept byte for byte, and the enriched days are rebuilt without her."""
    before = objects(lake.raw)
    versioned = isinstance(lake.raw, S3Storage)

    report = run(lake)

    assert report.lines() == [
        "raw: 5 object(s) removed, 4 rewritten without the person (invite_link_creator 1, "
        "new_chat_member 1, reply_to_message 1, text_mention 1, username_mention 1); "
        "days: 2026-10-05, 2026-10-06",
        "quarantine: 1 body(ies) removed",
        f"versions: {11 if versioned else 10} stored raw version(s) deleted",
        "enriched: 7 row(s) of the person; days rebuilt: 2026-10-05, 2026-10-06; days filtered: none"
        + ("; 8 older version(s) deleted" if versioned else ""),
        f"erasure record: {report.record_key}",
    ]
    after = objects(lake.raw)
    [quarantined_kept] = [k for k in before if k.startswith("_quarantine/") and b"222222222" in before[k]]
    kept = [
        "context_date=2026-10-05/107.json",
        "context_date=2026-10-05/108.json",
        "context_date=2026-10-06/111.json",
        quarantined_kept,
    ]
    reply = {k: v for k, v in BOB_REPLY.items() if k not in ("reply_to_message", "quote")}
    rewritten = {
        "context_date=2026-10-05/102.json": _update(
            102,
            "message",
            {**BOB_ADDS, "new_chat_participant": CARL, "new_chat_member": CARL, "new_chat_members": [CARL]},
        ),
        "context_date=2026-10-05/104.json": _update(
            104, "message", {**reply, "text": "Pelo app, @________ e @carl_b sabem"}
        ),
        "context_date=2026-10-05/105.json": _update(
            105,
            "message",
            {**CARL_THANKS, "text": "Valeu ___ 👍 e Bob", "entities": [CARL_THANKS["entities"][1]]},
        ),
        "context_date=2026-10-06/110.json": _update(
            110,
            "chat_join_request",
            {
                **DELIVERIES[11][1]["chat_join_request"],
                "invite_link": {
                    "invite_link": "https://t.me/+AbCd",
                    "creates_join_request": True,
                    "is_primary": False,
                    "is_revoked": False,
                },
            },
        ),
    }
    salt = lake.raw.get(SALT_KEY)
    record_key = report.record_key
    assert record_key is not None
    assert record_key.startswith(ERASURES_PREFIX)
    assert after == {
        **{k: before[k] for k in kept},
        **rewritten,
        SALT_KEY: salt,
        record_key: after[record_key],
    }
    assert orjson.loads(after[record_key]) == {
        "person": person_hash(salt, ANA_ID),
        "chat_id": None,
        "at": "2026-10-07T12:00:00.000000Z",
        "counts": {
            "raw_removed": 5,
            "raw_rewritten": 4,
            "quarantine_removed": 1,
            "versions_deleted": 11 if versioned else 10,
            "scrubbed": {
                "invite_link_creator": 1,
                "new_chat_member": 1,
                "reply_to_message": 1,
                "text_mention": 1,
                "username_mention": 1,
            },
            "enriched_rows": 7,
            "enriched_days": 2,
            "enriched_versions_deleted": 8 if versioned else 0,
        },
    }
    # No stored byte of any version holds her id, username, surname, texts or first name.
    leftovers = [(trace, data) for data in every_version(lake.raw) for trace in TRACES if trace in data]
    assert leftovers == []
    # Kept objects keep every version (Bob's redelivered message has two on S3), nothing else has more.
    counts: dict[str, int] = {}
    for version in lake.raw.versions():
        counts[version.key] = counts.get(version.key, 0) + 1
    assert counts == {key: 2 if versioned and key.endswith("/108.json") else 1 for key in after}

    rows = enriched_rows(lake.enriched)
    assert sorted(r["update_id"] for r in rows["messages"]) == [102, 104, 105, 108, 111]
    assert sorted((r["update_id"], r["user_id"]) for r in rows["reactions"]) == [(107, 222222222)]
    assert sorted((r["update_id"], r["user_id"]) for r in rows["member_events"]) == [
        (102, 333333333),
        (110, 333333333),
    ]
    assert sorted((r["update_id"], r["kind"], r["value"]) for r in rows["message_entities"]) == [
        (104, "mention", "@________"),
        (104, "mention", "@carl_b"),
        (105, "bold", None),
    ]
    reply_row = next(r for r in rows["messages"] if r["update_id"] == 104)
    assert (reply_row["reply_to_message_id"], reply_row["quote_text"]) == (None, None)
    values = [v for table in rows.values() for r in table for v in r.values()]
    assert ANA_ID not in values
    assert [v for v in values if isinstance(v, str) and any(t.decode() in v for t in TRACES)] == []
    if versioned:  # the enriched layer's older versions (the partitions before the rebuild) are gone
        assert all(v.is_latest for v in lake.enriched.versions())
        assert CHAT["id"] in [r["chat_id"] for r in rows["messages"]]


def test_a_rerun_finds_nothing_and_changes_nothing(lake: Lake) -> None:
    """After forget, a second forget removes nothing more and says so; only its record is added."""
    run(lake)
    raw_before, enriched_before = objects(lake.raw), objects(lake.enriched)

    second = run(lake)

    assert second.lines() == ["nothing left of this person in the lake: nothing was removed"]
    assert second.record_key is not None
    after = objects(lake.raw)
    assert {k: v for k, v in after.items() if k != second.record_key} == raw_before
    assert objects(lake.enriched) == enriched_before


def test_a_dry_run_says_what_would_go_and_changes_nothing(lake: Lake) -> None:
    """--dry-run reports the same counts and days, and leaves every object and version as it was."""
    raw_before, enriched_before = objects(lake.raw), objects(lake.enriched)
    versions_before = sorted((v.key, v.version_id) for v in lake.raw.versions())

    report = run(lake, dry_run=True)

    assert report.lines() == [
        "raw: 5 object(s) would be removed, 4 would be rewritten without the person (invite_link_creator 1, "
        "new_chat_member 1, reply_to_message 1, text_mention 1, username_mention 1); "
        "days: 2026-10-05, 2026-10-06",
        "quarantine: 1 body(ies) would be removed",
        f"versions: {11 if isinstance(lake.raw, S3Storage) else 10} stored raw version(s) would be deleted",
        "enriched: 7 row(s) of the person; days would be rebuilt: 2026-10-05, 2026-10-06; "
        "days would be filtered: none",
    ]
    assert objects(lake.raw) == {**raw_before}
    assert objects(lake.enriched) == enriched_before
    assert sorted((v.key, v.version_id) for v in lake.raw.versions()) == versions_before


def test_forget_in_one_chat_leaves_the_other_chats(tmp_path: Path) -> None:
    """--chat-id: the person's updates in other chats are kept byte for byte."""
    raw = LocalStorage(tmp_path / "raw")
    other = {**CHAT, "id": -1009999999999}
    deliver(raw, [(T1, {"update_id": 1, "message": msg(1, ANA, T1, text="no grupo")})])
    raw.put(
        "context_date=2026-10-05/2.json",
        body({"update_id": 2, "message": msg(2, ANA, T1, text="noutro", chat=other)}),
    )

    report = forget(
        raw, None, ANA_ID, chat_id=CHAT["id"], privacy=PrivacySettings(salt="s" * 32), now=lambda: DATETIME
    )

    assert (report.raw_removed, report.raw_rewritten) == (1, 0)
    assert list(raw.list("context_date=")) == ["context_date=2026-10-05/2.json"]
    record = orjson.loads(raw.get(report.record_key or ""))
    assert (record["person"], record["chat_id"]) == (person_hash(b"s" * 32, ANA_ID), CHAT["id"])
    assert list(raw.list("_privacy/")) == []  # a configured salt is never written to the lake

"""Opt-out end to end: `chalice local` over real HTTP, as Telegram would deliver the chat."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from etl.lake import OPTOUT_PREFIX, SALT_KEY
from etl.privacy.identity import person_hash
from etl.storage import LocalStorage
from tests.helpers import CHALICE_DIR
from tests.ingest.test_local_server import BIN, _env, _free_port, _post, _wait_for
from tests.privacy.conversation import ANA, ANA_ID, BOB, T1, body, msg


def _message(update_id: int, sender: dict[str, object], text: str) -> bytes:
    return body({"update_id": update_id, "message": msg(update_id, sender, T1, text=text)})


def test_optout_and_optin_through_chalice_local(tmp_path: Path) -> None:
    """GIVEN the served webhook; WHEN Ana sends /optout, writes, reacts, then /optin and writes again;
    THEN every delivery is answered 200, her updates between the two commands are not stored, the
    commands and their markers are, and the log says opted_out for the dropped ones."""
    raw = tmp_path / "raw"
    port = _free_port()
    cmd = [
        str(BIN / "chalice"),
        "--project-dir",
        str(CHALICE_DIR),
        "local",
        "--port",
        str(port),
        "--no-autoreload",
    ]
    log = tmp_path / "server.log"
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=_env(raw), stdout=subprocess.DEVNULL, stderr=log.open("wb")
    )
    url = f"http://127.0.0.1:{port}/webhook"
    reaction = {
        "update_id": 904,
        "message_reaction": {
            "chat": msg(0, BOB, T1)["chat"],
            "message_id": 903,
            "user": ANA,
            "date": T1,
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": "👍"}],
        },
    }
    deliveries = [
        _message(901, ANA, "bom dia"),
        _message(902, ANA, "/optout@tgpipe_bot"),
        _message(903, ANA, "não me contem"),
        body(reaction),
        _message(905, BOB, "tudo bem"),
        _message(906, ANA, "/optin"),
        _message(907, ANA, "voltei"),
    ]
    try:
        _wait_for(port, proc)
        answers = [_post(url, delivery) for delivery in deliveries]
    finally:
        proc.terminate()
        proc.wait(10)
    assert answers == [(200, b"")] * 7
    stored = {p.name: p.read_bytes() for p in raw.glob("context_date=*/*.json")}
    assert stored == {
        f"{n}.json": deliveries[i] for i, n in [(0, 901), (1, 902), (4, 905), (5, 906), (6, 907)]
    }
    ana = person_hash(LocalStorage(raw).get(SALT_KEY), ANA_ID)
    assert sorted(p.relative_to(raw).as_posix() for p in (raw / OPTOUT_PREFIX).rglob("*")) == [
        f"{OPTOUT_PREFIX}{ana}",
        f"{OPTOUT_PREFIX}{ana}/00000000000000000902.optout",
        f"{OPTOUT_PREFIX}{ana}/00000000000000000906.optin",
    ]
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert [(r["update_id"], r["outcome"], r.get("note")) for r in lines if r.get("event") == "webhook"] == [
        (901, "stored", None),
        (902, "stored", "optout recorded"),
        (903, "opted_out", None),
        (904, "opted_out", None),
        (905, "stored", None),
        (906, "stored", "optin recorded"),
        (907, "stored", None),
    ]

"""One reading of an update everywhere: the webhook's router and the ETL give the same bytes the same
verdict (which kind, which chat, or not an update), and what the webhook stores the ETL can read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.config import IngestSettings
from etl.ingest.router import Router
from etl.storage import LocalStorage
from etl.transform.chunks import enrich_chunk
from etl.transform.schema import MESSAGES

ALLOWED = -1001234567890
OTHER = -1009999999999
NOW = datetime(2026, 10, 6, 12, tzinfo=UTC).timestamp()
PROCESSED_AT = pa.scalar(datetime(2026, 10, 7, tzinfo=UTC), MESSAGES.schema.field("context_timestamp").type)


def _msg(chat: int = ALLOWED, **fields: Any) -> dict[str, Any]:
    return {"message_id": 1, "date": 1764000000, "chat": {"id": chat, "type": "supergroup"}, **fields}


def _body(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


DEEP_1023 = "[" * 1022 + "]" * 1022  # with the update and the message around it: 1,024 levels
TRICKY: dict[str, bytes] = {
    "two kinds, chats differ": _body(
        {"update_id": 7, "my_chat_member": {"chat": {"id": ALLOWED}}, "message": _msg(OTHER, text="x")}
    ),
    "two kinds, one chat": _body(
        {"update_id": 8, "message": _msg(text="a"), "edited_message": _msg(text="b")}
    ),
    "kind only": _body({"update_id": 9}),
    "NaN": b'{"update_id": 10, "message": {"message_id": 1, "date": 1, "chat": {"id": %d}, "x": NaN}}'
    % ALLOWED,
    "Infinity": b'{"update_id": 11, "message": {"message_id": 1, "date": 1, "chat": {"id": %d}, '
    b'"x": Infinity}}' % ALLOWED,
    "lone surrogate": b'{"update_id": 12, "message": {"message_id": 1, "date": 1, "chat": {"id": %d}, '
    b'"text": "\\ud83d"}}' % ALLOWED,
    "number overflowing a double": b'{"update_id": 13, "message": {"message_id": 1, "date": 1, "chat": '
    b'{"id": %d}, "x": 1e400}}' % ALLOWED,
    "1,025 levels": b'{"update_id": 14, "message": {"message_id": 1, "date": 1, "chat": {"id": %d}, "x": '
    % ALLOWED
    + b"[" * 1023
    + b"]" * 1023
    + b"}}",
    "1,024 levels": b'{"update_id": 15, "message": {"message_id": 1, "date": 1, "chat": {"id": %d}, "x": '
    % ALLOWED
    + DEEP_1023.encode()
    + b"}}",
    "byte order mark": b"\xef\xbb\xbf" + _body({"update_id": 16, "message": _msg(text="x")}),
    "message without a date": _body({"update_id": 17, "message": {"message_id": 1, "chat": {"id": ALLOWED}}}),
    "chat id as a string": _body({"update_id": 18, "message": {**_msg(), "chat": {"id": str(ALLOWED)}}}),
    "kind not in snake_case": _body({"update_id": 19, "Message": _msg(text="x")}),
    "sender without is_bot": _body(
        {"update_id": 20, "message": _msg(text="x", **{"from": {"id": 5, "first_name": "A"}})}
    ),
    "chat without a type": _body(
        {"update_id": 21, "channel_post": {**_msg(), "chat": {"id": ALLOWED}, "text": "x"}}
    ),
    "text as a number": _body({"update_id": 22, "message": _msg(text=1e20)}),
    "callback query": _body(
        {
            "update_id": 23,
            "callback_query": {"id": "1", "message": _msg(), "data": "ok", "chat_instance": "c"},
        }
    ),
    "a kind of next year": _body({"update_id": 24, "chat_boost_2027": {"chat": {"id": ALLOWED}}}),
    "another chat": _body({"update_id": 25, "message": _msg(OTHER, text="x")}),
    "no chat": _body({"update_id": 26, "poll_answer": {"poll_id": "1"}}),
    "date 0 (an inaccessible message)": _body({"update_id": 27, "message": _msg(date=0, text="x")}),
}


def _router(tmp_path: Path) -> Router:
    return Router(IngestSettings(frozenset({ALLOWED})), LocalStorage(tmp_path / "raw"), clock=lambda: NOW)


def _etl_verdict(body: bytes) -> tuple[str, Any]:
    chunk = enrich_chunk([("k", body)], PROCESSED_AT)
    if chunk.bad:
        return "bad", chunk.bad[0][1]
    if chunk.skipped:
        return "skipped", next(iter(chunk.skipped))
    row = chunk.batches["messages"].to_pylist()[0]
    return "row", (row["update_kind"], row["chat_id"])


def _router_verdict(router: Router, body: bytes, capsys: pytest.CaptureFixture[str]) -> tuple[str, Any]:
    capsys.readouterr()
    result = router.ingest(body)
    note = json.loads(capsys.readouterr().err.splitlines()[-1]).get("note")
    return result.outcome, note if result.outcome == "quarantined" else result.chat_id


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_the_webhook_and_the_etl_agree(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Quarantined by the webhook <=> a bad object to the ETL, for the same reason; stored or ignored
    by the webhook's chat <=> the ETL's row of that chat (or the kind it skips)."""
    body = TRICKY[name]
    outcome, detail = _router_verdict(_router(tmp_path), body, capsys)
    verdict, value = _etl_verdict(body)
    if outcome == "quarantined":
        assert (verdict, value) == ("bad", detail)
    elif verdict == "row":
        assert (outcome, value[1]) == ("stored" if detail == ALLOWED else "ignored_chat", detail)
    else:
        assert verdict == "skipped"
        assert outcome in ("stored", "ignored_chat", "no_chat")


def test_the_tricky_table_means_what_it_says(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What the webhook does with each tricky body, in full: the issue's misrouting body is refused."""
    router = _router(tmp_path)
    outcomes = {name: _router_verdict(router, body, capsys) for name, body in TRICKY.items()}
    assert outcomes == {
        "two kinds, chats differ": ("quarantined", "update has 2 kinds: Telegram sends exactly one"),
        "two kinds, one chat": ("quarantined", "update has 2 kinds: Telegram sends exactly one"),
        "kind only": ("quarantined", "update has no kind: no field besides update_id"),
        "NaN": (
            "quarantined",
            "body is not JSON (unexpected character, expected a JSON value: line 1 column 96 (char 95))",
        ),
        "Infinity": (
            "quarantined",
            "body is not JSON (unexpected character, expected a JSON value: line 1 column 96 (char 95))",
        ),
        "lone surrogate": (
            "quarantined",
            "body is not JSON (no low surrogate in string: line 1 column 100 (char 99))",
        ),
        "number overflowing a double": (
            "quarantined",
            "body is not JSON (number is infinity when parsed as double: line 1 column 96 (char 95))",
        ),
        "1,025 levels": (
            "quarantined",
            "body is not JSON (depth limit exceeded: line 1 column 1119 (char 1118))",
        ),
        "1,024 levels": ("stored", ALLOWED),
        "byte order mark": (
            "quarantined",
            "body is not JSON (UTF-8 byte order mark (BOM) is not supported: line 1 column 1 (char 0))",
        ),
        "message without a date": ("quarantined", "message.date is missing"),
        "chat id as a string": ("quarantined", "message.chat.id is not a 64-bit integer"),
        "kind not in snake_case": ("quarantined", "update kind is not a Bot API field name"),
        "sender without is_bot": ("stored", ALLOWED),
        "chat without a type": ("stored", ALLOWED),
        "text as a number": ("stored", ALLOWED),
        "callback query": ("stored", ALLOWED),
        "a kind of next year": ("stored", ALLOWED),
        "another chat": ("ignored_chat", OTHER),
        "no chat": ("no_chat", None),
        "date 0 (an inaccessible message)": ("stored", ALLOWED),
    }


# --- any body: what is stored can be read -------------------------------------------------------

_ids = st.one_of(st.integers(-(2**64), 2**64), st.sampled_from([ALLOWED, OTHER, 0, 2**63 - 1, 2**63]))
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    _ids,
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
_kinds = st.sampled_from(
    [
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "message_reaction",
        "chat_member",
        "callback_query",
        "poll_answer",
        "new_kind",
        "Bad-Kind",
    ]
)


@st.composite
def _messages(draw: st.DrawFn) -> dict[str, Any]:
    message: dict[str, Any] = {}
    for name, strategy in (
        ("message_id", _ids),
        ("date", _ids),
        (
            "chat",
            st.one_of(
                st.fixed_dictionaries({"id": _ids}, optional={"type": _scalars, "title": _scalars}), _json
            ),
        ),
        (
            "from",
            st.one_of(
                st.fixed_dictionaries({}, optional={"id": _ids, "is_bot": _scalars, "first_name": _scalars}),
                _json,
            ),
        ),
        ("text", _scalars),
        ("caption", _scalars),
        ("entities", _json),
        ("reply_to_message", st.one_of(st.fixed_dictionaries({"message_id": _ids}), _json)),
        ("new_chat_members", _json),
        ("left_chat_member", _json),
        ("message_thread_id", _scalars),
        ("edit_date", _scalars),
    ):
        if draw(st.booleans()):
            message[name] = draw(strategy)
    return message


@st.composite
def _bodies(draw: st.DrawFn) -> bytes:
    shape = draw(st.sampled_from(["update", "update", "update", "json", "bytes", "spliced"]))
    if shape == "bytes":
        return draw(st.binary(max_size=64))
    if shape == "json":
        return json.dumps(draw(_json)).encode()
    update: dict[str, Any] = {"update_id": draw(st.one_of(_ids, _scalars))}
    for _ in range(draw(st.integers(0, 2))):
        update[draw(_kinds)] = draw(st.one_of(_messages(), _json))
    text = json.dumps(update, ensure_ascii=draw(st.booleans()))
    if shape == "spliced":  # what json.dumps never writes but a hostile sender can
        piece = draw(
            st.sampled_from(["NaN", "-Infinity", '"\\udc00"', "1e999", "[" * 1100 + "]" * 1100, "\ufeff"])
        )
        at = draw(st.integers(0, len(text)))
        text = text[:at] + piece + text[at:]
    return text.encode("utf-8", "surrogatepass")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_bodies())
def test_property_what_the_webhook_stores_the_etl_reads(body: bytes, tmp_path: Path) -> None:
    """Any body: stored as an update => the ETL gives it a row of the same chat or counts its kind,
    never a bad object; quarantined => the ETL would call it a bad object too."""
    router = Router(IngestSettings(frozenset({ALLOWED})), LocalStorage(tmp_path / "raw"), clock=lambda: NOW)
    result = router.ingest(body)
    chunk = enrich_chunk([("k", body)], PROCESSED_AT)
    if result.outcome == "stored":
        assert chunk.bad == []
        rows = chunk.batches["messages"].to_pylist()
        assert [r["chat_id"] for r in rows] == ([] if chunk.skipped else [result.chat_id])
        assert router.storage.get(result.key or "") == body
    elif result.outcome == "quarantined":
        assert len(chunk.bad) == 1
    else:
        assert chunk.bad == []

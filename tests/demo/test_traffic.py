"""The demo's generated conversation is realistic, deterministic and says what each delivery expects."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

from etl.demo.traffic import DEMO_CHAT, THANKS, conversation
from etl.telegram.update import MalformedUpdate, parse_update

ZONE = ZoneInfo("America/Sao_Paulo")
END = date(2026, 11, 23)


def test_the_conversation_is_deterministic() -> None:
    """The same seed gives byte-identical deliveries (the demo can be rerun and compared)."""
    assert conversation(3, END, ZONE) == conversation(3, END, ZONE)


def test_every_delivery_states_a_consistent_expectation() -> None:
    """Stored updates are of the demo chat, ignored ones of another, quarantined ones unreadable."""
    for delivery in conversation(7, END, ZONE):
        if delivery.expect == "quarantined":
            try:
                parse_update(delivery.body)
            except MalformedUpdate:
                continue
            raise AssertionError(f"{delivery.name} is readable")
        update = parse_update(delivery.body)
        if delivery.expect == "stored":
            assert update.chat_id == DEMO_CHAT["id"], delivery.name
        elif delivery.expect == "ignored_chat":
            assert update.chat_id != DEMO_CHAT["id"]
        else:
            assert (delivery.expect, delivery.authenticated) == ("unauthorized", False)


def test_the_conversation_has_what_the_marts_measure() -> None:
    """Several users over every day, replies, commands, media, edits, forum topics, reactions (added and
    taken back), joins through a named link and through an approved request, a ban, redeliveries."""
    deliveries = conversation(7, END, ZONE)
    updates = [json.loads(d.body) for d in deliveries if d.expect == "stored"]
    messages = [u["message"] for u in updates if "message" in u]
    days = {datetime.fromtimestamp(m["date"], ZONE).date() for m in messages}
    assert days == {date(2026, 11, d) for d in range(17, 24)}
    assert len({m["from"]["id"] for m in messages}) >= 6
    kinds = Counter(next(k for k in u if k != "update_id") for u in updates)
    assert kinds["edited_message"] > 0
    reactions = [u["message_reaction"] for u in updates if "message_reaction" in u]
    assert len(reactions) > 50
    assert any(r["old_reaction"] and not r["new_reaction"] for r in reactions)  # taken back
    assert [m["forum_topic_created"]["name"] for m in messages if "forum_topic_created" in m] == [
        "Boletos e Pix",
        "Instalação",
        "Avisos",
    ]
    assert sum("message_thread_id" in m for m in messages) > 100
    changes = list({u["update_id"]: u["chat_member"] for u in updates if "chat_member" in u}.values())
    assert sorted(
        (
            c["new_chat_member"]["user"]["first_name"],
            c["old_chat_member"]["status"],
            c["new_chat_member"]["status"],
            c.get("invite_link", {}).get("name"),
            c.get("via_join_request", False),
        )
        for c in changes
    ) == [
        ("Gabi", "left", "member", "Site oficial", False),
        ("Hugo", "left", "member", None, True),
        ("Promo", "member", "kicked", None, False),
    ]
    requests = {u["update_id"]: u["chat_join_request"] for u in updates if "chat_join_request" in u}
    assert [r["from"]["first_name"] for r in requests.values()] == ["Hugo"]
    replies = [m for m in messages if "reply_to_message" in m]
    assert sum(m["from"]["is_bot"] for m in replies) > 10  # the bot answers some questions
    assert sum(not m["from"]["is_bot"] and not m["reply_to_message"]["from"]["is_bot"] for m in replies) > 10
    thanks = [m for m in replies if m["text"] in THANKS]
    assert len(thanks) > 10
    assert all(m["reply_to_message"]["from"]["id"] != m["from"]["id"] for m in thanks)
    assert sum("reply_to_message" in m for m in messages) > 20
    assert sum(m.get("text", "").startswith("/") for m in messages) > 10
    assert sum("new_chat_members" in m for m in messages) >= 1
    media = {"photo", "sticker", "voice", "document", "animation", "location", "poll", "video"}
    assert len(media & {k for m in messages for k in m}) >= 5
    ids = [u["update_id"] for u in updates]
    assert len(ids) - len(set(ids)) == 5  # redeliveries
    assert any("🙏" in m.get("text", "") for m in messages)
    assert Counter(d.expect for d in deliveries)["unauthorized"] == 2


def test_updates_arrive_in_time_order() -> None:
    """Like Telegram: update ids grow with time, and a reply comes after its question."""
    deliveries = conversation(3, END, ZONE)
    updates = [json.loads(d.body) for d in deliveries if d.expect == "stored" and "redelivered" not in d.name]
    messages = [u["message"] for u in updates if "message" in u and u["message"]["chat"] == DEMO_CHAT]
    dates = [m["date"] for m in messages]
    assert dates == sorted(dates)
    for m in messages:
        if "reply_to_message" in m:
            assert m["reply_to_message"]["date"] <= m["date"]

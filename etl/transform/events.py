"""Reactions and membership, as rows: what the ``reactions`` and ``member_events`` tables hold.

**Reactions** (key: update_id, change_index):

* ``message_reaction`` (a person changed their reactions to a message): one row per reaction added
  (``delta`` +1) or removed (-1), comparing ``old_reaction`` and ``new_reaction``;
* ``message_reaction_count`` (the anonymous totals of a channel or a group's admins' choice): one
  *snapshot* row per reaction with its ``count`` (``is_snapshot``, no delta, no reactor); tgpipe's
  history import writes these for an exported message, with the reactors the export names in a
  ``recent`` list, which become +1 rows of those people.

A reaction is its emoji, ``custom:<id>`` for a custom emoji, ``paid`` for a paid (Stars) reaction, or
the type's name for a type the Bot API adds later. ``source`` is the update's kind, or ``export``
for imported updates.

**Member events** (key: update_id, user_id), one row per member whose membership changed:

* ``chat_member`` / ``my_chat_member``: the old and the new status, and the event they mean
  (:func:`membership_event`), with the invite link's *name* (never the link) and whether the
  member came through a join request;
* a service message: ``new_chat_members`` gives a ``joined`` row per member, ``left_chat_member``
  a ``left`` row (``kicked`` when someone else removed them);
* ``chat_join_request``: a ``join_requested`` row.

What identifies a row must be there (the chat id, the date, the message id of a reaction, the
member's id); an update without it gives no row and counts as degraded.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Final, NamedTuple

from ..lake import IMPORTED_UPDATE_ID_FLOOR
from ..telegram.update import INT64_MAX, INT64_MIN

__all__ = [
    "MEMBER_KINDS",
    "REACTION_KINDS",
    "MemberEventRow",
    "ReactionRow",
    "member_event_rows",
    "membership_event",
    "reaction_name",
    "reaction_rows",
    "service_member_rows",
]

REACTION_KINDS: Final = ("message_reaction", "message_reaction_count")
MEMBER_KINDS: Final = ("chat_member", "my_chat_member", "chat_join_request")
UNNAMED_LINK: Final = "(unnamed)"
_INT32_MAX: Final = 2**31 - 1


class ReactionRow(NamedTuple):
    """One row of ``reactions``, in the schema's column order."""

    update_id: int
    change_index: int
    chat_id: int
    message_id: int
    user_id: int | None
    actor_chat_id: int | None
    date: int
    reaction: str
    delta: int | None
    count: int | None  # type: ignore[assignment]  # the column's name; tuple.count is not used here
    is_snapshot: bool
    source: str


class MemberEventRow(NamedTuple):
    """One row of ``member_events``, in the schema's column order."""

    update_id: int
    chat_id: int
    user_id: int
    user_is_bot: bool | None
    user_first_name: str | None
    user_username: str | None
    actor_user_id: int | None
    date: int
    event: str
    old_status: str | None
    new_status: str | None
    via_invite_link: str | None
    via_join_request: bool
    source: str


def _int64(value: Any) -> int | None:
    return value if type(value) is int and INT64_MIN <= value <= INT64_MAX else None


def _id(obj: Any, field: str = "id") -> int | None:
    return _int64(obj.get(field)) if type(obj) is dict else None


def _str(value: Any) -> str | None:
    return value if type(value) is str else None


def _source(update_id: int, kind: str) -> str:
    return "export" if update_id >= IMPORTED_UPDATE_ID_FLOOR else kind


def reaction_name(reaction_type: Any) -> str | None:
    """``{"type": "emoji", "emoji": "👍"}`` -> ``👍``; custom emoji ``custom:<id>``; ``paid``."""
    if type(reaction_type) is not dict:
        return None
    kind = reaction_type.get("type")
    if kind == "emoji":
        return _str(reaction_type.get("emoji")) or None
    if kind == "custom_emoji":
        emoji_id = reaction_type.get("custom_emoji_id")
        return f"custom:{emoji_id}" if type(emoji_id) is str and emoji_id else None
    return kind if type(kind) is str and kind else None


def _names(reactions: Any) -> tuple[list[str], bool]:
    """The distinct reaction names of a list, in order, and whether every entry was readable."""
    if type(reactions) is not list:
        return [], reactions is None
    names = [reaction_name(r) for r in reactions]
    return list(dict.fromkeys(n for n in names if n is not None)), None not in names


def reaction_rows(
    update_id: int, kind: str, payload: Any, out: list[ReactionRow], degraded: Counter[str] | None
) -> None:
    """Append the rows of a ``message_reaction`` or ``message_reaction_count`` update to ``out``."""
    chat = payload.get("chat") if type(payload) is dict else None
    chat_id, message_id = _id(chat), _id(payload, "message_id") if type(payload) is dict else None
    date = _id(payload, "date") if type(payload) is dict else None
    if chat_id is None or message_id is None or date is None:
        if degraded is not None:
            missing = next(
                n for n, v in (("chat.id", chat_id), ("message_id", message_id), ("date", date)) if v is None
            )
            degraded[f"{kind}.{missing}"] += 1
        return
    source = _source(update_id, kind)
    complete = True
    if kind == "message_reaction":
        user_id, actor_chat_id = _id(payload.get("user")), _id(payload.get("actor_chat"))
        old, old_ok = _names(payload.get("old_reaction"))
        new, new_ok = _names(payload.get("new_reaction"))
        complete = old_ok and new_ok and (user_id is not None or actor_chat_id is not None)
        changes = [(n, 1) for n in new if n not in old] + [(n, -1) for n in old if n not in new]
        for index, (name, delta) in enumerate(changes):
            out.append(
                ReactionRow(
                    update_id,
                    index,
                    chat_id,
                    message_id,
                    user_id,
                    actor_chat_id,
                    date,
                    name,
                    delta,
                    None,
                    False,
                    source,
                )
            )
    else:
        counts: dict[str, int] = {}
        reactions = payload.get("reactions")
        for entry in reactions if type(reactions) is list else []:
            counted = reaction_name(entry.get("type")) if type(entry) is dict else None
            total = entry.get("total_count") if type(entry) is dict else None
            if counted is None or type(total) is not int or not 0 <= total <= _INT32_MAX:
                complete = False
                continue
            counts[counted] = counts.get(counted, 0) + total
        complete = complete and type(reactions) is list
        index = 0
        for name, total in counts.items():
            out.append(
                ReactionRow(
                    update_id, index, chat_id, message_id, None, None, date, name, None, total, True, source
                )
            )
            index += 1
        recent = payload.get("recent")  # tgpipe's history import: the reactors an export names
        for entry in recent if type(recent) is list else []:
            user_id = _id(entry.get("user")) if type(entry) is dict else None
            actor_chat_id = _id(entry.get("actor_chat")) if type(entry) is dict else None
            named = reaction_name(entry.get("type")) if type(entry) is dict else None
            when = _id(entry, "date") if type(entry) is dict else None
            if (user_id is None and actor_chat_id is None) or named is None:
                complete = False
                continue
            out.append(
                ReactionRow(
                    update_id,
                    index,
                    chat_id,
                    message_id,
                    user_id,
                    actor_chat_id,
                    when if when is not None else date,
                    named,
                    1,
                    None,
                    False,
                    source,
                )
            )
            index += 1
    if not complete and degraded is not None:
        degraded[f"{kind}.reactions"] += 1


_IN_CHAT: Final = ("creator", "administrator", "member")


def _is_in(member: Any) -> bool:
    if type(member) is not dict:
        return False
    status = member.get("status")
    return status in _IN_CHAT or (status == "restricted" and member.get("is_member") is True)


def membership_event(old: Any, new: Any, actor_id: int | None, user_id: int) -> str:
    """What a change from ``old`` to ``new`` ChatMember means: joined, left, kicked (removed by
    someone else), banned, unbanned, promoted, demoted, restricted, unrestricted, or updated."""
    old_status = old.get("status") if type(old) is dict else None
    new_status = new.get("status") if type(new) is dict else None
    was_in, is_in = _is_in(old), _is_in(new)
    if new_status == "kicked":
        return "banned"
    if old_status == "kicked" and not is_in:
        return "unbanned"
    if not was_in and is_in:
        return "joined"
    if was_in and not is_in:
        if new_status == "restricted":
            return "restricted"
        return "left" if actor_id in (None, user_id) else "kicked"
    if old_status != "administrator" and new_status == "administrator":
        return "promoted"
    if old_status == "administrator" and new_status in ("member", "restricted"):
        return "demoted"
    if new_status == "restricted" and old_status != "restricted":
        return "restricted"
    if old_status == "restricted" and new_status != "restricted":
        return "unrestricted"
    return "updated"


def _link_name(link: Any) -> str | None:
    if type(link) is not dict:
        return None
    return _str(link.get("name")) or UNNAMED_LINK


def member_event_rows(
    update_id: int, kind: str, payload: Any, out: list[MemberEventRow], degraded: Counter[str] | None
) -> None:
    """Append the row of a ``chat_member``, ``my_chat_member`` or ``chat_join_request`` update."""
    if type(payload) is not dict:
        if degraded is not None:
            degraded[kind] += 1
        return
    chat_id, date = _id(payload.get("chat")), _id(payload, "date")
    actor = payload.get("from")
    if kind == "chat_join_request":
        user, old, new = actor, None, None
    else:
        old, new = payload.get("old_chat_member"), payload.get("new_chat_member")
        user = new.get("user") if type(new) is dict else None
    user_id = _id(user)
    if chat_id is None or date is None or user_id is None:
        if degraded is not None:
            missing = next(
                n for n, v in (("chat.id", chat_id), ("date", date), ("user.id", user_id)) if v is None
            )
            degraded[f"{kind}.{missing}"] += 1
        return
    assert type(user) is dict  # it has an id
    actor_id = _id(actor)
    event = "join_requested" if kind == "chat_join_request" else membership_event(old, new, actor_id, user_id)
    out.append(
        MemberEventRow(
            update_id,
            chat_id,
            user_id,
            user.get("is_bot") if type(user.get("is_bot")) is bool else None,
            _str(user.get("first_name")),
            _str(user.get("username")),
            actor_id,
            date,
            event,
            _str(old.get("status")) if type(old) is dict else None,
            _str(new.get("status")) if type(new) is dict else None,
            _link_name(payload.get("invite_link")),
            kind == "chat_join_request" or payload.get("via_join_request") is True,
            _source(update_id, kind),
        )
    )


def service_member_rows(
    update_id: int,
    chat_id: int,
    date: int,
    message: dict[str, Any],
    out: list[MemberEventRow],
    degraded: Counter[str] | None,
) -> None:
    """Append the rows of a service message that adds members or says one left."""
    actor_id = _id(message.get("from"))
    source = _source(update_id, "service_message")
    members = message.get("new_chat_members")
    seen: set[int] = set()
    if members is not None:
        ok = type(members) is list
        for member in members if ok else []:
            user_id = _id(member)
            if user_id is None:
                ok = False
                continue
            if user_id in seen:
                continue
            seen.add(user_id)
            out.append(_service_row(update_id, chat_id, date, member, actor_id, "joined", source))
        if not ok and degraded is not None:
            degraded["message.new_chat_members"] += 1
    left = message.get("left_chat_member")
    if left is not None:
        user_id = _id(left)
        if user_id is None:
            if degraded is not None:
                degraded["message.left_chat_member"] += 1
        elif user_id not in seen:
            event = "left" if actor_id in (None, user_id) else "kicked"
            out.append(_service_row(update_id, chat_id, date, left, actor_id, event, source))


def _service_row(
    update_id: int,
    chat_id: int,
    date: int,
    member: dict[str, Any],
    actor_id: int | None,
    event: str,
    source: str,
) -> MemberEventRow:
    user_id = _id(member)
    assert user_id is not None
    is_bot = member.get("is_bot")
    return MemberEventRow(
        update_id,
        chat_id,
        user_id,
        is_bot if type(is_bot) is bool else None,
        _str(member.get("first_name")),
        _str(member.get("username")),
        actor_id,
        date,
        event,
        None,
        None,
        None,
        False,
        source,
    )

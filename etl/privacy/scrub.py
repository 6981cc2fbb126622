"""What erasing one person does to one update: keep it byte-identical, remove it, or rewrite it
without the person. The one definition, used by `tgpipe forget` and the history import alike.

**Removed whole** (the update is the person's, or is about them):

* the person sent it: the kind's ``from`` is the person (messages, edits, join requests, callback
  queries, member changes they made), or the ``user`` of a ``message_reaction`` / ``poll_answer``;
* it is a member event of the person: ``chat_member`` / ``my_chat_member`` whose old or new member
  is the person, a service message whose ``left_chat_member`` is the person or whose
  ``new_chat_members`` are only the person;
* it is a forward of the person's message (``forward_origin.sender_user`` / ``forward_from``): its
  text is the person's;
* after the scrubbing below, the person is still named somewhere in it (any object with the person's
  ``id`` and a user's fields, or a ``user_id`` equal to it, e.g. a private chat with the bot or a
  shared contact): the safety net, so no kept object names them.

**Rewritten** (another member's update that carries a copy of the person's data), in its messages
(the message itself, and a ``callback_query``'s):

* ``reply_to_message`` that is the person's message (or a forward of one): removed, with ``quote``
  (the quoted part of its text) — the reply stays, it no longer links to the person;
  ``external_reply`` whose origin is the person: likewise; ``pinned_message`` of the person: removed;
* ``new_chat_members`` that list the person among others: the person taken out of the list (and out
  of ``new_chat_member`` / ``new_chat_participant``);
* a ``text_mention`` entity of the person (in ``entities``, ``caption_entities``, a quote, the replied
  message): the entity removed and the text it covered replaced by one ``_`` per UTF-16 code unit,
  so every other entity's offset still holds;
* an ``@username`` of the person (any of their usernames seen in the lake, or given; any case, not
  inside a longer name) in ``text`` / ``caption``: the name replaced by as many ``_`` (``@anasouza``
  -> ``@________``); the ``mention`` entity stays, pointing at the masked name;
* an imported ``message_reaction_count``'s ``recent`` reactors: the person taken out;
* the ``creator`` of an ``invite_link`` (in member events and join requests) who is the person:
  removed from the link.

Everything else is kept as it is: other members' text, the person's display name written as plain
text by someone else, counts, and reactions of others on the person's (now erased) messages, which
carry only a message id.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from ..telegram.update import MESSAGE_KINDS

__all__ = ["KEEP", "REMOVE", "REWRITE", "Person", "Verdict", "judge"]

KEEP: Final = "keep"
REMOVE: Final = "remove"
REWRITE: Final = "rewrite"
_MEMBER_KINDS: Final = ("chat_member", "my_chat_member")
_USER_KINDS: Final = ("message_reaction", "poll_answer")
_TEXTS: Final = (("text", "entities"), ("caption", "caption_entities"))


@dataclass(frozen=True)
class Person:
    """Whom to erase: ``matches(user_id)`` says whether an id is theirs (an id, or a hashed id
    looked up among erasure records); ``usernames`` are their @names, lower-case, without the @."""

    matches: Callable[[int], bool]
    usernames: frozenset[str] = frozenset()

    @classmethod
    def of(cls, user_id: int, usernames: Iterable[str] = ()) -> Person:
        return cls(
            lambda candidate: candidate == user_id, frozenset(u.lower().lstrip("@") for u in usernames)
        )

    def username_pattern(self) -> re.Pattern[str] | None:
        """``@name`` of any of their usernames, not inside a longer word; None without usernames."""
        if not self.usernames:
            return None
        names = "|".join(re.escape(name) for name in sorted(self.usernames, key=len, reverse=True))
        return re.compile(rf"(?<![\w@])@({names})(?!\w)", re.IGNORECASE)


@dataclass
class Verdict:
    """What becomes of one update: ``action`` is KEEP, REMOVE or REWRITE (``update`` then holds the
    rewritten update and ``scrubbed`` counts what was taken out, by the rule's name)."""

    action: str
    update: dict[str, Any] | None = None
    scrubbed: Counter[str] = field(default_factory=Counter)


def _is(person: Person, user: Any) -> bool:
    if type(user) is not dict:
        return False
    user_id = user.get("id")
    return type(user_id) is int and person.matches(user_id)


def _forwarded_from(person: Person, msg: dict[str, Any]) -> bool:
    origin = msg.get("forward_origin")
    by_origin = type(origin) is dict and _is(person, origin.get("sender_user"))
    return by_origin or _is(person, msg.get("forward_from"))


def _is_persons(person: Person, kind: str, payload: dict[str, Any]) -> bool:
    """Whether the update is the person's own or a member event of the person."""
    if _is(person, payload.get("from")):
        return True
    if kind in _USER_KINDS and _is(person, payload.get("user")):
        return True
    if kind in _MEMBER_KINDS:
        return any(
            type(member) is dict and _is(person, member.get("user"))
            for member in (payload.get("old_chat_member"), payload.get("new_chat_member"))
        )
    if kind in MESSAGE_KINDS:
        if _is(person, payload.get("left_chat_member")) or _forwarded_from(person, payload):
            return True
        members = payload.get("new_chat_members")
        if type(members) is list and members and all(_is(person, m) for m in members):
            return True
    return False


def _mask_utf16(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each (offset, length) span of UTF-16 code units replaced by as many ``_``."""
    units = bytearray(text.encode("utf-16-le", "surrogatepass"))
    for offset, length in spans:
        start, end = max(0, 2 * offset), min(len(units), 2 * (offset + length))
        if start < end:
            units[start:end] = "_".encode("utf-16-le") * ((end - start) // 2)
    return units.decode("utf-16-le", "surrogatepass")


def _scrub_text(
    obj: dict[str, Any], person: Person, pattern: re.Pattern[str] | None, scrubbed: Counter[str]
) -> None:
    """The person's text_mention entities and @usernames out of an object's text and caption."""
    for text_field, entities_field in _TEXTS:
        text, entities = obj.get(text_field), obj.get(entities_field)
        spans: list[tuple[int, int]] = []
        if type(entities) is list:
            kept = []
            for entity in entities:
                if (
                    type(entity) is dict
                    and entity.get("type") == "text_mention"
                    and _is(person, entity.get("user"))
                ):
                    offset, length = entity.get("offset"), entity.get("length")
                    if type(offset) is int and type(length) is int:
                        spans.append((offset, length))
                    scrubbed["text_mention"] += 1
                else:
                    kept.append(entity)
            if len(kept) != len(entities):
                obj[entities_field] = kept
        if type(text) is not str:
            continue
        if spans:
            text = _mask_utf16(text, spans)
        if pattern is not None:
            text, found = pattern.subn(lambda m: "@" + "_" * len(m.group(1)), text)
            scrubbed["username_mention"] += found
        obj[text_field] = text


def _scrub_message(
    msg: dict[str, Any], person: Person, pattern: re.Pattern[str] | None, scrubbed: Counter[str]
) -> None:
    reply = msg.get("reply_to_message")
    if type(reply) is dict:
        if _is(person, reply.get("from")) or _forwarded_from(person, reply):
            del msg["reply_to_message"]
            msg.pop("quote", None)
            scrubbed["reply_to_message"] += 1
        else:
            _scrub_text(reply, person, pattern, scrubbed)
    external = msg.get("external_reply")
    origin = external.get("origin") if type(external) is dict else None
    if type(origin) is dict and _is(person, origin.get("sender_user")):
        del msg["external_reply"]
        msg.pop("quote", None)
        scrubbed["external_reply"] += 1
    pinned = msg.get("pinned_message")
    if type(pinned) is dict:
        if _is(person, pinned.get("from")):
            del msg["pinned_message"]
            scrubbed["pinned_message"] += 1
        else:
            _scrub_text(pinned, person, pattern, scrubbed)
    members = msg.get("new_chat_members")
    if type(members) is list:
        others = [m for m in members if not _is(person, m)]
        if len(others) != len(members):
            msg["new_chat_members"] = others
            scrubbed["new_chat_member"] += len(members) - len(others)
            for single in ("new_chat_member", "new_chat_participant"):
                if _is(person, msg.get(single)):
                    msg[single] = others[0]
    quote = msg.get("quote")
    if type(quote) is dict:
        _scrub_text(quote, person, pattern, scrubbed)
    _scrub_text(msg, person, pattern, scrubbed)


def _names(person: Person, value: Any) -> bool:
    """Whether the person is still named anywhere in a decoded value (the safety net)."""
    if type(value) is dict:
        user_id = value.get("id")
        if (
            type(user_id) is int
            and person.matches(user_id)
            and ("first_name" in value or "is_bot" in value or "username" in value)
        ):
            return True
        named = value.get("user_id")
        if type(named) is int and person.matches(named):
            return True
        return any(_names(person, item) for item in value.values())
    if type(value) is list:
        return any(_names(person, item) for item in value)
    return False


def judge(update: dict[str, Any], person: Person) -> Verdict:
    """The verdict on one decoded update (see the module docstring); ``update`` is not modified."""
    kind = next((k for k in update if k != "update_id"), None)
    payload = update.get(kind) if kind is not None else None
    if type(payload) is dict and _is_persons(person, kind or "", payload):
        return Verdict(REMOVE)
    rewritten = copy.deepcopy(update)
    scrubbed: Counter[str] = Counter()
    body = rewritten.get(kind) if kind is not None else None
    pattern = person.username_pattern()
    if type(body) is dict:
        if kind in MESSAGE_KINDS:
            _scrub_message(body, person, pattern, scrubbed)
        elif kind == "callback_query" and type(body.get("message")) is dict:
            _scrub_message(body["message"], person, pattern, scrubbed)
        link = body.get("invite_link")
        if type(link) is dict and _is(person, link.get("creator")):
            del link["creator"]
            scrubbed["invite_link_creator"] += 1
        if kind == "message_reaction_count" and type(body.get("recent")) is list:
            recent = [r for r in body["recent"] if not (type(r) is dict and _is(person, r.get("user")))]
            if len(recent) != len(body["recent"]):
                scrubbed["recent_reactor"] += len(body["recent"]) - len(recent)
                body["recent"] = recent
    if _names(person, rewritten):
        return Verdict(REMOVE)
    scrubbed = Counter({name: count for name, count in scrubbed.items() if count})
    if not scrubbed:
        return Verdict(KEEP)
    return Verdict(REWRITE, rewritten, scrubbed)

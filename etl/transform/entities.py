"""The entities of a message's text or caption (mentions, hashtags, links, commands...) as rows.

Telegram marks parts of a text with entities counted in UTF-16 code units. Each becomes one row of
``message_entities`` (key: update_id, in_caption, entity_index) with a normalised ``value``:

=================  ===================================================================
kind               value
=================  ===================================================================
mention, hashtag   the text, lower-case (``@ana``, ``#boleto``)
cashtag            the text, upper-case (``$USD``)
bot_command        lower-case, without ``@botname`` (``/help``), as the messages table has it
url, text_link     the host name only, lower-case (``example.com``): never the path or query
email              the domain only (``example.com``): never the address
custom_emoji       the custom emoji's id
pre                the code block's language, when it says one
text_mention       none; ``user_id`` is the person mentioned
anything else      none (formatting: bold, italic, code, spoiler, phone_number...)
=================  ===================================================================

An entity that is not shaped as documented (offset beyond the text, splitting a character) keeps its
kind with a null value and is counted as degraded; one that is not an object is left out, counted.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections import Counter
from typing import Any, Final, NamedTuple

from ..telegram.update import INT64_MAX, INT64_MIN

__all__ = ["EntityRow", "bot_command_of", "entity_rows", "utf16_slice"]

_UNKNOWN_KIND: Final = "unknown"


class EntityRow(NamedTuple):
    """One row of ``message_entities``, in the schema's column order."""

    update_id: int
    update_kind: str
    chat_id: int
    message_id: int
    in_caption: bool
    entity_index: int
    kind: str
    offset: int | None
    length: int | None
    value: str | None
    user_id: int | None


def utf16_slice(text: str, offset: int, length: int) -> str | None:
    """``text[offset:offset+length]`` counted in UTF-16 code units, as Telegram counts entity offsets
    (an emoji outside the Basic Multilingual Plane is two units); None when the entity ends beyond
    the text or splits a character."""
    if offset < 0 or length < 0:
        return None
    if text.isascii():
        if offset + length > len(text):
            return None
        return text[offset : offset + length]
    return _units_slice(text.encode("utf-16-le", "surrogatepass"), offset, length)


def _units_slice(units: bytes, offset: int, length: int) -> str | None:
    """:func:`utf16_slice` of a text already encoded in UTF-16 (little-endian)."""
    if 2 * (offset + length) > len(units):
        return None
    try:
        return units[2 * offset : 2 * (offset + length)].decode("utf-16-le")
    except UnicodeDecodeError:
        return None


def bot_command_of(part: str) -> str:
    """``/Help@tgpipe_bot`` -> ``/help``."""
    return part.split("@", 1)[0].lower()


def _host(url: Any) -> str | None:
    if type(url) is not str:
        return None
    return _host_of(url)


_new_row = tuple.__new__  # builds a row without NamedTuple's Python-level __new__ (hot path)
_HTTP_PREFIXES: Final = ("https://", "http://")
_NOT_SIMPLE: Final = frozenset("[]\\%\t\r\n")  # IPv6, backslashes, escapes, line breaks: urllib


@functools.lru_cache(maxsize=4096)  # groups share the same links again and again
def _host_of(url: str) -> str | None:
    text = url.strip()
    if not text:
        return None
    lowered = text[:8].lower()
    if lowered.startswith(_HTTP_PREFIXES) and text.isascii() and _NOT_SIMPLE.isdisjoint(text):
        # The common link, without urllib: the authority up to the first / ? #, less user and port.
        rest = text[text.index("//") + 2 :]
        end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
        authority = rest[:end].rpartition("@")[2]
        simple = authority.partition(":")[0].lower()
        return simple or None
    try:
        host = urllib.parse.urlsplit(text if "://" in text else f"http://{text}").hostname
    except ValueError:
        return None
    return host.lower() if host else None


def _value(kind: str, part: str | None, entity: dict[str, Any]) -> str | None:
    if kind == "text_link":
        return _host(entity.get("url"))
    if kind == "custom_emoji":
        emoji_id = entity.get("custom_emoji_id")
        return emoji_id if type(emoji_id) is str else None
    if kind == "pre":
        language = entity.get("language")
        return language if type(language) is str and language else None
    if part is None:
        return None
    if kind in ("mention", "hashtag"):
        return part.lower()
    if kind == "cashtag":
        return part.upper()
    if kind == "bot_command":
        return bot_command_of(part)
    if kind == "url":
        return _host(part)
    if kind == "email":
        domain = part.rsplit("@", 1)[-1].strip().lower()
        return domain or None
    return None


def entity_rows(
    update_id: int,
    update_kind: str,
    chat_id: int,
    message_id: int,
    text: Any,
    entities: Any,
    in_caption: bool,
    out: list[EntityRow],
    degraded: Counter[str] | None,
) -> None:
    """Append the rows of one entity list (``entities`` of ``text``, or the caption's) to ``out``."""
    where = f"{update_kind}.{'caption_entities' if in_caption else 'entities'}"
    if type(entities) is not list:
        if degraded is not None:
            degraded[where] += 1
        return
    bad = False
    units = None  # the text in UTF-16, encoded once for all its entities when not ASCII
    if type(text) is str and not text.isascii():
        units = text.encode("utf-16-le", "surrogatepass")
    for index, entity in enumerate(entities):
        if type(entity) is not dict:
            bad = True
            continue
        kind = entity.get("type")
        offset, length = entity.get("offset"), entity.get("length")
        if type(offset) is not int or not 0 <= offset <= INT64_MAX:
            offset, bad = None, True
        if type(length) is not int or not 0 <= length <= INT64_MAX:
            length, bad = None, True
        part = None
        if offset is not None and length is not None:
            if units is not None:
                part = _units_slice(units, offset, length)
            else:
                part = utf16_slice(text, offset, length) if type(text) is str else None
            bad = bad or part is None
        user_id = None
        if kind == "text_mention":
            user = entity.get("user")
            candidate = user.get("id") if type(user) is dict else None
            if type(candidate) is int and INT64_MIN <= candidate <= INT64_MAX:
                user_id = candidate
            else:
                bad = True
        name = kind if type(kind) is str and kind else _UNKNOWN_KIND
        if (offset is not None and offset > 2**31 - 1) or (length is not None and length > 2**31 - 1):
            offset = length = None
        value = _value(name, part, entity)
        row = (
            update_id,
            update_kind,
            chat_id,
            message_id,
            in_caption,
            index,
            name,
            offset,
            length,
            value,
            user_id,
        )
        out.append(_new_row(EntityRow, row))
    if bad and degraded is not None:
        degraded[where] += 1

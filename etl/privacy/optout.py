"""Opt-out from the chat: a member who sends ``/optout`` (or ``/optout@<bot>``) is left out from then
on, until they send ``/optin``.

The list is data in the raw lake, derived from the stored commands: storing a command also stores an
empty marker ``_optout/<hash>/<update_id>.optout`` (``.optin``), the hash being the member's salted
id hash (:mod:`etl.privacy.identity`). A member's marker with the largest update id is their
current choice, so the list is read with one listing of ``_optout/`` and written with puts only:
the webhook needs no read of any update and no delete.

* The webhook (:class:`etl.ingest.router.Router`) stores the command itself (the request is
  recorded), then the marker; later updates *from* that member (their messages, edits, reactions,
  poll answers, join requests) are answered 200 and not stored. It reads the list at most every
  :data:`CACHE_SECONDS`; the instance that stores an ``/optout`` honours it at once.
* The ETL (:mod:`etl.transform.job`) leaves the rows of members who are opted out when it runs out
  of every table: whatever another instance stored within its cache's lifetime.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final

from ..lake import OPTOUT_PREFIX, optout_key
from ..storage import Storage
from ..telegram.update import Update

if TYPE_CHECKING:
    from .identity import Hasher

__all__ = ["CACHE_SECONDS", "COMMANDS", "OptOutList", "opted_out", "optout_command"]

CACHE_SECONDS: Final = 60.0
COMMANDS: Final = ("optout", "optin")


def optout_command(update: Update) -> str | None:
    """``"optout"`` or ``"optin"`` when the update is a new message from a user whose text starts with
    that command (``/optout``, ``/optout@any_bot``, any case), else None."""
    if update.kind != "message" or update.sender_id is None:
        return None
    text = update.payload.get("text")
    if type(text) is not str or not text.startswith("/"):
        return None
    command = text.split(maxsplit=1)[0].partition("@")[0][1:].lower()
    return command if command in COMMANDS else None


def opted_out(keys: Iterable[str]) -> frozenset[str]:
    """The hashes whose latest marker (largest update id) among ``keys`` is an ``/optout``."""
    latest: dict[str, tuple[int, str]] = {}
    for key in keys:
        person, _, name = key.removeprefix(OPTOUT_PREFIX).partition("/")
        stem, _, command = name.partition(".")
        if not stem.isdigit() or command not in COMMANDS:
            continue
        choice = (int(stem), command)
        if choice > latest.get(person, (-1, "")):
            latest[person] = choice
    return frozenset(person for person, (_, command) in latest.items() if command == "optout")


class OptOutList:
    """The members who opted out, read from the raw lake at most every ``ttl`` seconds (``raw``: the
    store it is listed from; ``writer``: the one markers are put in, by default the same)."""

    def __init__(
        self,
        raw: Storage,
        hasher: Hasher,
        *,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        writer: Storage | None = None,
    ) -> None:
        self.raw = raw
        self.writer = raw if writer is None else writer  # the store markers are put in
        self.hasher = hasher
        self.ttl = ttl
        self.clock = clock
        self._hashes: set[str] = set()
        self._read_at: float | None = None

    def _refresh(self) -> None:
        now = self.clock()
        if self._read_at is None or now - self._read_at >= self.ttl:
            self._hashes = set(opted_out(self.raw.list(OPTOUT_PREFIX)))
            self._read_at = now

    def excludes(self, user_id: int) -> bool:
        """Whether the member is opted out (no hashing, no salt read, while nobody is);
        raises :class:`~etl.storage.StorageError` when the list cannot be read."""
        self._refresh()
        return bool(self._hashes) and self.hasher(user_id) in self._hashes

    def record(self, user_id: int, update_id: int, command: str) -> None:
        """Store the marker of a stored ``/optout`` or ``/optin``, and honour it here at once."""
        person = self.hasher(user_id)
        self.writer.put(optout_key(person, update_id, command), b"")
        if command == "optout":
            self._hashes.add(person)
        else:
            self._hashes.discard(person)

"""A person in the lake's privacy records: a user id hashed with the lake's salt, never the id itself.

The opt-out markers (``_optout/<hash>/...``) and the erasure records (``_erasures/``) name a person
only by ``HMAC-SHA256(salt, str(user_id))`` in hex. The salt is TGPIPE_PRIVACY_SALT (or the SSM
parameter TGPIPE_PRIVACY_SALT_PARAM names), else 32 random bytes stored once in the raw lake at
``_privacy/salt`` by whichever stage needs it first (a conditional put: two writers agree on one).
Without the salt, a hash cannot be matched against a guessed id.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

from ..config import PrivacySettings
from ..lake import SALT_KEY
from ..storage import ObjectNotFound, Storage

__all__ = ["Hasher", "lake_salt", "person_hash"]


def person_hash(salt: bytes, user_id: int) -> str:
    """The hex HMAC-SHA256 of the decimal user id, keyed by the salt."""
    return hmac.new(salt, str(user_id).encode("ascii"), hashlib.sha256).hexdigest()


def lake_salt(raw: Storage, settings: PrivacySettings) -> bytes:
    """The configured salt, else the lake's (created on first use; every stage then reads the same)."""
    if settings.salt is not None:
        return settings.salt.encode("utf-8")
    try:
        return raw.get(SALT_KEY)
    except ObjectNotFound:
        raw.put_if_absent(SALT_KEY, secrets.token_hex(32).encode("ascii"))
        return raw.get(SALT_KEY)


class Hasher:
    """``hasher(user_id) -> hash``, the salt read on first use and every hash remembered (a day of the
    ETL hashes each of its few hundred senders once)."""

    def __init__(self, salt: Callable[[], bytes]) -> None:
        self._salt_of = salt
        self._salt: bytes | None = None
        self._known: dict[int, str] = {}

    def __call__(self, user_id: int) -> str:
        found = self._known.get(user_id)
        if found is None:
            if self._salt is None:
                self._salt = self._salt_of()
            found = self._known[user_id] = person_hash(self._salt, user_id)
        return found

    @classmethod
    def for_lake(cls, raw: Storage, settings: PrivacySettings) -> Hasher:
        """The hasher of the raw lake ``raw`` (its salt read, or created, on the first hash)."""
        return cls(lambda: lake_salt(raw, settings))

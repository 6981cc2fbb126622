"""The one base of every expected failure, so a caller (the command line, a Lambda handler) can tell
"the input or the world is wrong, here is why" from a bug.

Each stage raises its own subclass (:class:`~etl.config.ConfigError`, :class:`~etl.storage.StorageError`,
:class:`~etl.telegram.botapi.BotApiError`, ...); its message is one line, fit to show a user, and never
holds a secret or message text.
"""

from __future__ import annotations

__all__ = ["TgpipeError"]


class TgpipeError(Exception):
    """An expected failure; the message says what went wrong and, where it can, what to do."""

"""The webhook's HTTP face: check the secret Telegram sends with every delivery, then hand the body
to trusted ingestion (:mod:`etl.ingest.router`).

Telegram retries any non-2xx answer for about a day and delivers one chat's updates strictly in
order, so one update answered 4xx/5xx blocks the whole chat. Hence a missing or wrong secret header
is answered 401 and the body is not even parsed; everything else is answered as the router decides
(200, or 503 when storage fails).
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from ..config import PrivacySettings, WebhookSettings
from ..storage import S3Timeouts, Storage, open_storage
from .router import IngestResult, Router

if TYPE_CHECKING:
    from ..privacy.optout import OptOutList

__all__ = ["SECRET_HEADER", "STORAGE_BUDGET", "Webhook", "budget_split", "secret_matches"]

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# Seconds one storage call may take when nothing says how long the webhook has (`chalice local`):
# Telegram waits for an answer, and a stalled S3 must end in a fast 503, not a gateway timeout.
STORAGE_BUDGET: Final = 4.0


def budget_split(budget: float) -> tuple[S3Timeouts, S3Timeouts]:
    """The timeouts of the opt-out list's read (one attempt, a sixth of the budget: a listing of a
    few keys) and of storing the update (three quarters): together they end within ``budget``
    seconds, with a twelfth to spare."""
    connect = round(min(budget / 18, 1.0), 3)
    listing = S3Timeouts(connect=connect, read=round(budget / 6 - connect, 3), attempts=1)
    return listing, S3Timeouts.within(budget * 3 / 4)


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of the secret header with the configured secret (never equal to none)."""
    if given is None or not expected:
        return False
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )


class Webhook:
    """The webhook's work for one configuration and one store."""

    def __init__(
        self,
        settings: WebhookSettings,
        storage: Storage,
        clock: Callable[[], float] = time.time,
        optouts: OptOutList | None = None,
    ) -> None:
        self.settings = settings
        self.router = Router(settings.ingest, storage, clock, optouts)

    @classmethod
    def from_env(
        cls, base_dir: str | os.PathLike[str] | None = None, *, storage_budget: float = STORAGE_BUDGET
    ) -> Webhook:
        """Settings from the environment; a relative local lake path is taken relative to ``base_dir``.
        On S3 the opt-out list's read and the update's put, retries included, end within
        ``storage_budget`` seconds (:func:`budget_split`). Members' opt-outs
        (:mod:`etl.privacy.optout`) are honoured."""
        from ..privacy.identity import Hasher
        from ..privacy.optout import OptOutList

        settings = WebhookSettings.from_env()
        privacy = PrivacySettings.from_env()
        listing, timeouts = budget_split(storage_budget)
        storage = open_storage(settings.ingest.raw_uri, base_dir=base_dir, timeouts=timeouts)
        lister = open_storage(settings.ingest.raw_uri, base_dir=base_dir, timeouts=listing)
        return cls(
            settings, storage, optouts=OptOutList(lister, Hasher.for_lake(storage, privacy), writer=storage)
        )

    def handle(self, body: bytes, secret_header: str | None) -> IngestResult:
        """Process one webhook delivery and log one line about it (ids, outcome, latency; no text)."""
        started = time.perf_counter()
        if not secret_matches(secret_header, self.settings.webhook_secret):
            reason = "missing" if secret_header is None else "wrong"
            result = IngestResult(401, "unauthorized")
            self.router.log("webhook", result, logging.WARNING, f"{reason} secret header", body, started)
            return result
        return self.router.ingest(body, source="webhook", started=started)

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
from typing import Final

from ..config import WebhookSettings
from ..storage import S3Timeouts, Storage, open_storage
from .router import IngestResult, Router

__all__ = ["SECRET_HEADER", "STORAGE_BUDGET", "Webhook", "secret_matches"]

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# Seconds one storage call may take when nothing says how long the webhook has (`chalice local`):
# Telegram waits for an answer, and a stalled S3 must end in a fast 503, not a gateway timeout.
STORAGE_BUDGET: Final = 4.0


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
    ) -> None:
        self.settings = settings
        self.router = Router(settings.ingest, storage, clock)

    @classmethod
    def from_env(
        cls, base_dir: str | os.PathLike[str] | None = None, *, storage_budget: float = STORAGE_BUDGET
    ) -> Webhook:
        """Settings from the environment; a relative local lake path is taken relative to ``base_dir``.
        On S3 one call, retries included, ends within ``storage_budget`` seconds."""
        settings = WebhookSettings.from_env()
        timeouts = S3Timeouts.within(storage_budget)
        return cls(settings, open_storage(settings.ingest.raw_uri, base_dir=base_dir, timeouts=timeouts))

    def handle(self, body: bytes, secret_header: str | None) -> IngestResult:
        """Process one webhook delivery and log one line about it (ids, outcome, latency; no text)."""
        started = time.perf_counter()
        if not secret_matches(secret_header, self.settings.webhook_secret):
            reason = "missing" if secret_header is None else "wrong"
            result = IngestResult(401, "unauthorized")
            self.router.log("webhook", result, logging.WARNING, f"{reason} secret header", body, started)
            return result
        return self.router.ingest(body, source="webhook", started=started)

"""Long polling: for a machine with no public URL, fetch updates with getUpdates and ingest them
exactly as the webhook would: through the same router (same routing, same raw layout, same quarantine).

Telegram keeps an update until a getUpdates call with a higher ``offset`` confirms it. The offset
advances only past updates that were stored, so a storage failure loses nothing (the update comes
again on the next run) and nothing is fetched twice within a run. On the way out, one confirming
call acknowledges what was stored, so the next run does not fetch it again either.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import TgpipeError
from ..logs import get_logger, log_event
from ..telegram.botapi import ALLOWED_UPDATES, BotApi, BotApiError, split_updates
from .router import Router

__all__ = ["PollError", "PollSummary", "poll"]

_log = get_logger("poll")


class PollError(TgpipeError):
    """Polling cannot start or go on (a webhook is set, storage failed, Telegram refused)."""


@dataclass
class PollSummary:
    fetched: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    next_offset: int | None = None


def poll(
    api: BotApi,
    router: Router,
    *,
    timeout: int = 50,
    once: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
) -> PollSummary:
    """Fetch and ingest updates until ``should_stop()`` (or after one round with ``once``).

    A network error or a 5xx from Telegram is waited out (1, 2, 4 ... 60 s) unless ``once``: the
    offset only ever passes stored updates, so trying again is always safe."""
    info = api.call("getWebhookInfo")
    if isinstance(info, dict) and info.get("url"):
        raise PollError(
            f"a webhook is set ({info['url']}): Telegram does not deliver getUpdates while it is; "
            "run `tgpipe webhook delete` first"
        )
    summary = PollSummary()
    backoff = 1.0
    try:
        while True:
            params: dict[str, object] = {"timeout": timeout, "allowed_updates": list(ALLOWED_UPDATES)}
            if summary.next_offset is not None:
                params["offset"] = summary.next_offset
            try:
                raw = api.call_raw("getUpdates", params, timeout=timeout + 10)
            except BotApiError as exc:
                transient = exc.error_code == 0 or exc.error_code >= 500
                if transient and not once and not should_stop():
                    log_event(_log, logging.WARNING, "poll_retry", error=str(exc), wait_s=backoff)
                    sleep(backoff)
                    backoff = min(backoff * 2, 60.0)
                    continue
                if exc.error_code == 409:
                    raise PollError(
                        "Telegram refused getUpdates (409): a webhook was set or another poller is "
                        "running for this bot"
                    ) from None
                raise PollError(str(exc)) from None
            backoff = 1.0
            try:
                bodies = split_updates(raw)
            except BotApiError as exc:
                raise PollError(str(exc)) from None
            for body in bodies:
                result = router.ingest(body, source="poll")  # an unreadable element is quarantined
                if result.status >= 500:
                    raise PollError(
                        f"update {result.update_id} was not stored ({result.outcome}); "
                        "it will be fetched again"
                    )
                summary.fetched += 1
                summary.outcomes[result.outcome] = summary.outcomes.get(result.outcome, 0) + 1
                if result.update_id is not None:
                    summary.next_offset = max(summary.next_offset or 0, result.update_id + 1)
            if once or should_stop():
                return summary
    finally:
        if summary.next_offset is not None:
            # Confirm what was stored; the one update this may return stays unconfirmed for next time.
            # If this fails, the next run fetches those updates again and overwrites the same keys.
            with contextlib.suppress(BotApiError):
                api.call_raw("getUpdates", {"offset": summary.next_offset, "limit": 1, "timeout": 0})

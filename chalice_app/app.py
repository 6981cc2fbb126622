"""tgpipe on AWS Lambda: the Telegram webhook (API Gateway route), the daily ETL (EventBridge) and
`forget` (invoked on request: `make forget`).

A table of contents: each handler reads the request or event and calls into the `etl` package.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalice.app import Chalice, CloudWatchEvent, Cron, Response

from etl.config import ConfigError
from etl.ingest.webhook import SECRET_HEADER, STORAGE_BUDGET, Webhook
from etl.logs import get_logger, log_event

if TYPE_CHECKING:
    from etl.transform.job import EtlJob

app = Chalice(app_name="tgpipe")
# Telegram posts application/json. Declared binary, API Gateway hands the body over base64-encoded,
# so the raw lake keeps the exact bytes even when they are not valid UTF-8.
app.api.binary_types.append("application/json")

# `chalice local` runs from inside chalice_app/: a relative lake path (the default `lake/raw`) means
# the checkout's lake, the same folder `tgpipe` uses when run from the checkout.
_CHECKOUT = Path(__file__).resolve().parent.parent
_TEXT: dict[str, str | list[str]] = {"Content-Type": "text/plain; charset=utf-8"}
_webhook: Webhook | None = None
_etl: EtlJob | None = None

# 00:15 UTC: just after midnight in prod's TGPIPE_TIMEZONE (UTC). Cron is UTC: for another zone use
# etl.transform.schedule.utc_cron_after_midnight(zone) (tests/transform/test_schedule.py checks both agree).
ETL_CRON = Cron(15, 0, "*", "*", "?", "*")
# Connections `chalice local` (and `tgpipe serve`) queue before accepting them: several bursts of
# Telegram's 40 at once.
LISTEN_BACKLOG = 128


def get_webhook() -> Webhook:
    """The webhook, built on first use from the environment (tests replace it)."""
    global _webhook
    if _webhook is None:
        _webhook = Webhook.from_env(base_dir=_CHECKOUT, storage_budget=_storage_budget())
    return _webhook


def _storage_budget() -> float:
    """Half the time this Lambda invocation has left (on its first request, about the function's
    timeout): a stalled S3 then ends in a 503 long before API Gateway gives up."""
    context = getattr(app, "lambda_context", None)  # set by Chalice for each invocation on Lambda
    if context is None:
        return STORAGE_BUDGET
    remaining: float = context.get_remaining_time_in_millis() / 2000
    return max(2.0, min(STORAGE_BUDGET * 2, remaining))


def get_etl() -> EtlJob:
    """The daily ETL, built on first use from the environment (tests replace it). Only this function
    imports pyarrow (through etl.transform.job): the webhook never loads it."""
    global _etl
    if _etl is None:
        from etl.transform.job import EtlJob

        _etl = EtlJob.from_env(base_dir=_CHECKOUT)
    return _etl


def _serving_locally() -> bool:
    return os.environ.get("AWS_CHALICE_CLI_MODE") == "true" and "local" in sys.argv[1:]


def _hold_connection_bursts() -> None:
    """`chalice local` listens with Python's default backlog of 5, and resets the connections of a
    burst beyond it; Telegram opens up to 40 (setWebhook's max_connections) at once."""
    from chalice.local import ThreadedHTTPServer

    ThreadedHTTPServer.request_queue_size = LISTEN_BACKLOG


if _serving_locally():
    _hold_connection_bursts()
    # `chalice local` imports the app once before it serves: a missing or invalid setting stops it
    # here, in one line naming the variable, instead of surfacing at the first update.
    try:
        get_webhook()
    except ConfigError as exc:
        sys.stderr.write(f"tgpipe: {exc}\n")
        raise SystemExit(2) from None


@app.route("/webhook", methods=["POST"], content_types=["application/json"])
def webhook() -> Response:
    request = app.current_request
    assert request is not None  # Chalice sets it for every route call
    try:
        handler = get_webhook()
    except ConfigError as exc:
        # Not acknowledged: Telegram keeps the update and retries once the setting is fixed.
        log_event(get_logger("webhook"), logging.ERROR, "config_error", error=str(exc))
        return Response(body="webhook is not configured", status_code=500, headers=_TEXT)
    raw_body = request.raw_body
    body = raw_body if isinstance(raw_body, bytes) else raw_body.encode("utf-8")
    try:
        result = handler.handle(body, request.headers.get(SECRET_HEADER))
    except Exception as exc:
        # A bug, not a verdict on the update: a 5xx makes Telegram retry (and the 5xx alarm fire).
        # Answered here as text: Chalice's own JSON error would turn into a 400, application/json
        # being a binary type. Only the exception's type is logged: its text could quote the body.
        log_event(get_logger("webhook"), logging.ERROR, "webhook_crash", error=type(exc).__name__)
        return Response(body="internal error", status_code=500, headers=_TEXT)
    return Response(body=result.body, status_code=result.status, headers=_TEXT)


@app.schedule(ETL_CRON, name="etl_daily")
def etl_daily(event: CloudWatchEvent) -> dict[str, Any]:
    """D-1 (the day before the event's time, in TGPIPE_TIMEZONE) -> its enriched Parquet partition.
    Bad objects make the invocation fail after the good rows are written, so an alarm fires."""
    return get_etl().run_scheduled(event.time)


@app.lambda_function(name="forget")
def forget(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Erase one person from the lake: ``{"user_id": 123, "chat_id": -100..., "dry_run": false}`` (see
    etl.privacy.forget); returns counts per layer, never content. The next nightly marts run (`make
    athena`) rebuilds Athena's marts. Only this function imports pyarrow besides the ETL."""
    from etl.privacy.forget import forget_event
    from etl.transform.job import rebuild_day

    return forget_event(event, rebuild_day=rebuild_day)

"""tgpipe on AWS Lambda: the Telegram webhook (API Gateway route).

A table of contents: each handler reads the request and calls into the `etl` package.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from chalice import Chalice, Response

from etl.config import ConfigError
from etl.logs import get_logger, log_event
from etl.webhook import SECRET_HEADER, Webhook

app = Chalice(app_name="tgpipe")
# Telegram posts application/json. Declared binary, API Gateway hands the body over base64-encoded,
# so the raw lake keeps the exact bytes even when they are not valid UTF-8.
app.api.binary_types.append("application/json")

# `chalice local` runs from inside chalice_app/: a relative lake path (the default `lake/raw`) means
# the checkout's lake, the same folder `tgpipe` uses when run from the checkout.
_CHECKOUT = Path(__file__).resolve().parent.parent
_TEXT = {"Content-Type": "text/plain; charset=utf-8"}
_webhook: Webhook | None = None


def get_webhook() -> Webhook:
    """The webhook, built on first use from the environment (tests replace it)."""
    global _webhook
    if _webhook is None:
        _webhook = Webhook.from_env(base_dir=_CHECKOUT)
    return _webhook


def _serving_locally() -> bool:
    return os.environ.get("AWS_CHALICE_CLI_MODE") == "true" and "local" in sys.argv[1:]


if _serving_locally():
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
    try:
        handler = get_webhook()
    except ConfigError as exc:
        # Not acknowledged: Telegram keeps the update and retries once the setting is fixed.
        log_event(get_logger("webhook"), 40, "config_error", error=str(exc))
        return Response(body="webhook is not configured", status_code=500, headers=_TEXT)
    raw_body = request.raw_body
    body = raw_body if isinstance(raw_body, bytes) else raw_body.encode("utf-8")
    result = handler.handle(body, request.headers.get(SECRET_HEADER))
    return Response(body=result.body, status_code=result.status, headers=_TEXT)

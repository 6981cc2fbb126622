"""A small Telegram Bot API client (https://core.telegram.org/bots/api), standard library only.

The token is part of every request URL, so it is kept out of everything else: errors and logs
name the method and Telegram's description, never the URL. ``429 Too Many Requests`` is retried
after Telegram's ``retry_after``; every other refusal raises :class:`BotApiError` in plain words.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from ..config import DEFAULT_API_URL
from ..errors import TgpipeError

__all__ = [
    "ALLOWED_UPDATES",
    "DEFAULT_API_URL",
    "BotApi",
    "BotApiError",
    "check_api_url",
    "check_token",
    "describe_webhook_error",
    "printable",
    "split_updates",
]

# What the pipeline asks Telegram to deliver (setWebhook and getUpdates).
ALLOWED_UPDATES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "my_chat_member",
    "chat_member",
    "message_reaction",
)
_TOKEN_RE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{20,100}")


class BotApiError(TgpipeError):
    """Telegram refused a call, or could not be reached. ``error_code`` is Telegram's (0: no answer)."""

    def __init__(self, message: str, error_code: int = 0) -> None:
        super().__init__(message)
        self.error_code = error_code


def check_token(token: str, name: str = "TELEGRAM_BOT_TOKEN") -> str:
    """A token looks like ``123456:AAE...`` (from @BotFather); the message never repeats it."""
    token = token.strip()
    if not _TOKEN_RE.fullmatch(token):
        raise BotApiError(f"{name} does not look like a bot token (digits:characters, from @BotFather)")
    return token


def check_api_url(url: str) -> str:
    """An http(s) URL with a host and nothing that urllib would choke on (the token follows it)."""
    given = url.strip()
    parts = urllib.parse.urlsplit(given)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in given):
        raise BotApiError(f"the Bot API URL must be an http(s) URL such as {DEFAULT_API_URL}, got {given!r}")
    return given.rstrip("/")


class BotApi:
    """Calls Bot API methods for one bot."""

    def __init__(
        self,
        token: str,
        api_url: str = DEFAULT_API_URL,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._token = check_token(token)
        self.api_url = check_api_url(api_url)
        self.timeout = timeout
        self.max_retries = max_retries
        self.sleep = sleep

    def __repr__(self) -> str:
        return f"BotApi(api_url={self.api_url!r})"

    def call_raw(self, method: str, params: Mapping[str, Any] | None = None, *, timeout: float = 0) -> bytes:
        """POST ``params`` as JSON to ``method``; return the raw body of a successful answer."""
        data = json.dumps(dict(params or {})).encode()
        request = urllib.request.Request(  # noqa: S310 - the scheme is the configured API URL
            f"{self.api_url}/bot{self._token}/{method}",
            data=data,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        for attempt in range(self.max_retries + 1):
            try:
                with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:  # noqa: S310
                    body: bytes = response.read()
                    return body
            except urllib.error.HTTPError as exc:
                answer = _json_or_none(_error_body(exc))
                retry_after = _retry_after(answer)
                if exc.code == 429 and retry_after is not None and attempt < self.max_retries:
                    self.sleep(retry_after)
                    continue
                raise self._refusal(method, exc.code, answer) from None
            except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
                reason = getattr(exc, "reason", None) or type(exc).__name__
                raise BotApiError(
                    self._scrub(f"{method}: cannot reach the Bot API at {self.api_url}: {reason}")
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def call(self, method: str, params: Mapping[str, Any] | None = None, *, timeout: float = 0) -> Any:
        """Call ``method`` and return its ``result``."""
        answer = _json_or_none(self.call_raw(method, params, timeout=timeout))
        if not isinstance(answer, dict) or answer.get("ok") is not True:
            raise BotApiError(f"{method}: unexpected answer from the Bot API")
        return answer.get("result")

    def _refusal(self, method: str, code: int, answer: Any) -> BotApiError:
        description = answer.get("description") if isinstance(answer, dict) else None
        text = f"{method}: Telegram answered {code}"
        if description:
            text += f" ({printable(description)})"
        hint = {
            401: "the bot token is wrong or was revoked: check TELEGRAM_BOT_TOKEN",
            404: "the bot token is wrong (or the API URL is): check TELEGRAM_BOT_TOKEN",
            409: "another getUpdates or a webhook is active for this bot",
            429: "too many requests: try again later",
        }.get(code)
        if hint:
            text += f": {hint}"
        return BotApiError(self._scrub(text), code)

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "<token>")


def _error_body(exc: urllib.error.HTTPError) -> bytes:
    """The body of an error answer, or nothing when it cannot be read whole (cut short, reset)."""
    try:
        body: bytes = exc.read()
    except (http.client.HTTPException, OSError, ValueError):
        return b""
    finally:
        exc.close()
    return body


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(value: object) -> str:
    """Text from Telegram as it may be shown on a terminal: control characters (escape sequences,
    carriage returns, bidirectional overrides) written as ``\\x1b``-style escapes."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))


def _json_or_none(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def _retry_after(answer: Any) -> float | None:
    if isinstance(answer, dict):
        value = (answer.get("parameters") or {}).get("retry_after")
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 3600:
            return float(value)
    return None


def split_updates(body: bytes) -> list[bytes]:
    """The exact bytes of each update in a getUpdates answer (``{"ok":true,"result":[...]}``).

    The raw lake keeps what Telegram sent: each element is sliced out of the answer, not re-encoded."""
    try:
        text = body.decode("utf-8")
        answer = json.loads(text)
    except ValueError:  # not UTF-8, not JSON
        raise BotApiError("getUpdates: unexpected answer from the Bot API") from None
    if (
        not isinstance(answer, dict)
        or answer.get("ok") is not True
        or not isinstance(answer.get("result"), list)
    ):
        raise BotApiError("getUpdates: unexpected answer from the Bot API")
    decoder = json.JSONDecoder()
    match = re.search(r'"result"\s*:\s*\[', text)
    if match is None:  # pragma: no cover - json.loads above proved the key exists
        raise BotApiError("getUpdates: unexpected answer from the Bot API")
    position, parts = match.end(), []
    for _ in answer["result"]:
        while text[position] in " \t\r\n,":
            position += 1
        _, end = decoder.raw_decode(text, position)
        parts.append(text[position:end].encode("utf-8"))
        position = end
    return parts


_WEBHOOK_ERRORS = [
    (
        re.compile(r"401|403"),
        "your webhook refused Telegram's secret: set the webhook again with the "
        "TELEGRAM_WEBHOOK_SECRET your server uses (tgpipe webhook set --url ...)",
    ),
    (
        re.compile(r"Wrong response from the webhook: 5\d\d"),
        "your webhook failed (5xx): look at its logs (storage unreachable? configuration missing?)",
    ),
    (
        re.compile(r"(?i)connection refused|failed to connect"),
        "Telegram could not connect: is the server running and reachable from the internet on that port?",
    ),
    (re.compile(r"(?i)ssl|certificate"), "Telegram rejected the TLS certificate of your URL"),
    (re.compile(r"(?i)timeout"), "your webhook did not answer in time"),
    (re.compile(r"(?i)resolve host|name resolution"), "the webhook's host name does not resolve"),
]


def describe_webhook_error(message: str) -> str:
    """Telegram's ``last_error_message`` in plain words (the original kept in brackets)."""
    for pattern, words in _WEBHOOK_ERRORS:
        if pattern.search(message):
            return f"{words} [{message}]"
    return message

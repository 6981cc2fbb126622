"""The Bot API client's own rules: exact update bytes from getUpdates, plain-word errors, no token leaks."""

from __future__ import annotations

import json

import pytest

from etl.telegram.botapi import BotApi, BotApiError, check_token, describe_webhook_error, split_updates


def test_split_updates_returns_each_update_s_exact_bytes() -> None:
    """Whatever the spacing, each element is sliced out of the answer unchanged."""
    first = '{"update_id":1,"message":{"text":"olá [\\"x\\"], {}"}}'
    second = '{ "update_id" : 2 , "message" : { "text" : "\\u00e9" } }'
    body = f'{{"ok":true, "result" : [ {first} ,\n {second}]}}'.encode()
    assert split_updates(body) == [first.encode(), second.encode()]
    assert [json.loads(part)["update_id"] for part in split_updates(body)] == [1, 2]


def test_split_updates_of_an_empty_answer() -> None:
    """No updates waiting: nothing to ingest."""
    assert split_updates(b'{"ok":true,"result":[]}') == []


@pytest.mark.parametrize("body", [b'{"ok":false}', b'{"ok":true,"result":{}}', b"[]"])
def test_split_updates_refuses_an_unexpected_answer(body: bytes) -> None:
    """Anything but ok + a list is an error, not a guess."""
    with pytest.raises(BotApiError, match=r"^getUpdates: unexpected answer from the Bot API$"):
        split_updates(body)


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("Wrong response from the webhook: 503 Service Unavailable", "your webhook failed (5xx)"),
        ("Connection refused", "Telegram could not connect"),
        ("SSL error {error:0A000086:SSL routines::certificate verify failed}", "Telegram rejected the TLS"),
        ("Read timeout expired", "your webhook did not answer in time"),
        ("Failed to resolve host: Name or service not known", "the webhook's host name does not resolve"),
    ],
)
def test_webhook_errors_in_plain_words(message: str, words: str) -> None:
    """Telegram's terse last_error_message gets an explanation, keeping the original."""
    described = describe_webhook_error(message)
    assert described.startswith(words)
    assert described.endswith(f"[{message}]")


def test_an_unknown_webhook_error_is_left_as_is() -> None:
    """Nothing is invented for an error we do not know."""
    assert describe_webhook_error("Something new") == "Something new"


def test_the_token_is_not_in_the_repr() -> None:
    """A client printed in a traceback does not leak its token."""
    api = BotApi("123:" + "A" * 30, "http://127.0.0.1:1")
    assert repr(api) == "BotApi(api_url='http://127.0.0.1:1')"
    assert check_token(" 123:" + "A" * 30 + "\n") == "123:" + "A" * 30


@pytest.mark.parametrize("url", ["api.telegram.org", "ftp://api.telegram.org", "https://", "https://a b.org"])
def test_a_malformed_api_url_is_refused_before_the_token_is_put_in_it(url: str) -> None:
    """A URL urllib would choke on (with the token in its message) is refused up front."""
    with pytest.raises(BotApiError) as excinfo:
        BotApi("123:" + "A" * 30, url)
    assert str(excinfo.value) == (
        f"the Bot API URL must be an http(s) URL such as https://api.telegram.org, got {url.strip()!r}"
    )


def test_split_updates_refuses_bytes_that_are_not_json() -> None:
    """Garbage from the Bot API is one clear error, not a traceback."""
    with pytest.raises(BotApiError, match=r"^getUpdates: unexpected answer from the Bot API$"):
        split_updates(b"\xff<html>")

"""`tgpipe bot|webhook|poll` against a local fake Telegram server (a real HTTP server)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from etl.cli import main
from tests.helpers import GROUP, SECRET, update_bytes
from tests.helpers.fake_telegram import TOKEN, FakeTelegram


@pytest.fixture
def env(telegram: FakeTelegram, tmp_path: Path) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": telegram.url,
        "TELEGRAM_CHAT_ID": str(GROUP),
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TGPIPE_RAW_URI": str(tmp_path / "raw"),
        "TGPIPE_TIMEZONE": "UTC",
    }


def run(args: list[str], env: dict[str, str]) -> Result:
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert TOKEN not in result.output
    assert TOKEN.split(":")[1] not in result.output
    return result


def test_bot_me_shows_the_bot(telegram: FakeTelegram, env: dict[str, str]) -> None:
    """getMe in three lines; no warning when the bot reads all group messages."""
    result = run(["bot", "me"], env)
    assert (result.exit_code, result.output) == (
        0,
        "@tgpipe_test_bot (tgpipe, id 123456789)\ncan join groups: yes\ncan read all group messages: yes\n",
    )
    assert telegram.methods() == ["getMe"]


def test_bot_me_warns_when_privacy_mode_hides_messages(telegram: FakeTelegram, env: dict[str, str]) -> None:
    """With privacy mode on the bot sees only commands: the user is told how to fix it."""
    telegram.me["can_read_all_group_messages"] = False
    result = run(["bot", "me"], env)
    assert result.exit_code == 0
    assert result.output.splitlines()[-2:] == [
        "can read all group messages: no",
        "warning: privacy mode is on, so the bot sees only commands and replies to it. Turn it off with "
        "@BotFather (/setprivacy -> Disable), or make the bot an admin of the group.",
    ]


def test_a_wrong_token_is_one_clear_line(telegram: FakeTelegram, env: dict[str, str]) -> None:
    """Telegram's 401 becomes one line naming the variable to check; the token is never shown."""
    result = run(["bot", "me"], {**env, "TELEGRAM_BOT_TOKEN": "987654321:AAHwrongTokenButWellFormed_xyz0123"})
    assert (result.exit_code, result.output) == (
        1,
        "Error: getMe: Telegram answered 401 (Unauthorized): the bot token is wrong or was revoked: "
        "check TELEGRAM_BOT_TOKEN\n",
    )


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "Error: TELEGRAM_BOT_TOKEN is required (the token @BotFather gave you)\n"),
        (
            "not-a-token/../../x",
            "Error: TELEGRAM_BOT_TOKEN does not look like a bot token (digits:characters, from @BotFather)\n",
        ),
    ],
    ids=["missing", "malformed"],
)
def test_a_missing_or_malformed_token_is_refused_before_any_call(
    telegram: FakeTelegram, env: dict[str, str], token: str, message: str
) -> None:
    """Without a usable token nothing is sent."""
    result = run(["bot", "me"], {**env, "TELEGRAM_BOT_TOKEN": token})
    assert (result.exit_code, result.output) == (1, message)
    assert telegram.calls == []


def test_an_unreachable_api_is_one_clear_line(env: dict[str, str]) -> None:
    """A connection failure names the API URL, not the token."""
    result = run(["bot", "me", "--api-url", "http://127.0.0.1:9"], env)
    assert result.exit_code == 1
    assert result.output.startswith("Error: getMe: cannot reach the Bot API at http://127.0.0.1:9: ")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (502, "Error: getMe: Telegram answered 502\n"),
        (
            401,
            "Error: getMe: Telegram answered 401: the bot token is wrong or was revoked: "
            "check TELEGRAM_BOT_TOKEN\n",
        ),
    ],
    ids=["bad-gateway", "unauthorized"],
)
def test_an_error_answer_cut_short_is_one_clear_line(
    telegram: FakeTelegram, env: dict[str, str], status: int, expected: str
) -> None:
    """An error whose body ends before its Content-Length (a proxy hiccup) is still one line, no traceback."""
    telegram.refuse(status, "Bad Gateway" if status == 502 else "Unauthorized", method="getMe")
    telegram.truncate.append("getMe")
    result = run(["bot", "me"], env)
    assert (result.exit_code, result.output) == (1, expected)


def test_a_successful_answer_cut_short_is_one_clear_line(telegram: FakeTelegram, env: dict[str, str]) -> None:
    """getWebhookInfo's answer ends early: one line naming the API, not an IncompleteRead traceback."""
    telegram.truncate.append("getWebhookInfo")
    result = run(["webhook", "info"], env)
    assert (result.exit_code, result.output) == (
        1,
        f"Error: getWebhookInfo: cannot reach the Bot API at {telegram.url}: IncompleteRead\n",
    )


def test_telegram_s_strings_are_shown_with_control_characters_escaped(
    telegram: FakeTelegram, env: dict[str, str]
) -> None:
    """A bot name or an error message holding terminal escapes cannot repaint or rewrite the terminal."""
    telegram.me = {**telegram.me, "first_name": "\x1b[2J\x1b[31mEvil\u202e", "username": "ok_bot\r"}
    telegram.webhook = {
        "url": "https://example.com/\x1b]0;owned\x07",
        "last_error_date": 1764000000,
        "last_error_message": "Connection refused\x1b[0m",
    }
    me = run(["bot", "me"], env)
    assert me.output.splitlines()[0] == "@ok_bot\\r (\\x1b[2J\\x1b[31mEvil\\u202e, id 123456789)"
    info = run(["webhook", "info"], env)
    assert info.output.splitlines()[0] == "url: https://example.com/\\x1b]0;owned\\x07"
    assert info.output.splitlines()[-1] == (
        "last error: 2025-11-24 16:00:00 UTC: Telegram could not connect: is the server running and "
        "reachable from the internet on that port? [Connection refused\\x1b[0m]"
    )
    telegram.refuse(400, "Bad Request: \x1b[5mblink", method="getMe")
    refused = run(["bot", "me"], env)
    assert refused.output == "Error: getMe: Telegram answered 400 (Bad Request: \\x1b[5mblink)\n"


def test_rate_limits_are_honoured(telegram: FakeTelegram, env: dict[str, str]) -> None:
    """A 429 with retry_after is retried after waiting that long."""
    telegram.refuse(429, "Too Many Requests: retry after 1", retry_after=1)
    started = time.monotonic()
    result = run(["bot", "me"], env)
    assert result.exit_code == 0
    assert time.monotonic() - started >= 1
    assert telegram.methods() == ["getMe", "getMe"]


def test_rate_limits_give_up_after_a_few_retries(telegram: FakeTelegram, env: dict[str, str]) -> None:
    """Endless 429s end in a clear error, not an endless loop."""
    for _ in range(4):
        telegram.refuse(429, "Too Many Requests: retry after 0", retry_after=0)
    result = run(["bot", "me"], env)
    assert (result.exit_code, result.output) == (
        1,
        "Error: getMe: Telegram answered 429 (Too Many Requests: retry after 0): too many requests: "
        "try again later\n",
    )
    assert telegram.methods() == ["getMe"] * 4


def test_the_token_prompt_does_not_echo(telegram: FakeTelegram, env: dict[str, str]) -> None:
    """Without TELEGRAM_BOT_TOKEN, an interactive terminal is asked for it and it is not shown."""
    child_env = {**os.environ, **env}
    del child_env["TELEGRAM_BOT_TOKEN"]
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("tgpipe")), "bot", "me"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=child_env,
    )
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 20
    sent = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        if not sent and b"not shown" in output:
            os.write(leader, TOKEN.encode() + b"\n")
            sent = True
        if proc.poll() is not None and not ready:
            break
    proc.wait(10)
    os.close(leader)
    text = output.decode()
    assert proc.returncode == 0, text
    assert "@tgpipe_test_bot (tgpipe, id 123456789)" in text
    assert TOKEN.split(":")[1] not in text


def test_webhook_set_registers_the_secret_and_the_updates_we_keep(
    telegram: FakeTelegram, env: dict[str, str]
) -> None:
    """setWebhook gets the URL, TELEGRAM_WEBHOOK_SECRET as secret_token, and explicit allowed_updates."""
    url = "https://abc.execute-api.us-east-1.amazonaws.com/api/webhook"
    result = run(["webhook", "set", "--url", url], env)
    kinds = [
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "my_chat_member",
        "chat_member",
        "message_reaction",
    ]
    assert (result.exit_code, result.output) == (0, f"webhook set: {url} (updates: {', '.join(kinds)})\n")
    assert telegram.calls == [
        (
            "setWebhook",
            {"url": url, "secret_token": SECRET, "allowed_updates": kinds, "drop_pending_updates": False},
        )
    ]
    assert SECRET not in result.output


@pytest.mark.parametrize(
    ("args", "extra_env", "message"),
    [
        (
            ["--url", "http://example.com/webhook"],
            {},
            "Error: --url must be an https:// URL (Telegram only calls https webhooks)\n",
        ),
        (
            ["--url", "https://example.com/webhook"],
            {"TELEGRAM_WEBHOOK_SECRET": ""},
            "Error: TELEGRAM_WEBHOOK_SECRET is required: the secret_token given to setWebhook "
            "(1-256 characters of A-Z, a-z, 0-9, _ and -)\n",
        ),
    ],
    ids=["not-https", "no-secret"],
)
def test_webhook_set_refuses_what_telegram_would_refuse(
    telegram: FakeTelegram, env: dict[str, str], args: list[str], extra_env: dict[str, str], message: str
) -> None:
    """Checked before calling Telegram: an https URL and a valid secret."""
    result = run(["webhook", "set", *args], {**env, **extra_env})
    assert (result.exit_code, result.output) == (1, message)
    assert telegram.calls == []


def test_webhook_info_explains_the_last_error(telegram: FakeTelegram, env: dict[str, str]) -> None:
    """Pending count and Telegram's last error message, in plain words."""
    telegram.webhook = {
        "url": "https://example.com/api/webhook",
        "allowed_updates": ["message", "edited_message"],
        "last_error_date": 1764000000,
        "last_error_message": "Wrong response from the webhook: 401 Unauthorized",
    }
    telegram.pending = [update_bytes("message_text")]
    result = run(["webhook", "info"], env)
    assert (result.exit_code, result.output) == (
        0,
        "url: https://example.com/api/webhook\n"
        "pending updates: 1\n"
        "allowed updates: message, edited_message\n"
        "last error: 2025-11-24 16:00:00 UTC: your webhook refused Telegram's secret: set the webhook again "
        "with the TELEGRAM_WEBHOOK_SECRET your server uses (tgpipe webhook set --url ...) "
        "[Wrong response from the webhook: 401 Unauthorized]\n",
    )


def test_webhook_info_without_a_webhook(telegram: FakeTelegram, env: dict[str, str]) -> None:
    """No webhook and no error."""
    result = run(["webhook", "info"], env)
    assert result.output == (
        "url: (none: updates wait for getUpdates / tgpipe poll)\npending updates: 0\nlast error: none\n"
    )


def test_webhook_delete(telegram: FakeTelegram, env: dict[str, str]) -> None:
    """deleteWebhook, keeping pending updates unless asked."""
    telegram.webhook = {"url": "https://example.com/api/webhook"}
    result = run(["webhook", "delete"], env)
    assert (result.exit_code, result.output) == (0, "webhook deleted\n")
    assert telegram.calls == [("deleteWebhook", {"drop_pending_updates": False})]
    assert telegram.webhook["url"] == ""


# --- poll ---------------------------------------------------------------------------------------


def _raw_files(env: dict[str, str]) -> dict[str, bytes]:
    root = Path(env["TGPIPE_RAW_URI"])
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_poll_stores_each_update_byte_exact_and_confirms_them(
    telegram: FakeTelegram, env: dict[str, str]
) -> None:
    """Updates fetched with getUpdates land in the raw lake exactly as the webhook would keep them."""
    names = ["message_text", "message_photo", "edited_message", "message_other_chat"]  # in update_id order
    telegram.pending = [update_bytes(n) for n in names]
    result = run(["poll", "--once", "--timeout", "0"], env)
    assert (result.exit_code, result.stdout) == (0, '{"fetched": 4, "ignored_chat": 1, "stored": 3}\n')
    files = _raw_files(env)
    assert {k.split("/")[1]: v for k, v in files.items()} == {
        "900000001.json": update_bytes("message_text"),
        "900000003.json": update_bytes("message_photo"),
        "900000009.json": update_bytes("edited_message"),
    }
    assert telegram.pending == []  # confirmed on the way out
    assert [c for c in telegram.calls if c[0] == "getUpdates"][-1][1] == {
        "offset": 900000022,
        "limit": 1,
        "timeout": 0,
    }


def test_poll_never_fetches_twice_or_skips(telegram: FakeTelegram, env: dict[str, str]) -> None:
    """A second run fetches only what arrived since; the offset passes every stored update."""
    telegram.pending = [update_bytes("message_text")]
    run(["poll", "--once", "--timeout", "0"], env)
    telegram.pending.append(update_bytes("message_reply"))
    result = run(["poll", "--once", "--timeout", "0"], env)
    assert result.stdout == '{"fetched": 1, "stored": 1}\n'
    assert sorted(k.split("/")[1] for k in _raw_files(env)) == ["900000001.json", "900000004.json"]


def test_poll_refuses_while_a_webhook_is_set(telegram: FakeTelegram, env: dict[str, str]) -> None:
    """Telegram does not serve getUpdates while a webhook is set: say so and how to fix it."""
    telegram.webhook = {"url": "https://example.com/api/webhook"}
    result = run(["poll", "--once"], env)
    assert (result.exit_code, result.stderr.splitlines()[-1] + "\n") == (
        1,
        "Error: a webhook is set (https://example.com/api/webhook): Telegram does not deliver getUpdates "
        "while it is; run `tgpipe webhook delete` first\n",
    )
    assert telegram.methods() == ["getWebhookInfo"]


def test_poll_reports_a_conflict_with_another_poller(telegram: FakeTelegram, env: dict[str, str]) -> None:
    """Telegram's 409 during getUpdates is one clear line."""
    telegram.refuse(409, "Conflict: terminated by other getUpdates request", method="getUpdates")
    result = run(["poll", "--once"], env)
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        1,
        "Error: Telegram refused getUpdates (409): a webhook was set or another poller is running "
        "for this bot",
    )


def test_poll_stops_on_a_storage_failure_without_losing_the_update(
    telegram: FakeTelegram, env: dict[str, str], tmp_path: Path
) -> None:
    """An update that could not be stored is not confirmed: Telegram keeps it for the next run."""
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the lake folder should be")
    telegram.pending = [update_bytes("message_text")]
    result = run(["poll", "--once", "--timeout", "0"], {**env, "TGPIPE_RAW_URI": str(blocked)})
    assert (result.exit_code, result.stderr.splitlines()[-1] + "\n") == (
        1,
        "Error: update 900000001 was not stored (storage_error); it will be fetched again\n",
    )
    assert telegram.pending == [update_bytes("message_text")]


def test_poll_needs_no_webhook_secret(telegram: FakeTelegram, env: dict[str, str]) -> None:
    """Polling works with only the token and the chat id."""
    telegram.pending = [update_bytes("message_text")]
    result = run(["poll", "--once", "--timeout", "0"], {**env, "TELEGRAM_WEBHOOK_SECRET": ""})
    assert (result.exit_code, json.loads(result.stdout)) == (0, {"fetched": 1, "stored": 1})

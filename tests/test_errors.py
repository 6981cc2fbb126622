"""Every expected failure derives from TgpipeError, and the command line turns any of them into one line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from etl.checkout import CheckoutError
from etl.config import ConfigError
from etl.demo.run import DemoError
from etl.errors import TgpipeError
from etl.ingest.history.reader import ExportError
from etl.ingest.poll import PollError
from etl.report.marts import ReportError
from etl.secrets import SecretError
from etl.storage import ObjectNotFound, StorageError
from etl.telegram.botapi import BotApiError
from etl.telegram.update import MalformedUpdate
from etl.transform.job import BadObjects


@pytest.mark.parametrize(
    "error",
    [
        BadObjects,
        BotApiError,
        CheckoutError,
        ConfigError,
        DemoError,
        ExportError,
        MalformedUpdate,
        ObjectNotFound,
        PollError,
        ReportError,
        SecretError,
        StorageError,
    ],
    ids=lambda e: e.__name__,
)
def test_every_expected_failure_is_a_tgpipe_error(error: type[Exception]) -> None:
    """One base: a caller tells 'the input or the world is wrong' from a bug with one except clause."""
    assert issubclass(error, TgpipeError)


def test_the_command_line_prints_a_tgpipe_error_as_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A setting that cannot be read stops a command with exit code 1 and one line naming it."""
    from etl.cli import main

    monkeypatch.setenv("TELEGRAM_CHAT_ID", "not-a-chat")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "s3cret")
    result = CliRunner().invoke(main, ["serve"])
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        "Error: TELEGRAM_CHAT_ID must be comma-separated integer chat ids (e.g. -1001234567890), "
        "got 'not-a-chat'\n",
    )

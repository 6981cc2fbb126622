"""Long polling over several rounds: the offset, retries of transient failures, odd answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.config import IngestSettings
from etl.ingest.poll import PollError, poll
from etl.ingest.router import Router
from etl.storage import LocalStorage
from etl.telegram.botapi import BotApi
from tests.helpers import GROUP, update_bytes
from tests.helpers.fake_telegram import TOKEN, FakeTelegram


@pytest.fixture
def router(tmp_path: Path) -> Router:
    return Router(IngestSettings(frozenset({GROUP})), LocalStorage(tmp_path / "raw"))


def get_updates_params(telegram: FakeTelegram) -> list[dict[str, object]]:
    return [params for method, params in telegram.calls if method == "getUpdates"]


def test_each_round_asks_for_updates_after_the_last_stored_one(
    telegram: FakeTelegram, router: Router
) -> None:
    """Round two sends offset = last update_id + 1, so nothing is fetched twice within a run."""
    telegram.pending = [update_bytes("message_text"), update_bytes("message_photo")]
    rounds = iter([False, True])
    summary = poll(BotApi(TOKEN, telegram.url), router, timeout=0, should_stop=lambda: next(rounds))
    assert (summary.fetched, summary.next_offset) == (2, 900000004)
    calls = get_updates_params(telegram)
    assert [c.get("offset") for c in calls] == [None, 900000004, 900000004]
    assert calls[-1] == {"offset": 900000004, "limit": 1, "timeout": 0}  # the confirmation


def test_transient_failures_are_waited_out(telegram: FakeTelegram, router: Router) -> None:
    """A 502 and a 500 from Telegram are retried after 1 s then 2 s; the updates still arrive."""
    telegram.refuse(502, "Bad Gateway", method="getUpdates")
    telegram.refuse(500, "Internal Server Error", method="getUpdates")
    telegram.pending = [update_bytes("message_text")]
    waits: list[float] = []
    stop = iter([False, False, True])  # asked after each failure, then after the round that worked
    api = BotApi(TOKEN, telegram.url)
    summary = poll(api, router, timeout=0, should_stop=lambda: next(stop), sleep=waits.append)
    assert (waits, summary.fetched) == ([1.0, 2.0], 1)


def test_once_does_not_retry(telegram: FakeTelegram, router: Router) -> None:
    """With --once a failure is reported at once."""
    telegram.refuse(502, "Bad Gateway", method="getUpdates")
    with pytest.raises(PollError, match=r"^getUpdates: Telegram answered 502 \(Bad Gateway\)$"):
        poll(BotApi(TOKEN, telegram.url), router, timeout=0, once=True, sleep=pytest.fail)


def test_an_unreadable_element_is_quarantined_and_polling_goes_on(
    telegram: FakeTelegram, router: Router, tmp_path: Path
) -> None:
    """An element without an update_id is kept aside like any unreadable delivery."""
    telegram.pending = [b'{"message":{"chat":{"id":1}}}', update_bytes("message_text")]
    summary = poll(BotApi(TOKEN, telegram.url), router, timeout=0, once=True)
    assert summary.outcomes == {"quarantined": 1, "stored": 1}
    assert len(list((tmp_path / "raw" / "_quarantine").rglob("*.bin"))) == 1

"""When the daily ETL runs and which day it processes (pure date arithmetic; no pyarrow here, so the
Chalice app can import it at start).

The schedule is an EventBridge cron in UTC. A day D (in TGPIPE_TIMEZONE) is complete once local
midnight has passed, because the webhook files every update under its day of *receipt*. So the run
just after local midnight processes D-1, computed from the scheduled event's time, never from the
clock: a delayed or replayed invocation still processes the day it was scheduled for.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["day_before", "utc_cron_after_midnight", "yesterday"]


def day_before(event_time: str, timezone: ZoneInfo) -> date:
    """The day a scheduled run processes: the local day before the event's time.

    ``event_time`` is an EventBridge event's ``time`` (``2026-10-06T00:15:00Z``)."""
    try:
        when = datetime.fromisoformat(event_time)
    except (TypeError, ValueError):
        raise ValueError(f"event time {event_time!r} is not an ISO 8601 date and time") from None
    if when.tzinfo is None:
        raise ValueError(f"event time {event_time!r} has no time zone")
    return when.astimezone(timezone).date() - timedelta(days=1)


def yesterday(timezone: ZoneInfo, now: datetime | None = None) -> date:
    """The local day before ``now`` (default: the clock): what `tgpipe etl` processes by default."""
    now = datetime.now(UTC) if now is None else now
    return now.astimezone(timezone).date() - timedelta(days=1)


def utc_cron_after_midnight(timezone: ZoneInfo, minute: int = 15, year: int = 2026) -> tuple[int, int]:
    """``(minute, hour)`` in UTC of a daily run ``minute`` minutes after local midnight, all year:
    taken at the zone's smallest UTC offset, so under daylight saving time it runs an hour later
    (00:15 becomes 01:15), never before midnight."""
    offsets = [
        offset
        for month in range(1, 13)
        if (offset := datetime(year, month, 1, 12, tzinfo=timezone).utcoffset()) is not None
    ]
    smallest = min(offsets, default=timedelta(0))
    utc_minutes = (minute - int(smallest.total_seconds()) // 60) % (24 * 60)
    return utc_minutes % 60, utc_minutes // 60

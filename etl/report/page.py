"""The report's HTML page: header, key figures and one card per chart, styled inline.

The markup is in ``templates/`` beside this module (``page.html``, ``section.html``, ``card.html``,
``kpi.html`` and ``report.css``), filled with :class:`string.Template`; a template's lines are joined
without the line breaks, which are there for the reader. Every text from the data goes through
:func:`etl.report.charts.esc` before it reaches a template; the page loads nothing from anywhere.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from string import Template
from typing import Any

from . import charts
from .charts import DayAxis, Series, esc, fmt_count, long_date
from .marts import Chat, ReportData

__all__ = ["TOP_USERS", "render_page"]

TOP_USERS = 6


@dataclass(frozen=True)
class Card:
    key: str
    title: str
    note: str
    svg: str | None  # None: the "no data" panel
    empty: str
    legend: str = ""
    wide: bool = False


def render_page(chat: Chat, data: ReportData, source: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The whole HTML document, and the ids of the charts drawn and of those without data."""
    cards = {c.key: c for c in _cards(data)}
    sections = [
        ("Activity", "", ["daily-messages", "user-messages", "message-length", "member-changes"]),
        ("Rhythm", "", ["heatmap"]),
        ("Answers", "", ["reply-rate", "reply-times"]),
        ("Content", " grid-3", ["message-types", "bot-commands", "top-terms"]),
    ]
    body = "".join(
        _template("section.html").substitute(
            name=name, grid_class=cls, cards="".join(_card_html(cards[k]) for k in keys)
        )
        for name, cls, keys in sections
    )
    title = chat.title or f"Chat {chat.chat_id}"
    if data.start is not None and data.end is not None:
        span = (data.end - data.start).days + 1
        period = f"{long_date(data.start)} – {long_date(data.end)} · {span} day{'s' if span != 1 else ''}"
    else:
        period = "no messages yet"
    meta = f"{chat.chat_type} · chat id {chat.chat_id} · {period}"
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = (
        _template("page.html").substitute(
            title=esc(title),
            css=_css(),
            meta=esc(meta),
            kpis=_kpis(chat, data),
            sections=body,
            version=esc(_version()),
            source=esc(source),
            generated=generated,
        )
        + "\n"
    )
    ordered = [c for keys in (s[2] for s in sections) for c in (cards[k] for k in keys)]
    return (
        page,
        tuple(c.key for c in ordered if c.svg is not None),
        tuple(c.key for c in ordered if c.svg is None),
    )


def _version() -> str:
    try:
        return version("tgpipe")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "dev"


@functools.cache
def _template(name: str) -> Template:
    """A template of ``templates/``, its lines joined (the page has no whitespace between tags)."""
    text = files(__package__).joinpath("templates", name).read_text(encoding="utf-8")
    return Template("".join(line.strip() for line in text.splitlines()))


@functools.cache
def _css() -> str:
    return "\n" + files(__package__).joinpath("templates", "report.css").read_text(encoding="utf-8")


def _card_html(card: Card) -> str:
    content = card.svg if card.svg is not None else f'<div class="empty">{esc(card.empty)}</div>'
    return _template("card.html").substitute(
        wide=" wide" if card.wide else "",
        key=card.key,
        state="chart" if card.svg is not None else "empty",
        title=esc(card.title),
        note=esc(card.note),
        legend=card.legend,
        content=content,
    )


def _kpis(chat: Chat, data: ReportData) -> str:
    active_days = sum(1 for r in data.daily if r[1])
    span = (data.end - data.start).days + 1 if data.start and data.end else 0
    by_hour: dict[int, float] = {}
    for _dow, hour, messages in data.hourly:
        by_hour[int(hour)] = by_hour.get(int(hour), 0.0) + float(messages)
    busiest = max(by_hour, key=lambda h: (by_hour[h], -h)) if by_hour else None
    asked = sum(int(r[1]) for r in data.replies)
    answered = sum(int(r[2]) for r in data.replies)
    joined = sum(int(r[1]) for r in data.members)
    left = sum(int(r[2]) for r in data.members)
    figures = [
        ("Messages", fmt_count(chat.messages), "new, edits excluded"),
        ("Active users", fmt_count(chat.users), "sent at least one message"),
        ("Active days", fmt_count(active_days), f"of {span} in the period" if span else "no messages yet"),
        (
            "Busiest hour",
            f"{busiest:02d}:00" if busiest is not None else "–",
            f"{fmt_count(by_hour[busiest])} messages, local time" if busiest is not None else "no messages",
        ),
        ("Replied", f"{answered / asked:.0%}" if asked else "–", f"{answered:,} of {asked:,} messages"),
        ("Members", f"{joined - left:+,}", f"{joined:,} joined, {left:,} left"),
    ]
    return "".join(
        _template("kpi.html").substitute(label=esc(label), value=esc(value), note=esc(note))
        for label, value, note in figures
    )


def _user_series(data: ReportData) -> list[Series]:
    """The top senders over the period, one series each, and everyone else as one grey series."""
    totals: dict[int, int] = {}
    names: dict[int, tuple[str | None, str | None]] = {}
    for _day, user_id, first_name, username, messages in data.user_days:
        totals[user_id] = totals.get(user_id, 0) + int(messages)
        names[user_id] = (first_name, username)  # rows come by day: the latest name wins
    top = sorted(totals, key=lambda u: (-totals[u], u))[:TOP_USERS]
    labels = {u: names[u][0] or (f"@{names[u][1]}" if names[u][1] else f"user {u}") for u in top}
    for u in top:
        if list(labels.values()).count(labels[u]) > 1:  # two Anas: tell them apart
            labels[u] += f" (@{names[u][1]})" if names[u][1] else f" ({u})"
    per_user: dict[int, dict[date, float]] = {u: {} for u in top}
    others: dict[date, float] = {}
    for day, user_id, _first, _username, messages in data.user_days:
        target = per_user.get(user_id, others)
        target[day] = target.get(day, 0.0) + float(messages)
    series = [Series(labels[u], charts.PALETTE[i], per_user[u]) for i, u in enumerate(top)]
    if others:
        series.append(Series("everyone else", charts.OTHER_COLOR, others))
    return series


def _percent(value: float) -> str:
    return f"{value:.0%}"


def _minutes(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def _cards(data: ReportData) -> list[Card]:
    axis = DayAxis(data.start, data.end) if data.start and data.end else None

    def by_day(values: dict[date, float], draw: Callable[[DayAxis], str]) -> str | None:
        return draw(axis) if axis is not None and values else None

    messages = {r[0]: float(r[1]) for r in data.daily if r[1]}
    users = _user_series(data)
    lengths = {r[0]: float(r[2]) for r in data.lengths}
    length_notes = {r[0]: f"{r[1]} texts, {r[3]}–{r[4]} characters" for r in data.lengths}
    rates = {r[0]: float(r[3]) for r in data.replies}
    reply_notes = {r[0]: f"{r[2]} of {r[1]} messages answered" for r in data.replies}
    medians = {r[0]: float(r[4]) for r in data.replies if r[4] is not None}
    joined = Series("joined", charts.JOIN_COLOR, {r[0]: float(r[1]) for r in data.members})
    left = Series("left", charts.LEAVE_COLOR, {r[0]: float(r[2]) for r in data.members})
    hourly = {(int(r[0]), int(r[1])): float(r[2]) for r in data.hourly}
    user_values = {d: 1.0 for s in users for d in s.values}
    member_values = {**joined.values, **left.values}

    def ranking(rows: list[tuple[Any, ...]], color: str, unit: str, label: str) -> str | None:
        items = [(str(name), float(n)) for name, n in rows]
        return charts.hbars(items, color, unit, label) if items else None

    return [
        Card(
            "daily-messages",
            "Messages per day",
            "New messages each day; edits and service messages are not counted.",
            by_day(
                messages,
                lambda a: charts.day_bars(
                    a, [Series("messages", charts.PRIMARY, messages)], "messages", "Messages per day"
                ),
            ),
            "No messages in this period.",
        ),
        Card(
            "user-messages",
            "Messages per user per day",
            f"The {TOP_USERS} most active senders in colour, everyone else in grey.",
            by_day(user_values, lambda a: charts.day_bars(a, users, "messages", "Messages per user per day")),
            "No messages from users in this period.",
            legend=charts.legend(users) if users else "",
        ),
        Card(
            "message-length",
            "Average message length",
            "Characters per text message (an emoji counts one), averaged per day.",
            by_day(
                lengths,
                lambda a: charts.day_lines(
                    a,
                    [Series("characters", charts.PRIMARY, lengths)],
                    "characters on average",
                    "Average message length per day",
                    fmt=lambda v: f"{v:,.0f}",
                    details=length_notes,
                ),
            ),
            "No text messages in this period.",
        ),
        Card(
            "member-changes",
            "Joins and leaves",
            "Members who joined (above the line) and who left (below) each day.",
            by_day(member_values, lambda a: charts.diverging_day_bars(a, joined, left, "Joins and leaves")),
            "Nobody joined or left in this period.",
            legend=charts.legend([joined, left]) if member_values else "",
        ),
        Card(
            "heatmap",
            "When the group is busy",
            "Messages by weekday and hour of the day, summed over every day in the lake.",
            charts.heatmap(hourly, "messages", "Messages by weekday and hour") if hourly else None,
            "No messages to place on the week.",
            wide=True,
        ),
        Card(
            "reply-rate",
            "Reply rate",
            "Share of each day's messages that got a reply from someone else.",
            by_day(
                rates,
                lambda a: charts.day_bars(
                    a,
                    [Series("replied", charts.PALETTE[2], rates)],
                    "replied",
                    "Reply rate per day",
                    top=1.0,
                    fmt=_percent,
                    tick_fmt=_percent,
                    details=reply_notes,
                ),
            ),
            "No messages to answer in this period.",
        ),
        Card(
            "reply-times",
            "Time to first reply",
            "Median minutes from a message to its first reply by someone else, per day.",
            by_day(
                medians,
                lambda a: charts.day_lines(
                    a,
                    [Series("minutes", charts.PALETTE[1], medians)],
                    "min (median)",
                    "Median minutes to first reply per day",
                    fmt=_minutes,
                    details=reply_notes,
                ),
            ),
            "No message got a reply in this period.",
        ),
        Card(
            "message-types",
            "Message types",
            "Messages by kind over the whole period.",
            ranking(data.types, charts.PALETTE[4], "messages", "Message types"),
            "No messages in this period.",
        ),
        Card(
            "bot-commands",
            "Top commands",
            "The most used /commands, without @botname.",
            ranking(data.commands, charts.PALETTE[5], "uses", "Top commands"),
            "No bot commands in this period.",
        ),
        Card(
            "top-terms",
            "Top terms",
            "Most used words, without stop words, links, mentions and numbers.",
            ranking(data.terms, charts.PALETTE[3], "uses", "Top terms"),
            "No words to count in this period.",
        ),
    ]

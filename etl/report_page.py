"""The report's HTML page: header, key figures and one card per chart, styled inline.

Every text from the data goes through :func:`etl.charts.esc`; the page loads nothing from anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from . import charts
from .charts import DayAxis, Series, esc, fmt_count, long_date
from .report import Chat, ReportData

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
        f'<section><h2>{name}</h2><div class="grid{cls}">'
        + "".join(_card_html(cards[k]) for k in keys)
        + "</div></section>"
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
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · tgpipe report</title><style>{CSS}</style></head><body><main>"
        f'<header><p class="eyebrow">tgpipe report</p><h1 id="chat-title">{esc(title)}</h1>'
        f'<p class="meta" id="period">{esc(meta)}</p></header>'
        f'<div class="kpis">{_kpis(chat, data)}</div>{body}'
        f"<footer>Built by tgpipe {esc(_version())} from {esc(source)} on {generated}. "
        "Days and hours are local to the dbt project's timezone. Hover a mark for its numbers.</footer>"
        "</main></body></html>\n"
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


def _card_html(card: Card) -> str:
    content = card.svg if card.svg is not None else f'<div class="empty">{esc(card.empty)}</div>'
    return (
        f'<figure class="card{" wide" if card.wide else ""}" id="chart-{card.key}" '
        f'data-state="{"chart" if card.svg is not None else "empty"}">'
        f"<figcaption><h3>{esc(card.title)}</h3><p>{esc(card.note)}</p></figcaption>"
        f"{card.legend}{content}</figure>"
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
        f'<div class="kpi"><span class="kpi-label">{esc(label)}</span>'
        f'<span class="kpi-value">{esc(value)}</span><span class="kpi-note">{esc(note)}</span></div>'
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


CSS = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f5f6fa;color:#212529;
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","Liberation Sans",Arial,sans-serif,
"Apple Color Emoji","Segoe UI Emoji","Noto Color Emoji";
font-variant-numeric:tabular-nums}
main{max-width:1200px;margin:0 auto;padding:32px 24px 48px}
header{margin-bottom:24px}
.eyebrow{margin:0;color:#4263eb;font-size:12px;font-weight:600;letter-spacing:.08em;text-transform:uppercase}
h1{margin:4px 0 6px;font-size:30px;line-height:1.2;font-weight:700;letter-spacing:-.01em;
overflow-wrap:anywhere}
.meta{margin:0;color:#6c757d;font-size:14px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;margin-bottom:8px}
.kpi{background:#fff;border:1px solid #e9ecef;border-radius:12px;padding:14px 16px;display:flex;
flex-direction:column}
.kpi-label{color:#6c757d;font-size:12px;font-weight:600;text-transform:uppercase;letter-spacing:.05em}
.kpi-value{font-size:26px;font-weight:700;line-height:1.25;margin-top:2px}
.kpi-note{color:#868e96;font-size:12px}
section{margin-top:28px}
h2{margin:0 0 12px;font-size:13px;font-weight:700;color:#495057;text-transform:uppercase;letter-spacing:.08em}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,460px),1fr));gap:16px}
.grid-3{grid-template-columns:repeat(auto-fit,minmax(min(100%,300px),1fr))}
.card{margin:0;background:#fff;border:1px solid #e9ecef;border-radius:12px;padding:16px 18px 12px;
box-shadow:0 1px 2px rgba(33,37,41,.04);min-width:0}
.card.wide{grid-column:1/-1}
figcaption h3{margin:0;font-size:16px;font-weight:650}
figcaption p{margin:2px 0 10px;color:#868e96;font-size:13px}
.chart-svg{display:block;width:100%;height:auto;overflow:visible}
.chart-svg.heat{max-width:900px;margin:0 auto}
.chart-svg.ranking{max-width:420px}
.chart-svg text{font-size:12px;fill:#868e96}
.chart-svg.heat text{font-size:13px}
.chart-svg text.label{font-size:13px;fill:#495057}
.chart-svg text.value{font-size:12px;fill:#495057;font-weight:600}
.chart-svg .grid{stroke:#eef0f3;stroke-width:1}
.chart-svg .axis{stroke:#ced4da;stroke-width:1}
.chart-svg .zero{stroke:#868e96;stroke-width:1}
.chart-svg .line{fill:none;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}
.chart-svg .mark:hover{opacity:.75}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;margin:0 0 8px;padding:0;list-style:none;font-size:12px;
color:#495057}
.legend li{display:flex;align-items:center;gap:6px;overflow-wrap:anywhere}
.swatch{width:10px;height:10px;border-radius:3px;flex:none}
.empty{display:flex;align-items:center;justify-content:center;min-height:180px;border:1px dashed #ced4da;
border-radius:10px;color:#868e96;font-size:14px;background:#fafbfc;text-align:center;padding:16px}
footer{margin-top:36px;color:#868e96;font-size:12px;border-top:1px solid #e9ecef;padding-top:14px}
@media (max-width:560px){main{padding:20px 12px 32px}h1{font-size:24px}.kpi-value{font-size:22px}
.card{padding:14px 12px 10px}
.chart-svg.days text{font-size:20px}.chart-svg.heat text{font-size:28px}.chart-svg .alt{display:none}}
"""

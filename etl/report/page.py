"""The report's HTML page: header, key figures and one card per chart, styled inline.

The markup is in ``templates/`` beside this module (``page.html``, ``section.html``, ``card.html``,
``kpi.html`` and ``report.css``), filled with :class:`string.Template`; a template's lines are joined
without the line breaks, which are there for the reader. Every text from the data goes through
:func:`etl.report.charts.esc` before it reaches a template; the page loads nothing from anywhere.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from string import Template
from typing import Any

from . import charts
from .charts import DayAxis, Series, esc, fmt_count, long_date
from .marts import SILENT_DAYS, UNANSWERED_ROWS, Chat, ReportData

__all__ = ["COHORTS", "QUESTION_CHARS", "TOP_USERS", "render_page"]

TOP_USERS = 6
COHORTS = 12  # the latest cohort weeks in the retention heat map, each over its first weeks as many
QUESTION_CHARS = 280  # an unanswered question's text is cut after this many characters


@dataclass(frozen=True)
class Card:
    key: str
    title: str
    note: str
    content: str | None  # an <svg> chart or a <table>; None: the "no data" panel
    empty: str
    legend: str = ""
    wide: bool = False

    @property
    def state(self) -> str:
        if self.content is None:
            return "empty"
        return "table" if self.content.startswith("<table") else "chart"


def render_page(chat: Chat, data: ReportData, source: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The whole HTML document, and the ids of the charts drawn and of those without data."""
    cards = {c.key: c for c in _cards(data)}
    sections = [
        ("Activity", "", ["daily-messages", "user-messages", "message-length", "member-changes"]),
        ("Engagement", "", ["active-users", "retention", "reactions", "top-repliers", "silent-members"]),
        ("Rhythm", "", ["heatmap"]),
        ("Answers", "", ["reply-rate", "reply-times"]),
        (
            "Questions",
            "",
            ["question-rates", "answer-times", "answered-by", "question-topics", "unanswered-questions"],
        ),
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
        tuple(c.key for c in ordered if c.content is not None),
        tuple(c.key for c in ordered if c.content is None),
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
    content = card.content if card.content is not None else f'<div class="empty">{esc(card.empty)}</div>'
    return _template("card.html").substitute(
        wide=" wide" if card.wide else "",
        key=card.key,
        state=card.state,
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


def _names(data: ReportData) -> dict[int, str]:
    """Every sender's latest first name (else @username, else 'user <id>'), told apart when two share one."""
    latest: dict[int, tuple[str | None, str | None]] = {}
    for _day, user_id, first_name, username, _messages in data.user_days:
        latest[int(user_id)] = (first_name, username)  # rows come by day: the latest name wins
    labels = {
        u: first or (f"@{username}" if username else f"user {u}") for u, (first, username) in latest.items()
    }
    counts: dict[str, int] = {}
    for label in labels.values():
        counts[label] = counts.get(label, 0) + 1
    for u, (_first, username) in latest.items():
        if counts[labels[u]] > 1:
            labels[u] += f" (@{username})" if username else f" ({u})"
    return labels


def _name(names: dict[int, str], user_id: int) -> str:
    return names.get(int(user_id), f"user {user_id}")


def _cohorts(data: ReportData) -> list[tuple[date, int, list[int]]]:
    """The latest :data:`COHORTS` cohort weeks, each with its active people of its first weeks."""
    sizes: dict[date, int] = {}
    active: dict[date, dict[int, int]] = {}
    for week, since, size, users in data.retention:
        sizes[week] = int(size)
        active.setdefault(week, {})[int(since)] = int(users)
    weeks = sorted(sizes)[-COHORTS:]
    return [
        (w, sizes[w], [active[w].get(i, 0) for i in range(min(COHORTS, max(active[w]) + 1))]) for w in weeks
    ]


def _one_line(text: str | None, limit: int) -> str:
    """Text on one line (control characters and runs of white space made one space), cut at ``limit``."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _unanswered_table(data: ReportData, names: dict[int, str]) -> str | None:
    """The most recent unanswered questions as a table, every cell escaped."""
    if not data.unanswered:
        return None
    head = "".join(
        f'<th scope="col" class="col-{h.lower()}">{h}</th>' for h in ("Asked", "By", "Topic", "Question")
    )
    rows = "".join(
        f'<tr class="row"><td>{esc(long_date(asked_date))}</td>'
        f"<td>{esc(_name(names, user_id))}</td><td>{esc(topic)}</td>"
        f"<td>{esc(_one_line(text, QUESTION_CHARS))}</td></tr>"
        for asked_date, _asked_at, user_id, topic, text in data.unanswered
    )
    return f'<table class="list"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _percent(value: float) -> str:
    return f"{value:.0%}"


def _minutes(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def _cards(data: ReportData) -> list[Card]:
    axis = DayAxis(data.start, data.end) if data.start and data.end else None

    def by_day(values: Mapping[date, float], draw: Callable[[DayAxis], str]) -> str | None:
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

    def absent(mart: str, text: str) -> str:
        """The panel's text: ``text``, or that the database predates ``mart``."""
        if mart in data.absent:
            return f"This database has no {mart} mart (built by an older tgpipe): run dbt build again."
        return text

    names = _names(data)
    # Engagement
    dau = Series("daily", charts.PALETTE[0], {r[0]: float(r[1]) for r in data.active})
    wau = Series("weekly", charts.PALETTE[1], {r[0]: float(r[2]) for r in data.active})
    mau = Series("monthly", charts.PALETTE[2], {r[0]: float(r[3]) for r in data.active})
    new_users = {r[0]: f"{r[4]} new" for r in data.active if r[4]}
    cohorts = _cohorts(data)
    reactions = [(str(r[0]), float(r[1])) for r in data.reactions]
    reaction_notes = [f"{r[2]} taken back, net {r[3]:+}" for r in data.reactions]
    repliers = [(_name(names, r[0]), float(r[1])) for r in data.repliers]
    replier_notes = [f"to {r[2]} {'person' if r[2] == 1 else 'people'}" for r in data.repliers]
    silent = [(_name(names, r[0]), float(r[1])) for r in data.silent]
    silent_notes = [
        f"last message {long_date(r[2].date())} {r[2]:%H:%M} UTC, {r[3]} messages in all" for r in data.silent
    ]
    # Questions
    dq = data.daily_questions
    answer_rate = Series("answered", charts.PALETTE[2], {r[0]: float(r[8]) for r in dq if r[8] is not None})
    resolution_rate = Series(
        "resolved", charts.PALETTE[0], {r[0]: float(r[9]) for r in dq if r[9] is not None}
    )
    question_notes = {r[0]: f"{r[2]} answered, {r[3]} resolved of {r[1]} questions" for r in dq}
    answer_minutes = {r[0]: float(r[7]) for r in dq if r[7] is not None}
    answered_notes = {r[0]: f"{r[2]} of {r[1]} questions answered" for r in dq}
    by_bot = Series("bot", charts.PALETTE[4], {r[0]: float(r[5]) for r in dq if r[5]})
    by_people = Series("people", charts.PALETTE[1], {r[0]: float(r[6]) for r in dq if r[6]})
    topics = [(str(r[0]), float(r[1])) for r in data.topics]
    topic_notes = [f"{r[2]} answered, {r[3]} resolved, {r[4]} unanswered" for r in data.topics]

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
            "active-users",
            "Active people",
            "Distinct people who posted that day, in the 7 days and in the 30 days ending that day.",
            by_day(
                dau.values,
                lambda a: charts.day_lines(
                    a,
                    [mau, wau, dau],  # drawn in this order: the daily line on top where they meet
                    "people",
                    "Daily, weekly and monthly active people",
                    details=new_users,
                ),
            ),
            absent("active_users", "Nobody posted in this period."),
            legend=charts.legend([dau, wau, mau]) if data.active else "",
        ),
        Card(
            "retention",
            "Retention by first week",
            "People by the week of their first message, and the share of them who posted in each week since.",
            charts.cohort_heatmap(cohorts, "Retention of weekly cohorts") if cohorts else None,
            absent("retention_cohorts", "Nobody posted in this period."),
        ),
        Card(
            "reactions",
            "Top reactions",
            "Reactions added over the whole period; the hover text adds those taken back.",
            charts.hbars(reactions, charts.PALETTE[6], "added", "Top reactions", details=reaction_notes)
            if reactions
            else None,
            absent("daily_reactions", "No reactions in this period."),
        ),
        Card(
            "top-repliers",
            "Most active repliers",
            "Replies to someone else's message, per person who replied.",
            charts.hbars(
                repliers, charts.PALETTE[5], "replies", "Most active repliers", details=replier_notes
            )
            if repliers
            else None,
            absent("reply_pairs", "Nobody replied to anyone in this period."),
        ),
        Card(
            "silent-members",
            "Gone silent",
            f"Members who posted before but not in the last {SILENT_DAYS} days, by days since they last did.",
            charts.hbars(
                silent, charts.PALETTE[7], "days silent", "Members gone silent", details=silent_notes
            )
            if silent
            else None,
            absent("member_roster", f"Everyone who posted did so in the last {SILENT_DAYS} days."),
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
            "question-rates",
            "Answered and resolved",
            "Share of each day's questions that got an answer, and that the asker marked solved.",
            by_day(
                answer_rate.values,
                lambda a: charts.day_lines(
                    a,
                    [answer_rate, resolution_rate],
                    "",
                    "Answer and resolution rates per day",
                    top=1.0,
                    fmt=_percent,
                    tick_fmt=_percent,
                    details=question_notes,
                ),
            ),
            absent("daily_questions", "No questions in this period."),
            legend=charts.legend([answer_rate, resolution_rate]) if answer_rate.values else "",
        ),
        Card(
            "answer-times",
            "Time to first answer",
            "Median minutes from a question to its first answer, per day of asking.",
            by_day(
                answer_minutes,
                lambda a: charts.day_lines(
                    a,
                    [Series("minutes", charts.PALETTE[1], answer_minutes)],
                    "min (median)",
                    "Median minutes to first answer per day",
                    fmt=_minutes,
                    details=answered_notes,
                ),
            ),
            absent("daily_questions", "No question got an answer in this period."),
        ),
        Card(
            "answered-by",
            "Answered by the bot or by people",
            "Questions per day of asking whose first answer came from a bot, or from a person.",
            by_day(
                {**by_bot.values, **by_people.values},
                lambda a: charts.day_bars(
                    a, [by_bot, by_people], "questions", "First answers by bots and people"
                ),
            ),
            absent("daily_questions", "No question got an answer in this period."),
            legend=charts.legend([by_bot, by_people]) if by_bot.values or by_people.values else "",
        ),
        Card(
            "question-topics",
            "Top topics",
            "Questions per topic (from the topic keywords seed) over the whole period.",
            charts.hbars(topics, charts.PALETTE[3], "questions", "Top question topics", details=topic_notes)
            if topics
            else None,
            absent("question_topics", "No questions in this period."),
        ),
        Card(
            "unanswered-questions",
            "Unanswered questions",
            f"The {UNANSWERED_ROWS} most recent questions nobody has replied to; days are local.",
            _unanswered_table(data, names),
            absent("questions", "Every question in this period got an answer."),
            wide=True,
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

"""The report's cards: one per chart or table, each with its title, note and "no data" text, built from
the rows :mod:`etl.report.marts` read. Every text from the data reaches HTML through
:func:`etl.report.charts.esc`; :mod:`etl.report.page` lays the cards out in sections."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from . import charts
from .charts import DayAxis, Series, esc, long_date
from .marts import SILENT_DAYS, UNANSWERED_ROWS, ReportData

__all__ = ["COHORTS", "QUESTION_CHARS", "TOP_USERS", "Card", "cards"]

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


def cards(data: ReportData) -> list[Card]:
    """Every card of the report, drawn from ``data`` (a chart without data is a "no data" card)."""
    axis = DayAxis(data.start, data.end) if data.start and data.end else None
    names = _names(data)
    return [
        *_activity_cards(data, axis),
        *_engagement_cards(data, axis, names),
        *_question_cards(data, axis, names),
    ]


def _by_day(axis: DayAxis | None, values: Mapping[date, float], draw: Callable[[DayAxis], str]) -> str | None:
    return draw(axis) if axis is not None and values else None


def _ranking(rows: list[tuple[Any, ...]], color: str, unit: str, label: str) -> str | None:
    items = [(str(name), float(n)) for name, n in rows]
    return charts.hbars(items, color, unit, label) if items else None


def _absent(data: ReportData, mart: str, text: str) -> str:
    """A "no data" panel's text: ``text``, or that the database predates ``mart``."""
    if mart in data.absent:
        return f"This database has no {mart} mart (built by an older tgpipe): run dbt build again."
    return text


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


def _activity_cards(data: ReportData, axis: DayAxis | None) -> list[Card]:
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

    return [
        Card(
            "daily-messages",
            "Messages per day",
            "New messages each day; edits and service messages are not counted.",
            _by_day(
                axis,
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
            _by_day(
                axis,
                user_values,
                lambda a: charts.day_bars(a, users, "messages", "Messages per user per day"),
            ),
            "No messages from users in this period.",
            legend=charts.legend(users) if users else "",
        ),
        Card(
            "message-length",
            "Average message length",
            "Characters per text message (an emoji counts one), averaged per day.",
            _by_day(
                axis,
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
            _by_day(
                axis, member_values, lambda a: charts.diverging_day_bars(a, joined, left, "Joins and leaves")
            ),
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
            _by_day(
                axis,
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
            _by_day(
                axis,
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
            _ranking(data.types, charts.PALETTE[4], "messages", "Message types"),
            "No messages in this period.",
        ),
        Card(
            "bot-commands",
            "Top commands",
            "The most used /commands, without @botname.",
            _ranking(data.commands, charts.PALETTE[5], "uses", "Top commands"),
            "No bot commands in this period.",
        ),
        Card(
            "top-terms",
            "Top terms",
            "Most used words, without stop words, links, mentions and numbers.",
            _ranking(data.terms, charts.PALETTE[3], "uses", "Top terms"),
            "No words to count in this period.",
        ),
    ]


def _engagement_cards(data: ReportData, axis: DayAxis | None, names: dict[int, str]) -> list[Card]:
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

    return [
        Card(
            "active-users",
            "Active people",
            "Distinct people who posted that day, in the 7 days and in the 30 days ending that day.",
            _by_day(
                axis,
                dau.values,
                lambda a: charts.day_lines(
                    a,
                    [mau, wau, dau],  # drawn in this order: the daily line on top where they meet
                    "people",
                    "Daily, weekly and monthly active people",
                    details=new_users,
                ),
            ),
            _absent(data, "active_users", "Nobody posted in this period."),
            legend=charts.legend([dau, wau, mau]) if data.active else "",
        ),
        Card(
            "retention",
            "Retention by first week",
            "People by the week of their first message, and the share of them who posted in each week since.",
            charts.cohort_heatmap(cohorts, "Retention of weekly cohorts") if cohorts else None,
            _absent(data, "retention_cohorts", "Nobody posted in this period."),
        ),
        Card(
            "reactions",
            "Top reactions",
            "Reactions added over the whole period; the hover text adds those taken back.",
            charts.hbars(reactions, charts.PALETTE[6], "added", "Top reactions", details=reaction_notes)
            if reactions
            else None,
            _absent(data, "daily_reactions", "No reactions in this period."),
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
            _absent(data, "reply_pairs", "Nobody replied to anyone in this period."),
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
            _absent(data, "member_roster", f"Everyone who posted did so in the last {SILENT_DAYS} days."),
        ),
    ]


def _question_cards(data: ReportData, axis: DayAxis | None, names: dict[int, str]) -> list[Card]:
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
            "question-rates",
            "Answered and resolved",
            "Share of each day's questions that got an answer, and that the asker marked solved.",
            _by_day(
                axis,
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
            _absent(data, "daily_questions", "No questions in this period."),
            legend=charts.legend([answer_rate, resolution_rate]) if answer_rate.values else "",
        ),
        Card(
            "answer-times",
            "Time to first answer",
            "Median minutes from a question to its first answer, per day of asking.",
            _by_day(
                axis,
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
            _absent(data, "daily_questions", "No question got an answer in this period."),
        ),
        Card(
            "answered-by",
            "Answered by the bot or by people",
            "Questions per day of asking whose first answer came from a bot, or from a person.",
            _by_day(
                axis,
                {**by_bot.values, **by_people.values},
                lambda a: charts.day_bars(
                    a, [by_bot, by_people], "questions", "First answers by bots and people"
                ),
            ),
            _absent(data, "daily_questions", "No question got an answer in this period."),
            legend=charts.legend([by_bot, by_people]) if by_bot.values or by_people.values else "",
        ),
        Card(
            "question-topics",
            "Top topics",
            "Questions per topic (from the topic keywords seed) over the whole period.",
            charts.hbars(topics, charts.PALETTE[3], "questions", "Top question topics", details=topic_notes)
            if topics
            else None,
            _absent(data, "question_topics", "No questions in this period."),
        ),
        Card(
            "unanswered-questions",
            "Unanswered questions",
            f"The {UNANSWERED_ROWS} most recent questions nobody has replied to; days are local.",
            _unanswered_table(data, names),
            _absent(data, "questions", "Every question in this period got an answer."),
            wide=True,
        ),
    ]

"""The report's HTML page: header, key figures and the cards of :mod:`etl.report.cards` in sections,
styled inline.

The markup is in ``templates/`` beside this module (``page.html``, ``section.html``, ``card.html``,
``kpi.html`` and ``report.css``), filled with :class:`string.Template`; a template's lines are joined
without the line breaks, which are there for the reader. Every text from the data goes through
:func:`etl.report.charts.esc` before it reaches a template; the page loads nothing from anywhere.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from string import Template

from .cards import Card, cards
from .charts import esc, fmt_count, long_date
from .marts import Chat, ReportData

__all__ = ["render_page"]


def render_page(chat: Chat, data: ReportData, source: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The whole HTML document, and the ids of the charts drawn and of those without data."""
    by_key = {c.key: c for c in cards(data)}
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
            name=name, grid_class=cls, cards="".join(_card_html(by_key[k]) for k in keys)
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
    ordered = [by_key[k] for _name, _cls, keys in sections for k in keys]
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

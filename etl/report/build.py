"""``tgpipe report``: one self-contained HTML file of charts for one chat, read from the DuckDB marts.

The file needs nothing but a browser: no CDN, no script, no external asset. The marts are read by
:mod:`etl.report.marts`, the page is composed by :mod:`etl.report.page` with inline SVG charts drawn
by :mod:`etl.report.charts`; hover text is SVG ``<title>``. Every text that comes from the chat
(title, names, commands, terms) is user content and is escaped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .marts import read_marts
from .page import render_page

__all__ = ["ReportSummary", "build_report"]


@dataclass(frozen=True)
class ReportSummary:
    """What was written, for the command line and the demo."""

    out_path: Path
    chat_id: int
    chat_title: str | None
    first_date: date | None
    last_date: date | None
    messages: int
    users: int
    charts: tuple[str, ...]  # ids of the charts drawn
    empty_charts: tuple[str, ...]  # ids of the charts shown as a "no data" panel


def build_report(duckdb_path: str | Path, chat_id: int | None, out_path: str | Path) -> ReportSummary:
    """Write the HTML report of one chat (``chat_id``, or the only chat in the lake) to ``out_path``."""
    db = Path(duckdb_path)
    chat, data = read_marts(db, chat_id)
    page, drawn, empty = render_page(chat, data, source=str(db))
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")  # same folder: the rename is atomic
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)  # a reader never sees half a report
    return ReportSummary(
        out_path=out,
        chat_id=chat.chat_id,
        chat_title=chat.title,
        first_date=data.start,
        last_date=data.end,
        messages=chat.messages,
        users=chat.users,
        charts=drawn,
        empty_charts=empty,
    )

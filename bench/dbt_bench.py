"""dbt benchmark: the marts on DuckDB over a generated year of a busy group, full build against the
nightly (incremental) build of one more day, side by side in one run.

    .venv/bin/python bench/dbt_bench.py [--days 365] [--messages 1050000] [--keep DIR]

1. Generates the enriched lake directly as Parquet (the ETL's declared schemas, compression and row
   groups, etl.transform.schema): one busy group over ``--days`` days of receipt, at least
   ``--messages`` new messages growing through the year, with edits, replies, forum topics, service
   messages, redeliveries on the next day, reactions (added, taken back, anonymous totals), member
   events and entities in proportion.
2. ``dbt build`` over the year (the first build: every model from scratch).
3. Adds one more day (edits, replies and reactions of older messages, a redelivery of yesterday's
   update included) and runs the nightly ``dbt build`` (incremental models process the changed days),
   then ``dbt build --full-refresh`` of a copy of the same database over the same lake.
4. Prints each model's build time (run_results.json), the data tests' and the whole process's, for
   the three builds side by side, and whether the nightly tables hold exactly the full refresh's rows.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from bisect import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from etl.transform.schema import COMPRESSION, ENTITIES, MEMBER_EVENTS, MESSAGES, REACTIONS, ROW_GROUP_ROWS

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "dbt_project"
BIN = Path(sys.executable).parent
TZ_NAME = "America/Sao_Paulo"
TZ = ZoneInfo(TZ_NAME)
FIRST_DAY = date(2025, 1, 6)  # a Monday

GROUP_ID = -1001234567890
GROUP_TITLE = "Grupo de Suporte"
HELPER_BOT = 900_000_001
MEDIA = [("photo", 8), ("sticker", 5), ("voice", 3), ("document", 3), ("animation", 2), ("video", 2)]
EMOJI = [("👍", 10), ("❤", 6), ("🔥", 4), ("😂", 5), ("👀", 2), ("🎉", 2)]
# Local hour of day -> relative activity (a group that sleeps at night).
HOURS = [1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 15, 14, 12, 13, 14, 14, 13, 12, 11, 12, 12, 10, 6, 3]
SYLLABLES = [c + v for c in "bcdfglmnprstvz" for v in "aeiou"]
COMMON = [
    *("boleto", "pix", "pagamento", "fatura", "senha", "login", "conta", "acesso", "erro", "aplicativo"),
    *("cartao", "suporte", "ajuda", "invoice", "payment", "password", "account", "error", "app"),
    *("update", "help", "the", "and", "para", "com", "que", "uma"),
]
QUESTION_OPENINGS = ["como", "qual", "quando", "onde", "how", "what", "where", "alguém"]
THANKS = ["obrigado", "valeu", "thanks", "resolvido"]
COMMANDS = ["/help", "/start", "/boleto", "/status"]


def _words(rng: random.Random, n: int) -> list[str]:
    """n made-up words (2-4 syllables) and the common ones: a vocabulary with a Zipf-like use."""
    made = {"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(n)}
    return COMMON + sorted(made)


@dataclass
class Message:
    update_id: int
    message_id: int
    user: int
    sent: int  # Unix seconds
    day: date  # day of receipt
    text: str | None
    thread: int | None


@dataclass
class Day:
    """One day of receipt's rows, table by table, in the ETL's row-tuple order."""

    messages: list[tuple[Any, ...]] = field(default_factory=list)
    reactions: list[tuple[Any, ...]] = field(default_factory=list)
    member_events: list[tuple[Any, ...]] = field(default_factory=list)
    entities: list[tuple[Any, ...]] = field(default_factory=list)


class Group:
    """A busy supergroup day after day: ids grow with time, as Telegram assigns them."""

    def __init__(self, seed: int = 2025) -> None:
        self.rng = random.Random(seed)
        self.vocabulary = _words(self.rng, 6000)
        self.word_weights = list(accumulate(1.0 / (rank + 1) for rank in range(len(self.vocabulary))))
        self.users = list(range(100_001, 100_001 + 2500))
        self.user_weights = list(accumulate(1.0 / (rank + 1) ** 0.8 for rank in range(len(self.users))))
        self.members: set[int] = set(self.users[:1200])
        self.hour_weights = list(accumulate(HOURS))
        self.media_types, media_weights = zip(*MEDIA, strict=True)
        self.media_weights = list(accumulate(media_weights))
        self.emoji, emoji_weights = zip(*EMOJI, strict=True)
        self.emoji_weights = list(accumulate(emoji_weights))
        self.next_update = 500_000_000
        self.next_message = 1
        self.recent: list[Message] = []  # the last messages, for replies, edits and reactions
        self.topics = [0]  # forum threads (0: none)
        self.redelivered: list[tuple[Any, ...]] = []  # yesterday's rows received again today

    # --- pieces -----------------------------------------------------------------------------

    def user(self) -> int:
        return self.users[bisect(self.user_weights, self.rng.random() * self.user_weights[-1])]

    def sentence(self, low: int, high: int) -> str:
        rng, vocabulary, weights = self.rng, self.vocabulary, self.word_weights
        total = weights[-1]
        return " ".join(
            vocabulary[bisect(weights, rng.random() * total)] for _ in range(rng.randint(low, high))
        )

    def moment(self, day: date) -> int:
        """A local moment of ``day`` in the group's zone, as Unix seconds."""
        hour = bisect(self.hour_weights, self.rng.random() * self.hour_weights[-1])
        local = datetime(day.year, day.month, day.day, hour, tzinfo=TZ)
        return int(local.timestamp()) + self.rng.randrange(3600)

    def update_id(self) -> int:
        self.next_update += self.rng.randint(1, 2)
        return self.next_update

    # --- one day --------------------------------------------------------------------------------

    def day(self, day: date, new_messages: int) -> Day:
        """Every update received on ``day`` (in TGPIPE_TIMEZONE): the day's messages, edits, reactions,
        joins and leaves, and the redeliveries of yesterday's last updates."""
        rng = self.rng
        out = Day()
        events: list[tuple[int, int, Any]] = []  # (time, order, what): sorted, then given update ids
        for _ in range(new_messages):
            events.append((self.moment(day), 0, None))
        for _ in range(max(1, new_messages // 30)):  # edits: mostly of today's or yesterday's messages
            events.append((self.moment(day), 1, None))
        for _ in range(new_messages // 3):  # reactions (a change of one person's reactions)
            events.append((self.moment(day), 2, None))
        for _ in range(rng.randint(6, 14)):  # joins and leaves
            events.append((self.moment(day), 3, None))
        if rng.random() < 0.03:  # a new forum topic now and then
            events.append((self.moment(day), 4, None))
        events.sort()
        for at, kind, _ in events:
            if kind == 0:
                self.new_message(out, day, at)
            elif kind == 1 and self.recent:
                self.edit(out, day, at)
            elif kind == 2 and self.recent:
                self.reaction(out, day, at)
            elif kind == 3:
                self.membership(out, day, at)
            elif kind == 4:
                self.topic(out, day, at)
        # Telegram saw no 2xx for a few of today's last updates: their copies land in tomorrow's
        # partition (staging keeps the first receipt).
        own = out.messages[-40:]
        out.messages.extend(self.redelivered)
        self.redelivered = [row for row in own if rng.random() < 0.15]
        return out

    def message_row(self, m: Message, **fields: Any) -> tuple[Any, ...]:
        row = {
            "update_id": m.update_id,
            "update_kind": "message",
            "message_id": m.message_id,
            "chat_id": GROUP_ID,
            "chat_type": "supergroup",
            "chat_title": GROUP_TITLE,
            "from_id": m.user,
            "from_is_bot": m.user == HELPER_BOT,
            "from_first_name": f"User {m.user % 10_000}",
            "from_username": f"user{m.user}" if m.user % 3 else None,
            "sender_chat_id": None,
            "date": m.sent,
            "edit_date": None,
            "message_type": "text",
            "text": m.text,
            "caption": None,
            "reply_to_message_id": None,
            "message_thread_id": m.thread,
            "is_forwarded": False,
            "bot_command": None,
            "new_chat_members_count": None,
            "left_chat_member_id": None,
            "service_kind": None,
            "topic_name": None,
            "migrate_to_chat_id": None,
            "migrate_from_chat_id": None,
            "media_group_id": None,
            "via_bot_id": None,
            "quote_text": None,
            "entity_count": 0,
        }
        row.update(fields)
        return tuple(row.values())

    def entity(self, out: Day, m: Message, kind: str, index: int, offset: int, length: int, value: str | None,
               update_kind: str = "message", in_caption: bool = False) -> None:  # fmt: skip
        out.entities.append(
            (
                m.update_id,
                update_kind,
                GROUP_ID,
                m.message_id,
                in_caption,
                index,
                kind,
                offset,
                length,
                value,
                None,
            )
        )

    def new_message(self, out: Day, day: date, at: int) -> None:
        rng = self.rng
        thread = rng.choice(self.topics) if rng.random() < 0.3 else 0
        m = Message(self.update_id(), self.next_message, self.user(), at, day, None, thread or None)
        self.next_message += 1
        fields: dict[str, Any] = {}
        entities: list[tuple[str, int, int, str | None]] = []
        roll = rng.random()
        if roll < 0.74:  # text
            text = self.sentence(2, 22)
            style = rng.random()
            if style < 0.10:
                text += "?"
            elif style < 0.14:
                text = f"{rng.choice(QUESTION_OPENINGS)} {text}"
            elif style < 0.17:
                text = f"{rng.choice(THANKS)} {text}"
            elif style < 0.19:
                command = rng.choice(COMMANDS)
                text = f"{command}@tgpipe_bot {text}" if rng.random() < 0.5 else command
                fields["bot_command"] = command
                entities.append(("bot_command", 0, len(text.split(" ")[0]), command))
            if rng.random() < 0.05:
                entities.append(("url", len(text) + 1, 27, "example.com"))
                text += " https://example.com/ajuda?id"
            if rng.random() < 0.05:
                entities.append(("mention", len(text) + 1, 9, "@user1234"))
                text += " @user1234"
            if rng.random() < 0.03:
                entities.append(("hashtag", len(text) + 1, 7, "#boleto"))
                text += " #boleto"
            if rng.random() < 0.04:
                entities.append(("bold", 0, 4, None))
            m.text = text
            fields["text"] = text
        elif roll < 0.97:  # media
            fields["message_type"] = self.media_types[
                bisect(self.media_weights, rng.random() * self.media_weights[-1])
            ]
            if rng.random() < 0.4:
                fields["caption"] = self.sentence(1, 8)
        elif roll < 0.985:  # the bot answers
            m.user = HELPER_BOT
            m.text = "Veja o menu Pagamentos > Boletos"
            fields.update(
                text=m.text, from_is_bot=True, from_first_name="HelperBot", from_username="helper_bot"
            )
        else:  # a pinned message
            fields.update(message_type="service", service_kind="pinned_message")
        if self.recent and rng.random() < 0.27:  # a reply to one of the last messages
            fields["reply_to_message_id"] = self.recent[
                -rng.randint(1, min(300, len(self.recent)))
            ].message_id
        if rng.random() < 0.03:
            fields["is_forwarded"] = True
        fields["entity_count"] = len(entities)
        fields["from_is_bot"] = m.user == HELPER_BOT
        out.messages.append(self.message_row(m, **fields))
        for index, (kind, offset, length, value) in enumerate(entities):
            self.entity(out, m, kind, index, offset, length, value)
        if fields.get("message_type", "text") != "service":
            self.recent.append(m)
            if len(self.recent) > 6000:
                del self.recent[:1000]

    def edit(self, out: Day, day: date, at: int) -> None:
        """An edit of one of the last messages with a text (one in ten of an older message)."""
        rng = self.rng
        depth = len(self.recent) if rng.random() < 0.1 else min(400, len(self.recent))
        m = self.recent[-rng.randint(1, depth)]
        if m.text is None or m.user == HELPER_BOT or at <= m.sent:
            return
        edit = Message(self.update_id(), m.message_id, m.user, m.sent, day, m.text + " (editado)", m.thread)
        out.messages.append(
            self.message_row(edit, update_kind="edited_message", edit_date=at, text=edit.text)
        )
        if edit.text.startswith("/"):
            out.entities.append(
                (
                    edit.update_id,
                    "edited_message",
                    GROUP_ID,
                    m.message_id,
                    False,
                    0,
                    "bot_command",
                    0,
                    5,
                    "/help",
                    None,
                )
            )

    def reaction(self, out: Day, day: date, at: int) -> None:
        """A person adds a reaction to a recent message; sometimes takes one back; an anonymous total."""
        rng = self.rng
        target = self.recent[-rng.randint(1, min(1500, len(self.recent)))]
        if at <= target.sent:
            return
        emoji = self.emoji[bisect(self.emoji_weights, rng.random() * self.emoji_weights[-1])]
        update_id = self.update_id()
        if rng.random() < 0.01:  # message_reaction_count: a total, not a change
            out.reactions.append((update_id, 0, GROUP_ID, target.message_id, None, None, at, emoji, None,
                                  rng.randint(1, 9), True, "message_reaction_count"))  # fmt: skip
            return
        user = self.user()
        out.reactions.append(
            (
                update_id,
                0,
                GROUP_ID,
                target.message_id,
                user,
                None,
                at,
                emoji,
                1,
                None,
                False,
                "message_reaction",
            )
        )
        if rng.random() < 0.08:  # changed to another reaction: -1 and +1 in one update
            other = self.emoji[(self.emoji.index(emoji) + 1) % len(self.emoji)]
            update_id = self.update_id()
            out.reactions.append((update_id, 0, GROUP_ID, target.message_id, user, None, at + 5, emoji, -1,
                                  None, False, "message_reaction"))  # fmt: skip
            out.reactions.append((update_id, 1, GROUP_ID, target.message_id, user, None, at + 5, other, 1,
                                  None, False, "message_reaction"))  # fmt: skip

    def membership(self, out: Day, day: date, at: int) -> None:
        """A join by link (chat_member update and its service message) or a leave."""
        rng = self.rng
        user = self.users[rng.randrange(len(self.users))]
        name = f"User {user % 10_000}"
        joining = user not in self.members
        event, old, new = ("joined", "left", "member") if joining else ("left", "member", "left")
        (self.members.add if joining else self.members.discard)(user)
        update_id = self.update_id()
        out.member_events.append((update_id, GROUP_ID, user, False, name, None, user, at, event, old, new,
                                  "convite" if joining else None, False, "chat_member"))  # fmt: skip
        m = Message(self.update_id(), self.next_message, user, at, day, None, None)
        self.next_message += 1
        if joining:
            out.messages.append(self.message_row(m, message_type="service", new_chat_members_count=1,
                                                 service_kind="new_chat_members"))  # fmt: skip
        else:
            out.messages.append(self.message_row(m, message_type="service", left_chat_member_id=user,
                                                 service_kind="left_chat_member"))  # fmt: skip
        out.member_events.append((m.update_id, GROUP_ID, user, False, name, None, user, at, event, None, None,
                                  None, False, "service_message"))  # fmt: skip

    def topic(self, out: Day, day: date, at: int) -> None:
        m = Message(self.update_id(), self.next_message, self.user(), at, day, None, None)
        self.next_message += 1
        self.topics.append(m.message_id)
        out.messages.append(self.message_row(m, message_type="service", service_kind="forum_topic_created",
                                             topic_name=f"Tópico {len(self.topics)}"))  # fmt: skip


def messages_on(index: int, days: int, total: int) -> int:
    """New messages on day ``index``: a group that grows through the year, quieter at weekends."""
    growth = [0.6 + 0.8 * i / max(1, days - 1) for i in range(days)]
    weekday = [0.7 if (FIRST_DAY + timedelta(days=i)).weekday() >= 5 else 1.0 for i in range(days)]
    weights = [g * w for g, w in zip(growth, weekday, strict=True)]
    return round(total * weights[index] / sum(weights)) + 1


def write_day(enriched: Path, day: date, rows: Day) -> dict[str, int]:
    """The day's four partitions as the ETL writes them (each table a file, an empty one included)."""
    processed = datetime.combine(day + timedelta(days=1), datetime.min.time(), TZ).replace(minute=15)
    processed_at = pa.scalar(processed.astimezone(UTC), MESSAGES.schema.field("context_timestamp").type)
    counts = {}
    for table, table_rows in (
        (MESSAGES, rows.messages),
        (REACTIONS, rows.reactions),
        (MEMBER_EVENTS, rows.member_events),
        (ENTITIES, rows.entities),
    ):
        columns = list(zip(*table_rows, strict=True)) if table_rows else [() for _ in table.row_fields]
        arrays = [pa.array(values, type=table.schema.field(i).type) for i, values in enumerate(columns)]
        arrays.append(pa.repeat(processed_at, len(table_rows)))
        folder = enriched / table.name / f"context_date={day.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            pa.Table.from_arrays(arrays, schema=table.schema),
            folder / "part-00000.parquet",
            compression=COMPRESSION,
            row_group_size=ROW_GROUP_ROWS,
        )
        counts[table.name] = len(table_rows)
    return counts


# --- dbt ------------------------------------------------------------------------------------------


@dataclass
class Build:
    label: str
    wall: float
    models: dict[str, float]
    tests: float
    tests_count: int
    status: str
    incremental: set[str]  # the models materialized incremental


def dbt_build(work: Path, env: dict[str, str], label: str, *args: str) -> Build:
    """`dbt build` as the README runs it; each node's time from run_results.json."""
    target = work / f"target-{label}"
    command = [str(BIN / "dbt"), "build", "--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT)]
    command += ["--target-path", str(target), "--log-path", str(work / "logs"), *args]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=work, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    models = {
        r["unique_id"].split(".")[-1]: r["execution_time"]
        for r in results
        if r["unique_id"].startswith("model.")
    }
    tests = [r for r in results if r["unique_id"].startswith(("test.", "unit_test."))]
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    incremental = {
        n["name"] for n in manifest["nodes"].values() if n["config"].get("materialized") == "incremental"
    }
    failed = [r["unique_id"] for r in results if r["status"] not in ("success", "pass")]
    status = "ok" if done.returncode == 0 else f"exit {done.returncode}: {', '.join(failed[:5])}"
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:])
    return Build(
        label, wall, models, sum(r["execution_time"] for r in tests), len(tests), status, incremental
    )


def compare(nightly_db: Path, refreshed_db: Path, tables: list[str]) -> list[str]:
    """Tables whose rows differ (as multisets) between the two databases."""
    import duckdb

    different = []
    with duckdb.connect() as connection:
        connection.execute(f"attach '{nightly_db}' as nightly (read_only)")
        connection.execute(f"attach '{refreshed_db}' as refreshed (read_only)")
        for table in tables:
            # Averages and medians of doubles may differ in the last bits with the order of summing.
            columns = ", ".join(
                f"round({name}, 9)" if kind in ("DOUBLE", "FLOAT") else name
                for name, kind in connection.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_catalog = 'refreshed' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
            )
            if not columns:  # not built (a failed build)
                different.append(table)
                continue
            nightly, refreshed = (
                f"select {columns} from {db}.main.{table}"  # noqa: S608 - the models' own names
                for db in ("nightly", "refreshed")
            )
            query = (
                f"select count(*) from (({nightly} except all {refreshed}) "  # noqa: S608
                f"union all ({refreshed} except all {nightly}))"
            )
            if connection.execute(query).fetchone() != (0,):
                different.append(table)
    return different


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--days", type=int, default=365, help="days of receipt in the lake before the nightly one"
    )
    parser.add_argument("--messages", type=int, default=1_050_000, help="new messages over those days")
    parser.add_argument(
        "--keep", type=Path, help="work in this folder and keep it (default: a temporary one)"
    )
    options = parser.parse_args(argv)

    work = (options.keep or Path(tempfile.mkdtemp(prefix="tgpipe-dbt-bench-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    enriched = work / "enriched"
    shutil.rmtree(enriched, ignore_errors=True)
    try:
        group = Group()
        started = time.perf_counter()
        totals: dict[str, int] = defaultdict(int)
        for index in range(options.days):
            day = FIRST_DAY + timedelta(days=index)
            for name, n in write_day(
                enriched, day, group.day(day, messages_on(index, options.days, options.messages))
            ).items():
                totals[name] += n
        generated = time.perf_counter() - started
        new_day = FIRST_DAY + timedelta(days=options.days)
        print(
            f"lake: {options.days} days of receipt from {FIRST_DAY}, {TZ_NAME}; rows "
            + ", ".join(f"{name} {n:,}" for name, n in totals.items())
            + f" (generated in {generated:.1f} s)"
        )

        env = {k: v for k, v in os.environ.items() if not k.startswith(("TGPIPE_", "DBT_"))}
        env.update(
            TGPIPE_ENRICHED_URI=str(enriched),
            TGPIPE_DUCKDB_PATH=str(work / "tgpipe.duckdb"),
            TGPIPE_TIMEZONE=TZ_NAME,
            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        (work / "tgpipe.duckdb").unlink(missing_ok=True)
        first = dbt_build(work, env, "first")

        nightly_rows = write_day(
            enriched,
            new_day,
            group.day(new_day, messages_on(options.days - 1, options.days, options.messages)),
        )
        print(
            f"nightly day {new_day}: rows " + ", ".join(f"{name} {n:,}" for name, n in nightly_rows.items())
        )
        nightly = dbt_build(work, env, "nightly")

        shutil.copyfile(work / "tgpipe.duckdb", work / "refreshed.duckdb")
        refreshed = dbt_build(
            work, {**env, "TGPIPE_DUCKDB_PATH": str(work / "refreshed.duckdb")}, "refresh", "--full-refresh"
        )

        builds = [first, nightly, refreshed]
        heads = [f"first build ({options.days} d)", "nightly (+1 d)", f"full refresh ({options.days + 1} d)"]
        incremental = nightly.incremental
        width = max(len(m) for m in first.models) + 4
        print()
        print(f"{'model (* incremental)':<{width}}" + "".join(f"{h:>22}" for h in heads))
        for model in sorted(first.models, key=lambda m: -first.models[m]):
            name = f"{model} *" if model in incremental else model
            print(
                f"{name:<{width}}" + "".join(f"{b.models.get(model, float('nan')):>20.2f} s" for b in builds)
            )
        for label, chosen in (
            (f"{len(incremental)} incremental models", lambda m: m in incremental),
            (f"{len(first.models) - len(incremental)} other models", lambda m: m not in incremental),
            ("all models", lambda m: True),
        ):
            print(
                f"{label:<{width}}"
                + "".join(f"{sum(t for m, t in b.models.items() if chosen(m)):>20.2f} s" for b in builds)
            )
        print(f"{'data + unit tests':<{width}}" + "".join(f"{b.tests:>20.2f} s" for b in builds))
        print(f"{'dbt build (process)':<{width}}" + "".join(f"{b.wall:>20.2f} s" for b in builds))
        print(f"{'status':<{width}}" + "".join(f"{b.status:>22}" for b in builds))
        different = compare(work / "tgpipe.duckdb", work / "refreshed.duckdb", sorted(first.models))
        print(
            "nightly == full refresh: "
            + ("every model's rows equal" if not different else "DIFFERENT: " + ", ".join(different))
        )
    finally:
        if options.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

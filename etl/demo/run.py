"""`tgpipe demo`: the whole pipeline on one machine, as a new user would run it by hand.

1. generate a week of a support group's conversation (:mod:`etl.demo.traffic`);
2. start the real webhook (`tgpipe serve`, i.e. `chalice local`) and POST every delivery over HTTP,
   with the secret header (and a few without, which must be refused);
3. run the ETL for every day the raw lake received;
4. `dbt build` the models on DuckDB;
5. print a short summary from the marts and write the HTML report.

Everything lives under one folder (default ``lake/demo``), cleared at the start, so the demo can be
run any number of times and never touches a real lake.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ..checkout import checkout_root, dbt_project
from ..config import child_environment
from ..errors import TgpipeError
from .traffic import DEMO_CHAT, Delivery, conversation

__all__ = ["DemoError", "run_demo"]

TIMEZONE = "America/Sao_Paulo"
_STATUS = {"stored": 200, "ignored_chat": 200, "quarantined": 200, "unauthorized": 401}


class DemoError(TgpipeError):
    """A step of the demo failed; the message says which and why."""


@dataclass
class DemoSummary:
    deliveries: int
    answers: dict[str, int]
    raw_days: list[str]
    report: Path


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _post(url: str, delivery: Delivery, secret: str) -> int:
    headers = {"Content-Type": "application/json"}
    if delivery.authenticated:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=delivery.body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code


def _run(step: str, cmd: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, cwd=checkout_root())  # noqa: S603
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise DemoError(f"{step} failed (exit {result.returncode}):\n{tail}")
    return result.stdout


def _serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    with log.open("wb") as sink:
        proc = subprocess.Popen(  # noqa: S603 - our own console script
            [_bin("tgpipe"), "serve", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=sink,
            cwd=checkout_root(),
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DemoError(f"the webhook did not start:\n{log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}/webhook"
        except OSError:
            time.sleep(0.1)
    _stop(proc)
    raise DemoError("the webhook did not start within 60 s")


_MARKER = ".tgpipe-demo"


def _fresh_folder(folder: Path) -> Path:
    """Clear the demo's folder, but only one the demo made (it carries a marker) or an empty one."""
    if folder.exists():
        if not (folder / _MARKER).is_file() and any(folder.iterdir()):
            raise DemoError(
                f"{folder} is not empty and was not made by tgpipe demo: choose another --lake folder"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / _MARKER).write_text("made by tgpipe demo; cleared at its next run\n")
    return folder


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_demo(
    lake: Path, days: int = 7, echo: Callable[[str], None] = print, end: date | None = None
) -> DemoSummary:
    """Run the whole pipeline on a generated conversation under ``lake``, ending on ``end`` (default:
    yesterday in the demo's time zone; the same ``end`` always generates the same conversation)."""
    project = dbt_project("tgpipe demo")
    lake = _fresh_folder(lake.resolve())
    zone = ZoneInfo(TIMEZONE)
    secret = secrets.token_urlsafe(24)
    env = child_environment(
        {
            "TELEGRAM_CHAT_ID": str(DEMO_CHAT["id"]),
            "TELEGRAM_WEBHOOK_SECRET": secret,
            "TGPIPE_RAW_URI": str(lake / "raw"),
            "TGPIPE_ENRICHED_URI": str(lake / "enriched"),
            "TGPIPE_DUCKDB_PATH": str(lake / "tgpipe.duckdb"),
            "TGPIPE_TIMEZONE": TIMEZONE,
            "TGPIPE_LOG_LEVEL": "WARNING",
        }
    )
    last_day = end or datetime.now(zone).date() - timedelta(days=1)
    deliveries = conversation(days, last_day, zone)
    echo(f"1/5 generated {len(deliveries)} webhook deliveries: {days} days of '{DEMO_CHAT['title']}'")

    proc, url = _serve(env, lake / "webhook.log")
    answers: Counter[str] = Counter()
    try:
        for delivery in deliveries:
            status = _post(url, delivery, secret)
            answers[str(status)] += 1
            if status != _STATUS[delivery.expect]:
                raise DemoError(
                    f"delivery '{delivery.name}' was answered {status}, expected {delivery.expect}"
                )
    finally:
        _stop(proc)
    raw_days = sorted(p.name.split("=", 1)[1] for p in (lake / "raw").glob("context_date=*"))
    echo(f"2/5 posted them to {url}: answers {dict(sorted(answers.items()))}; raw days {raw_days}")

    for day in raw_days:
        line = _run(f"tgpipe etl --date {day}", [_bin("tgpipe"), "etl", "--date", day], env).strip()
        echo(f"3/5 etl {day}: {line.splitlines()[-1] if line else ''}")

    dbt = [_bin("dbt"), "build", "--project-dir", str(project), "--profiles-dir", str(project)]
    _run("dbt build", [*dbt, "--target", "local", "--quiet"], env)
    echo("4/5 dbt build: every model built and tested on DuckDB")

    report = lake / "report.html"
    _run(
        "tgpipe report",
        [_bin("tgpipe"), "report", "--db", env["TGPIPE_DUCKDB_PATH"], "--out", str(report)],
        env,
    )
    for line in summary_lines(Path(env["TGPIPE_DUCKDB_PATH"])):
        echo(line)
    echo(f"5/5 report: {report}")
    return DemoSummary(len(deliveries), dict(answers), raw_days, report)


def summary_lines(db: Path) -> list[str]:
    """Messages per day, top users and the busiest hour, read from the marts."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:

        def table(name: str) -> str:
            row = con.execute(
                "select table_schema from information_schema.tables where table_name = ?", [name]
            ).fetchone()
            if row is None:
                raise DemoError(f"mart {name} is missing from {db}")
            return f'"{row[0]}"."{name}"'

        per_day = con.execute(
            f"select message_date, messages from {table('daily_messages')} order by message_date"  # noqa: S608
        ).fetchall()
        top = con.execute(
            f"select first_name, sum(messages) as n from {table('user_daily_activity')} "  # noqa: S608
            "group by first_name order by n desc, first_name limit 3"
        ).fetchall()
        busiest = con.execute(
            f"select day_name, hour_of_day, messages from {table('hourly_activity')} "  # noqa: S608
            "order by messages desc, day_of_week, hour_of_day limit 1"
        ).fetchone()
    lines = ["   messages per day: " + ", ".join(f"{_day(d)} {n}" for d, n in per_day)]
    lines.append("   top users: " + ", ".join(f"{name} ({n})" for name, n in top))
    if busiest:
        lines.append(f"   busiest hour: {busiest[0]} {busiest[1]:02d}:00 ({busiest[2]} messages)")
    return lines


def _day(value: date | str) -> str:
    return value.isoformat()[5:] if isinstance(value, date) else str(value)[5:]

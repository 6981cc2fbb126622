"""The ``tgpipe`` command line: a thin layer over the ``etl`` package.

Every expected failure is a :class:`~etl.errors.TgpipeError`; the one handler of :class:`_Commands`
turns it into one clear line on stderr and exit code 1. Secrets never reach the output.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .checkout import chalice_project
from .config import DEFAULT_API_URL, BotSettings, IngestSettings, WebhookSettings, duckdb_path_from_env
from .errors import TgpipeError

if TYPE_CHECKING:
    from .telegram.botapi import BotApi
    from .transform.job import EtlJob

__all__ = ["main"]


class _Commands(click.Group):
    """The command group whose one handler turns an expected failure into one line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TgpipeError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tgpipe")
def main() -> None:
    """tgpipe: a Telegram group's conversation as a raw lake, Parquet and dbt models.

    Configuration comes from environment variables (see the README)."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def serve(host: str, port: int) -> None:
    """Serve the webhook locally (the real Chalice app, through `chalice local`).

    \b
    Example:
        TELEGRAM_CHAT_ID=-1001234567890 TELEGRAM_WEBHOOK_SECRET=s3cret tgpipe serve --port 8000
    """
    ingest = WebhookSettings.from_env().ingest
    project = chalice_project("tgpipe serve")
    click.echo(
        f"webhook on http://{host}:{port}/webhook -> {ingest.raw_uri} "
        f"(chats {','.join(map(str, sorted(ingest.chat_ids)))})",
        err=True,
    )
    chalice = Path(sys.executable).with_name("chalice")
    args = [str(chalice), "--project-dir", str(project), "local", "--host", host, "--port", str(port)]
    args.append("--no-autoreload")  # one process: stops cleanly, and a bad setting exits at once
    os.execv(args[0], args)  # noqa: S606 - replaces this process with the real `chalice local`


# --- the Bot API: connect a real bot ------------------------------------------------------------


def _bot_api(api_url: str | None) -> BotApi:
    """The bot from TELEGRAM_BOT_TOKEN, or a prompt that does not echo; the token is never printed."""
    from .telegram.botapi import BotApi  # the HTTP client: only the commands that call Telegram load it

    settings = BotSettings.from_env(api_url=api_url)
    token = settings.token
    if not token:
        if not sys.stdin.isatty():
            raise click.ClickException("TELEGRAM_BOT_TOKEN is required (the token @BotFather gave you)")
        token = click.prompt("Bot token (from @BotFather, not shown)", hide_input=True, err=True)
    return BotApi(token, settings.api_url or DEFAULT_API_URL)


_api_url_option = click.option(
    "--api-url",
    default=None,
    metavar="URL",
    help=f"Bot API base URL [env TELEGRAM_API_URL; default {DEFAULT_API_URL}].",
)


@main.group()
def bot() -> None:
    """The bot itself."""


@bot.command("me")
@_api_url_option
def bot_me(api_url: str | None) -> None:
    """Show who the bot is, and warn when it cannot read the group's messages.

    \b
    Example:
        TELEGRAM_BOT_TOKEN=123456:AAE... tgpipe bot me
    """
    from .telegram.botapi import printable

    me = _bot_api(api_url).call("getMe")
    click.echo(
        f"@{printable(me.get('username'))} ({printable(me.get('first_name'))}, id {printable(me.get('id'))})"
    )
    click.echo(f"can join groups: {'yes' if me.get('can_join_groups') else 'no'}")
    reads_all = bool(me.get("can_read_all_group_messages"))
    click.echo(f"can read all group messages: {'yes' if reads_all else 'no'}")
    if not reads_all:
        click.echo(
            "warning: privacy mode is on, so the bot sees only commands and replies to it. Turn it off "
            "with @BotFather (/setprivacy -> Disable), or make the bot an admin of the group.",
            err=True,
        )


@main.group()
def webhook() -> None:
    """Point Telegram at the webhook, inspect it, remove it."""


@webhook.command("set")
@click.option("--url", required=True, help="Public https URL of POST /webhook.")
@click.option("--drop-pending", is_flag=True, help="Discard updates Telegram is still holding.")
@_api_url_option
def webhook_set(url: str, drop_pending: bool, api_url: str | None) -> None:
    """Register the webhook with TELEGRAM_WEBHOOK_SECRET as its secret_token.

    \b
    Example:
        tgpipe webhook set --url https://abc123.execute-api.us-east-1.amazonaws.com/api/webhook
    """
    from .telegram.botapi import ALLOWED_UPDATES

    if not url.startswith("https://"):
        raise click.ClickException("--url must be an https:// URL (Telegram only calls https webhooks)")
    secret = WebhookSettings.from_env().webhook_secret
    params = {
        "url": url,
        "secret_token": secret,
        "allowed_updates": list(ALLOWED_UPDATES),
        "drop_pending_updates": drop_pending,
    }
    _bot_api(api_url).call("setWebhook", params)
    click.echo(f"webhook set: {url} (updates: {', '.join(ALLOWED_UPDATES)})")


@webhook.command("info")
@_api_url_option
def webhook_info(api_url: str | None) -> None:
    """Show where Telegram delivers, how many updates wait, and the last error in plain words.

    \b
    Example:
        tgpipe webhook info
    """
    from .telegram.botapi import describe_webhook_error, printable

    info = _bot_api(api_url).call("getWebhookInfo")
    click.echo(f"url: {printable(info.get('url') or '(none: updates wait for getUpdates / tgpipe poll)')}")
    click.echo(f"pending updates: {printable(info.get('pending_update_count', 0))}")
    if info.get("allowed_updates"):
        click.echo(f"allowed updates: {printable(', '.join(map(str, info['allowed_updates'])))}")
    if info.get("last_error_date"):
        when = datetime.fromtimestamp(info["last_error_date"], UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        message = str(info.get("last_error_message", ""))
        click.echo(f"last error: {when}: {printable(describe_webhook_error(message))}")
    else:
        click.echo("last error: none")


@webhook.command("delete")
@click.option("--drop-pending", is_flag=True, help="Discard updates Telegram is still holding.")
@_api_url_option
def webhook_delete(drop_pending: bool, api_url: str | None) -> None:
    """Remove the webhook (needed before `tgpipe poll`).

    \b
    Example:
        tgpipe webhook delete
    """
    _bot_api(api_url).call("deleteWebhook", {"drop_pending_updates": drop_pending})
    click.echo("webhook deleted")


@main.command("poll")
@click.option(
    "--timeout", default=50, show_default=True, type=click.IntRange(0, 50), help="Long-poll seconds."
)
@click.option("--once", is_flag=True, help="One round of getUpdates, then exit.")
@_api_url_option
def poll_command(timeout: int, once: bool, api_url: str | None) -> None:
    """Fetch updates with getUpdates (no public URL needed) into the raw lake, as the webhook would.

    \b
    Example:
        TELEGRAM_BOT_TOKEN=123456:AAE... TELEGRAM_CHAT_ID=-1001234567890 tgpipe poll
    """
    from .ingest.poll import poll
    from .ingest.router import Router
    from .storage import open_storage

    settings = IngestSettings.from_env()
    api = _bot_api(api_url)
    router = Router(settings, open_storage(settings.raw_uri))
    click.echo(f"polling -> {settings.raw_uri} (Ctrl-C to stop)", err=True)
    try:
        summary = poll(api, router, timeout=timeout, once=once)
    except KeyboardInterrupt:
        return
    click.echo(json.dumps({"fetched": summary.fetched, **summary.outcomes}, sort_keys=True))


@main.command("import-export")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--chat-id", required=True, type=int, help="The group's Bot API chat id (e.g. -1001234567890).")
@click.option(
    "--migrated-from-chat-id",
    type=int,
    default=None,
    help="Also import the basic group's history (before its migration to a supergroup) under this id.",
)
@click.option(
    "--export-timezone",
    "export_timezone",
    default=None,
    metavar="ZONE",
    help="Time zone of the computer that wrote an old export (local times only); default TGPIPE_TIMEZONE.",
)
@click.option("--workers", default=16, show_default=True, type=click.IntRange(1, 64), help="Parallel writes.")
def import_export_command(
    export: Path, chat_id: int, migrated_from_chat_id: int | None, export_timezone: str | None, workers: int
) -> None:
    """Import a Telegram Desktop export (result.json) into the raw lake as Bot API updates.

    Messages the webhook already stored (same chat and message id) are skipped; rerunning is safe.
    Messages dated before Telegram existed are refused and named on stderr. Then run
    `tgpipe backfill` over the days it reports.

    \b
    Example:
        tgpipe import-export ~/Downloads/ChatExport/result.json --chat-id -1001234567890
    """
    from tqdm import tqdm

    from .config import PrivacySettings, parse_timezone, raw_uri_from_env, timezone_from_env
    from .ingest.history.importer import import_export
    from .ingest.history.reader import progress_total
    from .storage import open_storage

    raw_uri, zone = raw_uri_from_env(), timezone_from_env()
    local_zone = zone if export_timezone is None else parse_timezone(export_timezone, "--export-timezone")
    with tqdm(total=progress_total(export), unit="B", unit_scale=True, desc="import", file=sys.stderr) as bar:

        def advance(nbytes: int) -> None:
            bar.update(nbytes)

        summary = import_export(
            export,
            chat_id,
            open_storage(raw_uri),
            zone,
            migrated_from_chat_id=migrated_from_chat_id,
            export_timezone=local_zone,
            progress=advance,
            workers=workers,
            privacy=PrivacySettings.from_env(),
        )
    if summary.local_times:
        click.echo(
            f"Warning: {summary.local_times} message(s) have times the export kept as local times only; "
            f"read in {local_zone.key} (--export-timezone)",
            err=True,
        )
    for refusal in summary.refusals:
        click.echo(f"Warning: message {refusal.export_id} refused: {refusal.detail}", err=True)
    click.echo(json.dumps(summary.as_dict(), sort_keys=True, ensure_ascii=False))


@main.command("demo")
@click.option("--lake", default="lake/demo", show_default=True, type=click.Path(path_type=Path))
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 60))
def demo_command(lake: Path, days: int) -> None:
    """Run the whole pipeline on a generated conversation: webhook over HTTP, ETL, dbt, report.

    The folder is cleared first, so the demo can run any number of times.

    \b
    Example:
        tgpipe demo --lake lake/demo --days 7
    """
    from .demo.run import run_demo

    run_demo(lake, days=days, echo=click.echo)


@main.command("report")
@click.option("--chat-id", type=int, default=None, help="Chat to report on [default: the lake's only chat].")
@click.option(
    "--out",
    default="lake/report.html",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML file to write.",
)
@click.option(
    "--db",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="DuckDB file holding the marts [env TGPIPE_DUCKDB_PATH; default lake/tgpipe.duckdb].",
)
def report_command(chat_id: int | None, out: Path, db: Path | None) -> None:
    """Write one self-contained HTML file of charts for a chat, from the dbt marts on DuckDB.

    \b
    Example:
        tgpipe report --chat-id -1001234567890 --out lake/report.html
    """
    try:
        from .report.build import build_report
    except ImportError as exc:  # installed without the `local` extra
        raise click.ClickException(f"tgpipe report needs {exc.name}: pip install 'tgpipe[local]'") from None

    summary = build_report(db or Path(duckdb_path_from_env()), chat_id, out)
    period = f"{summary.first_date} to {summary.last_date}" if summary.first_date else "no messages yet"
    click.echo(
        f"report of chat {summary.chat_id} ({period}, {summary.messages:,} messages from "
        f"{summary.users:,} users) -> {summary.out_path}"
    )
    if summary.empty_charts:
        click.echo(f"no data for: {', '.join(summary.empty_charts)}", err=True)


# --- the daily ETL: raw updates -> Parquet ------------------------------------------------------


class _Day(click.ParamType[date]):
    """A day written YYYY-MM-DD, as a date (read without ``strptime``, whose import is a noticeable
    part of a short day's run)."""

    name = "yyyy-mm-dd"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        text = str(value)
        try:
            if len(text) != 10 or text[4] != "-" or text[7] != "-":
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            self.fail(f"{text!r} does not match the format '%Y-%m-%d'.", param, ctx)


_DAY = _Day()


def _stop_cleanly_on_sigterm() -> None:
    """SIGTERM (a scheduler stopping the run) becomes an exit that runs the cleanups: the run's
    temporary Parquet is removed, nothing half-written is stored (exit code 143, as for the signal)."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def _etl_job() -> EtlJob:
    from .transform.job import EtlJob  # pyarrow: only the ETL commands pay for importing it

    # What is imported by now lives as long as the process, which ends with its runs: the cyclic
    # collector need not walk it again during a run, nor once more at exit (a short day's run takes
    # less time than those walks).
    gc.freeze()
    _stop_cleanly_on_sigterm()
    return EtlJob.from_env()


@main.command("etl")
@click.option(
    "--date", "day", type=_DAY, default=None, help="Day of receipt to process [default: yesterday]."
)
def etl_command(day: date | None) -> None:
    """Write one day of raw updates as the typed Parquet partition of every table,
    TGPIPE_ENRICHED_URI/TABLE/context_date=DAY/part-00000.parquet, replacing the day's previous output.

    The day is a local day in TGPIPE_TIMEZONE (default: yesterday there). Prints the summary as one
    JSON line; exits non-zero when storage fails or some objects were not updates (the good rows are
    written all the same, the bad objects' keys are logged).

    \b
    Example:
        TGPIPE_RAW_URI=lake/raw TGPIPE_ENRICHED_URI=lake/enriched tgpipe etl --date 2026-10-05
    """
    from .storage import StorageError
    from .transform.schedule import yesterday

    job = _etl_job()
    target = day if day is not None else yesterday(job.settings.timezone)
    try:
        summary = job.run_day(target)
    except StorageError as exc:
        raise click.ClickException(
            f"etl of {target} failed: {exc}; run it again (a run replaces the whole partition)"
        ) from None
    click.echo(summary.to_json())
    job.check(summary)  # BadObjects: one line, exit 1, after the summary


@main.command("backfill")
@click.option("--start", type=_DAY, required=True, help="First day of receipt to process.")
@click.option("--end", type=_DAY, required=True, help="Last day of receipt to process (included).")
def backfill_command(start: date, end: date) -> None:
    """Run the ETL for every day from --start to --end, in order: one JSON summary line per day,
    a progress bar on stderr.

    Every day is rerunnable, so a backfill that stops (storage failure, Ctrl-C) resumes by running
    again from the day it names. Exits non-zero when it stops or when some days had bad objects.

    \b
    Example:
        tgpipe backfill --start 2026-10-01 --end 2026-10-31
    """
    from .lake import days_between
    from .storage import StorageError

    first, last = start, end
    if first > last:
        raise click.BadParameter(f"--start {first} is after --end {last}", param_hint="'--start'")
    job = _etl_job()
    days = days_between(first, last)
    with_bad: list[str] = []
    with click.progressbar(days, label="backfill", file=sys.stderr, item_show_func=_day_label) as bar:
        for day in bar:
            try:
                summary = job.run_day(day)
            except (StorageError, KeyboardInterrupt, SystemExit) as exc:
                reason = str(exc) if isinstance(exc, StorageError) else "interrupted"
                raise click.ClickException(
                    f"backfill stopped at {day} ({reason}); days before it are done. "
                    f"Resume with: tgpipe backfill --start {day} --end {last}"
                ) from None
            click.echo(summary.to_json())
            if summary.bad_objects:
                with_bad.append(f"{day} ({summary.bad_objects})")
    if with_bad:
        raise click.ClickException(
            f"bad objects on {len(with_bad)} day(s): {', '.join(with_bad)}; their good rows were written "
            "and the bad objects' keys are in the etl_bad_object log lines"
        )


def _day_label(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


# --- privacy (etl.privacy, issue 14): forget a person, retention --------------------------------


def _rebuild_marts() -> str:
    """Rebuild the DuckDB marts with dbt when TGPIPE_DUCKDB_PATH exists; else say what to run."""
    import subprocess

    from .checkout import dbt_project
    from .config import child_environment

    db = Path(duckdb_path_from_env())
    if not db.exists():
        return (
            f"marts: no DuckDB file at {db}; rebuild them where they are kept "
            "(`cd dbt_project && dbt build`, or on AWS the next nightly marts run / `make athena`)"
        )
    project = dbt_project("tgpipe forget")
    dbt = Path(sys.executable).with_name("dbt")
    cmd = [str(dbt), "build", "--project-dir", str(project), "--profiles-dir", str(project), "--quiet"]
    cmd += ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]  # seeds, models
    done = subprocess.run(cmd, env=child_environment({}), capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise click.ClickException(
            f"the raw and enriched layers are erased, but dbt build of the marts in {db} failed "
            f"(exit {done.returncode}): run `cd dbt_project && dbt build` and look at its output"
        )
    return f"marts: rebuilt with dbt build (models and seeds) in {db}"


@main.command("forget")
@click.option("--user-id", required=True, type=int, help="The person's Telegram user id.")
@click.option("--chat-id", type=int, default=None, help="Only this chat [default: every chat of the lake].")
@click.option(
    "--username",
    "usernames",
    multiple=True,
    metavar="NAME",
    help="A @username of theirs to scrub from others' texts (those the lake shows are found); repeatable.",
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
def forget_command(user_id: int, chat_id: int | None, usernames: tuple[str, ...], dry_run: bool) -> None:
    """Erase one person from every layer: raw updates (every stored version), quarantined bodies,
    enriched rows (days rebuilt) and the DuckDB marts; others' messages are kept without the
    person's data. Prints counts and days per layer, never content; appends an erasure record
    (a salted hash of the id, the time, the counts) that later imports honour.

    \b
    Example:
        tgpipe forget --user-id 111111111 --dry-run
        tgpipe forget --user-id 111111111
    """
    from .config import EtlSettings, PrivacySettings
    from .privacy.forget import forget
    from .storage import open_storage
    from .transform.job import rebuild_day

    settings, privacy = EtlSettings.from_env(), PrivacySettings.from_env()
    report = forget(
        open_storage(settings.raw_uri),
        open_storage(settings.enriched_uri),
        user_id,
        chat_id=chat_id,
        usernames=usernames,
        dry_run=dry_run,
        etl_settings=settings,
        privacy=privacy,
        rebuild_day=rebuild_day,
    )
    for line in report.lines():
        click.echo(line)
    if dry_run:
        click.echo("dry run: nothing was changed")
    elif report.enriched_days_rebuilt or report.enriched_days_filtered:
        click.echo(_rebuild_marts())


@main.group()
def retention() -> None:
    """Retention limits: TGPIPE_RAW_RETENTION_DAYS and TGPIPE_TEXT_RETENTION_DAYS."""


@retention.command("apply")
@click.option("--today", "day", type=_DAY, default=None, help="The day to count from [default: today].")
def retention_apply(day: date | None) -> None:
    """Delete raw days older than TGPIPE_RAW_RETENTION_DAYS (every stored version; on S3 the bucket's
    lifecycle rules do it too) and null the enriched text, caption and quote_text of days older than
    TGPIPE_TEXT_RETENTION_DAYS (types, counts and rows kept). Days are days of receipt.

    \b
    Example:
        TGPIPE_RAW_RETENTION_DAYS=365 TGPIPE_TEXT_RETENTION_DAYS=90 tgpipe retention apply
    """
    from .config import EtlSettings, PrivacySettings
    from .privacy.retention import apply
    from .storage import open_storage

    settings, privacy = EtlSettings.from_env(), PrivacySettings.from_env()
    today = day if day is not None else datetime.now(settings.timezone).date()
    report = apply(open_storage(settings.raw_uri), open_storage(settings.enriched_uri), privacy, today)
    for line in report.lines(privacy):
        click.echo(line)
    if report.text_days:
        click.echo(_rebuild_marts())

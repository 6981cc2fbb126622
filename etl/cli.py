"""The ``tgpipe`` command line: a thin layer over the ``etl`` package.

Errors are one clear line on stderr and a non-zero exit; secrets never reach the output.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .config import ConfigError, WebhookSettings

__all__ = ["main"]

CHALICE_PROJECT = Path(__file__).resolve().parent.parent / "chalice_app"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    try:
        settings = WebhookSettings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if not (CHALICE_PROJECT / "app.py").is_file():
        raise click.ClickException(f"the Chalice app is not at {CHALICE_PROJECT} (install from a checkout)")
    click.echo(
        f"webhook on http://{host}:{port}/webhook -> {settings.raw_uri} "
        f"(chats {','.join(map(str, sorted(settings.chat_ids)))})",
        err=True,
    )
    chalice = Path(sys.executable).with_name("chalice")
    args = [str(chalice), "--project-dir", str(CHALICE_PROJECT), "local", "--host", host, "--port", str(port)]
    args.append("--no-autoreload")  # one process: stops cleanly, and a bad setting exits at once
    os.execv(args[0], args)  # noqa: S606 - replaces this process with the real `chalice local`

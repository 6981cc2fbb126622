"""tgpipe: a Telegram group's conversation as a raw lake, typed Parquet and dbt models.

The package is laid out as the pipeline runs::

    telegram/    the shape of an update, the Bot API client
    ingest/      webhook, poll and history import -> the raw lake (router: one way in)
    transform/   the daily ETL: raw day -> typed Parquet partition
    report/      the marts of one chat -> one HTML page
    demo/        `tgpipe demo` and its traffic generator

beside what every stage shares: ``config`` (every setting), ``errors``, ``lake`` (the layout),
``storage`` (a folder or S3), ``logs``, ``secrets`` and ``checkout``; ``cli`` is the command line.

This package is imported by the webhook Lambda, so importing it stays cheap: nothing here imports
pyarrow or boto3 (the ETL and S3 modules import them when they are used).
"""

from .config import ConfigError, EtlSettings, IngestSettings, WebhookSettings
from .errors import TgpipeError
from .ingest.router import IngestResult, Router
from .ingest.webhook import SECRET_HEADER, Webhook
from .lake import quarantine_key, raw_key
from .storage import LocalStorage, ObjectNotFound, S3Storage, Storage, StorageError, open_storage
from .telegram.update import MalformedUpdate, Update, parse_update

__all__ = [
    "SECRET_HEADER",
    "ConfigError",
    "EtlSettings",
    "IngestResult",
    "IngestSettings",
    "LocalStorage",
    "MalformedUpdate",
    "ObjectNotFound",
    "Router",
    "S3Storage",
    "Storage",
    "StorageError",
    "TgpipeError",
    "Update",
    "Webhook",
    "WebhookSettings",
    "open_storage",
    "parse_update",
    "quarantine_key",
    "raw_key",
]

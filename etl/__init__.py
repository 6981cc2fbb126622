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

Importing ``etl`` itself loads nothing: every name below is imported from its module when first used
(PEP 562), so a command pays only for what it runs and a short ETL day does not wait on the webhook's
modules, or the webhook on the ETL's.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import ConfigError, EtlSettings, IngestSettings, WebhookSettings
    from .errors import TgpipeError
    from .ingest.router import IngestResult, Router
    from .ingest.webhook import SECRET_HEADER, Webhook
    from .lake import quarantine_key, raw_key
    from .storage import LocalStorage, ObjectNotFound, S3Storage, Storage, StorageError, open_storage
    from .telegram.update import MalformedUpdate, Update, parse_update

# Public name -> the module that defines it.
_PUBLIC: dict[str, str] = {
    "ConfigError": ".config",
    "EtlSettings": ".config",
    "IngestSettings": ".config",
    "WebhookSettings": ".config",
    "TgpipeError": ".errors",
    "IngestResult": ".ingest.router",
    "Router": ".ingest.router",
    "SECRET_HEADER": ".ingest.webhook",
    "Webhook": ".ingest.webhook",
    "quarantine_key": ".lake",
    "raw_key": ".lake",
    "LocalStorage": ".storage",
    "ObjectNotFound": ".storage",
    "S3Storage": ".storage",
    "Storage": ".storage",
    "StorageError": ".storage",
    "open_storage": ".storage",
    "MalformedUpdate": ".telegram.update",
    "Update": ".telegram.update",
    "parse_update": ".telegram.update",
}

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


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})

"""tgpipe: a Telegram group's conversation as a raw lake, typed Parquet and dbt models.

This package is imported by the webhook Lambda, so importing it stays cheap: nothing here
imports pyarrow (the ETL modules import it themselves).
"""

from .config import ConfigError, WebhookSettings
from .storage import LocalStorage, ObjectNotFound, S3Storage, Storage, StorageError, open_storage
from .telegram import MalformedUpdate, Update, parse_update
from .webhook import SECRET_HEADER, Webhook, WebhookResult, quarantine_key, raw_key

__all__ = [
    "SECRET_HEADER",
    "ConfigError",
    "LocalStorage",
    "MalformedUpdate",
    "ObjectNotFound",
    "S3Storage",
    "Storage",
    "StorageError",
    "Update",
    "Webhook",
    "WebhookResult",
    "WebhookSettings",
    "open_storage",
    "parse_update",
    "quarantine_key",
    "raw_key",
]

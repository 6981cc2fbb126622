"""What many tests share: the repository's folders, the test chats and secret, and the real-shaped
Telegram updates under tests/data/updates/."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
CHALICE_DIR = ROOT / "chalice_app"
DBT_PROJECT = ROOT / "dbt_project"
UPDATES = ROOT / "tests" / "data" / "updates"

GROUP = -1001234567890  # a supergroup (forum)
CHANNEL = -1009876543210  # a channel feeding the same lake
OLD_GROUP = -4001234567  # a basic group that later migrates to a supergroup
CHAT_IDS = f"{GROUP},{CHANNEL},{OLD_GROUP}"
SECRET = "test_Secret-token_0123456789"
BUCKET = "tgpipe-test-lake"


def update_bytes(name: str) -> bytes:
    """The exact bytes of a real-shaped Telegram update stored under tests/data/updates/."""
    return (UPDATES / f"{name}.json").read_bytes()


def update_names() -> list[str]:
    return sorted(p.stem for p in UPDATES.glob("*.json"))

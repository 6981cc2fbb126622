"""Shared by the AWS tests: each stage packaged once per test session, and the made-up account its
template is resolved in."""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from chalice_app.infra import build_layer, package, template

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "eu-west-1"
CHAT_IDS = "-1001234567890,-1009876543210"


@functools.cache
def _scratch() -> Path:
    path = Path(tempfile.mkdtemp(prefix="tgpipe-aws-tests-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def scratch(name: str) -> Path:
    """A folder for this test session (removed at exit)."""
    path = _scratch() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@functools.cache
def layer() -> build_layer.Layer:
    """The ETL layer, built (or reused from build/layer) once per session."""
    return build_layer.build()


@functools.cache
def packaged(stage: str) -> package.Package:
    """`make package STAGE=stage`, once per session, into a scratch folder."""
    return package.package(stage, scratch(f"package-{stage}"), layer=layer())


def sam(stage: str) -> dict[str, Any]:
    """The packaged template of ``stage`` as plain data."""
    return json.loads(packaged(stage).template.read_text())  # type: ignore[no-any-return]


def context(stage: str = "prod", **parameters: str) -> template.Context:
    """The made-up account template tests resolve in (chat ids given, no alarm e-mail)."""
    return template.Context(
        stage=stage, account=ACCOUNT, region=REGION, parameters={"TelegramChatId": CHAT_IDS, **parameters}
    )


def resolved(stage: str, section: str = "Resources") -> dict[str, Any]:
    """A section of the packaged template with every intrinsic function evaluated in ``context``."""
    tpl = sam(stage)
    return template.resolve(tpl, tpl[section], context(stage))  # type: ignore[no-any-return]

"""Shared by the AWS tests: chalice_app/infra's modules, and each stage packaged once per test session."""

from __future__ import annotations

import atexit
import functools
import importlib
import json
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "chalice_app" / "infra"
ACCOUNT = "123456789012"
REGION = "eu-west-1"
CHAT_IDS = "-1001234567890,-1009876543210"


def infra(name: str) -> ModuleType:
    """A module of chalice_app/infra (build_layer, template, package, stack)."""
    if str(INFRA) not in sys.path:
        sys.path.insert(0, str(INFRA))
    return importlib.import_module(name)


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
def layer() -> Any:
    """The ETL layer, built (or reused from build/layer) once per session."""
    return infra("build_layer").build()


@functools.cache
def packaged(stage: str) -> Any:
    """`make package STAGE=stage`, once per session, into a scratch folder."""
    return infra("package").package(stage, scratch(f"package-{stage}"), layer=layer())


def sam(stage: str) -> dict[str, Any]:
    """The packaged template of ``stage`` as plain data."""
    return json.loads(packaged(stage).template.read_text())  # type: ignore[no-any-return]


def context(stage: str = "prod", **parameters: str) -> Any:
    """The made-up account template tests resolve in (chat ids given, no alarm e-mail)."""
    template = infra("template")
    return template.Context(
        stage=stage, account=ACCOUNT, region=REGION, parameters={"TelegramChatId": CHAT_IDS, **parameters}
    )


def resolved(stage: str, section: str = "Resources") -> dict[str, Any]:
    """A section of the packaged template with every intrinsic function evaluated in ``context``."""
    template = infra("template")
    tpl = sam(stage)
    return template.resolve(tpl, tpl[section], context(stage))  # type: ignore[no-any-return]

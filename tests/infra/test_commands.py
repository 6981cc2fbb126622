"""chalice_app.infra is a package: its commands run as ``python -m chalice_app.infra.<module>`` from the
repository's root, as the Makefile runs them, and no module reaches its siblings through sys.path."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.infra.aws_package import ROOT

INFRA = ROOT / "chalice_app" / "infra"


@pytest.mark.parametrize(
    ("module", "usage"),
    [
        ("build_layer", "usage: build_layer.py [-h] [--out OUT] [--wheels WHEELS] [--no-strip]"),
        ("package", "usage: package.py [-h] --stage STAGE [--out OUT] [--data-only]"),
        ("stack", "usage: stack.py [-h]"),
    ],
    ids=["build_layer", "package", "stack"],
)
def test_each_command_runs_as_a_module_from_the_root(module: str, usage: str) -> None:
    """`--help` answers with the command's usage and its docstring's first sentence."""
    result = subprocess.run(
        [sys.executable, "-m", f"chalice_app.infra.{module}", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert (result.returncode, result.stdout.splitlines()[0], result.stderr) == (0, usage, "")


def test_no_infra_module_touches_sys_path() -> None:
    """Siblings are imported relatively (``from . import template``), never by editing sys.path."""
    sources = {path.name: path.read_text() for path in sorted(INFRA.glob("*.py"))}
    assert sorted(sources) == ["__init__.py", "build_layer.py", "package.py", "stack.py", "template.py"]
    edits = re.compile(r"sys\.path\s*(\.\w+\(|\[|=|\+=)")
    assert {name: bool(edits.search(text)) for name, text in sources.items()} == dict.fromkeys(sources, False)
    controls = ["sys.path.insert(0, here)", "sys.path[:0] = [here]", "on sys.path), stripped"]
    assert [bool(edits.search(text)) for text in controls] == [True, True, False]


def test_the_makefile_runs_every_infra_command_as_a_module() -> None:
    """Each Makefile line that starts an infra command names it as a module, never as a file."""
    makefile = (ROOT / "Makefile").read_text()
    assert re.findall(r"python chalice_app/infra/\w+\.py", makefile) == []
    assert sorted(set(re.findall(r"-m chalice_app\.infra\.(\w+)", makefile))) == [
        "build_layer",
        "package",
        "stack",
    ]

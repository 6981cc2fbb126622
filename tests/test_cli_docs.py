"""Every `tgpipe` command is documented: in the README, and in its own help with an example."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from etl.cli import main
from tests.helpers import ROOT

README = (ROOT / "README.md").read_text()


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        if isinstance(command, click.Group):
            found += _commands(command, path)
        else:
            found.append(path)
    return found


COMMANDS = _commands(main)


def test_the_command_list_is_what_the_issues_ask_for() -> None:
    """The public surface of the command line, in one place."""
    assert [" ".join(c) for c in COMMANDS] == [
        "backfill",
        "bot me",
        "demo",
        "etl",
        "forget",
        "import-export",
        "poll",
        "report",
        "retention apply",
        "serve",
        "webhook delete",
        "webhook info",
        "webhook set",
    ]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_is_in_the_readme(command: tuple[str, ...]) -> None:
    """A user finds each command in the README."""
    assert f"tgpipe {' '.join(command)}" in README


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_s_help_ends_with_an_example(command: tuple[str, ...]) -> None:
    """`--help` exits 0 and shows an example of the command itself."""
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    example = result.output.split("Example:", 1)[1].strip().splitlines()
    assert f"tgpipe {' '.join(command)}" in example[0]

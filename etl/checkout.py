"""The checkout tgpipe runs from: the commands that start the Chalice app (`tgpipe serve`,
`tgpipe demo`) or dbt need the repository's ``chalice_app/`` and ``dbt_project/``, which are not part
of the Python package. They are found here, once, beside the ``etl`` package of an editable install
(``pip install -e .`` from a clone, what `make venv` does).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from .errors import TgpipeError

__all__ = ["CheckoutError", "chalice_project", "checkout_root", "dbt_project"]

_ROOT: Final = Path(__file__).resolve().parent.parent


class CheckoutError(TgpipeError):
    """tgpipe is installed without its repository, so a folder a command needs is missing."""


def _folder(name: str, marker: str, command: str) -> Path:
    folder = _ROOT / name
    if not (folder / marker).is_file():
        raise CheckoutError(
            f"{command} needs the repository's {name}/, which is not beside this installation "
            f"({_ROOT}): clone the repository and install it from there with pip install -e ."
        )
    return folder


def checkout_root() -> Path:
    """The repository's root (where ``lake/`` is kept by default)."""
    return _ROOT


def chalice_project(command: str = "this command") -> Path:
    """``chalice_app/``: the Chalice project `chalice local` serves."""
    return _folder("chalice_app", "app.py", command)


def dbt_project(command: str = "this command") -> Path:
    """``dbt_project/``: the dbt project and its profiles."""
    return _folder("dbt_project", "dbt_project.yml", command)

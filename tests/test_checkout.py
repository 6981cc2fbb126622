"""The commands that start the Chalice app or dbt find the repository's folders in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl import checkout
from tests.helpers import CHALICE_DIR, DBT_PROJECT, ROOT


def test_the_checkout_s_folders_are_found_beside_the_package() -> None:
    """An editable install from a clone: chalice_app/ and dbt_project/ of that clone."""
    assert (checkout.checkout_root(), checkout.chalice_project(), checkout.dbt_project()) == (
        ROOT,
        CHALICE_DIR,
        DBT_PROJECT,
    )


def test_an_installation_without_the_repository_is_told_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installed from a wheel (no repository around the package), the command says what it misses."""
    monkeypatch.setattr(checkout, "_ROOT", tmp_path)
    with pytest.raises(checkout.CheckoutError) as caught:
        checkout.chalice_project("tgpipe serve")
    assert str(caught.value) == (
        f"tgpipe serve needs the repository's chalice_app/, which is not beside this installation "
        f"({tmp_path}): clone the repository and install it from there with pip install -e ."
    )
    with pytest.raises(checkout.CheckoutError, match=r"^tgpipe demo needs the repository's dbt_project/"):
        checkout.dbt_project("tgpipe demo")

"""`make docs`: the static dbt docs site of the demo's marts on DuckDB, one HTML file that opens from
disk in headless Chromium (no server, no network) and lists every mart."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import DBT_PROJECT
from tests.infra.aws_package import ROOT
from tests.report.test_report import CHROMIUM_ARGS, chromium_path

MARTS = sorted(p.stem for p in (DBT_PROJECT / "models" / "marts").rglob("*.sql"))
# Marts built incrementally (by local date): the docs site names their materialization.
INCREMENTAL_MARTS = {
    p.stem
    for p in (DBT_PROJECT / "models" / "marts").rglob("*.sql")
    if "tgpipe.incremental_by_partition(" in p.read_text()
}
# The models between the source and the marts: staging views and intermediate models.
STAGING = sorted(
    p.stem for folder in ("staging", "intermediate") for p in (DBT_PROJECT / "models" / folder).rglob("*.sql")
)


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.fixture(scope="module")
def site(demo_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make docs` on the demo's lake, into a scratch folder."""
    out = tmp_path_factory.mktemp("docs")
    result = _make("docs", f"DOCS_LAKE={demo_lake}", f"DOCS_OUT={out}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    page = out / "static_index.html"
    assert result.stdout.strip().splitlines()[-1] == (
        f"dbt docs: {page} (open it in a browser; it needs no server)"
    )
    return page


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def test_the_site_lists_every_mart_and_opens_each_offline(site: Path, browser: Any) -> None:
    """The Database tab of the one-file site shows every model's table (each mart among them), and each
    mart's page opens with its grain; the page never asks for anything but its own file."""
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(site.as_uri())
    page.wait_for_load_state("load")
    page.get_by_text("Database", exact=True).first.click()
    tree = page.locator("div.menu:visible").last
    for folder in ("tgpipe", "main"):  # the DuckDB database, then its schema
        tree.locator("a[ng-click='onFolderClick(item)']:visible", has_text=folder).click()
    nodes = tree.locator("a.menu-node:visible")
    listed = {
        nodes.nth(i).get_attribute("data-nav-unique-id"): nodes.nth(i).get_attribute("title")
        for i in range(nodes.count())
    }
    models = {f"model.tgpipe.{name}": name for name in [*MARTS, *STAGING]}
    assert {k: v for k, v in listed.items() if k and k.startswith("model.")} == models
    assert set(MARTS) <= set(listed.values())
    for mart in MARTS:
        tree.locator(f"a.menu-node[title='{mart}']").click()
        page.wait_for_function(
            "name => [...document.querySelectorAll('h1 span.break')]"
            ".some(e => e.textContent.trim() === name)",
            arg=mart,
        )
        materialized = "incremental" if mart in INCREMENTAL_MARTS else "table"
        assert page.locator("h1:visible").first.inner_text().split() == [mart, materialized]
        assert "One row per" in page.locator("body").inner_text(), mart
    assert {url.split("#")[0] for url in requests if not url.startswith("file:")} == set()
    page.close()


def test_make_docs_builds_the_demo_first_when_its_lake_has_no_database(tmp_path: Path) -> None:
    """Self-sufficient: on a folder without a database, `make docs` runs `tgpipe demo` there first
    (shown with make -n: the demo itself is what the fixture above runs)."""
    lake = tmp_path / "lake"
    result = _make("-n", "docs", f"DOCS_LAKE={lake}", f"DOCS_OUT={tmp_path / 'docs'}")
    assert result.returncode == 0, result.stderr
    guard = f"test -f {lake}/tgpipe.duckdb || "
    demo = [line.removeprefix(guard) for line in result.stdout.splitlines() if line.startswith(guard)]
    assert [line.split("/bin/", 1)[1] for line in demo] == [f"tgpipe demo --lake {lake}"]

"""GitHub Actions: ci.yml runs `make test`, deploy.yml deploys through OIDC with the README's make
targets, marts.yml rebuilds the marts on Athena every night; all are pinned, least-privilege, and clean
for zizmor and the workflow schema, offline."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra.aws_package import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent


def workflow(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True)  # YAML 1.1 reads the key `on` as a boolean
    return data  # type: ignore[no-any-return]


def steps(name: str, job: str) -> list[dict[str, Any]]:
    return workflow(name)["jobs"][job]["steps"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml", "marts.yml"])
def test_every_action_is_pinned_to_a_commit_with_its_version(name: str) -> None:
    """`uses:` names a full commit SHA and says which release it is in a comment."""
    lines = [line.strip() for line in (WORKFLOWS / name).read_text().splitlines() if "uses:" in line]
    assert lines
    pinned = re.compile(r"- uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")
    assert [line for line in lines if not pinned.fullmatch(line)] == []


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml", "marts.yml"])
def test_no_permission_by_default_and_no_persisted_git_credentials(name: str) -> None:
    """`permissions: {}` at the top; checkout never leaves the token in .git/config."""
    data = workflow(name)
    assert data["permissions"] == {}
    checkouts = [
        s for job in data["jobs"].values() for s in job["steps"] if "actions/checkout@" in s.get("uses", "")
    ]
    assert [s["with"] for s in checkouts] == [{"persist-credentials": False}] * len(data["jobs"])


def test_ci_runs_make_test_on_python_312_and_cancels_superseded_runs() -> None:
    """Read-only, the same command as .ci/run, the Lambda runtime's Python, one run per ref."""
    data = workflow("ci.yml")
    test = data["jobs"]["test"]
    assert test["permissions"] == {"contents": "read"}
    assert data["concurrency"] == {
        "group": "${{ github.workflow }}-${{ github.ref }}",
        "cancel-in-progress": True,
    }
    python = next(s for s in test["steps"] if "actions/setup-python@" in s.get("uses", ""))
    assert python["with"] == {
        "python-version": "3.12",
        "cache": "pip",
        "cache-dependency-path": "requirements/dev.txt",
    }
    ci_run = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.startswith("make ")]
    assert [s["run"] for s in test["steps"] if "run" in s] == ci_run
    assert ci_run[0] == "make test"


def test_ci_runs_the_demo_and_the_portable_tests_on_python_311() -> None:
    """A matrix job on the oldest Python the README promises: make demo, then every test that does not
    package for Lambda (`make test-portable`: pytest -m "not lambda_package"), pip cached on the lock."""
    job = workflow("ci.yml")["jobs"]["python311"]
    assert (job["permissions"], job["strategy"]["matrix"]) == ({"contents": "read"}, {"python": ["3.11"]})
    python = next(s for s in job["steps"] if "actions/setup-python@" in s.get("uses", ""))
    assert python["with"] == {
        "python-version": "${{ matrix.python }}",
        "cache": "pip",
        "cache-dependency-path": "requirements/dev.txt",
    }
    assert [(s["run"], s["env"]) for s in job["steps"] if "run" in s] == [
        ("make demo", {"PYTHON": "python${{ matrix.python }}"}),
        ("make test-portable", {"PYTHON": "python${{ matrix.python }}"}),
    ]
    recipe = (ROOT / "Makefile").read_text().split("\ntest-portable:", 1)[1].split("\n\n", 1)[0]
    assert recipe.splitlines()[1:] == ['\t$(BIN)/pytest -m "not lambda_package"']


def test_deploy_assumes_a_role_through_oidc_and_runs_the_readme_targets_in_order() -> None:
    """Manual or tagged; id-token only here; no AWS keys; package, deploy, athena, webhook."""
    data = workflow("deploy.yml")
    assert data["on"] == {
        "workflow_dispatch": {
            "inputs": {
                "stage": {
                    "description": "Stage to deploy (a stage of chalice_app/.chalice/config.json)",
                    "type": "choice",
                    "options": ["prod", "dev"],
                    "default": "prod",
                }
            }
        },
        "push": {"tags": ["v*"]},
    }
    assert data["concurrency"] == {
        "group": "deploy-${{ inputs.stage || 'prod' }}",
        "cancel-in-progress": False,
    }
    job = data["jobs"]["deploy"]
    assert (job["permissions"], job["environment"]) == (
        {"contents": "read", "id-token": "write"},
        "${{ inputs.stage || 'prod' }}",
    )
    aws = next(s for s in job["steps"] if "configure-aws-credentials@" in s.get("uses", ""))
    assert aws["with"] == {
        "role-to-assume": "${{ vars.AWS_DEPLOY_ROLE_ARN }}",
        "aws-region": "${{ vars.AWS_REGION }}",
    }
    text = (WORKFLOWS / "deploy.yml").read_text()
    assert ("aws-access-key-id" in text, "AWS_SECRET_ACCESS_KEY" in text) == (False, False)
    targets = [s["run"].split()[1] for s in job["steps"] if s.get("run", "").startswith("make ")]
    assert targets == ["package", "deploy", "athena", "webhook"]
    makefile = (ROOT / "Makefile").read_text()
    assert [t for t in targets if not re.search(rf"^{t}:.*## ", makefile, re.MULTILINE)] == []
    uses = [s.get("uses", "") + s.get("run", "") for s in job["steps"]]
    package = next(i for i, text in enumerate(uses) if text.startswith("make package"))
    credentials = next(i for i, text in enumerate(uses) if "configure-aws-credentials@" in text)
    assert package < credentials  # packaging needs no AWS access


def test_marts_runs_nightly_after_the_etl_and_on_demand_for_a_stage() -> None:
    """01:30 UTC (the ETL runs at 00:15) or dispatched with a stage; one run per stage at a time."""
    data = workflow("marts.yml")
    assert data["on"] == {
        "schedule": [{"cron": "30 1 * * *"}],
        "workflow_dispatch": {
            "inputs": {
                "stage": {
                    "description": "Stage to rebuild (a stage of chalice_app/.chalice/config.json)",
                    "type": "choice",
                    "options": ["prod", "dev"],
                    "default": "prod",
                }
            }
        },
    }
    assert data["concurrency"] == {
        "group": "marts-${{ inputs.stage || 'prod' }}",
        "cancel-in-progress": False,
    }


def test_marts_may_only_read_the_code_and_ask_for_an_oidc_token() -> None:
    """Job permissions exactly id-token: write and contents: read, in the stage's environment, with the
    analytics role (never the deploy role, never keys)."""
    data = workflow("marts.yml")
    job = data["jobs"]["marts"]
    assert (data["permissions"], job["permissions"], job["environment"], job["env"]) == (
        {},
        {"id-token": "write", "contents": "read"},
        "${{ inputs.stage || 'prod' }}",
        {"STAGE": "${{ inputs.stage || 'prod' }}"},
    )
    aws = [s for s in job["steps"] if "configure-aws-credentials@" in s.get("uses", "")]
    assert [s["with"] for s in aws] == [
        {"role-to-assume": "${{ vars.AWS_ANALYTICS_ROLE_ARN }}", "aws-region": "${{ vars.AWS_REGION }}"}
    ]
    text = (WORKFLOWS / "marts.yml").read_text()
    assert ("aws-access-key-id" in text, "secrets." in text, "AWS_DEPLOY_ROLE_ARN" in text) == (
        False,
        False,
        False,
    )


def test_marts_installs_from_the_lock_then_tests_builds_uploads_and_documents() -> None:
    """The steps in order: checkout, Python with the pip cache keyed on the lock, make venv before any
    credential, the role, freshness, build, the artifacts (even after a failure), the docs site."""
    job = workflow("marts.yml")["jobs"]["marts"]
    shape = [s.get("run") or s["uses"].split("@")[0] for s in job["steps"]]
    assert shape == [
        "actions/checkout",
        "actions/setup-python",
        "make venv",
        "aws-actions/configure-aws-credentials",
        'make freshness STAGE="$STAGE"',
        'make marts STAGE="$STAGE"',
        "actions/upload-artifact",
        'make athena-docs STAGE="$STAGE"',
        "actions/upload-artifact",
    ]
    steps_ = job["steps"]
    assert steps_[1]["with"] == {
        "python-version": "3.12",
        "cache": "pip",
        "cache-dependency-path": "requirements/dev.txt",
    }
    artifacts, docs = steps_[6], steps_[8]
    assert (artifacts["if"], artifacts["with"]) == (
        "${{ !cancelled() }}",
        {
            "name": "dbt-artifacts-${{ env.STAGE }}",
            "path": "dbt_project/target/run_results.json\ndbt_project/target/manifest.json\n"
            "dbt_project/target/sources.json\n",
            "retention-days": 30,
        },
    )
    assert ("if" in docs, docs["with"]) == (
        False,
        {
            "name": "dbt-docs-${{ env.STAGE }}",
            "path": "dbt_project/target/static_index.html",
            "if-no-files-found": "error",
            "retention-days": 30,
        },
    )
    makefile = (ROOT / "Makefile").read_text()
    targets = [s["run"].split()[1] for s in steps_ if s.get("run", "").startswith("make ")]
    assert [t for t in targets if not re.search(rf"^{t}:.*## ", makefile, re.MULTILINE)] == []


def test_make_test_lints_the_workflows_and_templates() -> None:
    """lint-workflows and lint-infra are prerequisites of `make test`."""
    line = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("test:"))
    assert {"lint-workflows", "lint-infra"} <= set(line.split("##")[0].split()[1:])


def _zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--no-progress", "--color", "never", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_zizmor_finds_nothing_in_the_workflows_offline() -> None:
    """zizmor's offline audits pass on every workflow."""
    result = _zizmor(WORKFLOWS)
    assert (result.returncode, result.stdout.strip()) == (
        0,
        "No findings to report. Good job! (1 suppressed)",
    )


def test_zizmor_does_flag_an_unsafe_workflow_offline(tmp_path: Path) -> None:
    """A control: an unpinned action and an injectable expression are findings, so the check can fail."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: issues\npermissions: {}\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - run: echo ${{ github.event.issue.title }}\n"
    )
    result = _zizmor(bad)
    assert result.returncode != 0
    assert {"unpinned-uses", "template-injection"} <= set(re.findall(r"\[([a-z-]+)\]", result.stdout))


def test_the_workflows_match_github_s_schema() -> None:
    """check-jsonschema's bundled GitHub workflow schema accepts both (no download needed)."""
    result = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, sorted(WORKFLOWS.glob("*.yml"))),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "ok -- validation done")

"""marts.yml's commands, run the way the workflow runs them (each `run:` step through bash -eo pipefail
from the checkout, with the job's environment and what configure-aws-credentials exports), against
moto's CloudFormation serving the stages' stacks: every dbt command gets the dispatched stage's
Athena settings, read from that stack's outputs. Athena cannot run here, so DBT is a recorder that
writes down its arguments, working directory and settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalice_app.infra import template
from tests.infra.aws_package import ROOT
from tests.infra.test_workflows import workflow

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account
FAKE_SECRET = "fake-secret-access-key-of-the-session"  # moto accepts any
STAGE_EXPRESSION = "${{ inputs.stage || 'prod' }}"

RECORDER = """\
import json, os, sys
with open(os.environ["RECORDER_LOG"], "a", encoding="utf-8") as log:
    settings = {k: v for k, v in os.environ.items() if k.startswith("TGPIPE_") or k == "AWS_REGION"}
    log.write(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(), "settings": settings}) + "\\n")
"""


def _stage_stack(stage: str) -> dict[str, Any]:
    """The stage's lake bucket and data.yaml's outputs, resolved in moto's account and region (moto's
    CloudFormation creates no Glue database or Athena workgroup, so their outputs are given resolved)."""
    data = template.load(template.DATA_TEMPLATE)
    ctx = template.Context(stage=stage, account=ACCOUNT, region=REGION, conditions={"BuildEtlLayer": True})
    outputs = {
        key: {"Value": template.resolve(data, out["Value"], ctx)} for key, out in data["Outputs"].items()
    }
    bucket = template.resolve(data, data["Resources"]["LakeBucket"]["Properties"]["BucketName"], ctx)
    return {
        "Resources": {"LakeBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}}},
        "Outputs": outputs,
    }


@pytest.fixture
def moto_server() -> Iterator[str]:
    """moto as a server on loopback: the workflow's commands are separate processes."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    _reset(url)  # moto's state is per process, not per server: start from an empty account
    yield url
    _reset(url)
    server.stop()


def _reset(url: str) -> None:
    import urllib.request

    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:  # loopback
        assert response.status == 200


def _cloudformation(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "cloudformation",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key=FAKE_SECRET,
    )


def _deploy(endpoint: str, *stages: str) -> None:
    cfn = _cloudformation(endpoint)
    for stage in stages:
        cfn.create_stack(StackName=f"tgpipe-{stage}", TemplateBody=json.dumps(_stage_stack(stage)))


def _job() -> dict[str, Any]:
    return workflow("marts.yml")["jobs"]["marts"]  # type: ignore[no-any-return]


def _run_steps() -> list[dict[str, Any]]:
    """The job's `run:` steps after `make venv` (the checkout's .venv is the one the test runs in)."""
    runs = [s for s in _job()["steps"] if "run" in s]
    assert runs[0]["run"] == "make venv"
    return runs[1:]


def _run_workflow(tmp_path: Path, endpoint: str, inputs: dict[str, str]) -> tuple[list[Any], list[Any]]:
    """Each run step, in order, stopping at the first failure as a job does: (results, dbt calls)."""
    job = _job()
    assert job["env"] == {"STAGE": STAGE_EXPRESSION}
    stage = inputs.get("stage") or "prod"  # the expression, for a schedule (no inputs) or a dispatch
    recorder = tmp_path / "dbt"
    recorder.write_text(f"#!{sys.executable}\n{RECORDER}")
    recorder.chmod(0o755)
    log = tmp_path / "dbt-calls.jsonl"
    log.touch()
    # The runner's environment (PATH, and PYTHON/MAKEFLAGS so make uses this test's environment),
    # without any AWS, tgpipe or dbt setting of the machine: only what the workflow sets.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TGPIPE_", "DBT"))}
    env = {
        **inherited,
        "STAGE": stage,
        # What aws-actions/configure-aws-credentials exports after assuming the role.
        "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEEXAMPLE00",
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_SESSION_TOKEN": "fake-session-token",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        # The only stand-ins: AWS is moto, dbt is the recorder.
        "AWS_ENDPOINT_URL": endpoint,
        "DBT": str(recorder),
        "RECORDER_LOG": str(log),
    }
    results = []
    for step in _run_steps():
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=ROOT / step.get("working-directory", "."),
            env={**env, **step.get("env", {})},
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        results.append(result)
        if result.returncode != 0:
            break
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    return results, calls


def _expected_settings(stage: str) -> dict[str, str]:
    bucket = f"tgpipe-lake-{stage}-{ACCOUNT}-{REGION}"
    return {
        "AWS_REGION": REGION,
        "TGPIPE_RAW_URI": f"s3://{bucket}/raw",
        "TGPIPE_ENRICHED_URI": f"s3://{bucket}/enriched",
        "TGPIPE_TIMEZONE": "UTC",
        "TGPIPE_ATHENA_REGION": REGION,
        "TGPIPE_ATHENA_DATABASE": f"tgpipe_{stage}",
        "TGPIPE_ATHENA_WORKGROUP": f"tgpipe-{stage}",
        "TGPIPE_ATHENA_S3_STAGING_DIR": f"s3://{bucket}/athena-results/",
        "TGPIPE_ATHENA_S3_DATA_DIR": f"s3://{bucket}/marts/",
    }


@pytest.mark.parametrize(
    ("inputs", "stage"),
    [
        pytest.param({}, "prod", id="nightly-schedule"),
        pytest.param({"stage": "dev"}, "dev", id="dispatch-dev"),
    ],
)
def test_every_dbt_command_gets_the_stage_s_settings_from_its_stack_outputs(
    tmp_path: Path, moto_server: str, inputs: dict[str, str], stage: str
) -> None:
    """Both stages deployed: freshness, build (no unit tests) and docs each run once on the athena
    target in dbt_project/, with the chosen stage's database, workgroup and lake prefixes."""
    _deploy(moto_server, "prod", "dev")
    results, calls = _run_workflow(tmp_path, moto_server, inputs)
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr[-2000:] for r in results]
    project = str(ROOT / "dbt_project")
    settings = _expected_settings(stage)
    assert calls == [
        {"argv": ["source", "freshness", "--target", "athena"], "cwd": project, "settings": settings},
        {
            "argv": ["build", "--target", "athena", "--exclude", "resource_type:unit_test"],
            "cwd": project,
            "settings": settings,
        },
        {
            "argv": ["docs", "generate", "--static", "--target", "athena"],
            "cwd": project,
            "settings": settings,
        },
    ]
    output = "".join(r.stdout + r.stderr for r in results)
    assert (FAKE_SECRET in output, "fake-session-token" in output) == (False, False)


def test_a_stage_without_a_stack_stops_before_dbt(tmp_path: Path, moto_server: str) -> None:
    """Only prod deployed, dev dispatched: the first step fails saying what to run; dbt never runs, so
    no guessed names reach Athena."""
    _deploy(moto_server, "prod")
    results, calls = _run_workflow(tmp_path, moto_server, {"stage": "dev"})
    assert ([r.returncode for r in results], calls) == ([2], [])
    assert (
        "stack: neither tgpipe-dev nor tgpipe-dev-data is deployed: run `make deploy STAGE=dev` first"
        in results[0].stderr
    )


def test_the_uploaded_artifacts_are_where_dbt_writes_them() -> None:
    """The upload steps name dbt_project/<target-path>/ files: the folder dbt writes to from
    dbt_project/ (where the steps run dbt), and the files dbt writes there."""
    project = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text())
    uploads = [s["with"]["path"].split() for s in _job()["steps"] if "upload-artifact@" in s.get("uses", "")]
    target = f"dbt_project/{project['target-path']}"
    assert uploads == [
        [f"{target}/run_results.json", f"{target}/manifest.json", f"{target}/sources.json"],
        [f"{target}/static_index.html"],
    ]

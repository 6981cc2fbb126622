"""chalice_app.infra.stack: a deployed stage's settings, teardown (CloudFormation, S3, SSM under
moto), and the Chalice project of the `chalice deploy` path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalice_app.infra import stack
from tests.infra.aws_package import ACCOUNT, REGION, ROOT, scratch

BUCKET = f"tgpipe-lake-prod-{ACCOUNT}-{REGION}"
LAYER = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:tgpipe-prod-etl-deps:3"


def fake_outputs(bucket: str = BUCKET) -> dict[str, str]:
    return {
        "LakeBucketName": bucket,
        "RawUri": f"s3://{bucket}/raw",
        "EnrichedUri": f"s3://{bucket}/enriched",
        "GlueDatabaseName": "tgpipe_prod",
        "AthenaWorkGroupName": "tgpipe-prod",
        "AthenaResultsUri": f"s3://{bucket}/athena-results/",
        "MartsUri": f"s3://{bucket}/marts/",
        "EtlLayerArn": LAYER,
        "WebhookSecretParameterName": "/tgpipe/prod/telegram-webhook-secret",
    }


def fake_stage(**extra: str) -> Any:
    """A stage as find_stage returns it, for the data stack of the `chalice deploy` path."""
    return stack.Stage("prod", "tgpipe-prod-data", REGION, ACCOUNT, "aws", {**fake_outputs(), **extra})


def test_the_settings_dbt_and_tgpipe_need_come_from_the_outputs() -> None:
    """`make athena` and `make webhook` export exactly these (the time zone from config.json)."""
    url = "https://abc.execute-api.eu-west-1.amazonaws.com/api/webhook"
    assert stack.settings(fake_stage(WebhookUrl=url)) == {
        "AWS_REGION": REGION,
        "TGPIPE_RAW_URI": f"s3://{BUCKET}/raw",
        "TGPIPE_ENRICHED_URI": f"s3://{BUCKET}/enriched",
        "TGPIPE_TIMEZONE": "UTC",
        "TGPIPE_ATHENA_REGION": REGION,
        "TGPIPE_ATHENA_DATABASE": "tgpipe_prod",
        "TGPIPE_ATHENA_WORKGROUP": "tgpipe-prod",
        "TGPIPE_ATHENA_S3_STAGING_DIR": f"s3://{BUCKET}/athena-results/",
        "TGPIPE_ATHENA_S3_DATA_DIR": f"s3://{BUCKET}/marts/",
        "TELEGRAM_WEBHOOK_SECRET_PARAM": "/tgpipe/prod/telegram-webhook-secret",
        "TGPIPE_WEBHOOK_URL": url,
    }


# A stack like the real one as far as teardown is concerned: the versioned lake and its outputs.
_LAKE_STACK = {
    "Resources": {
        "LakeBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": "tgpipe-lake-test-bucket",
                "VersioningConfiguration": {"Status": "Enabled"},
            },
        }
    },
    "Outputs": {"LakeBucketName": {"Value": {"Ref": "LakeBucket"}}},
}


def test_destroy_empties_the_versioned_lake_then_deletes_stack_and_secret(aws: None) -> None:
    """Every object version and delete marker goes first (CloudFormation cannot delete a full bucket)."""
    cfn, s3, ssm = boto3.client("cloudformation"), boto3.client("s3"), boto3.client("ssm")
    cfn.create_stack(StackName="tgpipe-test", TemplateBody=json.dumps(_LAKE_STACK))
    bucket = "tgpipe-lake-test-bucket"
    # moto's CloudFormation ignores VersioningConfiguration: turn it on as the real stack has it.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="raw/context_date=2026-10-05/1.json", Body=b"{}")
    s3.put_object(Bucket=bucket, Key="raw/context_date=2026-10-05/1.json", Body=b"{ }")  # a redelivery
    s3.put_object(Bucket=bucket, Key="raw/_quarantine/x", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="raw/_quarantine/x")  # leaves a delete marker
    ssm.put_parameter(Name="/tgpipe/test/telegram-webhook-secret", Value="s", Type="SecureString")
    said: list[str] = []
    assert stack.destroy("test", cfn=cfn, s3=s3, ssm=ssm, echo=said.append) == ["tgpipe-test"]
    assert said == [
        f"emptying s3://{bucket} (4 object versions)",
        "deleting stack tgpipe-test",
        "deleted SSM parameter /tgpipe/test/telegram-webhook-secret",
    ]
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == []
    assert ssm.describe_parameters()["Parameters"] == []
    assert stack.destroy("test", cfn=cfn, s3=s3, ssm=ssm, echo=said.append) == []


def test_a_stage_not_deployed_says_what_to_run(aws: None) -> None:
    """Asking for a stage nobody deployed names both stacks and the command."""
    with pytest.raises(stack.StackError) as caught:
        stack.find_stage("prod", boto3.client("cloudformation"))
    assert str(caught.value) == (
        "neither tgpipe-prod nor tgpipe-prod-data is deployed: run `make deploy STAGE=prod` first"
    )


def test_the_deployed_stage_is_found_with_its_account_region_and_outputs(aws: None) -> None:
    """find_stage reads the stack's id for account and region, and its outputs."""
    cfn = boto3.client("cloudformation")
    cfn.create_stack(StackName="tgpipe-prod-data", TemplateBody=json.dumps(_LAKE_STACK))
    found = stack.find_stage("prod", cfn)
    assert (found.stack, found.region, found.account, found.partition, dict(found.outputs)) == (
        "tgpipe-prod-data",
        "us-east-1",
        "123456789012",
        "aws",
        {"LakeBucketName": "tgpipe-lake-test-bucket"},
    )


def test_destroy_needs_the_stack_name_as_confirmation() -> None:
    """`make destroy` without CONFIRM=tgpipe-<stage> stops before touching anything."""
    result = subprocess.run(
        [sys.executable, "-m", "chalice_app.infra.stack", "destroy", "--stage", "prod"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={
            **os.environ,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
        },
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        "stack: this deletes the stage prod and all its data: repeat with CONFIRM=tgpipe-prod\n",
    )


def test_the_chalice_deploy_path_gets_a_project_with_the_stack_s_names(tmp_path: Path) -> None:
    """Links to the real app, config.json with this stage's lake, chat ids, secret and layer, and the
    policy files translated to the stack's bucket, region and account."""
    out = stack.chalice_project(fake_stage(), "-1001234567890", tmp_path / "prod")
    assert sorted(p.name for p in out.iterdir()) == [".chalice", "app.py", "requirements.txt", "vendor"]
    assert (out / "app.py").resolve() == ROOT / "chalice_app" / "app.py"
    assert (out / "vendor" / "etl").resolve() == ROOT / "etl"
    assert (out / ".chalice" / "deployed").resolve() == ROOT / "chalice_app" / ".chalice" / "deployed"
    config = json.loads((out / ".chalice" / "config.json").read_text())
    assert list(config["stages"]) == ["prod"]
    prod = config["stages"]["prod"]
    assert prod["environment_variables"] == {
        "TGPIPE_RAW_URI": f"s3://{BUCKET}/raw",
        "TGPIPE_TIMEZONE": "UTC",
        "TGPIPE_ENRICHED_URI": f"s3://{BUCKET}/enriched",
    }
    assert prod["lambda_functions"] == {
        "api_handler": {
            "iam_policy_file": "policy-webhook-prod.json",
            "environment_variables": {
                "TELEGRAM_CHAT_ID": "-1001234567890",
                "TELEGRAM_WEBHOOK_SECRET_PARAM": "/tgpipe/prod/telegram-webhook-secret",
            },
        },
        "etl_daily": {
            "iam_policy_file": "policy-etl-prod.json",
            "lambda_memory_size": 2048,
            "lambda_timeout": 900,
            "layers": [LAYER],
        },
        "forget": {
            "iam_policy_file": "policy-forget-prod.json",
            "lambda_memory_size": 2048,
            "lambda_timeout": 900,
            "layers": [LAYER],
        },
    }
    webhook = json.loads((out / ".chalice" / "policy-webhook-prod.json").read_text())
    assert [s["Resource"] for s in webhook["Statement"]] == [
        f"arn:aws:s3:::{BUCKET}/raw/*",
        f"arn:aws:s3:::{BUCKET}",
        f"arn:aws:s3:::{BUCKET}/raw/_privacy/salt",
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/tgpipe/prod/telegram-webhook-secret",
        [
            f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/tgpipe-prod",
            f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/tgpipe-prod:log-stream:*",
        ],
    ]


def test_chalice_accepts_the_rendered_project() -> None:
    """`chalice package` on the rendered project works: the ETL function carries the layer ARN."""
    out = stack.chalice_project(fake_stage(), "-1001234567890", scratch("rendered-project"))
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from chalice.cli import main; sys.exit(main())",
            "--project-dir",
            str(out),
            "package",
            "--stage",
            "prod",
            str(out / "package"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "AWS_DEFAULT_REGION": REGION},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    resources = json.loads((out / "package" / "sam.json").read_text())["Resources"]
    assert resources["EtlDaily"]["Properties"]["Layers"] == [LAYER]
    assert "Layers" not in resources["APIHandler"]["Properties"]


def test_an_unreachable_aws_is_one_line_not_a_traceback() -> None:
    """No network or no credentials: the make targets stop with one line saying what AWS said."""
    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_MAX_ATTEMPTS": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "chalice_app.infra.stack", "env", "--stage", "prod"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        'stack: AWS said: Could not connect to the endpoint URL: "http://127.0.0.1:9/"\n',
    )

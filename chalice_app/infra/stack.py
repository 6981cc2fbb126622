"""A deployed stage, from the shell: its outputs, the settings dbt and tgpipe need, teardown, and the
Chalice project of the `chalice deploy` path.

    python -m chalice_app.infra.stack env --stage prod        # KEY=value lines (eval them)
    python -m chalice_app.infra.stack outputs --stage prod    # the stack's outputs as JSON
    python -m chalice_app.infra.stack artifacts-bucket        # the bootstrap stack's bucket
    python -m chalice_app.infra.stack chalice-project --stage prod --out build/chalice/prod
    python -m chalice_app.infra.stack destroy --stage prod --confirm tgpipe-prod

A stage is the stack tgpipe-<stage> (`make deploy`) or, on the `chalice deploy` path, the data stack
tgpipe-<stage>-data plus what Chalice deployed. AWS credentials and region come from the usual chain.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import template

HERE = Path(__file__).resolve().parent
CHALICE_DIR = HERE.parent
BOOTSTRAP_STACK = "tgpipe-bootstrap"


class StackError(RuntimeError):
    """The stage is not deployed as expected."""


@dataclass(frozen=True)
class Stage:
    """One deployed stage: which stack, where, and its outputs."""

    name: str
    stack: str
    region: str
    account: str
    partition: str
    outputs: Mapping[str, str]

    @property
    def bucket(self) -> str:
        return self.outputs["LakeBucketName"]


def stack_names(stage: str) -> tuple[str, str]:
    """(one-stack path, data stack of the `chalice deploy` path)."""
    return f"tgpipe-{stage}", f"tgpipe-{stage}-data"


def _describe(cfn: Any, name: str) -> dict[str, Any] | None:
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except Exception as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return stacks[0] if stacks else None


def find_stage(stage: str, cfn: Any) -> Stage:
    """The deployed stage (the one-stack path first), or a StackError saying what to run."""
    for name in stack_names(stage):
        stack = _describe(cfn, name)
        if stack is None or stack["StackStatus"].endswith("_IN_PROGRESS"):
            continue
        _, partition, _, region, account, _ = stack["StackId"].split(":", 5)
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return Stage(stage, name, region, account, partition, outputs)
    one, data = stack_names(stage)
    raise StackError(f"neither {one} nor {data} is deployed: run `make deploy STAGE={stage}` first")


def _configured_env(stage: str) -> dict[str, str]:
    config = json.loads(template.CHALICE_CONFIG.read_text())
    return {
        **config.get("environment_variables", {}),
        **config["stages"][stage].get("environment_variables", {}),
    }


def _deployed_api_url(stage: str) -> str | None:
    record = CHALICE_DIR / ".chalice" / "deployed" / f"{stage}.json"
    if not record.exists():
        return None
    for resource in json.loads(record.read_text()).get("resources", []):
        if resource.get("resource_type") == "rest_api":
            return str(resource["rest_api_url"]).rstrip("/") + "/webhook"
    return None


def settings(found: Stage) -> dict[str, str]:
    """What dbt's athena target, `tgpipe webhook set` and the ETL commands need for this stage."""
    out = found.outputs
    values = {
        "AWS_REGION": found.region,
        "TGPIPE_RAW_URI": out["RawUri"],
        "TGPIPE_ENRICHED_URI": out["EnrichedUri"],
        "TGPIPE_TIMEZONE": _configured_env(found.name).get("TGPIPE_TIMEZONE", "UTC"),
        "TGPIPE_ATHENA_REGION": found.region,
        "TGPIPE_ATHENA_DATABASE": out["GlueDatabaseName"],
        "TGPIPE_ATHENA_WORKGROUP": out["AthenaWorkGroupName"],
        "TGPIPE_ATHENA_S3_STAGING_DIR": out["AthenaResultsUri"],
        "TGPIPE_ATHENA_S3_DATA_DIR": out["MartsUri"],
        "TELEGRAM_WEBHOOK_SECRET_PARAM": out["WebhookSecretParameterName"],
    }
    url = out.get("WebhookUrl") or _deployed_api_url(found.name)
    if url:
        values["TGPIPE_WEBHOOK_URL"] = url
    return values


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker of ``bucket``; returns how many were deleted."""
    deleted = 0
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        keys = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for group in ("Versions", "DeleteMarkers")
            for item in page.get(group, [])
        ]
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            response = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            if response.get("Errors"):
                first = response["Errors"][0]
                raise StackError(f"cannot empty {bucket}: {first['Key']}: {first['Code']} {first['Message']}")
            deleted += len(batch)
    return deleted


def destroy(stage: str, *, cfn: Any, s3: Any, ssm: Any, echo: Any = print) -> list[str]:
    """Delete the stage's stacks (emptying the lake first: CloudFormation cannot delete a bucket with
    objects) and its secret parameter. Returns the stacks deleted; a stage not deployed is no error."""
    deleted = []
    for name in stack_names(stage):
        stack = _describe(cfn, name)
        if stack is None:
            continue
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        bucket = outputs.get("LakeBucketName")
        if bucket:
            echo(f"emptying s3://{bucket} ({empty_bucket(s3, bucket)} object versions)")
        echo(f"deleting stack {name}")
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(
            StackName=name, WaiterConfig={"Delay": 10, "MaxAttempts": 180}
        )
        deleted.append(name)
    parameter = f"/tgpipe/{stage}/telegram-webhook-secret"
    try:
        ssm.delete_parameter(Name=parameter)
        echo(f"deleted SSM parameter {parameter}")
    except Exception as exc:
        if "ParameterNotFound" not in str(exc) and type(exc).__name__ != "ParameterNotFound":
            raise
    return deleted


def chalice_project(found: Stage, chat_ids: str, out: Path) -> Path:
    """The `chalice deploy` path: a Chalice project for ``found`` (deployed with data.yaml alone) in
    ``out``. app.py, requirements.txt and vendor/ are links to chalice_app/; .chalice/config.json is
    chalice_app's with this stage's lake, chat ids, secret parameter and layer; the policy files are
    chalice_app's translated to the stack's bucket, region and account; .chalice/deployed/ links to
    chalice_app/.chalice/deployed/ (gitignored) so Chalice's record survives a rebuild of ``out``."""
    stage = found.name
    config = json.loads(template.CHALICE_CONFIG.read_text())
    section = config["stages"][stage]
    out.mkdir(parents=True, exist_ok=True)
    dot = out / ".chalice"
    dot.mkdir(exist_ok=True)
    for name in ("app.py", "requirements.txt", "vendor"):
        link = out / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(os.path.relpath(CHALICE_DIR / name, out))
    deployed = CHALICE_DIR / ".chalice" / "deployed"
    deployed.mkdir(exist_ok=True)
    if not (dot / "deployed").is_symlink():
        (dot / "deployed").symlink_to(os.path.relpath(deployed, dot))
    ctx = template.Context(stage=stage, account=found.account, region=found.region, partition=found.partition)
    lake = {
        "Resources": {"LakeBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": found.bucket}}}
    }
    for function, settings_ in section["lambda_functions"].items():
        source = template.CHALICE_CONFIG.parent / settings_["iam_policy_file"]
        policy = template.resolve(lake, template.translate(json.loads(source.read_text()), stage), ctx)
        (dot / settings_["iam_policy_file"]).write_text(json.dumps(policy, indent=2) + "\n")
        if function == "api_handler":
            settings_["environment_variables"] = {
                **settings_.get("environment_variables", {}),
                "TELEGRAM_CHAT_ID": chat_ids,
                "TELEGRAM_WEBHOOK_SECRET_PARAM": found.outputs["WebhookSecretParameterName"],
            }
        else:
            settings_["layers"] = [found.outputs["EtlLayerArn"]]
    section["environment_variables"] = {
        **section.get("environment_variables", {}),
        "TGPIPE_RAW_URI": found.outputs["RawUri"],
        "TGPIPE_ENRICHED_URI": found.outputs["EnrichedUri"],
    }
    config["stages"] = {stage: section}
    (dot / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return out


def _client(service: str) -> Any:
    import boto3

    factory: Any = boto3.client  # the service name is a runtime string, not one of the stubs' literals
    return factory(service)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("env", "outputs", "chalice-project", "destroy"):
        sub = commands.add_parser(name)
        sub.add_argument("--stage", required=True)
        if name == "chalice-project":
            sub.add_argument("--out", type=Path, required=True)
        if name == "destroy":
            sub.add_argument("--confirm", default="", help="the stack name, tgpipe-<stage>")
    commands.add_parser("artifacts-bucket")
    args = parser.parse_args(argv)
    try:
        cfn = _client("cloudformation")
        if args.command == "artifacts-bucket":
            stack = _describe(cfn, BOOTSTRAP_STACK)
            if stack is None:
                raise StackError(f"{BOOTSTRAP_STACK} is not deployed: run `make bootstrap` first")
            outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
            sys.stdout.write(outputs["ArtifactsBucketName"] + "\n")
        elif args.command == "destroy":
            if args.confirm != stack_names(args.stage)[0]:
                raise StackError(
                    f"this deletes the stage {args.stage} and all its data: repeat with "
                    f"CONFIRM={stack_names(args.stage)[0]}"
                )
            destroy(args.stage, cfn=cfn, s3=_client("s3"), ssm=_client("ssm"))
        else:
            found = find_stage(args.stage, cfn)
            if args.command == "outputs":
                sys.stdout.write(json.dumps(dict(found.outputs), indent=2, sort_keys=True) + "\n")
            elif args.command == "env":
                for key, value in settings(found).items():
                    sys.stdout.write(f"{key}={shlex.quote(value)}\n")
            else:
                chat_ids = os.environ.get("TELEGRAM_CHAT_ID", "").strip()
                if not chat_ids:
                    raise StackError("TELEGRAM_CHAT_ID is required (the chat ids the webhook keeps)")
                sys.stdout.write(f"{chalice_project(found, chat_ids, args.out)}\n")
    except (StackError, template.TemplateError) as exc:
        sys.stderr.write(f"stack: {exc}\n")
        return 1
    except Exception as exc:
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(exc, BotoCoreError | ClientError):
            raise
        sys.stderr.write(f"stack: AWS said: {exc}\n")  # no credentials, no network, access denied...
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

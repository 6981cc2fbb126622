"""IAM, verified: every policy (the .chalice files, the packaged stacks, bootstrap, the `chalice deploy`
path's rendered files) passes parliament, grants no `*` beyond CloudWatch Logs, and each function
gets exactly its own least-privilege policy."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.aws_package import ACCOUNT, REGION, ROOT, context, infra, sam

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # parliament imports the deprecated pkg_resources
    from parliament import analyze_policy_string

CHALICE = ROOT / "chalice_app" / ".chalice"
BUCKET = f"tgpipe-lake-prod-{ACCOUNT}-{REGION}"

# Findings parliament reports by design, each with its reason. The test asserts the exact set, so a
# new finding fails and a fixed one must be removed here.
ACCEPTED = {
    # CloudFormation's role creates and deletes the stack's roles, bucket policy, queue and topic:
    # managing permissions is its job. Its resources are limited to tgpipe-* names.
    ("bootstrap:CloudFormationExecutionRole/tgpipe-stacks", "PERMISSIONS_MANAGEMENT_ACTIONS"),
    ("bootstrap:CloudFormationExecutionRole/tgpipe-stacks", "PRIVILEGE_ESCALATION"),
    ("bootstrap:CloudFormationExecutionRole/tgpipe-stacks", "RESOURCE_POLICY_PRIVILEGE_ESCALATION"),
    # The SAM transform's ARN has the account "aws", which parliament's ARN check does not know.
    ("bootstrap:GitHubDeployRole/tgpipe-deploy", "INVALID_ARN"),
}


def _stage_files() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(CHALICE.glob("policy-*.json")):
        yield f"file:{path.name}", json.loads(path.read_text())


def all_policies() -> list[tuple[str, dict[str, Any]]]:
    """(where, document) for every policy this repository deploys, resolved in a made-up account."""
    template = infra("template")
    found = list(_stage_files())
    for stage in ("prod", "dev"):
        found += [(f"{stage}:{w}", doc) for w, doc in template.policies(sam(stage), context(stage))]
    bootstrap = template.load(template.BOOTSTRAP_TEMPLATE)
    github = template.Context(parameters={"GitHubRepository": "octo/tgpipe"})
    found += [(f"bootstrap:{w}", doc) for w, doc in template.policies(bootstrap, github)]
    found += [(f"rendered:{w}", doc) for w, doc in _rendered_policies()]
    return found


def _rendered_policies() -> Iterator[tuple[str, dict[str, Any]]]:
    from tests.test_stack import fake_stage

    stack = infra("stack")
    from tests.aws_package import scratch

    out = stack.chalice_project(fake_stage(), "-100", scratch("rendered-for-policies"))
    for path in sorted((out / ".chalice").glob("policy-*.json")):
        yield path.name, json.loads(path.read_text())


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    statements = doc["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _listed(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_every_policy_passes_parliament() -> None:
    """parliament (community auditors included) finds nothing beyond the accepted, explained findings."""
    findings = set()
    for where, doc in all_policies():
        policy = analyze_policy_string(json.dumps(doc), include_community_auditors=True)
        findings |= {(where, finding.issue) for finding in policy.findings}
    assert findings == ACCEPTED


def test_parliament_flags_what_it_should() -> None:
    """A control: a wildcard grant is a finding, so the check above can fail."""
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    issues = {
        f.issue for f in analyze_policy_string(json.dumps(doc), include_community_auditors=True).findings
    }
    assert "RESOURCE_STAR" in issues


def test_no_policy_grants_star_actions_or_resources_beyond_logs() -> None:
    """No Allow has Action * or service:*, nor Resource *, unless it is only CloudWatch Logs actions."""
    offending = []
    checked = 0
    for where, doc in all_policies():
        for statement in _statements(doc):
            if statement["Effect"] != "Allow" or "Principal" in statement:
                continue
            checked += 1
            actions, resources = _listed(statement["Action"]), _listed(statement["Resource"])
            if all(action.startswith("logs:") for action in actions):
                continue
            if any(a == "*" or a.endswith(":*") for a in actions) or "*" in resources:
                offending.append((where, statement.get("Sid")))
    assert (offending, checked > 40) == ([], True)


def _resolved_role(stage: str, role: str) -> list[dict[str, Any]]:
    template = infra("template")
    tpl = sam(stage)
    policies = template.resolve(tpl, tpl["Resources"][role]["Properties"]["Policies"], context(stage))
    assert [p["PolicyName"] for p in policies] == [f"{role}Policy"]
    return policies[0]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


LOGS = {
    "Sid": "WriteOwnLogs",
    "Effect": "Allow",
    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
    "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:*",
}


def test_the_webhook_may_only_put_raw_objects_read_its_secret_and_log() -> None:
    """The deployed webhook role: PutObject under raw/, GetParameter on its one secret, logs."""
    assert _resolved_role("prod", "ApiHandlerRole") == [
        {
            "Sid": "WriteRawUpdates",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/raw/*",
        },
        {
            "Sid": "ReadWebhookSecret",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/tgpipe/prod/telegram-webhook-secret",
        },
        LOGS,
    ]


def test_the_etl_may_read_raw_days_replace_enriched_days_park_failures_and_log() -> None:
    """The deployed ETL role: list the day prefixes, get raw days, put/delete enriched, its DLQ, logs."""
    assert _resolved_role("prod", "EtlDailyRole") == [
        {
            "Sid": "ListRawAndEnrichedDays",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{BUCKET}",
            "Condition": {"StringLike": {"s3:prefix": ["raw/context_date=*", "enriched/context_date=*"]}},
        },
        {
            "Sid": "ReadRawUpdates",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/raw/context_date=*",
        },
        {
            "Sid": "ReplaceEnrichedPartitions",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            "Resource": f"arn:aws:s3:::{BUCKET}/enriched/*",
        },
        {
            "Sid": "ParkFailedRuns",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:tgpipe-prod-etl-dead-letters",
        },
        LOGS,
    ]


@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_each_function_gets_its_own_policy_file_translated(stage: str) -> None:
    """The .chalice policy files are the source: the stack's policies are them with bucket and account."""
    template = infra("template")
    tpl = sam(stage)
    roles = {
        logical: resource["Properties"]["Policies"][0]["PolicyDocument"]
        for logical, resource in tpl["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    }
    files = template.function_policies(stage)
    assert roles == {role: template.translate(doc, stage) for role, doc in files.items()}
    assert sorted(roles) == ["ApiHandlerRole", "EtlDailyRole"]
    assert files["ApiHandlerRole"] != files["EtlDailyRole"]


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        (
            "arn:aws:s3:::someone-elses-bucket/raw/*",
            "arn:aws:s3:::someone-elses-bucket/raw/* is not in the stage's lake bucket tgpipe-lake-prod",
        ),
        (
            "arn:aws:ssm:us-east-1:999999999999:parameter/x",
            "arn:aws:ssm:us-east-1:999999999999:parameter/x: only the lake bucket and "
            "arn:aws:<service>:*:*: ARNs are translated",
        ),
    ],
    ids=["foreign-bucket", "fixed-account"],
)
def test_a_policy_file_naming_something_else_is_refused(arn: str, message: str) -> None:
    """A policy file may name only the stage's lake and region/account-wildcard ARNs."""
    template = infra("template")
    with pytest.raises(template.TemplateError) as caught:
        template.translate({"Resource": arn}, "prod")
    assert str(caught.value) == message


def test_only_this_repository_s_environments_may_assume_the_deploy_role() -> None:
    """GitHub OIDC: audience sts.amazonaws.com and a subject of one repository's environments."""
    template = infra("template")
    bootstrap = template.load(template.BOOTSTRAP_TEMPLATE)
    ctx = template.Context(parameters={"GitHubRepository": "octo/tgpipe"})
    role = template.resolve(bootstrap, bootstrap["Resources"]["GitHubDeployRole"], ctx)
    assert role["Properties"]["AssumeRolePolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {
                    "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
                },
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                    "StringLike": {
                        "token.actions.githubusercontent.com:sub": "repo:octo/tgpipe:environment:*"
                    },
                },
            }
        ],
    }
    without = template.Context(parameters={"GitHubRepository": ""})
    assert [w for w, _ in template.policies(bootstrap, without)] == ["ArtifactsBucketPolicy"]


def test_every_policy_file_of_every_stage_is_checked() -> None:
    """The list above covers each .chalice policy file (a new function's file cannot slip through)."""
    config = json.loads((CHALICE / "config.json").read_text())
    used = {
        settings["iam_policy_file"]
        for stage in config["stages"].values()
        for settings in stage["lambda_functions"].values()
    }
    assert {where.removeprefix("file:") for where, _ in _stage_files()} == used
    assert {Path(p).name for p in used} == {
        "policy-etl-dev.json",
        "policy-etl-prod.json",
        "policy-webhook-dev.json",
        "policy-webhook-prod.json",
    }

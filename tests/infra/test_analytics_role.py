"""The analytics roles of the bootstrap stack (one per stage, assumed by .github/workflows/marts.yml):
only the stage's GitHub environment may assume its role, and its policy allows exactly what dbt needs
on Athena for that stage, on that stage's names, and nothing of the other stage or of the rest."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalice_app.infra import template
from tests.infra.aws_package import ACCOUNT, REGION, ROOT
from tests.infra.test_policies import _execution_role, decision
from tests.infra.test_workflows import workflow

GITHUB = template.Context(parameters={"GitHubRepository": "octo/tgpipe"})
ROLES = {"prod": "GitHubAnalyticsRoleProd", "dev": "GitHubAnalyticsRoleDev"}


def _bootstrap() -> dict[str, Any]:
    return template.load(template.BOOTSTRAP_TEMPLATE)  # type: ignore[no-any-return]


def _role(stage: str) -> dict[str, Any]:
    bootstrap = _bootstrap()
    return template.resolve(bootstrap, bootstrap["Resources"][ROLES[stage]], GITHUB)["Properties"]  # type: ignore[no-any-return]


def _policy(stage: str) -> dict[str, Any]:
    (policy,) = _role(stage)["Policies"]
    assert policy["PolicyName"] == f"tgpipe-analytics-{stage}"
    return policy["PolicyDocument"]  # type: ignore[no-any-return]


def _listed(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def _arns(stage: str) -> dict[str, str]:
    bucket = f"arn:aws:s3:::tgpipe-lake-{stage}-{ACCOUNT}-{REGION}"
    glue = f"arn:aws:glue:{REGION}:{ACCOUNT}"
    return {
        "stack": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/tgpipe-{stage}/0a1b2c3d",
        "data_stack": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/tgpipe-{stage}-data/0a1b2c3d",
        "workgroup": f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/tgpipe-{stage}",
        "catalog": f"{glue}:catalog",
        "database": f"{glue}:database/tgpipe_{stage}",
        "mart": f"{glue}:table/tgpipe_{stage}/daily_messages",
        "source": f"{glue}:table/tgpipe_{stage}/enriched_messages",
        "bucket": bucket,
        "enriched": f"{bucket}/enriched/messages/context_date=2026-10-05/part-0.parquet",
        "marts": f"{bucket}/marts/tgpipe_{stage}/daily_messages/abc/part-0.parquet",
        "results": f"{bucket}/athena-results/0123-4567.csv",
        "raw": f"{bucket}/raw/context_date=2026-10-05/900000001.json",
    }


# What dbt source freshness, dbt build (tables, views, seeds, data tests) and dbt docs generate call
# on Athena through dbt-athena, and the stack outputs `stack env` reads: (action, resource key).
NEEDED = [
    ("cloudformation:DescribeStacks", "stack"),
    ("cloudformation:DescribeStacks", "data_stack"),
    *(
        (f"athena:{a}", "workgroup")
        for a in ("StartQueryExecution", "GetQueryExecution", "GetQueryResults", "StopQueryExecution")
    ),
    ("athena:GetWorkGroup", "workgroup"),
    ("glue:GetDatabases", "catalog"),
    *((f"glue:{a}", key) for a in ("GetDatabase", "GetTables") for key in ("catalog", "database")),
    *(
        (f"glue:{a}", key)
        for a in (
            "GetTable",
            "CreateTable",
            "UpdateTable",
            "DeleteTable",
            "BatchDeleteTable",
            "GetTableVersions",
            "DeleteTableVersion",
            "GetPartition",
            "GetPartitions",
            "BatchGetPartition",
            "BatchCreatePartition",
            "BatchDeletePartition",
        )
        for key in ("database", "mart", "source")
    ),
    ("s3:ListBucket", "bucket"),
    ("s3:GetBucketLocation", "bucket"),
    ("s3:ListBucketMultipartUploads", "bucket"),
    ("s3:GetObject", "enriched"),
    *(
        (f"s3:{a}", key)
        for a in (
            "GetObject",
            "PutObject",
            "DeleteObject",
            "AbortMultipartUpload",
            "ListMultipartUploadParts",
        )
        for key in ("marts", "results")
    ),
]


@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_the_role_allows_what_dbt_needs_on_athena_for_its_stage(stage: str) -> None:
    """Every call of freshness, build and docs on the stage's own resources is allowed."""
    arns = _arns(stage)
    answers = {(action, key): decision(_policy(stage), action, arns[key]) for action, key in NEEDED}
    assert {request for request, answer in answers.items() if answer != "allow"} == set()
    assert len(answers) == 62


@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_the_role_allows_exactly_the_listed_actions(stage: str) -> None:
    """The policy's actions are exactly those dbt needs, none more, and no action wildcard."""
    granted = {a for s in _policy(stage)["Statement"] for a in _listed(s["Action"])}
    assert granted == {action for action, _ in NEEDED}
    assert [s["Effect"] for s in _policy(stage)["Statement"]] == ["Allow"] * 7


@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_every_resource_is_one_of_the_stage_s_names(stage: str) -> None:
    """The resources, whole: the stage's stacks, workgroup, database, tables and lake prefixes; the only
    wildcard outside them is database/* for listing database names (Glue authorizes GetDatabases on
    every database), and that statement grants nothing else."""
    lake = f"arn:aws:s3:::tgpipe-lake-{stage}-{ACCOUNT}-{REGION}"
    glue = f"arn:aws:glue:{REGION}:{ACCOUNT}"
    stacks = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack"
    assert [(s["Sid"], _listed(s["Resource"])) for s in _policy(stage)["Statement"]] == [
        ("ReadStageOutputs", [f"{stacks}/tgpipe-{stage}/*", f"{stacks}/tgpipe-{stage}-data/*"]),
        ("AthenaQueries", [f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/tgpipe-{stage}"]),
        ("DbtListsDatabases", [f"{glue}:catalog", f"{glue}:database/*"]),
        (
            "StageCatalog",
            [f"{glue}:catalog", f"{glue}:database/tgpipe_{stage}", f"{glue}:table/tgpipe_{stage}/*"],
        ),
        ("LakeBucket", [lake]),
        ("ReadTheEnrichedLayer", [f"{lake}/enriched/*"]),
        ("WriteMartsAndQueryResults", [f"{lake}/marts/*", f"{lake}/athena-results/*"]),
    ]
    listing = next(s for s in _policy(stage)["Statement"] if s["Sid"] == "DbtListsDatabases")
    assert listing["Action"] == "glue:GetDatabases"


def _other(stage: str) -> str:
    return "dev" if stage == "prod" else "prod"


@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_the_role_reaches_nothing_of_the_other_stage_nor_beyond_dbt(stage: str) -> None:
    """The other stage's workgroup, tables, lake and stack; raw updates; writing enriched/; another
    workgroup or database; the deploy's actions: all implicitly denied."""
    mine, theirs = _arns(stage), _arns(_other(stage))
    glue = f"arn:aws:glue:{REGION}:{ACCOUNT}"
    requests = [
        ("athena:StartQueryExecution", theirs["workgroup"]),
        ("athena:StartQueryExecution", f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/primary"),
        ("glue:GetTable", theirs["mart"]),
        ("glue:DeleteTable", f"{glue}:table/default/customers"),
        ("glue:GetDatabase", f"{glue}:database/default"),
        ("glue:CreateDatabase", mine["database"]),
        ("glue:DeleteDatabase", mine["database"]),
        ("s3:GetObject", theirs["enriched"]),
        ("s3:PutObject", theirs["marts"]),
        ("s3:ListBucket", theirs["bucket"]),
        ("s3:GetObject", mine["raw"]),
        ("s3:PutObject", mine["enriched"]),
        ("s3:DeleteObject", mine["enriched"]),
        ("cloudformation:DescribeStacks", theirs["stack"]),
        (
            "cloudformation:DescribeStacks",
            f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/tgpipe-bootstrap/1",
        ),
        ("cloudformation:CreateChangeSet", mine["stack"]),
        (
            "ssm:GetParameter",
            f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/tgpipe/{stage}/telegram-webhook-secret",
        ),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/tgpipe-cfn-execution-{REGION}"),
        ("lambda:UpdateFunctionCode", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:tgpipe-{stage}"),
    ]
    assert [decision(_policy(stage), *request) for request in requests] == ["implicit deny"] * len(requests)


@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_only_the_stage_s_environment_may_assume_its_role(stage: str) -> None:
    """GitHub OIDC, audience sts.amazonaws.com, the subject compared exactly with StringEquals: the
    environment of this stage only (never environment:*, never the other stage)."""
    role = _role(stage)
    assert (role["RoleName"], role["MaxSessionDuration"]) == (
        f"tgpipe-github-analytics-{stage}-{REGION}",
        3600,
    )
    assert role["AssumeRolePolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {
                    "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
                },
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                        "token.actions.githubusercontent.com:sub": f"repo:octo/tgpipe:environment:{stage}",
                    }
                },
            }
        ],
    }


def test_the_roles_are_the_stages_the_workflow_offers_and_the_stack_outputs_them() -> None:
    """config.json's stages = marts.yml's choices = the analytics roles; each role's ARN is an output
    (the environment's AWS_ANALYTICS_ROLE_ARN); without GitHubRepository there is none."""
    config = json.loads((ROOT / "chalice_app" / ".chalice" / "config.json").read_text())
    choices = workflow("marts.yml")["on"]["workflow_dispatch"]["inputs"]["stage"]["options"]
    bootstrap = _bootstrap()
    analytics = sorted(k for k in bootstrap["Resources"] if k.startswith("GitHubAnalyticsRole"))
    assert (sorted(config["stages"]), sorted(choices), analytics) == (
        ["dev", "prod"],
        ["dev", "prod"],
        ["GitHubAnalyticsRoleDev", "GitHubAnalyticsRoleProd"],
    )
    outputs = {
        key: template.resolve(bootstrap, bootstrap["Outputs"][key], GITHUB)
        for key in ("GitHubAnalyticsRoleArnProd", "GitHubAnalyticsRoleArnDev")
    }
    assert outputs == {
        f"GitHubAnalyticsRoleArn{stage.title()}": {
            "Condition": "WithGitHub",
            "Description": f"Variable AWS_ANALYTICS_ROLE_ARN of the GitHub environment {stage} (marts.yml)",
            "Value": f"arn:aws:iam::{ACCOUNT}:role/tgpipe-github-analytics-{stage}-{REGION}",
        }
        for stage in ("prod", "dev")
    }
    without = template.Context(parameters={"GitHubRepository": ""})
    assert [w for w, _ in template.policies(bootstrap, without) if "Analytics" in w] == []


def test_the_dev_role_is_the_prod_role_with_dev_s_names() -> None:
    """The two roles cannot drift apart: dev's resolved role is prod's with every prod name replaced."""
    prod = json.dumps(_role("prod"))
    for old, new in (("tgpipe-prod", "tgpipe-dev"), ("tgpipe_prod", "tgpipe_dev"), ("-prod", "-dev")):
        prod = prod.replace(old, new)
    prod = prod.replace("environment:prod", "environment:dev").replace("stage prod", "stage dev")
    assert json.loads(prod) == _role("dev")


@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_cloudformation_cannot_change_the_analytics_roles(stage: str) -> None:
    """The stacks' execution role may manage tgpipe-* roles, but an explicit Deny keeps the analytics
    roles out of its reach (no trust or policy rewritten by a template)."""
    arn = f"arn:aws:iam::{ACCOUNT}:role/tgpipe-github-analytics-{stage}-{REGION}"
    boundary = {
        "iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/tgpipe-permissions-boundary-{REGION}"
    }
    requests = [
        ("iam:UpdateAssumeRolePolicy", arn, {}),
        ("iam:PutRolePolicy", arn, boundary),
        ("iam:DeleteRole", arn, {}),
    ]
    assert [decision(_execution_role(), *request) for request in requests] == ["deny", "deny", "deny"]

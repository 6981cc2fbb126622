"""IAM, verified: every policy (the .chalice files, the packaged stacks, bootstrap, the `chalice deploy`
path's rendered files) passes parliament, grants no `*` beyond CloudWatch Logs, each function gets
exactly its own least-privilege policy inside the bootstrap's permissions boundary, CloudFormation may
create roles only inside that boundary, and only the stages' GitHub environments may deploy."""

from __future__ import annotations

import fnmatch
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalice_app.infra import stack, template
from etl.transform.schema import TABLES
from tests.infra.aws_package import ACCOUNT, REGION, ROOT, context, sam

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
    found = list(_stage_files())
    for stage in ("prod", "dev"):
        found += [(f"{stage}:{w}", doc) for w, doc in template.policies(sam(stage), context(stage))]
        pseudonymised = context(stage, **_pseudonymised(stage))
        found += [
            (f"{stage}-pseudonymised:{w}", doc)
            for w, doc in template.policies(sam(stage), pseudonymised)
            if w == "PseudonymiseKeyPolicy"
        ]
    bootstrap = template.load(template.BOOTSTRAP_TEMPLATE)
    github = template.Context(parameters={"GitHubRepository": "octo/tgpipe"})
    found += [(f"bootstrap:{w}", doc) for w, doc in template.policies(bootstrap, github)]
    found += [(f"rendered:{w}", doc) for w, doc in _rendered_policies()]
    return found


def _rendered_policies() -> Iterator[tuple[str, dict[str, Any]]]:
    from tests.infra.aws_package import scratch
    from tests.infra.test_stack import fake_stage

    out = stack.chalice_project(fake_stage(), "-100", scratch("rendered-for-policies"))
    for path in sorted((out / ".chalice").glob("policy-*.json")):
        yield path.name, json.loads(path.read_text())


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    statements = doc["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _listed(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


@pytest.mark.lambda_package
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


@pytest.mark.lambda_package
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
    tpl = sam(stage)
    policies = template.resolve(tpl, tpl["Resources"][role]["Properties"]["Policies"], context(stage))
    assert [p["PolicyName"] for p in policies] == [f"{role}Policy"]
    return policies[0]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def _own_logs(function: str) -> dict[str, Any]:
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{function}"
    return {
        "Sid": "WriteOwnLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [group, f"{group}:log-stream:*"],
    }


@pytest.mark.lambda_package
def test_the_webhook_may_only_put_raw_objects_read_its_secret_and_log() -> None:
    """The deployed webhook role: PutObject under raw/, list the opt-out markers and read the privacy
    salt (the opt-out list, etl.privacy.optout), GetParameter on its one secret, its own logs."""
    assert _resolved_role("prod", "ApiHandlerRole") == [
        {
            "Sid": "WriteRawUpdates",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/raw/*",
        },
        {
            "Sid": "ListOptOutMarkers",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{BUCKET}",
            "Condition": {"StringLike": {"s3:prefix": ["raw/_optout/*"]}},
        },
        {
            "Sid": "ReadPrivacySalt",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/raw/_privacy/salt",
        },
        {
            "Sid": "ReadWebhookSecret",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/tgpipe/prod/telegram-webhook-secret",
        },
        _own_logs("tgpipe-prod"),
    ]


@pytest.mark.lambda_package
def test_the_etl_may_read_raw_days_replace_enriched_days_park_failures_and_log() -> None:
    """The deployed ETL role: list the day prefixes and the opt-out markers, get raw days and the
    privacy salt, get the enriched messages days (text retention), put/delete enriched, its DLQ, its
    own logs."""
    assert _resolved_role("prod", "EtlDailyRole") == [
        {
            "Sid": "ListRawAndEnrichedDays",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{BUCKET}",
            "Condition": {
                "StringLike": {
                    "s3:prefix": [
                        "raw/context_date=*",
                        *(f"enriched/{table.name}/context_date=*" for table in TABLES),
                        "raw/_optout/*",
                    ]
                }
            },
        },
        {
            "Sid": "ReadRawUpdates",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [
                f"arn:aws:s3:::{BUCKET}/raw/context_date=*",
                f"arn:aws:s3:::{BUCKET}/raw/_privacy/salt",
            ],
        },
        {
            "Sid": "ReadEnrichedMessagesForTextRetention",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/enriched/messages/context_date=*",
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
        _own_logs("tgpipe-prod-etl_daily"),
    ]


@pytest.mark.lambda_package
def test_the_forget_function_may_erase_raw_versions_rebuild_enriched_days_record_and_log() -> None:
    """The deployed forget role: list and read every version under raw/ and enriched/, rewrite raw
    days, append erasure records, create the salt, delete versions of raw days, quarantine and
    enriched, rebuild enriched days, its own logs; no opt-out markers, no secret, no queue."""
    lake = f"arn:aws:s3:::{BUCKET}"
    assert _resolved_role("prod", "ForgetRole") == [
        {
            "Sid": "ListLakeAndVersions",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:ListBucketVersions"],
            "Resource": lake,
            "Condition": {"StringLike": {"s3:prefix": ["raw/*", "enriched/*"]}},
        },
        {
            "Sid": "ReadLakeVersions",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": [f"{lake}/raw/*", f"{lake}/enriched/*"],
        },
        {
            "Sid": "RewriteAndRecord",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": [
                f"{lake}/raw/context_date=*",
                f"{lake}/raw/_erasures/*",
                f"{lake}/raw/_privacy/salt",
            ],
        },
        {
            "Sid": "EraseEveryVersion",
            "Effect": "Allow",
            "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"],
            "Resource": [f"{lake}/raw/context_date=*", f"{lake}/raw/_quarantine/*", f"{lake}/enriched/*"],
        },
        {
            "Sid": "RebuildEnrichedDays",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": f"{lake}/enriched/*",
        },
        _own_logs("tgpipe-prod-forget"),
    ]
    doc = {"Statement": _resolved_role("prod", "ForgetRole")}
    assert [
        decision(doc, "s3:DeleteObjectVersion", f"{lake}/raw/context_date=2026-10-05/1.json"),
        decision(doc, "s3:DeleteObject", f"{lake}/raw/_erasures/x.json"),
        decision(doc, "s3:PutObject", f"{lake}/raw/_optout/h/1.optout"),
        decision(doc, "s3:DeleteObject", f"{lake}/marts/x"),
    ] == ["allow", "implicit deny", "implicit deny", "implicit deny"]


@pytest.mark.lambda_package
@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_each_function_gets_its_own_policy_file_translated(stage: str) -> None:
    """The .chalice policy files are the source: the stack's policies are them with bucket and account."""
    tpl = sam(stage)
    roles = {
        logical: resource["Properties"]["Policies"][0]["PolicyDocument"]
        for logical, resource in tpl["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    }
    files = template.function_policies(stage)
    assert roles == {role: template.translate(doc, stage) for role, doc in files.items()}
    assert sorted(roles) == ["ApiHandlerRole", "EtlDailyRole", "ForgetRole"]
    assert len({json.dumps(doc) for doc in files.values()}) == 3


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
    with pytest.raises(template.TemplateError) as caught:
        template.translate({"Resource": arn}, "prod")
    assert str(caught.value) == message


GITHUB = {"GitHubRepository": "octo/tgpipe"}
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/tgpipe-permissions-boundary-{REGION}"
_SUB = "token.actions.githubusercontent.com:sub"


def _bootstrap() -> dict[str, Any]:
    return template.load(template.BOOTSTRAP_TEMPLATE)  # type: ignore[no-any-return]


def _github() -> Any:
    return template.Context(parameters=GITHUB)


def test_only_the_stages_environments_of_this_repository_may_assume_the_deploy_role() -> None:
    """GitHub OIDC: audience sts.amazonaws.com and, compared exactly, the environment of each stage."""
    bootstrap = _bootstrap()
    role = template.resolve(bootstrap, bootstrap["Resources"]["GitHubDeployRole"], _github())
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
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                        _SUB: ["repo:octo/tgpipe:environment:prod", "repo:octo/tgpipe:environment:dev"],
                    },
                },
            }
        ],
    }
    assert template.check_deploy_trust(bootstrap, _github()) == [
        "repo:octo/tgpipe:environment:prod",
        "repo:octo/tgpipe:environment:dev",
    ]
    without = template.Context(parameters={"GitHubRepository": ""})
    assert [w for w, _ in template.policies(bootstrap, without)] == [
        "ArtifactsBucketPolicy",
        "PermissionsBoundary",
    ]


def _trust_condition(bootstrap: dict[str, Any]) -> dict[str, Any]:
    role = bootstrap["Resources"]["GitHubDeployRole"]
    return role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]  # type: ignore[no-any-return]


def test_a_wildcard_environment_in_the_trust_is_refused() -> None:
    """The real bootstrap with environment:* added (GitHub creates any environment a job names, so it
    would skip prod's protection rules): the check names the subject and what is allowed."""
    bootstrap = _bootstrap()
    _trust_condition(bootstrap)["StringEquals"][_SUB].append(
        {"Fn::Sub": "repo:${GitHubRepository}:environment:*"}
    )
    with pytest.raises(template.TemplateError) as caught:
        template.check_deploy_trust(bootstrap, _github())
    assert str(caught.value) == (
        "GitHubDeployRole trusts repo:octo/tgpipe:environment:*: only repo:octo/tgpipe:environment:dev, "
        "repo:octo/tgpipe:environment:prod (the stages' environments) may deploy"
    )


def test_a_pattern_match_on_the_subject_is_refused() -> None:
    """The trust as it was (StringLike on environment:*): refused for its operator before its value."""
    bootstrap = _bootstrap()
    condition = _trust_condition(bootstrap)
    del condition["StringEquals"][_SUB]
    condition["StringLike"] = {_SUB: {"Fn::Sub": "repo:${GitHubRepository}:environment:*"}}
    with pytest.raises(template.TemplateError) as caught:
        template.check_deploy_trust(bootstrap, _github())
    assert str(caught.value) == (
        "GitHubDeployRole compares token.actions.githubusercontent.com:sub with StringLike: only "
        "StringEquals names environments exactly"
    )


def test_the_trusted_environments_are_the_stages_the_workflow_deploys() -> None:
    """deploy.yml's stage choices = the stages of config.json = the environments the role trusts; a tag
    push deploys in the environment prod, so tags need no trust of their own."""
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    choices = workflow[True]["workflow_dispatch"]["inputs"]["stage"]["options"]
    trusted = template.check_deploy_trust(_bootstrap(), _github())
    config = json.loads((CHALICE / "config.json").read_text())
    assert (
        sorted(choices),
        sorted(config["stages"]),
        sorted(s.removeprefix("repo:octo/tgpipe:environment:") for s in trusted),
    ) == (["dev", "prod"], ["dev", "prod"], ["dev", "prod"])
    assert workflow["jobs"]["deploy"]["environment"] == "${{ inputs.stage || 'prod' }}"


@pytest.mark.lambda_package
@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_every_role_of_the_packaged_stack_carries_the_bootstrap_s_boundary(stage: str) -> None:
    """Chalice's roles, merged: each has PermissionsBoundary imported from bootstrap, which is the
    bootstrap's managed policy."""
    tpl = sam(stage)
    assert template.check_boundaries(tpl) == ["ApiHandlerRole", "EtlDailyRole", "ForgetRole"]
    boundaries = {
        role: template.resolve(
            tpl, tpl["Resources"][role]["Properties"]["PermissionsBoundary"], context(stage)
        )
        for role in ("ApiHandlerRole", "EtlDailyRole", "ForgetRole")
    }
    assert boundaries == {
        "ApiHandlerRole": BOUNDARY_ARN,
        "EtlDailyRole": BOUNDARY_ARN,
        "ForgetRole": BOUNDARY_ARN,
    }
    bootstrap = _bootstrap()
    output = template.resolve(bootstrap, bootstrap["Outputs"]["PermissionsBoundaryArn"], context(stage))
    assert output == {
        "Description": "The permissions boundary of every role of the tgpipe-<stage> stacks (they import it)",
        "Value": BOUNDARY_ARN,
        "Export": {"Name": "tgpipe-permissions-boundary"},
    }


@pytest.mark.lambda_package
def test_a_role_without_the_boundary_is_refused() -> None:
    """The real packaged template with the boundary taken off one role fails the check, which packaging
    runs on every template it writes."""
    tpl = sam("prod")
    del tpl["Resources"]["EtlDailyRole"]["Properties"]["PermissionsBoundary"]
    with pytest.raises(template.TemplateError) as caught:
        template.check_boundaries(tpl)
    assert str(caught.value) == (
        'role EtlDailyRole has PermissionsBoundary null, not {"Fn::ImportValue": '
        '"tgpipe-permissions-boundary"}: the CloudFormation execution role may only create roles '
        "within the bootstrap's boundary"
    )


@pytest.mark.lambda_package
def test_a_sam_function_creating_its_own_role_is_refused() -> None:
    """A function without Role would get a role SAM makes, without the boundary."""
    tpl = sam("prod")
    del tpl["Resources"]["APIHandler"]["Properties"]["Role"]
    with pytest.raises(template.TemplateError) as caught:
        template.check_boundaries(tpl)
    assert str(caught.value) == (
        "APIHandler has no Role: SAM would create one without the permissions boundary"
    )


def _lake(prefix: str) -> str:
    return f"arn:aws:s3:::tgpipe-lake-*-{ACCOUNT}-{REGION}{prefix}"


def test_the_boundary_allows_only_what_the_functions_need_on_tgpipe_names() -> None:
    """Lake prefixes, the webhook secrets and pseudonymisation keys (decrypted through SSM only), the
    ETL dead-letter queues, tgpipe function logs, the versions the forget function erases, the
    enriched messages the ETL's text retention reads: no Athena, Glue, IAM or lambda actions (no
    function uses them)."""
    bootstrap = _bootstrap()
    boundary = template.resolve(bootstrap, bootstrap["Resources"]["PermissionsBoundary"], _github())
    assert boundary["Properties"] == {
        "ManagedPolicyName": f"tgpipe-permissions-boundary-{REGION}",
        "Description": (
            "Ceiling of the roles of the tgpipe-<stage> stacks (webhook, ETL and forget functions)"
        ),
        "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "ListLakeDays", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": _lake("")},
                {
                    "Sid": "RawUpdates",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject"],
                    "Resource": _lake("/raw/*"),
                },
                {
                    "Sid": "EnrichedPartitions",
                    "Effect": "Allow",
                    "Action": ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                    "Resource": _lake("/enriched/*"),
                },
                {
                    "Sid": "WebhookSecret",
                    "Effect": "Allow",
                    "Action": "ssm:GetParameter",
                    "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/tgpipe/*/telegram-webhook-secret",
                },
                {
                    "Sid": "PseudonymiseKey",
                    "Effect": "Allow",
                    "Action": "ssm:GetParameter",
                    "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/tgpipe/*/pseudonymise-key",
                },
                {
                    "Sid": "DecryptParametersThroughSsm",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*",
                    "Condition": {"StringEquals": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}},
                },
                {
                    "Sid": "EtlDeadLetters",
                    "Effect": "Allow",
                    "Action": "sqs:SendMessage",
                    "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:tgpipe-*-etl-dead-letters",
                },
                {
                    "Sid": "FunctionLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/tgpipe-*",
                },
                {
                    "Sid": "EraseOnRequest",
                    "Effect": "Allow",
                    "Action": "s3:ListBucketVersions",
                    "Resource": _lake(""),
                },
                {
                    "Sid": "EraseLakeVersions",
                    "Effect": "Allow",
                    "Action": [
                        "s3:GetObject",
                        "s3:GetObjectVersion",
                        "s3:DeleteObject",
                        "s3:DeleteObjectVersion",
                    ],
                    "Resource": [_lake("/raw/*"), _lake("/enriched/*")],
                },
                {
                    "Sid": "EtlTextRetention",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": _lake("/enriched/messages/context_date=*"),
                },
            ],
        },
    }


def _matches(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)


def _condition_holds(condition: dict[str, dict[str, Any]], request: dict[str, str]) -> bool:
    """IAM's condition operators used here; a negated operator holds when the key is absent."""
    for operator, keys in condition.items():
        for key, wanted in keys.items():
            values, present = _listed(wanted), key in request
            if operator in ("StringEquals", "ArnEquals"):
                holds = present and request[key] in values
            elif operator in ("StringNotEquals", "ArnNotEquals"):
                holds = not present or request[key] not in values
            elif operator in ("StringLike", "ArnLike"):
                holds = present and any(_matches(v, request[key]) for v in values)
            else:
                raise AssertionError(f"operator {operator} is not modelled here")
            if not holds:
                return False
    return True


def decision(doc: dict[str, Any], action: str, resource: str, request: dict[str, str] | None = None) -> str:
    """One identity policy's answer to a request: "deny" (an explicit Deny applies), "allow", or
    "implicit deny" (nothing applies)."""
    applying = {
        statement["Effect"]
        for statement in _statements(doc)
        if any(_matches(a.lower(), action.lower()) for a in _listed(statement["Action"]))
        and any(_matches(r, resource) for r in _listed(statement["Resource"]))
        and _condition_holds(statement.get("Condition", {}), request or {})
    }
    return "deny" if "Deny" in applying else "allow" if "Allow" in applying else "implicit deny"


@pytest.mark.lambda_package
@pytest.mark.parametrize("pseudonymise", [False, True], ids=["plain", "pseudonymised"])
@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_every_permission_a_function_role_has_is_inside_the_boundary(stage: str, pseudonymise: bool) -> None:
    """Each action on each resource the stack's role policies grant (the key parameter's policy too,
    when Pseudonymise is 1) is allowed by the boundary too, so the boundary takes nothing away from
    the functions."""
    bootstrap = _bootstrap()
    boundary = template.resolve(bootstrap, bootstrap["Resources"]["PermissionsBoundary"], _github())
    ctx = context(stage, **(_pseudonymised(stage) if pseudonymise else {}))
    granted = [
        (action, resource)
        for where, doc in template.policies(sam(stage), ctx)
        if where.endswith("RolePolicy") or where == "PseudonymiseKeyPolicy"
        for statement in _statements(doc)
        for action in _listed(statement["Action"])
        for resource in _listed(statement["Resource"])
    ]
    outside = [g for g in granted if decision(boundary["Properties"]["PolicyDocument"], *g) != "allow"]
    assert (outside, len(granted)) == ([], 48 if pseudonymise else 47)


def _pseudonymised(stage: str) -> dict[str, str]:
    return {"Pseudonymise": "1", "PseudonymiseKeyParameter": f"/tgpipe/{stage}/pseudonymise-key"}


@pytest.mark.lambda_package
def test_pseudonymise_lets_only_the_etl_and_forget_roles_read_exactly_the_key_parameter() -> None:
    """Pseudonymise=1 with PseudonymiseKeyParameter: one policy on the ETL and forget roles, GetParameter
    on that parameter alone (decrypted through SSM, which the boundary allows); unset (the default):
    no such policy; the boundary refuses another parameter even if a policy named it."""
    tpl = sam("prod")
    on = context("prod", **_pseudonymised("prod"))
    policy = template.resolve(tpl, tpl["Resources"]["PseudonymiseKeyPolicy"], on)
    assert policy == {
        "Type": "AWS::IAM::Policy",
        "Condition": "Pseudonymising",
        "Properties": {
            "PolicyName": "ReadPseudonymiseKey",
            "Roles": ["tgpipe-prod-EtlDailyRole-0AB1C2", "tgpipe-prod-ForgetRole-0AB1C2"],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ReadPseudonymiseKey",
                        "Effect": "Allow",
                        "Action": "ssm:GetParameter",
                        "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/tgpipe/prod/pseudonymise-key",
                    }
                ],
            },
        },
    }
    assert [w for w, _ in template.policies(tpl, on)] == [
        "ForgetRole/ForgetRolePolicy",
        "EtlDailyRole/EtlDailyRolePolicy",
        "ApiHandlerRole/ApiHandlerRolePolicy",
        "LakeBucketPolicy",
        "PseudonymiseKeyPolicy",
    ]
    assert [w for w, _ in template.policies(tpl, context("prod"))] == [
        "ForgetRole/ForgetRolePolicy",
        "EtlDailyRole/EtlDailyRolePolicy",
        "ApiHandlerRole/ApiHandlerRolePolicy",
        "LakeBucketPolicy",
    ]
    bootstrap = _bootstrap()
    boundary = template.resolve(bootstrap, bootstrap["Resources"]["PermissionsBoundary"], _github())
    doc = boundary["Properties"]["PolicyDocument"]
    ssm = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter"
    kms = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234"
    assert [
        decision(doc, "ssm:GetParameter", f"{ssm}/tgpipe/prod/pseudonymise-key"),
        decision(doc, "ssm:GetParameter", f"{ssm}/tgpipe/prod/other-secret"),
        decision(doc, "ssm:GetParameter", f"{ssm}/elsewhere/pseudonymise-key"),
        decision(doc, "kms:Decrypt", kms, {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}),
        decision(doc, "kms:Decrypt", kms),
    ] == ["allow", "implicit deny", "implicit deny", "allow", "implicit deny"]


def test_the_boundary_caps_a_role_that_grants_itself_everything() -> None:
    """A template giving a function Action "*" still gets only the boundary: no IAM, no other bucket,
    no marts, no Athena."""
    bootstrap = _bootstrap()
    boundary = template.resolve(bootstrap, bootstrap["Resources"]["PermissionsBoundary"], _github())
    doc = boundary["Properties"]["PolicyDocument"]
    bucket = f"tgpipe-lake-prod-{ACCOUNT}-{REGION}"
    requests = [
        ("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/anything"),
        ("s3:GetObject", "arn:aws:s3:::someone-elses-bucket/raw/x.json"),
        ("s3:GetObject", f"arn:aws:s3:::{bucket}/marts/x.parquet"),
        ("athena:StartQueryExecution", f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/tgpipe-prod"),
        ("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234"),
        ("s3:PutObject", f"arn:aws:s3:::{bucket}/raw/context_date=2026-10-05/1.json"),
    ]
    assert [decision(doc, *request) for request in requests] == [
        "implicit deny",
        "implicit deny",
        "implicit deny",
        "implicit deny",
        "implicit deny",
        "allow",
    ]


def _execution_role() -> dict[str, Any]:
    bootstrap = _bootstrap()
    role = template.resolve(bootstrap, bootstrap["Resources"]["CloudFormationExecutionRole"], _github())
    (policy,) = role["Properties"]["Policies"]
    return policy["PolicyDocument"]  # type: ignore[no-any-return]


FUNCTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/tgpipe-prod-EtlDailyRole-0AB1C2"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
WITH_BOUNDARY = {"iam:PermissionsBoundary": BOUNDARY_ARN}


@pytest.mark.parametrize(
    ("action", "resource", "request_context", "expected"),
    [
        ("iam:CreateRole", FUNCTION_ROLE, WITH_BOUNDARY, "allow"),
        ("iam:CreateRole", FUNCTION_ROLE, {}, "deny"),
        ("iam:CreateRole", FUNCTION_ROLE, {"iam:PermissionsBoundary": ADMIN}, "deny"),
        ("iam:PutRolePolicy", FUNCTION_ROLE, WITH_BOUNDARY, "allow"),
        ("iam:PutRolePolicy", FUNCTION_ROLE, {}, "implicit deny"),
        ("iam:AttachRolePolicy", FUNCTION_ROLE, WITH_BOUNDARY, "implicit deny"),
        ("iam:PutRolePermissionsBoundary", FUNCTION_ROLE, WITH_BOUNDARY, "allow"),
        ("iam:PutRolePermissionsBoundary", FUNCTION_ROLE, {"iam:PermissionsBoundary": ADMIN}, "deny"),
        ("iam:DeleteRolePermissionsBoundary", FUNCTION_ROLE, WITH_BOUNDARY, "deny"),
        ("iam:CreatePolicyVersion", BOUNDARY_ARN, {}, "deny"),
        ("iam:SetDefaultPolicyVersion", BOUNDARY_ARN, {}, "deny"),
        ("iam:DeletePolicy", BOUNDARY_ARN, {}, "deny"),
        ("iam:CreatePolicy", f"arn:aws:iam::{ACCOUNT}:policy/tgpipe-wide-open", {}, "implicit deny"),
        (
            "iam:PutRolePolicy",
            f"arn:aws:iam::{ACCOUNT}:role/tgpipe-cfn-execution-{REGION}",
            WITH_BOUNDARY,
            "deny",
        ),
        (
            "iam:UpdateAssumeRolePolicy",
            f"arn:aws:iam::{ACCOUNT}:role/tgpipe-github-deploy-{REGION}",
            {},
            "deny",
        ),
        ("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/someone-else", WITH_BOUNDARY, "implicit deny"),
    ],
    ids=[
        "create-role-with-the-boundary",
        "create-role-without-a-boundary",
        "create-role-with-another-boundary",
        "put-policy-on-a-bounded-role",
        "put-policy-on-an-unbounded-role",
        "attach-a-managed-policy",
        "set-the-boundary",
        "swap-the-boundary",
        "remove-the-boundary",
        "rewrite-the-boundary",
        "roll-the-boundary-back",
        "delete-the-boundary",
        "create-a-policy",
        "grant-itself-more",
        "open-the-deploy-role-s-trust",
        "role-outside-tgpipe",
    ],
)
def test_cloudformation_may_create_and_change_roles_only_inside_the_boundary(
    action: str, resource: str, request_context: dict[str, str], expected: str
) -> None:
    """The execution role's policy, evaluated: a stack cannot create a role with Action "*" and no
    boundary, swap or remove the boundary, edit the boundary policy, or touch the bootstrap roles."""
    assert decision(_execution_role(), action, resource, request_context) == expected


def test_the_policy_evaluation_used_above_can_allow_and_deny() -> None:
    """A control for decision(): plain allow, explicit deny winning, conditions, no match."""
    doc = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/secret/*"},
            {
                "Effect": "Allow",
                "Action": "iam:CreateRole",
                "Resource": "*",
                "Condition": {"ArnEquals": {"iam:PermissionsBoundary": "arn:b"}},
            },
        ]
    }
    assert [
        decision(doc, "s3:GetObject", "arn:aws:s3:::b/x"),
        decision(doc, "s3:GetObject", "arn:aws:s3:::b/secret/x"),
        decision(doc, "S3:GETOBJECT", "arn:aws:s3:::c/x"),
        decision(doc, "iam:CreateRole", "r", {"iam:PermissionsBoundary": "arn:b"}),
        decision(doc, "iam:CreateRole", "r"),
    ] == ["allow", "deny", "implicit deny", "allow", "implicit deny"]


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
        "policy-forget-dev.json",
        "policy-forget-prod.json",
        "policy-webhook-dev.json",
        "policy-webhook-prod.json",
    }


@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_the_etl_may_list_exactly_the_prefixes_its_job_lists(stage: str) -> None:
    """What EtlJob.run_day lists (the raw day, each table's enriched day, from etl.lake) is allowed by
    the ETL's policy file; another folder of the lake is not."""
    from etl.lake import enriched_partition, partition_prefix

    doc = json.loads((CHALICE / f"policy-etl-{stage}.json").read_text())
    bucket = f"arn:aws:s3:::tgpipe-lake-{stage}"
    day = "2026-10-05"
    listed = [
        f"raw/{partition_prefix(day)}",
        *(f"enriched/{enriched_partition(t.name, day)}" for t in TABLES),
    ]
    assert {p: decision(doc, "s3:ListBucket", bucket, {"s3:prefix": p}) for p in listed} == dict.fromkeys(
        listed, "allow"
    )
    others = ["raw/_quarantine/", "enriched/", "marts/", "enriched/other_table/context_date=2026-10-05/"]
    assert {p: decision(doc, "s3:ListBucket", bucket, {"s3:prefix": p}) for p in others} == dict.fromkeys(
        others, "implicit deny"
    )

"""examples/bi/athena-reader-policy.json, the policy the README gives a BI tool's role or user: parliament
finds nothing, and evaluated it may query every mart of its stage and write only its query results."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

from tests.infra.aws_package import ACCOUNT, REGION, ROOT
from tests.infra.test_policies import decision

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # parliament imports the deprecated pkg_resources
    from parliament import analyze_policy_string

POLICY = ROOT / "examples" / "bi" / "athena-reader-policy.json"
LAKE = f"arn:aws:s3:::tgpipe-lake-prod-{ACCOUNT}-{REGION}"
GLUE = f"arn:aws:glue:{REGION}:{ACCOUNT}"
WORKGROUP = f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/tgpipe-prod"


def _policy(stage: str = "prod") -> dict[str, Any]:
    text = POLICY.read_text().replace("REGION", REGION).replace("ACCOUNT", ACCOUNT).replace("STAGE", stage)
    return json.loads(text)  # type: ignore[no-any-return]


def test_parliament_finds_nothing() -> None:
    """With the placeholders filled in, the policy passes parliament and its community auditors."""
    findings = analyze_policy_string(json.dumps(_policy()), include_community_auditors=True).findings
    assert [(f.issue, f.detail) for f in findings] == []


@pytest.mark.parametrize(
    ("action", "resource", "expected"),
    [
        ("athena:StartQueryExecution", WORKGROUP, "allow"),
        ("athena:GetQueryResults", WORKGROUP, "allow"),
        ("glue:GetTables", f"{GLUE}:database/tgpipe_prod", "allow"),
        ("glue:GetTable", f"{GLUE}:table/tgpipe_prod/daily_messages", "allow"),
        ("s3:GetObject", f"{LAKE}/marts/tgpipe_prod/daily_messages/a/part-0.parquet", "allow"),
        ("s3:GetObject", f"{LAKE}/enriched/messages/context_date=2026-10-05/part-00000.parquet", "allow"),
        ("s3:PutObject", f"{LAKE}/athena-results/0123.csv", "allow"),
        ("s3:PutObject", f"{LAKE}/marts/tgpipe_prod/daily_messages/a/part-0.parquet", "implicit deny"),
        ("s3:DeleteObject", f"{LAKE}/marts/tgpipe_prod/daily_messages/a/part-0.parquet", "implicit deny"),
        ("s3:GetObject", f"{LAKE}/raw/context_date=2026-10-05/900000001.json", "implicit deny"),
        ("glue:CreateTable", f"{GLUE}:table/tgpipe_prod/anything", "implicit deny"),
        ("glue:DeleteTable", f"{GLUE}:table/tgpipe_prod/daily_messages", "implicit deny"),
        ("glue:GetTable", f"{GLUE}:table/tgpipe_dev/daily_messages", "implicit deny"),
        (
            "athena:StartQueryExecution",
            f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/primary",
            "implicit deny",
        ),
        ("s3:GetObject", f"arn:aws:s3:::tgpipe-lake-dev-{ACCOUNT}-{REGION}/marts/x.parquet", "implicit deny"),
    ],
    ids=[
        "query",
        "read-results",
        "list-tables",
        "read-table",
        "read-marts",
        "read-enriched-for-staging-views",
        "write-own-results",
        "write-marts",
        "delete-marts",
        "read-raw-updates",
        "create-table",
        "drop-table",
        "other-stage-table",
        "other-workgroup",
        "other-stage-lake",
    ],
)
def test_the_reader_may_query_and_read_but_not_change_anything(
    action: str, resource: str, expected: str
) -> None:
    """Read every mart (and the enriched layer the staging views read), write query results only."""
    assert decision(_policy(), action, resource) == expected


def test_the_placeholders_are_the_only_parts_to_fill_in() -> None:
    """Every resource names REGION, ACCOUNT and STAGE by placeholder (no real account in the file); the
    only wildcard beyond the stage's names is listing database names."""
    text = POLICY.read_text()
    resources = [
        r
        for s in json.loads(text)["Statement"]
        for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    ]
    assert [r for r in resources if "STAGE" not in r] == [
        "arn:aws:glue:REGION:ACCOUNT:catalog",
        "arn:aws:glue:REGION:ACCOUNT:database/*",
        "arn:aws:glue:REGION:ACCOUNT:catalog",
    ]
    assert all("ACCOUNT" in r for r in resources)

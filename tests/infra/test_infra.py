"""The packaged CloudFormation: cfn-lint clean, and the lake, catalog, Athena, layer, functions, alarms,
dead-letter queue and log retention the stack creates, property by property."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalice_app.infra import template
from etl.config import WebhookSettings
from etl.ingest.webhook import Webhook
from etl.storage import LocalStorage
from etl.transform.schema import TABLES, Table
from tests.helpers import CHAT_IDS as TEST_CHAT_IDS
from tests.helpers import SECRET
from tests.infra.aws_package import (
    ACCOUNT,
    CHAT_IDS,
    REGION,
    ROOT,
    context,
    packaged,
    resolved,
    sam,
    scratch,
)

BUCKET = f"tgpipe-lake-prod-{ACCOUNT}-{REGION}"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:tgpipe-prod-alarms"
CFN_LINT = [str(Path(sys.executable).parent / "cfn-lint")]


def props(name: str, stage: str = "prod") -> dict[str, Any]:
    return resolved(stage)[name]["Properties"]  # type: ignore[no-any-return]


@pytest.mark.lambda_package
@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_cfn_lint_passes_on_the_packaged_template(stage: str) -> None:
    """The one template `make deploy` ships (Chalice's resources merged with ours) has no finding."""
    result = subprocess.run(
        [*CFN_LINT, str(packaged(stage).template)], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_cfn_lint_catches_chalice_s_log_group_bug_that_the_overlay_fixes() -> None:
    """Without functions.yaml, Chalice names the API handler's log group after a missing resource
    (aws/chalice#2079): the linter sees it, so a passing lint above means something."""
    out = scratch("chalice-alone")
    env = {**os.environ, "AWS_DEFAULT_REGION": REGION}
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from chalice.cli import main; sys.exit(main())",
            "--project-dir",
            str(ROOT / "chalice_app"),
            "package",
            "--stage",
            "prod",
            str(out),
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    result = subprocess.run([*CFN_LINT, str(out / "sam.json")], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "'ApiHandler' is not one of" in result.stdout


@pytest.mark.lambda_package
def test_the_lake_bucket_is_private_encrypted_versioned_with_lifecycle_rules() -> None:
    """SSE-S3, public access blocked, ACLs off, versions kept 30 days (replaced enriched messages one
    day: text retention), raw days to Standard-IA after 30 days (raw/_quarantine/ untouched), Athena
    results expire."""
    assert props("LakeBucket") == {
        "BucketName": BUCKET,
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
            ]
        },
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        },
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "VersioningConfiguration": {"Status": "Enabled"},
        "LifecycleConfiguration": {
            "TransitionDefaultMinimumObjectSize": "all_storage_classes_128K",
            "Rules": [
                {
                    "Id": "raw-days-to-standard-ia",
                    "Status": "Enabled",
                    "Prefix": "raw/context_date=",
                    "Transitions": [{"StorageClass": "STANDARD_IA", "TransitionInDays": "30"}],
                },
                {
                    "Id": "expire-replaced-enriched-messages",
                    "Status": "Enabled",
                    "Prefix": "enriched/messages/",
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                },
                {
                    "Id": "expire-athena-results",
                    "Status": "Enabled",
                    "Prefix": "athena-results/",
                    "ExpirationInDays": "30",
                },
                {
                    "Id": "old-versions-and-uploads",
                    "Status": "Enabled",
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                },
            ],
        },
    }
    quarantine = "raw/_quarantine/x.bin"
    rules = props("LakeBucket")["LifecycleConfiguration"]["Rules"]
    assert [r["Id"] for r in rules if "Prefix" not in r or quarantine.startswith(r["Prefix"])] == [
        "old-versions-and-uploads"
    ]


@pytest.mark.lambda_package
def test_the_bucket_refuses_anything_but_tls() -> None:
    """The bucket policy denies every request made without TLS."""
    assert props("LakeBucketPolicy") == {
        "Bucket": BUCKET,
        "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
    }


def _hive(arrow_type: Any) -> str:
    text = str(arrow_type)
    return {"int64": "bigint", "int32": "int", "string": "string", "bool": "boolean"}.get(
        text, "timestamp" if text.startswith("timestamp") else text
    )


def _dbt_source_columns(name: str) -> list[tuple[str, str]]:
    sources = yaml.safe_load(
        (ROOT / "dbt_project" / "models" / "staging" / "telegram" / "_telegram__sources.yml").read_text()
    )
    (table,) = [t for t in sources["sources"][0]["tables"] if t["name"] == name]
    return [(c["name"], c["data_type"]) for c in table["columns"]]


GLUE_TABLES = {
    "messages": "EnrichedMessagesTable",
    "reactions": "EnrichedReactionsTable",
    "member_events": "EnrichedMemberEventsTable",
    "message_entities": "EnrichedMessageEntitiesTable",
}


@pytest.mark.lambda_package
def test_every_table_of_the_enriched_lake_has_its_glue_table() -> None:
    """One Glue table per table the ETL writes, and no other."""
    glue = {
        r["Properties"]["TableInput"]["Name"]
        for r in resolved("prod").values()
        if r["Type"] == "AWS::Glue::Table"
    }
    assert glue == {f"enriched_{table.name}" for table in TABLES}
    assert set(GLUE_TABLES) == {table.name for table in TABLES}


@pytest.mark.lambda_package
@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_the_glue_table_has_the_etl_schema_and_the_dbt_source_columns(table: Table) -> None:
    """Columns and types in order: CloudFormation = the ETL's declared schema = dbt's source YAML."""
    glue = props(GLUE_TABLES[table.name])["TableInput"]
    columns = [(c["Name"], c["Type"]) for c in glue["StorageDescriptor"]["Columns"]]
    assert columns == [(field.name, _hive(field.type)) for field in table.schema]
    assert [*columns, ("context_date", "string")] == _dbt_source_columns(table.name)
    assert glue["PartitionKeys"] == [{"Name": "context_date", "Type": "string"}]


def _dbt_ddl(location: str) -> str:
    env = {
        **os.environ,
        "TGPIPE_ENRICHED_URI": location,
        "TGPIPE_ATHENA_DATABASE": "tgpipe_prod",
        "TGPIPE_ATHENA_REGION": REGION,
        "TGPIPE_ATHENA_S3_STAGING_DIR": f"s3://{BUCKET}/athena-results/",
        "DBT_TARGET_PATH": str(scratch("dbt-target")),
        "DBT_LOG_PATH": str(scratch("dbt-logs")),
    }
    dbt = str(Path(sys.executable).parent / "dbt")
    result = subprocess.run(
        [
            dbt,
            "run-operation",
            "create_enriched_source_table",
            "--args",
            "{dry_run: true}",
            "--target",
            "athena",
        ],
        cwd=ROOT / "dbt_project",
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout


@pytest.fixture(scope="module")
def dbt_ddl() -> dict[str, str]:
    """The run-operation's CREATE TABLE statements, by table identifier."""
    ddl = _dbt_ddl(f"s3://{BUCKET}/enriched")
    statements = ["create external table" + part for part in ddl.split("create external table")[1:]]
    return {
        re.search(r"^create external table if not exists `\w+`\.`(\w+)`", s).group(1): s  # type: ignore[union-attr]
        for s in statements
    }


@pytest.mark.lambda_package
@pytest.mark.parametrize("name", GLUE_TABLES)
def test_the_glue_table_is_what_dbt_s_run_operation_would_create(name: str, dbt_ddl: dict[str, str]) -> None:
    """Same database, name, columns, location and partition projection as the dbt macro's DDL, so
    `dbt run-operation create_enriched_source_table` finds it there and has nothing to do."""
    table = props(GLUE_TABLES[name])
    assert sorted(dbt_ddl) == sorted(f"enriched_{n}" for n in GLUE_TABLES)
    create = dbt_ddl[table["TableInput"]["Name"]]
    assert re.search(r"create external table if not exists `(\w+)`\.`(\w+)`", create).groups() == (  # type: ignore[union-attr]
        props("GlueDatabase")["DatabaseInput"]["Name"],
        table["TableInput"]["Name"],
    )
    columns = re.findall(r"^\s+`(\w+)` (\w+),?$", create.split("partitioned by")[0], re.MULTILINE)
    assert columns == [(c["Name"], c["Type"]) for c in table["TableInput"]["StorageDescriptor"]["Columns"]]
    assert (
        re.search(r"location '([^']+)'", create).group(1)  # type: ignore[union-attr]
        == table["TableInput"]["StorageDescriptor"]["Location"]
    )
    properties = dict(re.findall(r"'([\w.]+)' = '([^']*)'", create.split("tblproperties")[1]))
    projection = {
        k: v for k, v in table["TableInput"]["Parameters"].items() if k not in ("EXTERNAL", "classification")
    }
    assert properties == projection


@pytest.mark.lambda_package
@pytest.mark.parametrize("name", GLUE_TABLES)
def test_the_glue_table_reads_parquet_from_its_folder_of_the_enriched_prefix(name: str) -> None:
    """External Parquet table over enriched/<table>/, projection on context_date (no MSCK REPAIR)."""
    table = props(GLUE_TABLES[name])
    assert table["DatabaseName"] == "tgpipe_prod"
    descriptor = {k: v for k, v in table["TableInput"]["StorageDescriptor"].items() if k != "Columns"}
    assert descriptor == {
        "Location": f"s3://{BUCKET}/enriched/{name}/",
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            "Parameters": {"serialization.format": "1"},
        },
    }
    assert table["TableInput"]["Parameters"] == {
        "EXTERNAL": "TRUE",
        "classification": "parquet",
        "projection.enabled": "true",
        "projection.context_date.type": "date",
        "projection.context_date.format": "yyyy-MM-dd",
        "projection.context_date.range": "2020-01-01,NOW+1DAYS",
        "projection.context_date.interval": "1",
        "projection.context_date.interval.unit": "DAYS",
        "storage.location.template": f"s3://{BUCKET}/enriched/{name}/context_date=${{context_date}}/",
    }


@pytest.mark.lambda_package
def test_the_athena_workgroup_caps_every_query() -> None:
    """Enforced settings: 1 GiB scanned at most per query, encrypted results under athena-results/."""
    assert props("AthenaWorkGroup") == {
        "Name": "tgpipe-prod",
        "Description": "tgpipe - dbt and analysts; every query is capped by the bytes-scanned cutoff",
        "RecursiveDeleteOption": True,
        "WorkGroupConfiguration": {
            "EnforceWorkGroupConfiguration": True,
            "PublishCloudWatchMetricsEnabled": True,
            "BytesScannedCutoffPerQuery": "1073741824",
            "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"},
            "ResultConfiguration": {
                "OutputLocation": f"s3://{BUCKET}/athena-results/",
                "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
            },
        },
    }


@pytest.mark.lambda_package
def test_only_the_etl_function_gets_the_layer_and_a_dead_letter_queue() -> None:
    """The layer (python3.12, x86_64) and the DLQ attach to EtlDaily; the webhook has neither."""
    etl, webhook = props("EtlDaily"), props("APIHandler")
    layer_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:tgpipe-prod-etl-deps:1"
    assert (etl["Layers"], etl["DeadLetterQueue"]) == (
        [layer_arn],
        {"Type": "SQS", "TargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:tgpipe-prod-etl-dead-letters"},
    )
    assert ("Layers" in webhook, "DeadLetterQueue" in webhook) == (False, False)
    assert props("EtlLayer") == {
        "LayerName": "tgpipe-prod-etl-deps",
        "Description": "pyarrow for tgpipe's ETL (python3.12, x86_64)",
        "ContentUri": "./tgpipe-etl-layer.zip",
        "CompatibleRuntimes": ["python3.12"],
        "CompatibleArchitectures": ["x86_64"],
        "LicenseInfo": "Apache-2.0",
        "RetentionPolicy": "Delete",
    }
    assert (packaged("prod").out / "tgpipe-etl-layer.zip").stat().st_size == packaged("prod").layer.zip_bytes
    assert props("EtlDeadLetterQueue") == {
        "QueueName": "tgpipe-prod-etl-dead-letters",
        "MessageRetentionPeriod": 1209600,
        "SqsManagedSseEnabled": True,
    }


@pytest.mark.lambda_package
def test_the_functions_run_python312_on_x86_64_with_their_settings() -> None:
    """Name (as `chalice deploy` names it: its role's log group is named after it), runtime,
    architecture (the layer's), memory, timeout, schedule and the environment, exactly."""
    lake = f"s3://{BUCKET}"
    etl, webhook = props("EtlDaily"), props("APIHandler")
    summary = {
        name: (
            p["FunctionName"],
            p["Runtime"],
            p["Architectures"],
            p["MemorySize"],
            p["Timeout"],
            p["Environment"]["Variables"],
        )
        for name, p in (("etl", etl), ("webhook", webhook))
    }
    assert summary == {
        "etl": (
            "tgpipe-prod-etl_daily",
            "python3.12",
            ["x86_64"],
            2048,
            900,
            {
                "TGPIPE_LOG_LEVEL": "INFO",
                "TGPIPE_RAW_URI": f"{lake}/raw",
                "TGPIPE_TIMEZONE": "UTC",
                "TGPIPE_ENRICHED_URI": f"{lake}/enriched",
            },
        ),
        "webhook": (
            "tgpipe-prod",
            "python3.12",
            ["x86_64"],
            256,
            10,
            {
                "TGPIPE_LOG_LEVEL": "INFO",
                "TGPIPE_RAW_URI": f"{lake}/raw",
                "TGPIPE_TIMEZONE": "UTC",
                "TGPIPE_ENRICHED_URI": f"{lake}/enriched",
                "TELEGRAM_CHAT_ID": CHAT_IDS,
                "TELEGRAM_WEBHOOK_SECRET_PARAM": "/tgpipe/prod/telegram-webhook-secret",
            },
        ),
    }
    assert etl["Events"] == {
        "EtlDailyEvent": {"Type": "Schedule", "Properties": {"Schedule": "cron(15 0 * * ? *)"}}
    }


@pytest.mark.lambda_package
def test_log_groups_belong_to_the_functions_and_expire_after_30_days() -> None:
    """Retention on both functions' log groups, each named after its function's real logical id, so
    each is the one log group its function's role may write."""
    resources = sam("prod")["Resources"]
    assert {name: resources[name] for name in ("ApiHandlerLogGroup", "EtlDailyLogGroup")} == {
        "ApiHandlerLogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${APIHandler}"}, "RetentionInDays": 30},
        },
        "EtlDailyLogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${EtlDaily}"}, "RetentionInDays": 30},
        },
    }
    assert {resources["APIHandler"]["Type"], resources["EtlDaily"]["Type"]} == {"AWS::Serverless::Function"}
    assert (props("ApiHandlerLogGroup")["LogGroupName"], props("EtlDailyLogGroup")["LogGroupName"]) == (
        "/aws/lambda/tgpipe-prod",
        "/aws/lambda/tgpipe-prod-etl_daily",
    )


@pytest.mark.lambda_package
def test_the_etl_alarms_on_errors_and_on_no_successful_run_in_26_hours() -> None:
    """Any error in an hour alarms; so do 26 hours without an invocation that did not fail."""
    function = [{"Name": "FunctionName", "Value": "tgpipe-prod-etl_daily"}]
    errors = props("EtlErrorsAlarm")
    assert {k: v for k, v in errors.items() if k != "AlarmDescription"} == {
        "AlarmName": "tgpipe-prod-etl-errors",
        "Namespace": "AWS/Lambda",
        "MetricName": "Errors",
        "Dimensions": function,
        "Statistic": "Sum",
        "Period": 3600,
        "EvaluationPeriods": 1,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": [TOPIC],
    }
    silent = props("EtlNoSuccessAlarm")

    def metric(name: str) -> dict[str, Any]:
        return {
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": name, "Dimensions": function},
            "Period": 3600,
            "Stat": "Sum",
        }

    assert {k: v for k, v in silent.items() if k != "AlarmDescription"} == {
        "AlarmName": "tgpipe-prod-etl-no-successful-run",
        "Metrics": [
            {"Id": "invocations", "ReturnData": False, "MetricStat": metric("Invocations")},
            {"Id": "errors", "ReturnData": False, "MetricStat": metric("Errors")},
            {
                "Id": "successes",
                "Label": "successful ETL runs",
                "Expression": "FILL(invocations, 0) - FILL(errors, 0)",
                "ReturnData": True,
            },
        ],
        "EvaluationPeriods": 26,
        "DatapointsToAlarm": 26,
        "Threshold": 1,
        "ComparisonOperator": "LessThanThreshold",
        "TreatMissingData": "breaching",
        "AlarmActions": [TOPIC],
    }
    assert silent["EvaluationPeriods"] * 3600 == 26 * 3600 <= 7 * 24 * 3600  # CloudWatch's longest window


@pytest.mark.lambda_package
def test_the_webhook_alarms_on_its_5xx_rate() -> None:
    """Average of 5XXError (the share of requests) above 5% in 2 of 3 five-minute periods."""
    alarm = props("WebhookServerErrorsAlarm")
    assert {k: v for k, v in alarm.items() if k != "AlarmDescription"} == {
        "AlarmName": "tgpipe-prod-webhook-5xx-rate",
        "Namespace": "AWS/ApiGateway",
        "MetricName": "5XXError",
        "Dimensions": [{"Name": "ApiName", "Value": "tgpipe-prod"}, {"Name": "Stage", "Value": "api"}],
        "Statistic": "Average",
        "Period": 300,
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 2,
        "Threshold": 0.05,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": [TOPIC],
    }
    config = json.loads((ROOT / "chalice_app" / ".chalice" / "config.json").read_text())
    assert (props("RestAPI")["Name"], props("RestAPI")["StageName"]) == (
        "tgpipe-prod",
        config["stages"]["prod"]["api_gateway_stage"],
    )


def _matches(pattern: str, line: dict[str, Any]) -> bool:
    """CloudWatch Logs' JSON filter syntax, for the one form used here: { $.field = "value" }."""
    match = re.fullmatch(r'\{ \$\.(\w+) = "([^"]*)" \}', pattern)
    assert match, pattern
    return line.get(match.group(1)) == match.group(2)


@pytest.mark.lambda_package
def test_quarantined_payloads_are_counted_from_the_webhook_s_own_log_line(tmp_path: Path) -> None:
    """The metric filter matches the JSON line the real webhook logs for a quarantined payload, and not
    the line of a stored update; an alarm fires on the first one in an hour."""
    settings = WebhookSettings.from_env(
        {"TELEGRAM_CHAT_ID": TEST_CHAT_IDS, "TELEGRAM_WEBHOOK_SECRET": SECRET}
    )
    hook = Webhook(settings, LocalStorage(tmp_path))
    captured = io.StringIO()
    with redirect_stderr(captured):
        hook.handle(b'{"update_id": "not a number"}', SECRET)
        hook.handle(
            b'{"update_id": 7, "message": {"message_id": 1, "date": 1, "chat": {"id": -1001234567890}}}',
            SECRET,
        )
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    pattern = props("QuarantinedUpdatesMetricFilter")["FilterPattern"]
    assert [(line["outcome"], _matches(pattern, line)) for line in lines] == [
        ("quarantined", True),
        ("stored", False),
    ]
    assert props("QuarantinedUpdatesMetricFilter") == {
        "LogGroupName": props("ApiHandlerLogGroup")["LogGroupName"],
        "FilterPattern": '{ $.outcome = "quarantined" }',
        "MetricTransformations": [
            {
                "MetricNamespace": "tgpipe/prod",
                "MetricName": "QuarantinedUpdates",
                "MetricValue": "1",
                "Unit": "Count",
            }
        ],
    }
    alarm = props("QuarantinedUpdatesAlarm")
    assert {k: v for k, v in alarm.items() if k != "AlarmDescription"} == {
        "AlarmName": "tgpipe-prod-webhook-quarantined-updates",
        "Namespace": "tgpipe/prod",
        "MetricName": "QuarantinedUpdates",
        "Statistic": "Sum",
        "Period": 3600,
        "EvaluationPeriods": 1,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": [TOPIC],
    }


@pytest.mark.lambda_package
def test_dead_letters_alarm_and_alarms_reach_the_optional_e_mail() -> None:
    """A message in the ETL's dead-letter queue alarms; AlarmEmail subscribes an address to the topic."""
    alarm = props("EtlDeadLettersAlarm")
    assert {k: v for k, v in alarm.items() if k != "AlarmDescription"} == {
        "AlarmName": "tgpipe-prod-etl-dead-letters",
        "Namespace": "AWS/SQS",
        "MetricName": "ApproximateNumberOfMessagesVisible",
        "Dimensions": [{"Name": "QueueName", "Value": "tgpipe-prod-etl-dead-letters"}],
        "Statistic": "Maximum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": [TOPIC],
    }
    tpl = sam("prod")
    with_email = template.resolve(tpl, tpl["Resources"]["AlarmTopic"], context(AlarmEmail="ops@example.org"))
    assert with_email["Properties"] == {
        "TopicName": "tgpipe-prod-alarms",
        "DisplayName": "tgpipe prod alarms",
        "Subscription": [{"Protocol": "email", "Endpoint": "ops@example.org"}],
    }
    assert props("AlarmTopic") == {"TopicName": "tgpipe-prod-alarms", "DisplayName": "tgpipe prod alarms"}


@pytest.mark.lambda_package
def test_the_stack_tells_dbt_and_telegram_where_things_are() -> None:
    """Outputs: lake URIs, Glue database, workgroup, results and marts locations, secret name, URL."""
    outputs = {k: v["Value"] for k, v in resolved("prod", "Outputs").items()}
    assert {
        k: outputs[k]
        for k in (
            "LakeBucketName",
            "RawUri",
            "EnrichedUri",
            "GlueDatabaseName",
            "AthenaWorkGroupName",
            "AthenaResultsUri",
            "MartsUri",
            "WebhookSecretParameterName",
            "WebhookUrl",
        )
    } == {
        "LakeBucketName": BUCKET,
        "RawUri": f"s3://{BUCKET}/raw",
        "EnrichedUri": f"s3://{BUCKET}/enriched",
        "GlueDatabaseName": "tgpipe_prod",
        "AthenaWorkGroupName": "tgpipe-prod",
        "AthenaResultsUri": f"s3://{BUCKET}/athena-results/",
        "MartsUri": f"s3://{BUCKET}/marts/",
        "WebhookSecretParameterName": "/tgpipe/prod/telegram-webhook-secret",
        "WebhookUrl": f"https://abcdef1234.execute-api.{REGION}.amazonaws.com/api/webhook",
    }


def test_the_data_template_stands_alone_for_the_chalice_deploy_path() -> None:
    """data.yaml deploys without Chalice's resources (no reference into functions.yaml) and lints clean."""
    data = template.load(template.DATA_TEMPLATE)
    template.resolve(data, data["Resources"], context())
    result = subprocess.run(
        [*CFN_LINT, str(template.DATA_TEMPLATE)], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_composing_refuses_a_stage_name_the_template_cannot_hold() -> None:
    """Stage names become part of bucket and Glue names: only short lower-case names are accepted."""
    with pytest.raises(template.TemplateError) as caught:
        template.compose("Prod_EU")
    assert str(caught.value) == "stage 'Prod_EU' does not match ^[a-z][a-z0-9]{0,9}$"


def test_composing_a_stage_missing_from_the_chalice_config_names_the_known_ones() -> None:
    """`make package STAGE=typo` says which stages exist."""
    with pytest.raises(template.TemplateError) as caught:
        template.compose("staging")
    assert str(caught.value) == "stage 'staging' is not in .chalice/config.json (dev, prod)"


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("-1001234567890", True),
        ("-1001234567890,-1009876543210", True),
        ("-1001234567890, -1009876543210", True),
        ("12345", True),
        ("", False),
        ("-100abc", False),
        ("-100;-200", False),
    ],
    ids=["one", "two", "two-spaced", "private-chat", "empty", "letters", "semicolon"],
)
def test_the_chat_id_parameter_accepts_what_the_webhook_accepts(value: str, accepted: bool) -> None:
    """CloudFormation refuses a TelegramChatId the webhook could not parse, before deploying anything."""
    from etl.config import ConfigError, parse_chat_ids

    pattern = template.load(template.FUNCTIONS_TEMPLATE)["Parameters"]["TelegramChatId"]
    assert bool(re.fullmatch(pattern["AllowedPattern"].strip("^$"), value)) is accepted
    if accepted:
        assert len(parse_chat_ids(value)) == value.count(",") + 1
    else:
        with pytest.raises(ConfigError):
            parse_chat_ids(value)


@pytest.mark.lambda_package
def test_the_aws_sdk_for_pandas_managed_layer_can_replace_the_built_one() -> None:
    """ManagedLayerArn (make deploy ETL_LAYER_ARN=...) puts that layer on the ETL and skips building ours."""
    tpl = sam("prod")
    arn = f"arn:aws:lambda:{REGION}:336392948345:layer:AWSSDKPandas-Python312:20"
    ctx = context(ManagedLayerArn=arn)
    assert (
        template.resolve(tpl, tpl["Resources"]["EtlDaily"]["Properties"]["Layers"], ctx),
        template.resolve(tpl, tpl["Conditions"]["BuildEtlLayer"], ctx),
        tpl["Resources"]["EtlLayer"]["Condition"],
        template.resolve(tpl, tpl["Outputs"]["EtlLayerArn"]["Value"], ctx),
    ) == ([arn], False, "BuildEtlLayer", arn)
    assert template.resolve(tpl, tpl["Conditions"]["BuildEtlLayer"], context()) is True


def test_raw_retention_adds_lifecycle_rules_expiring_raw_days_and_quarantine() -> None:
    """RawRetentionDays (TGPIPE_RAW_RETENTION_DAYS of `make deploy`) expires raw days and quarantined
    bodies after that many days and their older versions a day later; 0 (the default) adds nothing."""
    tpl = sam("prod")
    lake = template.resolve(tpl, tpl["Resources"]["LakeBucket"], context("prod", RawRetentionDays="90"))
    rules = lake["Properties"]["LifecycleConfiguration"]["Rules"]
    expiring = [rule for rule in rules if rule["Id"].startswith("expire-raw")]
    assert expiring == [
        {
            "Id": "expire-raw-days",
            "Status": "Enabled",
            "Prefix": "raw/context_date=",
            "ExpirationInDays": "90",
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        },
        {
            "Id": "expire-raw-quarantine",
            "Status": "Enabled",
            "Prefix": "raw/_quarantine/",
            "ExpirationInDays": "90",
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        },
    ]
    default = props("LakeBucket")["LifecycleConfiguration"]["Rules"]
    assert [rule["Id"] for rule in default] == [
        "raw-days-to-standard-ia",
        "expire-replaced-enriched-messages",
        "expire-athena-results",
        "old-versions-and-uploads",
    ]


PSEUDONYMISED = {"Pseudonymise": "1", "PseudonymiseKeyParameter": "/tgpipe/prod/pseudonymise-key"}


def _privacy_variables(ctx: template.Context) -> dict[str, dict[str, str]]:
    """Each function's TGPIPE_TEXT_RETENTION_DAYS / TGPIPE_PSEUDONYMISE* variables, resolved in ``ctx``."""
    tpl = sam("prod")
    found = {}
    for function in ("APIHandler", "EtlDaily", "Forget"):
        variables = template.resolve(tpl, tpl["Resources"][function]["Properties"]["Environment"], ctx)
        found[function] = {
            k: v for k, v in variables["Variables"].items() if "RETENTION" in k or "PSEUDONYM" in k
        }
    return found


@pytest.mark.lambda_package
def test_text_retention_and_pseudonymisation_reach_only_the_etl_and_forget_functions() -> None:
    """TextRetentionDays, Pseudonymise and PseudonymiseKeyParameter (TGPIPE_TEXT_RETENTION_DAYS,
    TGPIPE_PSEUDONYMISE, TGPIPE_PSEUDONYMISE_KEY_PARAM of `make deploy`) set the ETL's and forget's
    variables, never the webhook's; unset (the defaults), no variable at all: both off."""
    on = context("prod", TextRetentionDays="30", **PSEUDONYMISED)
    settings = {
        "TGPIPE_TEXT_RETENTION_DAYS": "30",
        "TGPIPE_PSEUDONYMISE": "1",
        "TGPIPE_PSEUDONYMISE_KEY_PARAM": "/tgpipe/prod/pseudonymise-key",
    }
    assert _privacy_variables(on) == {"APIHandler": {}, "EtlDaily": settings, "Forget": settings}
    assert _privacy_variables(context("prod")) == {"APIHandler": {}, "EtlDaily": {}, "Forget": {}}
    only_retention = context("prod", TextRetentionDays="7")
    assert _privacy_variables(only_retention)["EtlDaily"] == {"TGPIPE_TEXT_RETENTION_DAYS": "7"}


@pytest.mark.lambda_package
def test_pseudonymise_without_its_key_parameter_is_refused_by_a_rule() -> None:
    """The packaged template's Rules: Pseudonymise=1 with no PseudonymiseKeyParameter fails before
    anything is deployed (the functions would fail at their first run)."""
    tpl = sam("prod")
    rule = tpl["Rules"]["PseudonymiseNeedsItsKey"]
    assertion = rule["Assertions"][0]["Assert"]
    outcomes = [
        (
            template.resolve(tpl, rule["RuleCondition"], context("prod", **params)),
            template.resolve(tpl, assertion, context("prod", **params)),
        )
        for params in ({}, PSEUDONYMISED, {"Pseudonymise": "1"})
    ]
    assert outcomes == [(False, False), (True, True), (True, False)]


@pytest.mark.parametrize(
    ("parameter", "value", "accepted"),
    [
        ("TextRetentionDays", "", True),
        ("TextRetentionDays", "90", True),
        ("TextRetentionDays", "0", False),
        ("TextRetentionDays", "-1", False),
        ("TextRetentionDays", "90d", False),
        ("PseudonymiseKeyParameter", "", True),
        ("PseudonymiseKeyParameter", "/tgpipe/prod/pseudonymise-key", True),
        ("PseudonymiseKeyParameter", "/tgpipe/prod/telegram-webhook-secret", False),
        ("PseudonymiseKeyParameter", "/other/prod/pseudonymise-key", False),
        ("PseudonymiseKeyParameter", "/tgpipe/*/pseudonymise-key", False),
    ],
    ids=[
        "retention-off",
        "retention-90",
        "retention-0",
        "retention-negative",
        "retention-unit",
        "key-off",
        "key-of-the-stage",
        "key-is-the-webhook-secret",
        "key-outside-tgpipe",
        "key-wildcard",
    ],
)
def test_the_privacy_parameters_accept_what_the_etl_and_the_boundary_accept(
    parameter: str, value: str, accepted: bool
) -> None:
    """TextRetentionDays: empty or what TGPIPE_TEXT_RETENTION_DAYS accepts; PseudonymiseKeyParameter:
    empty or a /tgpipe/<stage>/pseudonymise-key parameter, the only ones the boundary lets a role read."""
    from etl.config import ConfigError, PrivacySettings

    pattern = template.load(template.FUNCTIONS_TEMPLATE)["Parameters"][parameter]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is accepted
    if parameter == "TextRetentionDays" and accepted:
        days = PrivacySettings.from_env({"TGPIPE_TEXT_RETENTION_DAYS": value}).text_retention_days
        assert days == (int(value) if value else None)
    elif parameter == "TextRetentionDays":
        with pytest.raises(ConfigError):
            PrivacySettings.from_env({"TGPIPE_TEXT_RETENTION_DAYS": value})

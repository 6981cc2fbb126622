"""The Chalice project's own configuration: stages, least-privilege policy, a lean webhook import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import CHALICE_DIR

CONFIG = json.loads((CHALICE_DIR / ".chalice" / "config.json").read_text())


def test_the_dev_stage_leaves_the_shell_s_settings_alone() -> None:
    """`chalice local` (stage dev) must not override what the user exported."""
    for scope in (CONFIG, CONFIG["stages"]["dev"]):
        names = set(scope.get("environment_variables", {}))
        assert not {n for n in names if n.startswith(("TELEGRAM_", "TGPIPE_")) and n != "TGPIPE_LOG_LEVEL"}


def test_no_secret_is_in_the_config() -> None:
    """The webhook secret and the bot token come from the environment or a secret store, never this file."""
    text = (CHALICE_DIR / ".chalice" / "config.json").read_text()
    assert "TELEGRAM_WEBHOOK_SECRET" not in text
    assert "TELEGRAM_BOT_TOKEN" not in text


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_webhook_may_only_put_raw_objects_and_write_logs(stage: str) -> None:
    """The webhook function's own policy: s3:PutObject on the raw prefix, the opt-out list (list
    raw/_optout/, get the privacy salt), its secret, its own log group (the function is
    tgpipe-<stage> on both deploy paths), nothing else."""
    assert CONFIG["autogen_policy"] is False
    policy_file = CONFIG["stages"][stage]["lambda_functions"]["api_handler"]["iam_policy_file"]
    policy = json.loads((CHALICE_DIR / ".chalice" / policy_file).read_text())
    assert policy["Statement"] == [
        {
            "Sid": "WriteRawUpdates",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::tgpipe-lake-{stage}/raw/*",
        },
        {
            "Sid": "ListOptOutMarkers",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::tgpipe-lake-{stage}",
            "Condition": {"StringLike": {"s3:prefix": ["raw/_optout/*"]}},
        },
        {
            "Sid": "ReadPrivacySalt",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::tgpipe-lake-{stage}/raw/_privacy/salt",
        },
        {
            "Sid": "ReadWebhookSecret",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": f"arn:aws:ssm:*:*:parameter/tgpipe/{stage}/telegram-webhook-secret",
        },
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [
                f"arn:aws:logs:*:*:log-group:/aws/lambda/tgpipe-{stage}",
                f"arn:aws:logs:*:*:log-group:/aws/lambda/tgpipe-{stage}:log-stream:*",
            ],
        },
    ]


def test_importing_the_app_and_handling_an_update_never_imports_pyarrow(tmp_path: object) -> None:
    """pyarrow (171 MB) stays out of the webhook's cold start and out of its package."""
    probe = f"""
import sys, os
sys.path.insert(0, {str(CHALICE_DIR)!r})
os.environ.update(TELEGRAM_CHAT_ID="-100", TELEGRAM_WEBHOOK_SECRET="s", TGPIPE_RAW_URI={str(tmp_path)!r})
import app
from chalice.test import Client
with Client(app.app, project_dir={str(CHALICE_DIR)!r}) as client:
    r = client.http.post("/webhook", body=b'{{"update_id": 1, "message": {{"chat": {{"id": -100}}}}}}',
        headers={{"X-Telegram-Bot-Api-Secret-Token": "s", "Content-Type": "application/json"}})
print(r.status_code, sorted(m for m in sys.modules if m.split(".")[0] in ("pyarrow", "pandas", "numpy")))
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout == "200 []\n"

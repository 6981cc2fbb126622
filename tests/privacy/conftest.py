"""The privacy tests' lake: the conversation of tests.privacy.conversation in a local folder, or in
a versioned S3 bucket (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from etl.storage import LocalStorage, S3Storage
from tests.helpers import BUCKET
from tests.privacy.conversation import Lake, fill


@pytest.fixture(params=["local", "s3"])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Lake]:
    """The conversation in a local lake, or in a versioned S3 bucket (moto)."""
    if request.param == "local":
        yield fill(LocalStorage(tmp_path / "raw"), LocalStorage(tmp_path / "enriched"))
        return
    request.getfixturevalue("aws")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    yield fill(S3Storage(BUCKET, "raw"), S3Storage(BUCKET, "enriched"))

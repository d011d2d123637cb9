"""Fixtures for tests against the real stack (nifi/stack): a missing server fails, never skips."""

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ecommerce_pipeline.settings import S3Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def minio() -> S3Settings:
    """MinIO from `nifi/stack up minio` (started, or reused when running), with its bucket."""
    result = subprocess.run(
        [sys.executable, str(REPO / "nifi" / "stack"), "up", "minio"], capture_output=True, text=True, cwd=REPO
    )
    if result.returncode != 0:
        pytest.fail(f"nifi/stack up minio failed:\n{result.stdout}\n{result.stderr}")
    settings = load_settings(REPO / ".env")
    return S3Settings.from_settings({**settings, "S3_ENDPOINT_URL": f"http://127.0.0.1:{settings.get('MINIO_API_PORT', '9000')}"})


@pytest.fixture
def s3_prefix(minio: S3Settings):
    """A fresh key prefix in the bucket, emptied after the test."""
    prefix = f"tests/{uuid.uuid4().hex}/"
    yield prefix
    client = minio.client()
    listed = client.list_objects_v2(Bucket=minio.bucket, Prefix=prefix).get("Contents", [])
    if listed:
        client.delete_objects(Bucket=minio.bucket, Delete={"Objects": [{"Key": o["Key"]} for o in listed]})

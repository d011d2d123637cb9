"""`ecommerce-pipeline decrypt s3://...` on objects that `ingest` wrote to the real MinIO."""

import os
import subprocess
import sys
import uuid

import pyarrow.csv as pacsv
import pytest

from ecommerce_pipeline.cleaning import clean_frame, read_raw_csv
from ecommerce_pipeline.fernet_tokens import generate_key
from ecommerce_pipeline.ingest import ingest_file
from ecommerce_pipeline.parquet_io import StorageError
from ecommerce_pipeline.sample_data import write_sample_csv
from ecommerce_pipeline.settings import S3Settings, env_file, load_settings

from conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.stores]


@pytest.fixture
def ingested(minio, tmp_path):
    source = tmp_path / f"decrypt-{uuid.uuid4().hex[:8]}.csv"
    write_sample_csv(source, rows=300, seed=5)
    key = generate_key()
    report = ingest_file(source, minio, key)
    yield source, key, report
    minio.client().delete_objects(Bucket=minio.bucket, Delete={"Objects": [{"Key": k} for k in report.objects]})


def run_tool(minio, keys, *args):
    """The tool with the analyst's read-only identity alone: the admin's is not in its environment."""
    analyst = S3Settings.from_settings(load_settings(env_file(REPO)), "analyst")
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith(("S3_", "MINIO_"))},
        "FERNET_KEYS": keys,
        "S3_ENDPOINT_URL": minio.endpoint_url,
        "S3_ANALYST_ACCESS_KEY": analyst.access_key,
        "S3_ANALYST_SECRET_KEY": analyst.secret_key,
    }
    return subprocess.run(
        [sys.executable, "-m", "ecommerce_pipeline.cli", "--env-file", "/nonexistent", *args],
        capture_output=True, text=True, env=env,
    )


def test_decrypt_gives_back_the_cleaned_values(minio, ingested, tmp_path):
    source, key, report = ingested
    customer_key = next(k for k in report.objects if k.startswith("customer_info/"))
    out = tmp_path / "customers.csv"
    result = run_tool(minio, key, "decrypt", f"s3://{minio.bucket}/{customer_key}", str(out))
    assert result.returncode == 0, result.stderr
    expected = clean_frame(read_raw_csv(source.read_bytes())).clean
    table = pacsv.read_csv(out, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    for column in ("first_name", "email_address", "shipping_address", "phone_number"):
        assert table.column(column).to_pylist() == [None if v != v else v for v in expected[column]], column
    assert oct(out.stat().st_mode & 0o777) == "0o600"


def test_decrypt_with_a_wrong_key_fails_clearly_and_writes_nothing(minio, ingested, tmp_path):
    _, key, report = ingested
    out = tmp_path / "never.csv"
    wrong = generate_key()
    result = run_tool(minio, wrong, "decrypt", f"s3://{minio.bucket}/{report.objects[0]}", str(out))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert wrong not in result.stderr + result.stdout and key not in result.stderr + result.stdout
    assert not out.exists()


def test_decrypt_names_a_missing_object(minio, ingested, tmp_path):
    _, key, _ = ingested
    result = run_tool(minio, key, "decrypt", f"s3://{minio.bucket}/customer_info/none.parquet", str(tmp_path / "x.csv"))
    assert result.returncode == 1 and "does not exist" in result.stderr


def test_ingest_with_s3_unreachable_fails_with_a_clear_error(minio, tmp_path):
    source = tmp_path / "outage.csv"
    write_sample_csv(source, rows=10, seed=3)
    down = S3Settings("http://127.0.0.1:9", minio.access_key, minio.secret_key, minio.bucket)
    with pytest.raises(StorageError, match="cannot reach S3"):
        ingest_file(source, down, generate_key())

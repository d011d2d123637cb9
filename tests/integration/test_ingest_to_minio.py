"""`ingest` into the real MinIO, checked with boto3, pyarrow and plain `cryptography` Fernet.

The objects are read back without the project's reader or decrypt code, so these tests
check the output contract a query engine and a key holder rely on.
"""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken

from ecommerce_pipeline.cleaning import clean_frame, read_raw_csv
from ecommerce_pipeline.fernet_tokens import generate_key
from ecommerce_pipeline.ingest import ingest_file
from ecommerce_pipeline.sample_data import write_sample_csv
from ecommerce_pipeline.settings import S3Settings, env_file, load_settings
from lake import (
    BAD_EXPORTS, KEY_PATTERN, assert_lake_holds_exactly, assert_no_plaintext, delete_objects, keys_of, read_objects,
    write_bad_export,
)

pytestmark = [pytest.mark.integration, pytest.mark.stores]

REPO = Path(__file__).resolve().parents[2]

ROWS = 25_000


@pytest.fixture
def ingested_objects(minio):
    """Lists the keys of a source stem; deletes them after the test."""
    stems = []

    def objects_of(stem):
        stems.append(stem)
        return keys_of(minio, stem)

    yield objects_of
    for stem in stems:
        delete_objects(minio, keys_of(minio, stem))


@pytest.fixture(scope="module")
def sample_export(tmp_path_factory):
    path = tmp_path_factory.mktemp("inbox") / f"orders-{uuid.uuid4().hex[:8]}.csv"
    write_sample_csv(path, rows=ROWS, seed=11, bad_row_fraction=0.02)
    expected = clean_frame(read_raw_csv(path.read_bytes()))
    return path, expected


@pytest.mark.parametrize("workers", [1, 2])
def test_25k_rows_end_in_segments_or_quarantine_encrypted_and_exact(minio, sample_export, ingested_objects, workers):
    path, expected = sample_export
    key = generate_key()
    report = ingest_file(path, minio, key, chunk_rows=10_000, workers=workers)
    keys = ingested_objects(path.stem)

    assert report.rows_in == ROWS
    assert report.rows_in == report.rows_clean + report.rows_quarantined
    assert report.rows_quarantined == len(expected.quarantine) > 0
    assert sorted(keys) == sorted(report.objects)
    assert all(re.fullmatch(KEY_PATTERN, k)["stem"] == path.stem for k in keys)

    assert_lake_holds_exactly(read_objects(minio, keys), expected, key)


def test_no_plaintext_pii_anywhere_in_the_written_objects(minio, sample_export, ingested_objects):
    path, _ = sample_export
    raw = read_raw_csv(path.read_bytes())
    ingest_file(path, minio, generate_key(), chunk_rows=10_000)
    assert_no_plaintext(read_objects(minio, ingested_objects(path.stem)), raw)


@pytest.mark.parametrize("kind", sorted(BAD_EXPORTS))
def test_malformed_exports_are_quarantined_encrypted_with_a_reason(minio, tmp_path, ingested_objects, kind):
    path = tmp_path / f"bad-{kind}-{uuid.uuid4().hex[:8]}.csv"
    content = write_bad_export(path, kind)
    key = generate_key()
    report = ingest_file(path, minio, key)
    keys = ingested_objects(path.stem)

    assert report.rows_clean == 0 and len(report.rejected_chunks) == 1
    assert len(keys) == 1 and keys[0].startswith("_quarantine/") and keys[0].endswith(".csv.fernet")
    stored = minio.client().get_object(Bucket=minio.bucket, Key=keys[0])
    assert stored["Metadata"]["reason"]
    body = stored["Body"].read()
    assert Fernet(key).decrypt(body) == content
    with pytest.raises(InvalidToken):
        Fernet(generate_key()).decrypt(body)


def test_ingesting_a_file_again_rewrites_its_own_objects_and_adds_none(minio, tmp_path, ingested_objects):
    path = tmp_path / f"again-{uuid.uuid4().hex[:8]}.csv"
    write_sample_csv(path, rows=300, seed=4)
    key = generate_key()
    first = ingest_file(path, minio, key, chunk_rows=100, workers=1)
    second = ingest_file(path, minio, key, chunk_rows=100, workers=1)
    assert len(first.objects) == 9 and sorted(first.objects) == sorted(second.objects)
    assert sorted(ingested_objects(path.stem)) == sorted(first.objects)


def test_another_file_of_the_same_name_never_lands_on_its_keys(minio, tmp_path, ingested_objects):
    name = f"same-name-{uuid.uuid4().hex[:8]}.csv"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_sample_csv(tmp_path / "a" / name, rows=50, seed=1)
    write_sample_csv(tmp_path / "b" / name, rows=50, seed=2)
    key = generate_key()
    first = ingest_file(tmp_path / "a" / name, minio, key)
    second = ingest_file(tmp_path / "b" / name, minio, key)
    assert not set(first.objects) & set(second.objects)
    assert len(ingested_objects(Path(name).stem)) == len(first.objects) + len(second.objects)


def test_the_ingest_command_exits_1_naming_an_export_rejected_whole_and_still_stores_the_others(minio, tmp_path,
                                                                                              ingested_objects):
    good, bad = tmp_path / f"good-{uuid.uuid4().hex[:8]}.csv", tmp_path / f"bad-{uuid.uuid4().hex[:8]}.csv"
    write_sample_csv(good, rows=200, seed=12)
    write_bad_export(bad, "wrong-header")
    flow = S3Settings.from_settings(load_settings(env_file(REPO)), "flow")
    env = {**os.environ, "FERNET_KEYS": generate_key(), "S3_FLOW_ACCESS_KEY": flow.access_key,
           "S3_FLOW_SECRET_KEY": flow.secret_key, "S3_ENDPOINT_URL": minio.endpoint_url, "S3_BUCKET": minio.bucket}
    result = subprocess.run([sys.executable, "-m", "ecommerce_pipeline.cli", "ingest", str(bad), str(good)],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith(f"1 of 2 files rejected whole (not readable exports; "
                                                           f"stored encrypted in _quarantine/): {bad.name}")
    assert "200 rows in" in result.stdout
    assert [key.split("/")[0] for key in ingested_objects(bad.stem)] == ["_quarantine"]
    assert {key.split("/")[0] for key in ingested_objects(good.stem)} == {
        "customer_info", "order_info", "payment_and_delivery_info"}

"""MinIO stopping in the middle of a file: a clear error, and a rerun loses and duplicates nothing."""

import threading

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecommerce_pipeline.cleaning import clean_frame, read_raw_csv
from ecommerce_pipeline.fernet_tokens import generate_key
from ecommerce_pipeline.ingest import ingest_file
from ecommerce_pipeline.ledger import LEDGER_PREFIX
from ecommerce_pipeline.parquet_io import StorageError
from ecommerce_pipeline.sample_data import write_sample_csv

pytestmark = pytest.mark.integration

CHUNKS = 40


def all_keys(client, bucket):
    """The lake's objects, the ingest ledger's record aside."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []) if not o["Key"].startswith(LEDGER_PREFIX))


def test_outage_mid_file_then_rerun_stores_every_row_exactly_once(private_stack, tmp_path):
    assert private_stack("up", "minio").returncode == 0
    s3 = private_stack.s3()
    path = tmp_path / "outage.csv"
    write_sample_csv(path, rows=CHUNKS * 500, seed=8, bad_row_fraction=0.01)
    expected = clean_frame(read_raw_csv(path.read_bytes()))
    key = generate_key()

    stopped = threading.Event()

    def stop_minio_after_the_first_object():
        client = s3.client()
        while not stopped.is_set():
            if client.list_objects_v2(Bucket=s3.bucket, Prefix="customer_info/", MaxKeys=1).get("KeyCount", 0):
                private_stack("down")
                stopped.set()
            stopped.wait(0.05)

    stopper = threading.Thread(target=stop_minio_after_the_first_object, daemon=True)
    stopper.start()
    with pytest.raises(StorageError, match=r"s3://|cannot reach S3"):
        ingest_file(path, s3, key, chunk_rows=500, workers=1)
    stopper.join(timeout=30)
    assert stopped.is_set()

    assert private_stack("up", "minio").returncode == 0
    client = s3.client()
    partial = all_keys(client, s3.bucket)
    assert 0 < len(partial) < CHUNKS * 3

    report = ingest_file(path, s3, key, chunk_rows=500, workers=1)
    assert report.rows_in == CHUNKS * 500 == report.rows_clean + report.rows_quarantined
    stored = all_keys(client, s3.bucket)
    assert stored == sorted(report.objects) and set(partial) <= set(stored)
    customers = sum(
        pq.read_table(pa.BufferReader(client.get_object(Bucket=s3.bucket, Key=k)["Body"].read())).num_rows
        for k in stored
        if k.startswith("customer_info/")
    )
    assert customers == len(expected.clean)

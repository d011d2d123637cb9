"""The tools that rewrite the lake in every versioning state a bucket can be in, on every store.

A bucket is never versioned, Enabled, Suspended (its objects have the version id `null`,
which a put replaces in place), or Suspended after its Enabled days (real version ids beside
`null` ones). Each state's lake has replays (older versions where the bucket keeps them) and
an export withdrawn by a delete marker. `rotate-lake` (whole, and killed then run again) and
`erase` must keep every row, and the rows are checked against an independent read of every
object and version with boto3, pyarrow and plain Fernet, never against the tool's report.
The safety net is tested too: an object deleted behind the tool's back fails the command.
"""

import io
import signal
from collections import Counter

import pyarrow.parquet as pq
import pytest

from ecommerce_pipeline.fernet_tokens import generate_key
from lake_tools import DAYS, LAKE_PREFIXES, Lake, sample_export, tokens_open_only_with, unreadable_export, versions_holding

pytestmark = [pytest.mark.integration, pytest.mark.stores]

CUSTOMER = "CUST-VERSION1"
STORE = "ecommerce_pipeline.lake.store:LakeStore"



@pytest.fixture
def lake(private_store_by_versioning_state, tmp_path):
    """The state's lake: two exports with the customer's rows on two days, an unreadable export, replays where
    the bucket keeps versions, and an export withdrawn (delete markers) where it can be."""
    state, stack = private_store_by_versioning_state
    lake = Lake(stack, tmp_path)
    lake.empty()
    lake.state = state
    monday = sample_export(tmp_path, 700, seed=51, customer=CUSTOMER, at=(2, 300, 650), bad_amount_at=(650,))
    tuesday = sample_export(tmp_path, 500, seed=52, customer=CUSTOMER, at=(7,))
    withdrawn = sample_export(tmp_path, 300, seed=53)
    if state != "never versioned":
        lake.versioning("Enabled")
    if state == "Suspended":
        lake.versioning("Suspended")
    lake.ingest("monday.csv", monday, DAYS[0], chunk_rows=250)
    lake.ingest("broken.csv", unreadable_export(CUSTOMER), DAYS[0])
    if state != "never versioned":
        lake.ingest("withdrawn.csv", withdrawn, DAYS[0], chunk_rows=250)
        lake.ingest_again("monday.csv", chunk_rows=250)  # Enabled: older versions; Suspended: replaced in place
    if state == "Suspended after Enabled":
        lake.versioning("Suspended")
        lake.ingest_again("monday.csv", chunk_rows=250)  # `null` versions over real ids
    lake.ingest("tuesday.csv", tuesday, DAYS[1], chunk_rows=250)
    if state != "never versioned":
        withdraw(lake, "withdrawn")
    lake.old, lake.new = lake.key, generate_key()
    assert_state(lake)
    return lake


def withdraw(lake, stem):
    """Deletes an export's objects without a version id: a delete marker on each (`null` in a Suspended bucket)."""
    client = lake.admin.client()
    for key in [o["Key"] for prefix in LAKE_PREFIXES
                for o in client.list_objects_v2(Bucket=lake.admin.bucket, Prefix=prefix).get("Contents", [])
                if f"/{stem}-" in o["Key"]]:
        client.delete_object(Bucket=lake.admin.bucket, Key=key)
    lake.expected.pop(stem)


def listing(lake):
    """(versions, delete markers) of the lake's prefixes, as the admin lists them."""
    client = lake.admin.client()
    versions, markers = [], []
    for prefix in LAKE_PREFIXES:
        for page in client.get_paginator("list_object_versions").paginate(Bucket=lake.admin.bucket, Prefix=prefix):
            versions += page.get("Versions", [])
            markers += page.get("DeleteMarkers", [])
    return versions, markers


def assert_state(lake, *, as_set_up=True):
    """The bucket is in the state the test claims; as set up, its version ids and delete markers say so too."""
    versions, markers = listing(lake)
    status = lake.admin.client().get_bucket_versioning(Bucket=lake.admin.bucket).get("Status")
    assert status == {"never versioned": None, "Suspended after Enabled": "Suspended"}.get(lake.state, lake.state)
    if not as_set_up:
        return
    ids = {v["VersionId"] for v in versions}
    if lake.state == "never versioned":
        assert status is None and not markers and ids <= {"null", None}
    elif lake.state == "Enabled":
        assert status == "Enabled" and markers and "null" not in ids
        assert len(versions) > len({v["Key"] for v in versions})  # older versions
    elif lake.state == "Suspended":
        assert status == "Suspended" and markers and ids == {"null"}
    else:
        assert status == "Suspended" and markers and "null" in ids and ids - {"null"}
        assert any(v["IsLatest"] and v["VersionId"] == "null" for v in versions)


def rows_per_table(lake):
    """Rows of every current Parquet object per table, read whole with boto3 and pyarrow."""
    client, counts = lake.admin.client(), Counter()
    for prefix in LAKE_PREFIXES:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=lake.admin.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                if item["Key"].endswith(".parquet"):
                    counts[prefix] += pq.read_table(io.BytesIO(lake.body(item["Key"]))).num_rows
    return counts


def rotate(lake, *args):
    return lake.cli("rotate-lake", *args, NEW_FERNET_KEYS=f"{lake.new},{lake.old}", FERNET_KEYS=lake.old)


def assert_rotated(lake, rows_before):
    """Every row kept, opening with the new key; no version readable with the old one; the state unchanged."""
    assert rows_per_table(lake) == rows_before
    lake.assert_holds_exactly(lake.new)
    for version in listing(lake)[0]:
        tokens_open_only_with(lake, version, lake.new, [lake.old])
    assert_state(lake, as_set_up=False)


def test_rotation_keeps_every_row(lake):
    before = rows_per_table(lake)
    assert before["customer_info/"] > 0
    result = rotate(lake)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_rotated(lake, before)
    assert f"customer_info {before['customer_info/']} → {before['customer_info/']}" in result.stdout, result.stdout


def test_rotation_killed_then_run_again_keeps_every_row(lake):
    before = rows_per_table(lake)
    keeps_older = lake.state in ("Enabled", "Suspended after Enabled")  # versions to delete after a rewrite
    points = [("replace", 2), ("get", 5)] + ([("delete", 1)] if keeps_older else [])
    for method, count in points:
        killed = lake.killed_at(f"{STORE}.{method}", count, "rotate-lake",
                                NEW_FERNET_KEYS=f"{lake.new},{lake.old}", FERNET_KEYS=lake.old)
        assert killed.returncode == -signal.SIGKILL, (method, killed.stdout, killed.stderr)
        assert rows_per_table(lake) == before, method  # never fewer rows, even between a put and a delete
    result = rotate(lake)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "resuming the rotation" in result.stdout
    assert_rotated(lake, before)


def test_erasure_removes_the_customer_and_keeps_every_other_row(lake):
    before = rows_per_table(lake)
    customer_rows = sum((result.clean["customer_id"] == CUSTOMER).sum() for result in lake.expected.values())
    quarantined = sum((result.quarantine["customer_id"].str.strip() == CUSTOMER).sum()
                      for result in lake.expected.values())
    assert customer_rows and quarantined
    result = lake.cli("erase", CUSTOMER)
    assert result.returncode == 0, result.stdout + result.stderr
    assert versions_holding(lake, CUSTOMER) == []
    lake.assert_holds_exactly(lake.key, without_customer=CUSTOMER)
    after = rows_per_table(lake)
    assert after == {prefix: before[prefix] - (quarantined if prefix == "_quarantine/" else customer_rows)
                     for prefix in before}
    assert_state(lake, as_set_up=False)


def current_keys(lake, prefix):
    client = lake.admin.client()
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=lake.admin.bucket, Prefix=prefix).get("Contents", []))


def test_a_rotation_that_finds_rows_missing_at_the_end_fails_naming_the_object(lake):
    doomed = current_keys(lake, "customer_info/")[0]  # rotated first, deleted after the second rewrite
    result = lake.deleting_behind_its_back(f"{STORE}.replace", 2, doomed, "rotate-lake",
                             NEW_FERNET_KEYS=f"{lake.new},{lake.old}", FERNET_KEYS=lake.old)
    assert result.returncode == 1, result.stdout + result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert "the rotation is not done" in error and f"s3://{lake.admin.bucket}/{doomed} is gone" in error, error
    assert "the lake is under" not in result.stdout


def test_an_erasure_that_finds_other_rows_missing_at_the_end_fails_naming_the_object(lake):
    doomed = current_keys(lake, "order_info/")[-1]
    result = lake.deleting_behind_its_back(f"{STORE}.replace", 1, doomed, "erase", CUSTOMER)
    assert result.returncode == 1, result.stdout + result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert "the erasure is not done" in error and f"s3://{lake.admin.bucket}/{doomed} is gone" in error, error
    assert "audit record" not in result.stdout

"""`ecommerce-pipeline erase CUSTOMER_ID` on a real lake in MinIO, with and without bucket versioning.

The customer has rows in every segment on two days, a row in quarantine and records in an
unreadable export kept whole; in a versioned bucket older versions hold them too. After the
erasure no version of any object may hold the customer, and every other row must be there
exactly as the verifier expects, also when the command was killed with SIGKILL and run again.
"""

import json
import signal

import pytest

from ecommerce_pipeline.fernet_tokens import generate_key
from lake_tools import DAYS, Lake, sample_export, unreadable_export, versions_holding

pytestmark = pytest.mark.integration

CUSTOMER = "CUST-ERASE1"
STORE = "ecommerce_pipeline.lake.store:LakeStore"


@pytest.fixture
def lake(private_minio_by_versioning, tmp_path):
    versioning, stack = private_minio_by_versioning
    lake = Lake(stack, tmp_path)
    lake.empty()
    if versioning == "versioned":
        lake.versioning("Enabled")
    lake.ingest("monday.csv", sample_export(tmp_path, 1500, seed=41, customer=CUSTOMER, at=(3, 700, 1200),
                                           bad_amount_at=(1200,)), DAYS[0])
    lake.ingest("tuesday.csv", sample_export(tmp_path, 1000, seed=42, customer=CUSTOMER, at=(10, 11)), DAYS[1])
    lake.ingest("broken.csv", unreadable_export(CUSTOMER), DAYS[1])
    if versioning == "versioned":
        lake.ingest_again("monday.csv")
    lake.versioned = versioning == "versioned"
    return lake


def customer_rows(lake):
    """(rows of the customer per table as ingested, records of the customer in unreadable exports)."""
    clean = sum((result.clean["customer_id"] == CUSTOMER).sum() for result in lake.expected.values())
    quarantined = sum((result.quarantine["customer_id"].str.strip() == CUSTOMER).sum()
                      for result in lake.expected.values())
    records = sum(content.count(CUSTOMER.encode()) for content in lake.unreadable.values())
    return {"customer_info": clean, "order_info": clean, "payment_and_delivery_info": clean,
            "quarantine": quarantined}, records


def versions_holding_the_customer(lake):
    return versions_holding(lake, CUSTOMER)


def maintenance_records(lake):
    client = lake.admin.client()
    return [o["Key"] for o in client.list_objects_v2(Bucket=lake.admin.bucket, Prefix="_maintenance/").get("Contents", [])]


def assert_erased(lake, result):
    assert result.returncode == 0, result.stderr
    assert versions_holding_the_customer(lake) == []
    lake.assert_holds_exactly(lake.key, without_customer=CUSTOMER)
    records = maintenance_records(lake)
    assert len(records) == 1 and records[0].startswith("_maintenance/erasures/"), records  # the journal is gone
    audit_body = lake.body(records[0])
    assert CUSTOMER.encode() not in audit_body
    audit = json.loads(audit_body)
    rows, unreadable_records = customer_rows(lake)
    assert audit["rows_erased"] == rows and audit["records_erased_from_unreadable_files"] == unreadable_records
    assert audit["reference"] == "REQ-7" and audit["versioned_bucket"] == lake.versioned
    assert audit["not_reached"]
    query = lake.cli("query", f"SELECT count(*) FROM order_info WHERE customer_id = '{CUSTOMER}'")
    assert query.stdout.splitlines()[1] == "0"
    return audit


def test_a_dry_run_lists_every_trace_and_changes_nothing(lake):
    before = sorted((v["Key"], v["VersionId"], v["ETag"]) for v in lake.versions())
    holding = versions_holding_the_customer(lake)
    result = lake.cli("erase", CUSTOMER, "--dry-run")
    assert result.returncode == 0, result.stderr
    planned = [line for line in result.stdout.splitlines() if line.startswith("would ") and " erase " not in line]
    assert len(planned) == len(holding) > 0, (result.stdout, holding)
    rows, _ = customer_rows(lake)
    assert f"would erase {sum(rows.values())} rows" in result.stdout, (result.stdout, rows)
    assert sorted((v["Key"], v["VersionId"], v["ETag"]) for v in lake.versions()) == before
    assert maintenance_records(lake) == [], result.stdout
    if lake.versioned:
        assert any("older version" in line for line in planned)


def test_erasure_removes_every_trace_and_leaves_every_other_row(lake):
    result = lake.cli("erase", CUSTOMER, "--reference", "REQ-7")
    audit = assert_erased(lake, result)
    assert audit["objects_rewritten_or_deleted"] > 0
    assert (audit["older_versions_deleted"] > 0) == lake.versioned
    assert CUSTOMER not in result.stdout.replace(f"erase {CUSTOMER}", "")
    again = lake.cli("erase", CUSTOMER, "--reference", "REQ-7")
    assert again.returncode == 0 and "erased 0 rows" in again.stdout


def test_killed_at_several_points_the_same_command_finishes_the_erasure(lake):
    points = [("get", 9), ("replace", 1), ("write_json", 6), ("replace", 2)] + ([("delete", 2)] if lake.versioned else [])
    for method, count in points:
        killed = lake.killed_at(f"{STORE}.{method}", count, "erase", CUSTOMER, "--reference", "REQ-7")
        assert killed.returncode == -signal.SIGKILL, (method, count, killed.stdout, killed.stderr)
    result = lake.cli("erase", CUSTOMER, "--reference", "REQ-7")
    assert "resuming the erasure" in result.stdout
    assert_erased(lake, result)


def test_keys_that_do_not_open_the_unreadable_files_stop_the_erasure_before_any_change(lake):
    before = sorted((v["Key"], v["VersionId"], v["ETag"]) for v in lake.versions())
    stranger = generate_key()
    result = lake.cli("erase", CUSTOMER, FERNET_KEYS=stranger)
    assert result.returncode == 1
    assert "opens with none of the keys in FERNET_KEYS" in result.stderr.strip().splitlines()[-1]
    assert stranger not in result.stdout + result.stderr and lake.key not in result.stdout + result.stderr
    assert sorted((v["Key"], v["VersionId"], v["ETag"]) for v in lake.versions()) == before

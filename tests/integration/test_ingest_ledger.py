"""The ingest ledger on the real MinIO: one claim per content, replays recognised, duplicates stored nowhere."""

import dataclasses
import json
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from ecommerce_pipeline.fernet_tokens import generate_key
from ecommerce_pipeline.ingest import ingest_file
from ecommerce_pipeline.ledger import Claim, IngestRecord, claim, ledger_key
from ecommerce_pipeline.sample_data import write_sample_csv

pytestmark = [pytest.mark.integration, pytest.mark.stores]


@pytest.fixture
def versioned_bucket(minio):
    """A bucket of its own with versioning on: a second write of any key shows as a second version."""
    bucket = f"ledger-{uuid.uuid4().hex[:12]}"
    client = minio.client()
    client.create_bucket(Bucket=bucket)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    yield dataclasses.replace(minio, bucket=bucket)
    pages = client.get_paginator("list_object_versions").paginate(Bucket=bucket)
    for page in pages:
        for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
            client.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
    client.delete_bucket(Bucket=bucket)


def versions(s3) -> dict[str, int]:
    counts = {}
    for page in s3.client().get_paginator("list_object_versions").paginate(Bucket=s3.bucket):
        for version in page.get("Versions", []):
            counts[version["Key"]] = counts.get(version["Key"], 0) + 1
    return counts


def record(identity, sha="ab" * 32):
    return IngestRecord(sha, "2026-12-01T10:00:00+00:00", "2026-12-01", "orders.csv", identity)


def test_exactly_one_of_many_concurrent_claims_wins_and_the_rest_see_its_record(versioned_bucket):
    client = versioned_bucket.client()
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda n: claim(client, versioned_bucket.bucket, record(f"flowfile-{n}")), range(8)))
    winners = [first for outcome, first in outcomes if outcome is Claim.NEW]
    assert len(winners) == 1
    assert all(outcome is Claim.DUPLICATE and first == winners[0] for outcome, first in outcomes
               if outcome is not Claim.NEW)
    assert versions(versioned_bucket) == {ledger_key("ab" * 32): 1}


def test_the_same_identity_claiming_again_is_a_replay_with_the_first_ingest_date(versioned_bucket):
    client = versioned_bucket.client()
    assert claim(client, versioned_bucket.bucket, record("flowfile-1"))[0] is Claim.NEW
    later = dataclasses.replace(record("flowfile-1"), ingest_date="2026-12-02", ingested_at="2026-12-02T00:01:00+00:00")
    outcome, first = claim(client, versioned_bucket.bucket, later)
    assert outcome is Claim.REPLAY and first.ingest_date == "2026-12-01"


def test_the_cli_ingests_a_content_once_and_records_a_second_drop_as_a_duplicate(versioned_bucket, tmp_path):
    first_drop = tmp_path / "first" / f"orders-{uuid.uuid4().hex[:8]}.csv"
    first_drop.parent.mkdir()
    write_sample_csv(first_drop, rows=3_000, seed=61, bad_row_fraction=0.02)
    second_drop = tmp_path / "resent" / first_drop.name
    second_drop.parent.mkdir()
    shutil.copyfile(first_drop, second_drop)
    key = generate_key()

    first = ingest_file(first_drop, versioned_bucket, key, chunk_rows=1_000, workers=1)
    again = ingest_file(first_drop, versioned_bucket, key, chunk_rows=1_000, workers=1)  # a re-run: a replay
    stored_once = versions(versioned_bucket)
    duplicate = ingest_file(second_drop, versioned_bucket, key, chunk_rows=1_000, workers=1)
    after = versions(versioned_bucket)

    assert first.objects and sorted(again.objects) == sorted(first.objects) and again.first_ingest is None
    assert duplicate.objects == [] and duplicate.rows_in == 0
    new_keys = set(after) - set(stored_once)
    assert new_keys == {duplicate.duplicate_record}, "the second drop wrote nothing but its record"
    assert all(after[k] == stored_once[k] for k in stored_once), "no second version of any key"
    print(f"\nsame 3,000-row export ingested twice: {sum(after.values()) - sum(stored_once.values())} "
          f"new object versions, {len(first.objects)} objects of the first ingest, 0 rows stored again")

    ledger = json.loads(versioned_bucket.client().get_object(
        Bucket=versioned_bucket.bucket, Key=ledger_key(duplicate.first_ingest.sha256))["Body"].read())
    assert ledger["source"] == first_drop.name and ledger["ingested_at"]
    said = versioned_bucket.client().get_object(Bucket=versioned_bucket.bucket, Key=duplicate.duplicate_record)
    assert json.loads(said["Body"].read())["first_ingest"] == ledger
    assert "already ingested" in said["Metadata"]["reason"]

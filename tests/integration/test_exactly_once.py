"""Exactly once on the real stack: a landing object across a processor restart, the same export dropped twice,
a file moved into the inbox with an mtime older than the last file taken, and `drop` on a file the flow
quarantines whole."""

import os
import subprocess
import sys
import time
import uuid

import nipyapi
import pytest

from conftest import REPO
from nifi.deployment.connection import connect
from ecommerce_pipeline.cleaning import clean_frame, read_raw_csv
from ecommerce_pipeline.ledger import DUPLICATE_SUFFIX, content_sha256, ledger_key
from ecommerce_pipeline.sample_data import write_sample_csv
from ecommerce_pipeline.settings import env_file, load_settings
from ecommerce_pipeline.waiting import wait_until
from inbox import INBOX, drop, lake_key, move_in_aged, wait_for_rows
from lake import assert_lake_holds_exactly, delete_objects, keys_of, write_bad_export

pytestmark = [pytest.mark.integration, pytest.mark.stores]

SOURCE = "Watch landing bucket"
DOWNSTREAM = "Stamp ingest date and source"
WAIT_SECONDS = 180


@pytest.fixture(scope="module")
def nifi_api(deployed_flow):
    connect(load_settings(env_file(REPO)))
    return nipyapi


def processor(name):
    return nipyapi.canvas.get_processor(name, identifier_type="name", greedy=False)


def queued_filenames(source_name):
    """The filenames queued on the connections leaving a processor."""
    source = processor(source_name)
    connections = [c for c in nipyapi.canvas.get_component_connections(source) if c.source_id == source.id]
    return [flowfile.filename for c in connections for flowfile in nipyapi.canvas.list_flowfiles(c, limit=1000)]


def state_keys(name) -> list[str]:
    state = nipyapi.canvas.get_processor_state(processor(name)).component_state
    return [entry.key for scope in (state.cluster_state, state.local_state) if scope for entry in scope.state or []]


def runs(name) -> int:
    return processor(name).status.aggregate_snapshot.task_count


def wait_for(condition, what, timeout=WAIT_SECONDS):
    return wait_until(condition, what, timeout, every=0.2, report=None, error=pytest.fail.Exception)


def all_versions(minio, prefix=""):
    pages = minio.client().get_paginator("list_object_versions").paginate(Bucket=minio.bucket, Prefix=prefix)
    return [(v["Key"], v["VersionId"]) for page in pages for v in page.get("Versions", [])]


@pytest.fixture
def versioned_lake(minio):
    """The lake's bucket with versioning on for one test; every version of the keys the test claims is removed after.

    Call it with a predicate that tells the test's keys.
    """
    client = minio.client()
    client.put_bucket_versioning(Bucket=minio.bucket, VersioningConfiguration={"Status": "Enabled"})
    owned = []
    yield owned.append
    client.put_bucket_versioning(Bucket=minio.bucket, VersioningConfiguration={"Status": "Suspended"})
    for page in client.get_paginator("list_object_versions").paginate(Bucket=minio.bucket):
        for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
            if any(is_owned(version["Key"]) for is_owned in owned):
                client.delete_object(Bucket=minio.bucket, Key=version["Key"], VersionId=version["VersionId"])


def test_a_restart_right_after_a_hand_on_takes_the_landing_object_once(minio, nifi_api, tmp_path):
    path = tmp_path / f"window-{uuid.uuid4().hex[:8]}.csv"
    write_sample_csv(path, rows=2_000, seed=91, bad_row_fraction=0.02)
    expected = clean_frame(read_raw_csv(path.read_bytes()))
    client = minio.client()
    key = f"landing/{path.name}"
    nipyapi.canvas.schedule_processor(processor(DOWNSTREAM), False)  # hand-ons stay queued where we can count them
    try:
        client.put_object(Bucket=minio.bucket, Key=key, Body=path.read_bytes())
        wait_for(lambda: path.name in queued_filenames(SOURCE), f"{SOURCE} handing on {path.name}")
        nipyapi.canvas.schedule_processor(processor(SOURCE), False)  # within one scheduling period of the hand-on
        nipyapi.canvas.schedule_processor(processor(SOURCE), True)
        restarted = runs(SOURCE)
        wait_for(lambda: runs(SOURCE) >= restarted + 3, f"three runs of {SOURCE} after its restart")
        taken = queued_filenames(SOURCE).count(path.name)
        print(f"\nlanding object handed on, {SOURCE} stopped and started at once: taken {taken} time(s)")
        assert taken == 1, "the landing object was taken again after the restart"
    finally:
        nipyapi.canvas.schedule_processor(processor(DOWNSTREAM), True)
    try:
        objects = wait_for_rows(minio, path.stem, 2_000)
        assert_lake_holds_exactly(objects, expected, lake_key())
        wait_for(lambda: not client.list_objects_v2(Bucket=minio.bucket, Prefix=key).get("KeyCount"),
                 "the landing object deleted once stored")
        wait_for(lambda: key not in state_keys(SOURCE), "the source's state forgetting the deleted object")
    finally:
        client.delete_object(Bucket=minio.bucket, Key=key)
        delete_objects(minio, keys_of(minio, path.stem))


def test_the_same_export_dropped_twice_is_stored_once_and_the_second_drop_recorded(minio, nifi_api, tmp_path,
                                                                                 versioned_lake):
    first = tmp_path / f"twice-{uuid.uuid4().hex[:8]}.csv"
    write_sample_csv(first, rows=3_000, seed=93, bad_row_fraction=0.02)
    expected = clean_frame(read_raw_csv(first.read_bytes()))
    with first.open("rb") as stream:
        digest = content_sha256(stream)
    versioned_lake(lambda key: f"/{first.stem}-" in key or key == ledger_key(digest))

    drop(first)
    wait_for_rows(minio, first.stem, 3_000)
    stored = sorted(all_versions(minio, ""))
    stored_keys = {key for key, _ in stored if f"/{first.stem}-" in key}
    drop(first)  # the same file again, as a re-sent export or a retried upload would come
    duplicate = wait_for(lambda: [k for k in keys_of(minio, first.stem) if k.endswith(DUPLICATE_SUFFIX)],
                         "the second drop's duplicate record")
    again = sorted(all_versions(minio, ""))

    new_versions = [version for version in again if version not in stored]
    rewritten = [key for key, _ in new_versions if key in stored_keys]
    print(f"\nthe same 3,000-row export dropped twice: {len(rewritten)} second versions of its "
          f"{len(stored_keys)} keys, {len(new_versions)} new object versions in all ({duplicate[0].rsplit('/', 1)[1]})")
    assert rewritten == [], "a second drop rewrote lake objects"
    assert [key for key, _ in new_versions] == duplicate
    ledger = minio.client().get_object(Bucket=minio.bucket, Key=ledger_key(digest))
    assert ledger["Body"].read() and ledger_key(digest) in {key for key, _ in stored}
    said = minio.client().get_object(Bucket=minio.bucket, Key=duplicate[0])
    assert "already ingested" in said["Metadata"]["reason"]
    assert_lake_holds_exactly(wait_for_rows(minio, first.stem, 3_000), expected, lake_key())
    assert not (INBOX / first.name).exists()


def test_a_file_moved_in_with_a_day_old_mtime_after_a_fresh_one_is_taken_once(minio, nifi_api, tmp_path, versioned_lake):
    fresh, old = (tmp_path / f"{kind}-{uuid.uuid4().hex[:8]}.csv" for kind in ("fresh", "day-old"))
    for path in (fresh, old):  # content of its own: the ledger refuses content an earlier run ingested
        write_sample_csv(path, rows=2_000, seed=uuid.uuid4().int % 2**31, bad_row_fraction=0.02)
    versioned_lake(lambda key: any(f"/{path.stem}-" in key for path in (fresh, old)))
    drop(fresh)
    wait_for_rows(minio, fresh.stem, 2_000, timeout=WAIT_SECONDS)  # the listing has taken a file of today
    target = move_in_aged(old, age_seconds=24 * 3600)

    objects = wait_for_rows(minio, old.stem, 2_000, timeout=WAIT_SECONDS)
    assert_lake_holds_exactly(objects, clean_frame(read_raw_csv(old.read_bytes())), lake_key())
    assert not target.exists()
    versions = [key for key, _ in all_versions(minio) if f"/{old.stem}-" in key]
    assert versions and len(versions) == len(set(versions)), "a key of the day-old file was written twice"
    assert not [key for key in keys_of(minio, old.stem) if key.endswith(DUPLICATE_SUFFIX)], "the file was taken twice"


def test_drop_reports_a_file_quarantined_whole_at_once_with_a_failing_status(minio, deployed_flow, tmp_path):
    path = tmp_path / f"wrong-header-{uuid.uuid4().hex[:8]}.csv"
    write_bad_export(path, "wrong-header")
    path.write_bytes(path.read_bytes() + f"2,Bo,bo-{uuid.uuid4().hex}@example.com\n".encode())  # content of its own
    timeout = 300
    started = time.monotonic()
    try:
        result = subprocess.run([sys.executable, "-m", "ecommerce_pipeline.cli", "drop", str(path), "--inbox",
                                 str(INBOX), "--timeout", str(timeout)], capture_output=True, text=True, cwd=REPO,
                                env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, timeout=timeout + 60)
        took = time.monotonic() - started
        print(f"\n`drop` of a wrong-header file with records: exit {result.returncode} after {took:.1f}s")
        assert result.returncode == 1, result.stdout + result.stderr
        assert "not a readable export" in result.stderr and "wrong header" in result.stderr, result.stderr
    finally:
        delete_objects(minio, keys_of(minio, path.stem))

"""Faults on the real stack: NiFi killed mid-file, MinIO down mid-file; and what NiFi leaves on disk.

Every fault test ends with an independent read of the lake: each input row exactly once in a
segment or in quarantine, decryptable with plain Fernet. NiFi is at-least-once; the replay-safe
object keys must turn that into exactly-once in the lake.
"""

import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO, STACK, deploy_flow
from ecommerce_pipeline.cleaning import read_raw_csv
from ecommerce_pipeline.ledger import ledger_keys
from ecommerce_pipeline.settings import S3_ACCOUNTS, env_file, load_settings
from ecommerce_pipeline.waiting import wait_until
from lake import assert_lake_holds_exactly, delete_objects, keys_of
from inbox import MessyExports, drop, lake_key, wait_for_rows, wait_until_taken

pytestmark = pytest.mark.integration

NIFI_STATE = REPO / ".stack" / "nifi"
MINIO_DATA = REPO / ".stack" / "minio-data"
LANDING_PREFIX = "landing/"


def stack(*args):
    result = subprocess.run([sys.executable, str(STACK), *args], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture
def export(tmp_path, minio):
    """Makes messy exports (inbox.MessyExports); the lake is cleaned of them after."""
    exports = MessyExports(tmp_path, "fault")
    yield exports
    for stem in exports.stems:
        delete_objects(minio, keys_of(minio, stem))


def test_nifi_killed_with_sigkill_mid_file_resumes_and_stores_every_row_once(minio, deployed_flow, export):
    path, expected = export(100_000, seed=41)
    rows = len(expected.clean) + len(expected.quarantine)
    wait_until_taken(drop(path))
    time.sleep(2)  # let chunks get into the Python processors and the uploads
    pid = int((REPO / ".stack" / "nifi.pid").read_text())
    os.killpg(pid, signal.SIGKILL)  # the JVM and its Python processes, as a power cut would
    status = subprocess.run([sys.executable, str(STACK), "status"], capture_output=True, text=True, cwd=REPO)
    assert status.returncode == 69 and "nifi: stopped" in status.stdout, status.stdout + status.stderr
    assert status.stdout.splitlines()[-1] == "not healthy: nifi"
    restarted = time.monotonic()
    stack("up", "nifi")
    objects = wait_for_rows(minio, path.stem, rows)
    print(f"\nkill -9 mid-file: every row in the lake {time.monotonic() - restarted:.0f}s after `nifi/stack up`")
    assert_lake_holds_exactly(objects, expected, lake_key())


def test_minio_down_for_a_minute_mid_file_loses_and_duplicates_nothing(minio, deployed_flow, export):
    path, expected = export(60_000, seed=43)
    rows = len(expected.clean) + len(expected.quarantine)
    stack("down", "minio")
    try:
        wait_until_taken(drop(path))
        time.sleep(60)
        status = deploy_flow("status")
        assert "cannot reach S3" in status.stdout, status.stdout
        queued = int(status.stdout.split("queued in the group: ")[1].split()[0])
        assert queued > 0, "the objects wait in the queue while MinIO is down"
        assert status.returncode == 1, "FlowFiles penalised in a retry loop make the flow unhealthy"
        report = json.loads(deploy_flow("status", "--json").stdout)
        assert any("penalised FlowFile(s): failed and looping back" in p for p in report["problems"]), report
        stack_status = subprocess.run([sys.executable, str(STACK), "status", "--json"], capture_output=True,
                                      text=True, cwd=REPO)
        services = {s["service"]: s["healthy"] for s in json.loads(stack_status.stdout)["services"]}
        assert stack_status.returncode == 69 and services == {"minio": False, "nifi": True}, stack_status.stdout
    finally:
        stack("up", "minio")
    returned = time.monotonic()
    objects = wait_for_rows(minio, path.stem, rows)
    print(f"\nMinIO down 60 s: every row in the lake {time.monotonic() - returned:.0f}s after it came back")
    assert_lake_holds_exactly(objects, expected, lake_key())


def test_minio_down_while_the_objects_are_uploaded_retries_and_re_signs_until_stored(minio, deployed_flow, export):
    """The outage starts once the file is claimed in the ledger, so it hits the uploads (InvokeHTTP with the
    signature SignS3Upload made): they fail, back off and are signed again, and every row is stored once."""
    path, expected = export(60_000, seed=47)
    rows = len(expected.clean) + len(expected.quarantine)
    claimed = ledger_keys(minio.client(), minio.bucket)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    drop(path)
    wait_until(lambda: any(digest in key for key in ledger_keys(minio.client(), minio.bucket) - claimed),
               f"{path.name} to be claimed in the ledger", 300, every=0.2, report=None, error=pytest.fail.Exception)
    stack("down", "minio")
    try:
        time.sleep(60)
        status = deploy_flow("status")
        queued = int(status.stdout.split("queued in the group: ")[1].split()[0])
        assert queued > 0, "the objects wait in the queue while MinIO is down"
    finally:
        stack("up", "minio")
    assert_lake_holds_exactly(wait_for_rows(minio, path.stem, rows), expected, lake_key())


def nifi_files():
    """Every file NiFi writes at run time: repositories, logs, its Python working directory, its flow."""
    for folder in ("content_repository", "flowfile_repository", "provenance_repository", "logs", "state",
                   "database_repository", "work/python/controller"):
        yield from (p for p in (NIFI_STATE / folder).rglob("*") if p.is_file())
    yield from (p for p in (REPO / ".stack" / "logs").rglob("*") if p.is_file())


def readable(path):
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def minio_landing_files(minio):
    """Where an export uploaded to the landing bucket lives in MinIO: its objects, and their files on disk."""
    client = minio.client()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=minio.bucket, Prefix=LANDING_PREFIX):
        for item in page.get("Contents", []):
            yield f"s3://{minio.bucket}/{item['Key']}", client.get_object(Bucket=minio.bucket, Key=item["Key"])["Body"].read()
    for path in (MINIO_DATA / minio.bucket / LANDING_PREFIX).rglob("*"):
        if path.is_file():
            yield str(path.relative_to(REPO)), path.read_bytes()


def needles_of(path):
    raw = read_raw_csv(path.read_bytes())
    return [v.strip().encode() for column in ("Email Address", "Phone Number", "Payment Info")
            for v in raw[column] if len(v.strip()) >= 8][:3000]


def test_no_plaintext_pii_stays_in_nifi_or_the_landing_bucket_after_a_file_is_processed(minio, deployed_flow, export):
    path, expected = export(5_000, seed=47)
    uploaded, uploaded_expected = export(5_000, seed=48)
    needles = needles_of(path) + needles_of(uploaded)
    drop(path)
    minio.client().put_object(Bucket=minio.bucket, Key=f"{LANDING_PREFIX}{uploaded.name}", Body=uploaded.read_bytes())
    try:
        wait_for_rows(minio, path.stem, len(expected.clean) + len(expected.quarantine))
        wait_for_rows(minio, uploaded.stem, len(uploaded_expected.clean) + len(uploaded_expected.quarantine))
        found = set()

        def no_plaintext() -> bool:  # content claims are deleted by a background cleaner once nothing refers to them
            found.clear()
            found.update(str(p.relative_to(REPO)) for p in nifi_files() for data in [readable(p)] if any(n in data for n in needles))
            found.update(where for where, data in minio_landing_files(minio) if any(n in data for n in needles))
            return not found

        wait_until(no_plaintext, "the input's plaintext to leave NiFi's repositories and landing/", 60, every=5,
                   report=None, error=pytest.fail.Exception, pending=lambda: f"still on disk in {sorted(found)}")
    finally:
        minio.client().delete_object(Bucket=minio.bucket, Key=f"{LANDING_PREFIX}{uploaded.name}")


def test_secrets_are_in_no_log_bulletin_flow_definition_or_tracked_file(deployed_flow):
    settings = load_settings(env_file(REPO))
    secrets = [settings[secret_key] for _, secret_key in S3_ACCOUNTS.values()] + [
        settings["NIFI_PASSWORD"], settings["NIFI_SENSITIVE_PROPS_KEY"], *settings["FERNET_KEYS"].split(",")]
    places = {str(p.relative_to(REPO)): readable(p) for p in nifi_files()}
    places["conf/flow.json.gz"] = readable(NIFI_STATE / "conf" / "flow.json.gz")
    places["deploy_flow.py status"] = deploy_flow("status").stdout.encode()
    tracked = subprocess.run(["git", "ls-files", "-z"], capture_output=True, cwd=REPO).stdout.split(b"\0")
    for name in filter(None, tracked):
        if (REPO / name.decode()).is_file():
            places[name.decode()] = (REPO / name.decode()).read_bytes()
    leaks = sorted(place for place, data in places.items() for secret in secrets if secret.encode() in data)
    assert not leaks, f"a secret appears in {leaks}"

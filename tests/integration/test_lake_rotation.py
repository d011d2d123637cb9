"""`ecommerce-pipeline rotate-lake` on a real lake in MinIO, with and without bucket versioning.

The command is killed with SIGKILL at several points of its work, then run again: nothing may be
lost, duplicated, or left under the old key, in any version of any object.
"""

import datetime as dt
import json
import signal
import subprocess
import sys
import threading
import time

import pytest

from ecommerce_pipeline.fernet_tokens import generate_key
from ecommerce_pipeline.lake.keys import key_id
from lake_tools import DAYS, Lake, kill, sample_export, tokens_open_only_with, unreadable_export

pytestmark = pytest.mark.integration

STORE = "ecommerce_pipeline.lake.store:LakeStore"
ROTATABLE = ("customer_info/", "payment_and_delivery_info/", "_quarantine/")


@pytest.fixture
def lake(private_minio_by_versioning, tmp_path):
    """A fresh lake under the stack's key: two exports on two days, rejected rows, an unreadable export;
    in a versioned bucket one export stored twice (a replay), so older versions exist too."""
    versioning, stack = private_minio_by_versioning
    lake = Lake(stack, tmp_path)
    lake.empty()
    if versioning == "versioned":
        lake.versioning("Enabled")
    lake.ingest("monday.csv", sample_export(tmp_path, 1500, seed=31), DAYS[0])
    lake.ingest("tuesday.csv", sample_export(tmp_path, 1500, seed=32), DAYS[1])
    lake.ingest("broken.csv", unreadable_export("CUST-999999"), DAYS[1])
    if versioning == "versioned":
        lake.ingest_again("monday.csv")
    lake.old, lake.new = lake.key, generate_key()
    lake.versioned = versioning == "versioned"
    return lake


def rotate(lake, *args):
    return lake.cli("rotate-lake", *args, NEW_FERNET_KEYS=f"{lake.new},{lake.old}", FERNET_KEYS=lake.old)


def rotation_state(lake):
    body = lake.admin.client().get_object(Bucket=lake.admin.bucket,
                                          Key=f"_maintenance/rotation/{key_id(lake.new)}/state.json")["Body"]
    return json.loads(body.read())


def rotatable_keys(lake):
    client = lake.admin.client()
    return [o["Key"] for prefix in ROTATABLE
            for o in client.list_objects_v2(Bucket=lake.admin.bucket, Prefix=prefix).get("Contents", [])]


def assert_rotated(lake, exact_counts=True):
    """Every version of every object opens with the new key only; every export's rows are there exactly once."""
    versions = lake.versions()
    assert versions
    for version in versions:
        tokens_open_only_with(lake, version, lake.new, [lake.old])
    lake.assert_holds_exactly(lake.new)
    state = rotation_state(lake)
    assert state["finished_at"]
    counts = state["counts"]
    if exact_counts:  # every key counted once, as rotated or as found under the new key
        assert counts.get("objects_rotated", 0) + counts.get("objects_already_under_the_new_key", 0) == len(rotatable_keys(lake))


def test_a_dry_run_lists_what_it_would_rotate_and_changes_nothing(lake):
    before = sorted((v["Key"], v["VersionId"], v["ETag"]) for v in lake.versions())
    result = rotate(lake, "--dry-run")
    assert result.returncode == 0, result.stderr
    would = [line for line in result.stdout.splitlines() if line.startswith("would rotate s3://")]
    assert len(would) == len(rotatable_keys(lake))
    if lake.versioned:
        assert any(line.startswith("would delete") for line in result.stdout.splitlines())
    assert sorted((v["Key"], v["VersionId"], v["ETag"]) for v in lake.versions()) == before
    assert lake.new not in result.stdout + result.stderr and lake.old not in result.stdout + result.stderr


def test_killed_at_several_points_the_same_command_finishes_with_nothing_lost_or_left_under_the_old_key(lake):
    points = [("replace", 2), ("get", 2), ("write_json", 4)] + ([("delete", 1)] if lake.versioned else [])
    for method, count in points:
        killed = lake.killed_at(f"{STORE}.{method}", count, "rotate-lake",
                                NEW_FERNET_KEYS=f"{lake.new},{lake.old}", FERNET_KEYS=lake.old)
        assert killed.returncode == -signal.SIGKILL, (method, killed.stdout, killed.stderr)

    running = subprocess.Popen([sys.executable, "-m", "ecommerce_pipeline.cli", "rotate-lake"],
                               env=lake.env(NEW_FERNET_KEYS=f"{lake.new},{lake.old}", FERNET_KEYS=lake.old),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done_before = rotation_state(lake)["counts"].get("objects_rotated", 0)
    deadline = time.monotonic() + 300
    while rotation_state(lake)["counts"].get("objects_rotated", 0) <= done_before and running.poll() is None:
        assert time.monotonic() < deadline, "the rotation made no progress"
        time.sleep(0.02)
    assert running.poll() is None, "the rotation ended before it could be killed"
    kill(running)

    result = rotate(lake)
    assert result.returncode == 0, result.stderr
    assert "resuming the rotation" in result.stdout
    assert_rotated(lake)
    assert lake.new not in result.stdout + result.stderr and lake.old not in result.stdout + result.stderr


def test_a_finished_rotation_run_again_finds_everything_under_the_new_key(lake):
    assert rotate(lake).returncode == 0
    again = rotate(lake)
    assert again.returncode == 0, again.stderr
    assert f"rotated 0 objects (0 rows) to key {key_id(lake.new)}; {len(rotatable_keys(lake))} already under it" \
        in again.stdout
    assert_rotated(lake)


def test_objects_stored_under_the_old_key_behind_the_walk_are_caught_up(lake, tmp_path):
    killed = lake.killed_at(f"{STORE}.replace", 8, "rotate-lake", NEW_FERNET_KEYS=f"{lake.new},{lake.old}",
                            FERNET_KEYS=lake.old)
    assert killed.returncode == -signal.SIGKILL
    cursor = rotation_state(lake)["cursor"]
    # The flow, still on the old key, stores an export on a day whose keys sort before the walk's cursor.
    lake.ingest("late.csv", sample_export(tmp_path, 600, seed=33), dt.date(2026, 11, 1))
    late = [key for key in rotatable_keys(lake) if "/late-" in key]
    assert any(key < cursor for key in late)
    result = rotate(lake)
    assert result.returncode == 0, result.stderr
    assert "caught up with" in result.stdout
    assert_rotated(lake)


def test_rotation_runs_while_exports_keep_arriving(lake, tmp_path):
    rotation = subprocess.Popen([sys.executable, "-m", "ecommerce_pipeline.cli", "rotate-lake"],
                                env=lake.env(NEW_FERNET_KEYS=f"{lake.new},{lake.old}", FERNET_KEYS=lake.old),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    errors = []

    def flow_with_the_new_key_first():
        try:
            for seed in (34, 35):
                lake.ingest(f"during-{seed}.csv", sample_export(tmp_path, 1000, seed=seed), DAYS[1],
                            keys=f"{lake.new},{lake.old}")
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)

    flow = threading.Thread(target=flow_with_the_new_key_first)
    flow.start()
    out, err = rotation.communicate(timeout=600)
    flow.join(timeout=600)
    assert not errors and rotation.returncode == 0, (errors, err)
    assert_rotated(lake, exact_counts=False)  # objects stored under the new key meanwhile are not counted


def test_keys_that_open_nothing_stop_the_rotation_in_one_line_and_change_nothing(lake):
    before = sorted((v["Key"], v["VersionId"], v["ETag"]) for v in lake.versions())
    stranger = generate_key()
    result = lake.cli("rotate-lake", NEW_FERNET_KEYS=lake.new, FERNET_KEYS=stranger)
    assert result.returncode == 1
    error = result.stderr.strip().splitlines()[-1]
    assert "open with none of the keys in NEW_FERNET_KEYS and FERNET_KEYS" in error and "Traceback" not in result.stderr
    assert all(k not in result.stdout + result.stderr for k in (stranger, lake.new, lake.old))
    assert sorted((v["Key"], v["VersionId"], v["ETag"]) for v in lake.versions()) == before

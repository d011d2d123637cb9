"""Dropping files into the flow's watched folder and waiting for the lake, for the tests of the NiFi flow."""

import time

import pytest

from conftest import REPO
from ecommerce_pipeline.lake_watch import drop_into_inbox
from ecommerce_pipeline.settings import env_file, load_settings
from lake import SEGMENTS, keys_of, read_objects, rows_of

INBOX = REPO / "data" / "inbox"
WAIT_SECONDS = 300


def drop(path):
    """The file appears whole in the watched folder, as `ecommerce-pipeline drop` puts it there."""
    return drop_into_inbox(path, INBOX)


def lake_key() -> str:
    return load_settings(env_file(REPO))["FERNET_KEYS"].split(",")[0]


def wait_for_rows(minio, stem, rows_in, timeout=WAIT_SECONDS):
    """Objects of `stem` once every input row is in order_info or quarantine and the segments agree."""
    deadline = time.monotonic() + timeout
    counts = None
    while time.monotonic() < deadline:
        objects = read_objects(minio, keys_of(minio, stem))
        counts = {prefix: len(rows_of(items)) for prefix, items in objects.items()}
        clean = counts.get("order_info", 0)
        if clean + counts.get("_quarantine", 0) >= rows_in and all(counts.get(s, 0) == clean for s in SEGMENTS):
            return objects
        time.sleep(2)
    pytest.fail(f"{stem}: the lake holds {counts} rows after {timeout}s, expected {rows_in} in all")


def wait_for_quarantined_file(minio, stem, timeout=WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        keys = [k for k in keys_of(minio, stem) if k.endswith(".csv.fernet")]
        if keys:
            return keys
        time.sleep(2)
    pytest.fail(f"{stem}: no quarantined file after {timeout}s")

"""Dropping files into the flow's watched folder and waiting for the lake, for the tests of the NiFi flow."""

import os
import shutil
import time

import pytest

from conftest import REPO
from ecommerce_pipeline.lake_watch import drop_into_inbox
from ecommerce_pipeline.settings import load_settings
from lake import SEGMENTS, keys_of, read_objects, rows_of

INBOX = REPO / "data" / "inbox"
WAIT_SECONDS = 300


def drop(path):
    """The file appears whole in the watched folder, as `ecommerce-pipeline drop` puts it there."""
    return drop_into_inbox(path, INBOX)


def move_in_aged(path, age_seconds):
    """The file appears in the watched folder with an mtime `age_seconds` old, as `mv` of an old export puts it
    there (a rename keeps the mtime; until the rename its hidden name keeps it out of the listing)."""
    INBOX.mkdir(parents=True, exist_ok=True)
    hidden = INBOX / f".{path.name}.part"
    shutil.copyfile(path, hidden)
    aged = time.time() - age_seconds
    os.utime(hidden, (aged, aged))
    return hidden.rename(INBOX / path.name)


def lake_key() -> str:
    return load_settings(REPO / ".env")["FERNET_KEYS"].split(",")[0]


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

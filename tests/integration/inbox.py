"""Dropping files into the flow's watched folder and waiting for the lake, for the tests of the NiFi flow."""

import os
import shutil
import time
import uuid

import pytest

from conftest import REPO
from ecommerce_pipeline.cleaning import clean_frame, read_raw_csv
from ecommerce_pipeline.lake_watch import drop_into_inbox
from ecommerce_pipeline.sample_data import write_sample_csv
from ecommerce_pipeline.settings import env_file, load_settings
from ecommerce_pipeline.waiting import wait_until
from lake import SEGMENTS, keys_of, read_objects, rows_of

INBOX = REPO / "data" / "inbox"
WAIT_SECONDS = 300


class MessyExports:
    """Messy exports (1 % bad rows) written outside the inbox, each with its expected cleaning.

    `stems` names every export made, so a fixture can clean the lake of them afterwards.
    """

    def __init__(self, directory, prefix):
        self.directory, self.prefix, self.stems = directory, prefix, []

    def __call__(self, rows, seed):
        path = self.directory / f"{self.prefix}-{uuid.uuid4().hex[:8]}.csv"
        write_sample_csv(path, rows=rows, seed=seed, bad_row_fraction=0.01)
        self.stems.append(path.stem)
        return path, clean_frame(read_raw_csv(path.read_bytes()))


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


def wait_until_taken(target, timeout=120):
    """The flow (ListFile, or a cluster's primary node) has taken the dropped file out of the inbox."""
    wait_until(lambda: not target.exists(), f"the flow to take {target.name}", timeout, every=0.1, report=None,
               error=pytest.fail.Exception)


def lake_key() -> str:
    return load_settings(env_file(REPO))["FERNET_KEYS"].split(",")[0]


def wait_for_rows(minio, stem, rows_in, timeout=WAIT_SECONDS):
    """Objects of `stem` once every input row is in order_info or quarantine and the segments agree."""
    counts = {}

    def all_rows():
        objects = read_objects(minio, keys_of(minio, stem))
        counts.clear()
        counts.update({prefix: len(rows_of(items)) for prefix, items in objects.items()})
        clean = counts.get("order_info", 0)
        if clean + counts.get("_quarantine", 0) >= rows_in and all(counts.get(s, 0) == clean for s in SEGMENTS):
            return objects

    return wait_until(all_rows, f"{stem} in the lake", timeout, every=2, report=None, error=pytest.fail.Exception,
                      pending=lambda: f"it holds {counts} rows, expected {rows_in} in all")


def wait_for_quarantined_file(minio, stem, timeout=WAIT_SECONDS):
    return wait_until(lambda: [k for k in keys_of(minio, stem) if k.endswith(".csv.fernet")],
                      f"{stem}'s quarantined file", timeout, every=2, report=None, error=pytest.fail.Exception)

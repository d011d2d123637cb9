"""Dropping an export into the watched folder and waiting until the flow has stored all of it.

The flow runs inside NiFi, so the only evidence that a file is done is the lake itself:
every input record in order_info or in quarantine (each segment of the same length), or,
for a file that is not a readable export, its encrypted copy in _quarantine/.
"""

import datetime as dt
import io
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from .chunking import count_records
from .object_keys import QUARANTINE_PREFIX, safe_stem
from .settings import S3Settings

CLEAN_SEGMENTS = ("customer_info", "order_info", "payment_and_delivery_info")


@dataclass(frozen=True)
class LandedObject:
    key: str
    size: int
    rows: int | None  # None for an encrypted whole file (.csv.fernet)

    @property
    def prefix(self) -> str:
        return self.key.split("/", 1)[0]


def drop_into_inbox(source: Path, inbox: Path) -> Path:
    """Copies `source` into `inbox` under its own name, appearing there whole (hidden copy, then rename)."""
    inbox.mkdir(parents=True, exist_ok=True)
    partial = inbox / f".{source.name}.part"
    shutil.copyfile(source, partial)
    target = inbox / source.name
    os.replace(partial, target)
    return target


def landed_objects(s3: S3Settings, stem: str, since: dt.datetime | None = None) -> list[LandedObject]:
    """The lake's objects written for a source stem (since a time), with each Parquet file's row count."""
    client = s3.client()
    found = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=s3.bucket):
        for item in page.get("Contents", []):
            name = item["Key"].rsplit("/", 1)[-1]
            if not name.startswith(f"{stem}-") or (since and item["LastModified"] < since):
                continue
            rows = None
            if name.endswith(".parquet"):
                body = client.get_object(Bucket=s3.bucket, Key=item["Key"])["Body"].read()
                rows = pq.read_metadata(io.BytesIO(body)).num_rows
            found.append(LandedObject(item["Key"], item["Size"], rows))
    return sorted(found, key=lambda landed: landed.key)


def is_complete(objects: list[LandedObject], records: int) -> bool:
    rows = {}
    for landed in objects:
        rows[landed.prefix] = rows.get(landed.prefix, 0) + (landed.rows or 0)
    if any(landed.key.endswith(".csv.fernet") for landed in objects) and records == 0:
        return True
    clean = rows.get("order_info", 0)
    return records > 0 and clean + rows.get(QUARANTINE_PREFIX, 0) >= records and all(
        rows.get(segment, 0) == clean for segment in CLEAN_SEGMENTS)


def wait_until_landed(s3: S3Settings, source: Path, records: int, timeout: float,
                      progress: Callable[[str], None] = print,
                      on_start: Callable[[], object] = lambda: None) -> list[LandedObject]:
    """Notes the time, calls `on_start` (the drop), then polls until the objects written since hold the file.

    Objects an earlier drop of the same file left (same keys, since keys derive from the
    content) count only once they are rewritten.
    """
    started = time.monotonic()
    dropped_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(seconds=1)
    on_start()
    next_report = started + 5
    objects: list[LandedObject] = []
    while time.monotonic() - started < timeout:
        objects = landed_objects(s3, safe_stem(source.stem), since=dropped_at)
        if is_complete(objects, records):
            return objects
        if time.monotonic() >= next_report:
            stored = sum(landed.rows or 0 for landed in objects if landed.prefix in ("order_info", QUARANTINE_PREFIX))
            progress(f"waiting for {source.name}: {stored} of {records} rows in the lake "
                     f"[{time.monotonic() - started:.0f}s]")
            next_report += 5
        time.sleep(1)
    raise TimeoutError(f"{source.name} is not all in the lake after {timeout:.0f}s "
                       f"({len(objects)} objects so far): is the flow deployed and running? "
                       "see `python deploy_flow.py status`")


def records_in(source: Path) -> int:
    with source.open("rb") as stream:
        return count_records(stream)

"""Dropping an export into the watched folder and waiting until the flow has stored all of it.

The flow runs inside NiFi, so the only evidence that a file is done is the lake itself:
every input record in order_info or in quarantine (each segment of the same length); or
the file's encrypted copy in _quarantine/ (a file that is not a readable export: the drop
has failed, and says so at once); or a record that its content was already ingested.

Polling is cheap: only the prefixes the file's keys can have are listed
(`<segment>/ingest_date=<day>/<stem>-`), and a Parquet object's row count is read from its
footer (two ranged GETs, once per object version), never the object itself.
"""

import datetime as dt
import enum
import errno
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from .chunking import count_records
from .arrow_input import in_arrow_memory
from .ledger import DUPLICATE_SUFFIX
from .object_keys import QUARANTINE_PREFIX, safe_stem
from .exit_codes import CommandFailed
from .object_store import REASON_METADATA, s3_errors
from .settings import S3Settings
from .waiting import wait_until

CLEAN_SEGMENTS = ("customer_info", "order_info", "payment_and_delivery_info")
WHOLE_CONTENT_SUFFIX = ".csv.fernet"
PARQUET_TRAILER_BYTES = 8  # the footer's length (4 bytes, little-endian) and the magic "PAR1"


class Outcome(enum.Enum):
    STORED = "stored"
    QUARANTINED = "quarantined"
    ALREADY_INGESTED = "already ingested"


@dataclass(frozen=True)
class LandedObject:
    key: str
    size: int
    rows: int | None  # None for an encrypted whole file (.csv.fernet) or a duplicate's record

    @property
    def prefix(self) -> str:
        return self.key.split("/", 1)[0]


class AlreadyWaiting(CommandFailed):
    """A file of that name still waits in the inbox: a drop never replaces one the flow has not taken yet."""


# A drop is complete the moment it appears, so its copy is dated this far back: past any Minimum File Age,
# the flow lists it at its next poll instead of waiting for the age that protects files still being written.
COMPLETE_FILE_AGE_SECONDS = 24 * 3600


def drop_into_inbox(source: Path, inbox: Path) -> Path:
    """Copies `source` into `inbox` under its own name, appearing there whole and ready to be taken.

    The copy is written under a hidden name (the listing ignores hidden files), dated
    COMPLETE_FILE_AGE_SECONDS back and then hard-linked to its name, which fails rather than
    replace a file of that name still waiting for the flow. A file that appears whole need not
    wait for the minimum file age, which only files written in place (a plain `cp`, an exporter
    writing slowly) need.
    """
    inbox.mkdir(parents=True, exist_ok=True)
    target = inbox / source.name
    if target.exists():
        raise _already_waiting(target)
    partial = inbox / f".{source.name}.{secrets.token_hex(4)}.part"  # hidden: the listing skips it
    # Created as any new file is (0666 less the umask), not owner-only: NiFi may run as another user (Docker: uid 1000).
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        shutil.copyfile(source, partial)
        complete = time.time() - COMPLETE_FILE_AGE_SECONDS
        os.utime(partial, (complete, complete))
        _publish_without_replacing(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _publish_without_replacing(partial: Path, target: Path) -> None:
    try:
        os.link(partial, target)  # atomic, and refuses an existing name (rename would replace it)
    except FileExistsError:
        raise _already_waiting(target) from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        if target.exists():  # a file system without hard links: check, then rename
            raise _already_waiting(target) from None
        os.rename(partial, target)


def _already_waiting(target: Path) -> AlreadyWaiting:
    return AlreadyWaiting(f"{target} is still waiting for the flow: not replaced; drop your file again once "
                          "the flow has taken that one, or under another name")


class LakeWatch:
    """Reads what the lake holds for one source stem, each Parquet footer once."""

    def __init__(self, s3: S3Settings):
        self.bucket = s3.bucket
        self.client = s3.client()
        self._rows: dict[tuple[str, str], int] = {}

    def landed(self, stem: str, since: dt.datetime | None = None) -> list[LandedObject]:
        """The lake's objects written for a source stem (since a time), with each Parquet file's row count."""
        found = []
        for prefix in stem_prefixes(stem, since):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    if since and item["LastModified"] < since:
                        continue
                    rows = self._row_count(item) if item["Key"].endswith(".parquet") else None
                    found.append(LandedObject(item["Key"], item["Size"], rows))
        return sorted(found, key=lambda landed: landed.key)

    def _row_count(self, item: dict) -> int:
        version = (item["Key"], item["ETag"])
        if version not in self._rows:
            self._rows[version] = pq.read_metadata(in_arrow_memory(self._footer(item["Key"], item["Size"]))).num_rows
        return self._rows[version]

    def _footer(self, key: str, size: int) -> bytes:
        """The file's footer with the magic bytes before it: all pyarrow's read_metadata reads.

        Two ranged GETs: the last 8 bytes (the footer's length and the magic), then the footer.
        """
        length = int.from_bytes(self._read_tail(key, PARQUET_TRAILER_BYTES)[:4], "little")
        return b"PAR1" + self._read_tail(key, min(size, length + PARQUET_TRAILER_BYTES))

    def _read_tail(self, key: str, length: int) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=-{length}")["Body"].read()

    def quarantine_reason(self, objects: list[LandedObject]) -> str:
        whole = [landed.key for landed in objects if landed.key.endswith(WHOLE_CONTENT_SUFFIX)]
        if not whole:
            return ""
        return self.client.head_object(Bucket=self.bucket, Key=whole[0])["Metadata"].get(REASON_METADATA, "")

    def first_ingest(self, objects: list[LandedObject]) -> dict:
        records = [landed.key for landed in objects if landed.key.endswith(DUPLICATE_SUFFIX)]
        body = self.client.get_object(Bucket=self.bucket, Key=records[0])["Body"].read()
        return json.loads(body)["first_ingest"]


def stem_prefixes(stem: str, since: dt.datetime | None = None) -> list[str]:
    """The key prefixes a file's objects can have: each segment and quarantine, each ingest day since `since`."""
    today = dt.datetime.now(dt.timezone.utc).date()
    first = since.astimezone(dt.timezone.utc).date() if since else today
    days = [first + dt.timedelta(days=n) for n in range((today - first).days + 1)]
    return [f"{prefix}/ingest_date={day.isoformat()}/{safe_stem(stem)}-"
            for prefix in (*CLEAN_SEGMENTS, QUARANTINE_PREFIX) for day in days]


def outcome(objects: list[LandedObject], records: int) -> Outcome | None:
    """What became of a dropped file of `records` records, or None while the flow is still at it.

    A whole-content quarantine object with no Parquet beside it means the file was not a
    readable export (wrong header, not UTF-8, binary, no records): every chunk of such a file
    is rejected the same way, so the first one is the answer.
    """
    if any(landed.key.endswith(DUPLICATE_SUFFIX) for landed in objects):
        return Outcome.ALREADY_INGESTED
    rows = {}
    for landed in objects:
        rows[landed.prefix] = rows.get(landed.prefix, 0) + (landed.rows or 0)
    if any(landed.key.endswith(WHOLE_CONTENT_SUFFIX) for landed in objects) and not any(
            landed.rows is not None for landed in objects):
        return Outcome.QUARANTINED
    clean = rows.get("order_info", 0)
    stored = records > 0 and clean + rows.get(QUARANTINE_PREFIX, 0) >= records and all(
        rows.get(segment, 0) == clean for segment in CLEAN_SEGMENTS)
    return Outcome.STORED if stored else None


def drop_time() -> dt.datetime:
    """The moment to note before a drop: objects the flow writes for it are LastModified after it
    (S3 keeps whole seconds)."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(seconds=1)


class NotLandedInTime(CommandFailed, TimeoutError):
    """The flow did not store a dropped file within the wait."""


def wait_until_landed(watch: LakeWatch, source: Path, records: int, dropped_at: dt.datetime, timeout: float,
                      on_poll: Callable[[int, list[LandedObject]], object] = lambda rows, objects: None,
                      progress: Callable[[str], object] | None = None) -> tuple[Outcome, list[LandedObject]]:
    """Polls until the objects written since `dropped_at` (drop_time() before the drop) settle the file.

    Objects an earlier drop of the same file left (same keys, since keys derive from the
    content) count only once they are rewritten. `on_poll` hears the rows stored so far and
    the objects after each poll (a progress bar); `progress`, if given, a line every 5 s (a log).
    """
    objects: list[LandedObject] = []

    def settled() -> tuple[Outcome, list[LandedObject]] | None:
        with s3_errors(f"s3://{watch.bucket}/ (the objects of {source.name})"):
            objects[:] = watch.landed(safe_stem(source.stem), since=dropped_at)
        on_poll(stored_rows(objects), list(objects))
        found = outcome(objects, records)
        return (found, list(objects)) if found is not None else None

    def stored() -> str:
        return f"{stored_rows(objects)} of {records} rows in the lake ({len(objects)} objects)"

    return wait_until(settled, source.name, timeout, progress_every=5, report=progress, pending=stored,
                      error=lambda message: NotLandedInTime(f"{message}: is the flow deployed and running? "
                                                            "see `python3 deploy_flow.py status`"))


def stored_rows(objects: list[LandedObject]) -> int:
    """Rows of a file the lake holds: each input row ends in order_info or in quarantine."""
    return sum(landed.rows or 0 for landed in objects if landed.prefix in ("order_info", QUARANTINE_PREFIX))


def records_in(source: Path) -> int:
    with source.open("rb") as stream:
        return count_records(stream)

"""The ingest ledger: which content the lake already holds, kept in the lake itself.

Object keys make a replayed chunk overwrite its own objects, but they derive from the
ingest date, so the same export ingested again on another day would be stored twice.
Before a file is stored, its SHA-256 is claimed with a conditional put of
`_ingested/<sha256>` (If-None-Match: *): exactly one claim wins, across restarts, nodes
and the command-line tool. The record names who claimed it (the FlowFile's identity, or
the landing upload's take id) and its ingest date, so that NiFi replaying the same FlowFile
after a crash is recognised as a replay and stored on the same keys, while a new drop of
the same content is a duplicate: it is stored nowhere, a record under `_quarantine/` says
when the content was first ingested, and its landing object (if any) is deleted.
"""

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass
from enum import Enum
from typing import BinaryIO

from botocore.exceptions import BotoCoreError, ClientError

from .object_keys import QUARANTINE_PREFIX, object_key
from .object_store import StorageError, put_object, s3_errors

LEDGER_PREFIX = "_ingested/"
DUPLICATE_SUFFIX = ".duplicate.json"
_CONFLICT_RETRIES = 5
# 412: the key exists; 409: a concurrent conditional put of the same key is under way
_CLAIMED_ELSEWHERE = {"PreconditionFailed", "ConditionalRequestConflict"}


class Claim(Enum):
    NEW = "new"
    REPLAY = "replay"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class IngestRecord:
    sha256: str
    ingested_at: str  # ISO 8601 UTC
    ingest_date: str  # YYYY-MM-DD: the date in the content's object keys
    source: str  # the file name as dropped or uploaded
    identity: str  # the FlowFile (or upload, or command-line run) that carries the content

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, body: bytes) -> "IngestRecord":
        return cls(**json.loads(body))


def ledger_key(sha256: str) -> str:
    return f"{LEDGER_PREFIX}{sha256}"


def ledger_keys(client, bucket: str) -> set[str]:
    """Every record in the ledger (for tools and tests that clean up what they ingested)."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=LEDGER_PREFIX)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def content_sha256(stream: BinaryIO, block: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    for data in iter(lambda: stream.read(block), b""):
        digest.update(data)
    return digest.hexdigest()


def claim(client, bucket: str, record: IngestRecord) -> tuple[Claim, IngestRecord]:
    """Claims `record.sha256` for `record.identity`; returns the outcome and the ledger's record.

    NEW: this call wrote the record. REPLAY: the same identity had claimed it (its record
    holds the ingest date to store under). DUPLICATE: another identity ingested it first.
    """
    key = ledger_key(record.sha256)
    location = f"s3://{bucket}/{key}"
    for _ in range(_CONFLICT_RETRIES):
        try:
            client.put_object(Bucket=bucket, Key=key, Body=record.to_json(), IfNoneMatch="*",
                              ContentType="application/json")
            return Claim.NEW, record
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in _CLAIMED_ELSEWHERE:
                with s3_errors(location):
                    raise
        except BotoCoreError:
            with s3_errors(location):
                raise
        try:
            with s3_errors(location):
                first = IngestRecord.from_json(client.get_object(Bucket=bucket, Key=key)["Body"].read())
        except FileNotFoundError:
            continue  # the put that conflicted with this one did not complete: claim again
        return (Claim.REPLAY if first.identity == record.identity else Claim.DUPLICATE), first
    raise StorageError(f"{location}: no claim settled after {_CONFLICT_RETRIES} attempts")


def duplicate_key(record: IngestRecord, source_stem: str) -> str:
    """Where the record of a duplicate drop goes: beside quarantine, under the duplicate's own ingest date."""
    drop_id = hashlib.sha256(record.identity.encode()).hexdigest()[:32]
    return object_key(QUARANTINE_PREFIX, dt.date.fromisoformat(record.ingest_date), source_stem, drop_id,
                      DUPLICATE_SUFFIX)


def record_duplicate(client, bucket: str, duplicate: IngestRecord, first: IngestRecord, source_stem: str) -> str:
    """Writes what the lake says about a duplicate drop; returns its key and the reason, for a bulletin."""
    key = duplicate_key(duplicate, source_stem)
    body = json.dumps({"duplicate": asdict(duplicate), "first_ingest": asdict(first)}, sort_keys=True).encode()
    put_object(client, bucket, key, body, reason=duplicate_reason(first))
    return key


def duplicate_reason(first: IngestRecord) -> str:
    return (f"content already ingested at {first.ingested_at} from {first.source} "
            f"(ingest_date={first.ingest_date}, SHA-256 {first.sha256}): stored nothing")


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

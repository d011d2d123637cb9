"""The landing bucket: CSV exports uploaded to a bucket prefix instead of dropped into data/inbox.

Each upload is taken once. The source remembers, per key, the upload it took (ETag and
last-modified time) and in which scheduling of the processor it handed it on. NiFi 2.3.0
gives a Python source no hook after its session commits: the session commits right after
`create` returns, and the state is written before that. So a take is written as *pending*
(with the scheduling's id) before the FlowFile is handed on, and becomes *taken* when NiFi
stops the processor, which it does only after every run, commit included, has finished.
A pending take of another scheduling therefore means NiFi died (or lost the node) between
the hand-on and the stop: the object is taken again, with the same take id, which the
ingest ledger recognises as a replay of the same upload, never as a new file.

Once the ledger has recorded a take, the flow deletes the object; a key no longer listed
is forgotten, so the state holds only what is still under the prefix.
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from botocore.exceptions import ClientError

from .object_store import s3_errors

MAX_OBJECT_BYTES = 512 * 1024 * 1024
TAKEN = ""  # the scheduling part of a take that NiFi has certainly committed


@dataclass(frozen=True)
class LandingObject:
    key: str
    etag: str
    size: int
    modified: str  # ISO 8601 UTC

    @property
    def filename(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    @property
    def upload(self) -> str:
        """This upload of the key: a new upload, even of the same bytes, has a new last-modified time."""
        return f"{self.etag}@{self.modified}"

    def take_id(self, bucket: str) -> str:
        """Names this upload wherever it is handed on: a re-take after a crash carries the same id."""
        return f"s3://{bucket}/{self.key}#{self.upload}"


def landing_objects(client, bucket: str, prefix: str) -> list[LandingObject]:
    """Every object under the prefix."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [_landing_object(item) for page in pages for item in page.get("Contents", [])]


def _landing_object(item: dict) -> LandingObject:
    modified = item["LastModified"].astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")
    return LandingObject(item["Key"], item["ETag"].strip('"'), item["Size"], modified)


def take_record(found: LandingObject, scheduling: str) -> str:
    """The state value of a take: `<upload> <scheduling>`, the scheduling empty once committed."""
    return f"{found.upload} {scheduling}"


def _parts(record: str) -> tuple[str, str]:
    upload, _, scheduling = record.partition(" ")
    return upload, scheduling


def committed(takes: Mapping[str, str]) -> dict[str, str]:
    """The takes once every run has ended (NiFi calls onStopped after the last commit)."""
    return {key: f"{_parts(record)[0]} {TAKEN}" for key, record in takes.items()}


def still_listed(takes: Mapping[str, str], listing: Iterable[LandingObject]) -> dict[str, str]:
    """The takes whose upload is still under the prefix: everything else is forgotten (bounded state)."""
    uploads = {found.key: found.upload for found in listing}
    return {key: record for key, record in takes.items() if uploads.get(key) == _parts(record)[0]}


def next_to_take(listing: Iterable[LandingObject], takes: Mapping[str, str],
                 scheduling: str) -> tuple[LandingObject | None, list[LandingObject]]:
    """The oldest upload not taken (or taken by a scheduling that never stopped), and those too large to take."""
    candidates, too_large = [], []
    for found in sorted(listing, key=lambda found: (found.modified, found.key)):
        if found.key.endswith("/") or found.filename.startswith("."):
            continue
        upload, taken_by = _parts(takes.get(found.key, ""))
        if upload == found.upload and taken_by in (TAKEN, scheduling):
            continue
        (too_large if found.size > MAX_OBJECT_BYTES else candidates).append(found)
    return (candidates[0] if candidates else None), too_large


def delete_landed(client, bucket: str, key: str, etag: str) -> bool:
    """Deletes a landing object whose content NiFi holds and the ledger has claimed; False if it was replaced or gone.

    An upload that replaced the object meanwhile (another ETag) is a new file and stays. MinIO
    ignores If-Match on DELETE (stores that honour it close the gap), so the ETag is checked
    first: only an upload landing between that check and the delete, milliseconds, is at risk.
    """
    try:
        if client.head_object(Bucket=bucket, Key=key)["ETag"].strip('"') != etag:
            return False
        client.delete_object(Bucket=bucket, Key=key, IfMatch=etag)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"PreconditionFailed", "NoSuchKey", "404"}:
            return False
        with s3_errors(f"s3://{bucket}/{key}"):
            raise
    return True

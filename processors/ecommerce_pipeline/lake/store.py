"""The bucket as one identity sees it, for the lake tools: listings, reads and guarded rewrites.

Every S3 error becomes one line and an exit code (exit_codes): the store not answering is
ServiceUnreachable (69), credentials it refuses are ConfigurationMissing (78), anything else
(a missing bucket, a refused request) CommandFailed (1). Messages name the endpoint, the
bucket and the identity's variable, never a secret.
"""

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from ..exit_codes import CommandFailed, ConfigurationMissing, ServiceUnreachable
from ..object_store import s3_client
from ..settings import S3_ACCOUNTS, MissingSetting, S3Settings

# Fail fast on a store that is down: a few seconds, not botocore's minutes.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 120
_UNAVAILABLE = {"ServiceUnavailable", "SlowDown", "503", "XMinioServerNotInitialized"}
_BAD_CREDENTIALS = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"}
_MISSING = {"NoSuchKey", "404", "NoSuchVersion"}
_CONFLICT = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


class ObjectChanged(CommandFailed):
    """A guarded write found the object changed since it was read (the flow rewrote it meanwhile)."""


@dataclass(frozen=True)
class ObjectVersion:
    key: str
    version_id: str | None  # None in a bucket that never kept versions
    etag: str
    size: int
    last_modified: dt.datetime
    latest: bool
    delete_marker: bool = False


@dataclass(frozen=True)
class StoredObject:
    body: bytes
    etag: str
    version_id: str | None
    metadata: dict[str, str]
    content_type: str | None


def lake_settings(settings: dict[str, str], account: str) -> S3Settings:
    """The bucket as `account` (analyst, maintainer) sees it; its unset credentials are a configuration error."""
    try:
        return S3Settings.from_settings(settings, account)
    except MissingSetting as error:
        raise ConfigurationMissing(str(error)) from None


class LakeStore:
    def __init__(self, s3: S3Settings, account: str):
        self.s3, self.bucket, self.account = s3, s3.bucket, account
        self.client = s3_client(s3.endpoint_url, s3.access_key, s3.secret_key,
                                connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=READ_TIMEOUT_SECONDS)
        self._versioning: str | None = None

    @contextmanager
    def errors(self, what: str):
        """Boto3's errors as one-line CommandFailed / ServiceUnreachable / ConfigurationMissing."""
        where = f"s3://{self.bucket}/{what}"
        identity = S3_ACCOUNTS[self.account][0]
        try:
            yield
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _CONFLICT:
                raise ObjectChanged(f"{where} changed since it was read") from None
            if code in _UNAVAILABLE:
                raise ServiceUnreachable(f"the S3 store at {self.s3.endpoint_url} is not available ({code})") from None
            if code in _BAD_CREDENTIALS:
                raise ConfigurationMissing(f"the S3 store at {self.s3.endpoint_url} refused the credentials of "
                                           f"{identity} ({code})") from None
            if code == "NoSuchBucket":
                raise CommandFailed(f"bucket {self.bucket} does not exist at {self.s3.endpoint_url} "
                                    "(S3_BUCKET)") from None
            if code in _MISSING:
                raise FileNotFoundError(f"{where} does not exist") from None
            if code == "AccessDenied":
                raise CommandFailed(f"{where}: access denied to {identity}: is S3_BUCKET ({self.bucket}) the "
                                    "stack's bucket, and has `nifi/stack up` given the identity its policy?") from None
            raise CommandFailed(f"{where}: S3 refused the request ({code or 'no code'})") from None
        except (ConnectionError, HTTPClientError) as error:
            raise ServiceUnreachable(f"cannot reach the S3 store at {self.s3.endpoint_url} "
                                     f"({type(error).__name__})") from None
        except BotoCoreError as error:
            raise CommandFailed(f"{where}: {' '.join(str(error).split())}") from None

    def check(self, prefix: str) -> None:
        """Fails now, with one line, if the store is down, the bucket missing or the identity refused."""
        with self.errors(prefix):
            self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=1)

    def objects(self, prefix: str) -> Iterator[dict]:
        """The current objects under `prefix` in key order (Key, Size, ETag, LastModified), a page at a time."""
        with self.errors(prefix):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                yield from page.get("Contents", [])

    @property
    def versioned(self) -> bool:
        """Whether the bucket keeps (or once kept) versions: Enabled or Suspended.

        It says how to list (with version ids) and that older versions may exist; never that a
        rewrite left the old version to delete: in a Suspended bucket a put replaces the `null`
        version in place (delete_replaced asks the listing instead)."""
        return self.versioning in ("Enabled", "Suspended")

    @property
    def versioning(self) -> str:
        """The bucket's versioning state: "Enabled", "Suspended", or "" for a bucket that never kept versions."""
        if self._versioning is None:
            with self.errors("?versioning"):
                self._versioning = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status") or ""
        return self._versioning

    def keeps_replaced(self, version_id: str | None) -> bool:
        """Whether a put over the current version `version_id` leaves it stored beside the new object (to delete)."""
        return self.versioning == "Enabled" or (self.versioning == "Suspended" and version_id not in (None, "null"))

    def versions(self, prefix: str, after: str | None = None) -> Iterator[list[ObjectVersion]]:
        """Every key under `prefix` (after the key `after`) in key order, with its versions newest first.

        In a bucket without versioning each key has its one current object. Holds one page
        of the listing and one key's versions at a time.
        """
        if not self.versioned:
            arguments = {"StartAfter": after} if after else {}
            with self.errors(prefix):
                pages = self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=prefix, **arguments)
                for page in pages:
                    for item in page.get("Contents", []):
                        yield [ObjectVersion(item["Key"], None, item["ETag"].strip('"'), item["Size"],
                                             item["LastModified"], True)]
            return
        arguments = {"KeyMarker": after} if after else {}
        pending: list[ObjectVersion] = []
        with self.errors(prefix):
            pages = self.client.get_paginator("list_object_versions").paginate(
                Bucket=self.bucket, Prefix=prefix, **arguments)
            for page in pages:
                listed = [ObjectVersion(v["Key"], v["VersionId"], v["ETag"].strip('"'), v["Size"], v["LastModified"],
                                        v["IsLatest"]) for v in page.get("Versions", [])]
                listed += [ObjectVersion(m["Key"], m["VersionId"], "", 0, m["LastModified"], m["IsLatest"], True)
                           for m in page.get("DeleteMarkers", [])]
                listed.sort(key=lambda v: v.key)
                for version in listed:
                    if pending and version.key != pending[0].key:
                        yield _newest_first(pending)
                        pending = []
                    pending.append(version)
        if pending:
            yield _newest_first(pending)

    def get(self, version: ObjectVersion) -> StoredObject:
        with self.errors(version.key):
            response = self.client.get_object(Bucket=self.bucket, Key=version.key, **_version_argument(version))
            body = response["Body"].read()
        return StoredObject(body, response["ETag"].strip('"'), response.get("VersionId"), response.get("Metadata", {}),
                            response.get("ContentType"))

    def replace(self, current: ObjectVersion, body: bytes, metadata: dict[str, str],
                content_type: str | None) -> ObjectVersion:
        """Stores `body` at the key of `current` if `current` is still the key's latest version, and checks it.

        The put carries the body's MD5, so the store refuses bytes damaged on the way, and
        If-Match, so an object the flow rewrote since it was read is never overwritten
        (ObjectChanged). The new version is then read back by its version: its ETag must be
        the body's MD5. Only after that may the caller delete the old version.
        """
        digest = hashlib.md5(body, usedforsecurity=False)
        extra = {"ContentType": content_type} if content_type else {}
        with self.errors(current.key):
            response = self.client.put_object(
                Bucket=self.bucket, Key=current.key, Body=body, Metadata=metadata, IfMatch=f'"{current.etag}"',
                ContentMD5=base64.b64encode(digest.digest()).decode(), **extra)
            version_id = response.get("VersionId") if self.versioned else None
            head = self.client.head_object(Bucket=self.bucket, Key=current.key,
                                           **({"VersionId": version_id} if version_id else {}))
            stored = ObjectVersion(current.key, version_id or head.get("VersionId") if self.versioned else None,
                                   response["ETag"].strip('"'), len(body), dt.datetime.now(dt.timezone.utc), True)
        if head["ETag"].strip('"') != digest.hexdigest() or head["ContentLength"] != len(body):
            if not self.versioned:  # another writer's put right after this one: read the key again
                raise ObjectChanged(f"s3://{self.bucket}/{current.key} changed right after it was written")
            raise CommandFailed(f"s3://{self.bucket}/{current.key}: the stored object is not what was written "
                                "(ETag or length differ); the old version is kept")
        return stored

    def delete_replaced(self, replaced: ObjectVersion, written: ObjectVersion) -> bool:
        """Deletes the version a guarded rewrite replaced, if the bucket kept it beside what was written.

        Never versioned, the put overwrote the object (nothing to delete); Suspended, a put
        replaces the `null` version, so "version null" now names the new object; Enabled, the
        old version stays beside the new one. Returns whether a version was deleted.
        """
        if replaced.version_id is None or replaced.version_id == written.version_id:
            return False
        return self.delete_older(replaced.key, replaced.version_id, replaced.etag)

    def delete_older(self, key: str, version_id: str, etag: str | None) -> bool:
        """Deletes version `version_id` of `key` only if the listing, read again, shows it as an older version
        (not the latest, not a delete marker) holding the bytes `etag` names (any, when None); returns whether
        it did. The rule the tools that rewrite the lake delete by: never the object they just wrote."""
        for version in self.versions_of(key):
            if version.version_id != version_id:
                continue
            if version.latest or version.delete_marker or etag not in (None, version.etag):
                return False
            self.delete(version)
            return True
        return False

    def delete(self, version: ObjectVersion) -> None:
        """Deletes one version (in a versioned bucket: for good, no delete marker), or the object."""
        with self.errors(version.key):
            self.client.delete_object(Bucket=self.bucket, Key=version.key, **_version_argument(version))

    def read_json(self, key: str) -> dict | None:
        try:
            with self.errors(key):
                body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except FileNotFoundError:
            return None
        return json.loads(body)

    def write_json(self, key: str, document: dict) -> dt.datetime:
        """Stores a small JSON record; returns the store's clock at the time (its Date header), which
        catch-up rounds compare with the objects' LastModified."""
        with self.errors(key):
            response = self.client.put_object(Bucket=self.bucket, Key=key, ContentType="application/json",
                                              Body=json.dumps(document, indent=1).encode())
        date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        return parsedate_to_datetime(date) if date else dt.datetime.now(dt.timezone.utc)

    def remove(self, key: str) -> None:
        """Deletes a record of the tools' own (under _maintenance/), with its versions."""
        for version in self.versions_of(key):
            self.delete(version)

    def prune(self, key: str) -> None:
        """Deletes the older versions of a record of the tools' own: a journal is rewritten at every checkpoint."""
        if self.versioned:
            for version in self.versions_of(key)[1:]:
                self.delete(version)

    def versions_of(self, key: str) -> list[ObjectVersion]:
        """One key's versions, newest first (empty when it has none)."""
        return next((group for group in self.versions(key) if group[0].key == key), [])


def _newest_first(versions: list[ObjectVersion]) -> list[ObjectVersion]:
    return sorted(versions, key=lambda v: (not v.latest, -v.last_modified.timestamp()))


def _version_argument(version: ObjectVersion) -> dict:
    return {"VersionId": version.version_id} if version.version_id else {}

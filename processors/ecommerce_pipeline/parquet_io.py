"""Parquet in and out of a local path or an `s3://bucket/key` object, for the tools.

S3 objects go through the same boto3 client as the rest of the tools (MinIO endpoint
and credentials from the settings), read and written whole: lake files are one
NiFi batch each, small enough to hold in memory. Each call names the identity it acts
as (settings.S3_ACCOUNTS): reads default to the read-only analyst, writes to the
maintainer, the one identity that may rewrite lake objects.
"""

import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .arrow_input import in_arrow_memory
from .lake_parquet import parquet_bytes
from .object_store import StorageError, s3_errors
from .settings import S3Settings, load_settings


def is_s3_uri(location: str) -> bool:
    return location.startswith("s3://")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of `s3://bucket/key`."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket or not key or key.endswith("/"):
        raise ValueError(f"{uri} is not an object URI: expected s3://bucket/path/to/file.parquet")
    return bucket, key


def read_parquet(location: str, settings: dict[str, str] | None = None, account: str = "analyst") -> pa.Table:
    """The table at a local path or `s3://bucket/key` (S3 settings default to env and `.env`)."""
    if is_s3_uri(location):
        bucket, key = split_s3_uri(location)
        with s3_errors(location):
            body = _client(settings, account).get_object(Bucket=bucket, Key=key)["Body"].read()
        source = in_arrow_memory(body)
    else:
        if not Path(location).is_file():
            raise FileNotFoundError(f"{location} does not exist or is not a file")
        source = location
    try:
        return pq.read_table(source)
    except pa.ArrowException as error:
        raise StorageError(f"{location} is not a readable Parquet file: {error}") from None


def write_parquet(table: pa.Table, location: str, settings: dict[str, str] | None = None,
                  account: str = "maintainer") -> None:
    if is_s3_uri(location):
        bucket, key = split_s3_uri(location)
        with s3_errors(location):
            _client(settings, account).put_object(Bucket=bucket, Key=key, Body=parquet_bytes(table))
    else:
        replace_file(Path(location), parquet_bytes(table))


def replace_file(target: Path, body: bytes) -> None:
    """Writes `body` beside `target` and renames it over: a crash mid-write leaves the old file whole.

    `rotate` in place overwrites the only encrypted copy of lake data; the new file keeps the old one's mode.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        if target.exists():
            os.chmod(partial, target.stat().st_mode & 0o7777)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def _client(settings: dict[str, str] | None, account: str):
    return S3Settings.from_settings(settings if settings is not None else load_settings(), account).client()

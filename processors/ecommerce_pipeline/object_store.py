"""Puts to an S3-compatible store (MinIO, SeaweedFS, AWS S3), for the command-line tools and the processors that
talk to S3 themselves.

Needs only boto3, so a NiFi processor that declares nothing else can import it.
"""

from contextlib import contextmanager
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError, ClientError, ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError,
    ParamValidationError, ReadTimeoutError,
)

from .exit_codes import CommandFailed, ConfigurationMissing, ServiceUnreachable

REASON_METADATA = "reason"
METADATA_LIMIT = 1024  # characters; S3 allows 2 KB of user metadata per object in all
_CONTROL_TO_SPACE = dict.fromkeys([*range(32), 127], " ")


# What the store answers when it is there but cannot serve (distributed MinIO without quorum, overload).
UNAVAILABLE_CODES = {"ServiceUnavailable", "SlowDown", "XMinioServerNotInitialized", "503"}
# What it answers to credentials it does not know: the settings are wrong, not the request.
REJECTED_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch"}
UNREACHABLE_ERRORS = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)


class StorageError(CommandFailed):
    """Reading or writing an object failed for a reason other than a missing one."""


class StoreUnreachable(StorageError, ServiceUnreachable):
    """The S3 store did not answer (down, wrong endpoint, no quorum)."""


class CredentialsRejected(StorageError, ConfigurationMissing):
    """The store does not know the access key, or the secret does not match it: fix the settings."""


def s3_client(
    endpoint_url: str,
    access_key_id: str,
    secret_access_key: str,
    region: str = "us-east-1",
    *,
    connect_timeout: float = 60,
    read_timeout: float = 60,
    max_attempts: int = 3,
    retry_mode: str | None = None,
):
    """A boto3 S3 client for any S3-compatible store (addressing: see addressing_style).

    Checksums only where an operation requires them: botocore >= 1.36 otherwise adds CRC32
    trailers (`aws-chunked` bodies) to every upload, which several S3-compatible stores
    reject or store wrongly; Parquet and Fernet carry their own integrity checks. The
    timeouts and retries default to botocore's; a caller that must fail fast on a down store
    passes short ones. Each client gets its own session: boto3's default one is not thread-safe.
    """
    retries = {"max_attempts": max_attempts} | ({"mode": retry_mode} if retry_mode else {})
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=region,
        config=Config(
            s3={"addressing_style": addressing_style(endpoint_url)},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries=retries,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        ),
    )


def addressing_style(endpoint_url: str) -> str:
    """Virtual-host addressing on AWS S3 (`bucket.s3.<region>.amazonaws.com`), path style elsewhere: local
    stores (MinIO, SeaweedFS) answer on one host name and port, with the bucket in the path."""
    host = urlsplit(endpoint_url or "").hostname or ""
    return "virtual" if host == "amazonaws.com" or host.endswith(".amazonaws.com") else "path"


def metadata_value(text: str) -> str:
    """`text` as an S3 user-metadata value: one line of ASCII (they travel as HTTP headers).

    Control characters become spaces, other characters beyond ASCII backslash escapes
    (`é` -> `\\xe9`), and the result is cut to METADATA_LIMIT characters.
    """
    escaped = text.translate(_CONTROL_TO_SPACE).encode("ascii", "backslashreplace").decode("ascii")
    return escaped if len(escaped) <= METADATA_LIMIT else escaped[: METADATA_LIMIT - 3] + "..."


def put_object(client, bucket: str, key: str, body: bytes, *, reason: str | None = None) -> str:
    """Stores `body` at `s3://bucket/key` (with the reason as `reason` metadata) and returns its ETag.

    Raises StorageError (or FileNotFoundError for a missing bucket) with a one-line message.
    """
    if not bucket or not key:
        raise StorageError(f"s3://{bucket}/{key}: the bucket and the object key must not be empty")
    metadata = {REASON_METADATA: metadata_value(reason)} if reason else {}
    with s3_errors(f"s3://{bucket}/{key}"):
        response = client.put_object(Bucket=bucket, Key=key, Body=body, Metadata=metadata)
    return response.get("ETag", "").strip('"')


@contextmanager
def s3_errors(location: str):
    """Turns boto3's errors into one-line errors that name the object and never a credential."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise storage_error(error, location) from None


def storage_error(error: ClientError | BotoCoreError, location: str) -> Exception:
    """boto3's error as one of ours, by what it means to the caller (and to an exit status):
    a missing object, a store that does not answer, rejected credentials, or a refusal."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in {"NoSuchKey", "NoSuchBucket", "404"}:
            return FileNotFoundError(f"{location} does not exist ({code})")
        if code in UNAVAILABLE_CODES:
            return StoreUnreachable(f"{location}: the S3 store cannot serve requests now ({code})")
        if code in REJECTED_CREDENTIAL_CODES:
            return CredentialsRejected(f"{location}: the S3 store rejected the credentials ({code}): "
                                       "check the access key and secret in .env")
        return StorageError(f"{location}: S3 refused the request ({code or _one_line(error)})")
    if isinstance(error, ParamValidationError):
        return StorageError(f"{location}: not a valid S3 request ({_one_line(error)})")
    if isinstance(error, UNREACHABLE_ERRORS):
        return StoreUnreachable(f"{location}: cannot reach S3 ({_one_line(error)})")
    return StorageError(f"{location}: the S3 request failed ({_one_line(error)})")


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())

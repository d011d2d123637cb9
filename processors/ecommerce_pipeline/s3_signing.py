"""S3 PUT requests signed here and sent by another client, so the object's bytes never pass through Python.

The flow's finished Parquet lives in NiFi's content repository; NiFi hashes it
(CryptographicHashContent), the `SignS3Put` processor signs a PUT for that hash with AWS
Signature Version 4 (botocore's signer), and NiFi's InvokeHTTP sends the bytes with the
signed headers. The signature covers the method, the key, the payload's SHA-256 and the
time: the store refuses any other body, key or method, and any request more than 15 minutes
from its `x-amz-date`, so a request that waited too long (the store was down) is signed again.
"""

import re
from dataclasses import dataclass
from urllib.parse import quote

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .object_store import REASON_METADATA, metadata_value

REASON_HEADER = f"x-amz-meta-{REASON_METADATA}"
# What the sender must send as they are; InvokeHTTP sends the attributes of these names as headers.
SIGNED_HEADERS = ("Authorization", "X-Amz-Date", "X-Amz-Content-SHA256", REASON_HEADER)
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class SigningError(ValueError):
    """The request cannot be signed as asked (an empty bucket or key, a malformed hash)."""


@dataclass(frozen=True)
class SignedPut:
    url: str
    headers: dict[str, str]


class _PresetPayloadAuth(S3SigV4Auth):
    """S3's Signature Version 4 over a payload hash computed elsewhere instead of a body in hand."""

    def __init__(self, credentials: Credentials, region: str, payload_sha256: str):
        super().__init__(credentials, "s3", region)
        self._payload_sha256 = payload_sha256

    def payload(self, request) -> str:
        return self._payload_sha256


def object_url(endpoint_url: str, bucket: str, key: str) -> str:
    """The path-style URL of an object, the key percent-encoded as S3 canonicalises it."""
    return f"{endpoint_url.rstrip('/')}/{quote(bucket, safe='')}/{quote(key, safe='/~')}"


def sign_put(endpoint_url: str, bucket: str, key: str, payload_sha256: str, access_key_id: str,
             secret_access_key: str, region: str = "us-east-1", *, reason: str | None = None) -> SignedPut:
    """The URL and the headers of a PUT of a body with that SHA-256 (hex) to `s3://bucket/key`.

    `reason` becomes the object's user metadata `reason`, as object_store.put_object stores it.
    """
    if not bucket or not key:
        raise SigningError(f"s3://{bucket}/{key}: the bucket and the object key must not be empty")
    if not _SHA256_HEX.fullmatch(payload_sha256 or ""):
        raise SigningError(f"s3://{bucket}/{key}: the payload hash is not a SHA-256 in lower-case hex")
    url = object_url(endpoint_url, bucket, key)
    request = AWSRequest(method="PUT", url=url, headers={REASON_HEADER: metadata_value(reason)} if reason else {})
    _PresetPayloadAuth(Credentials(access_key_id, secret_access_key), region, payload_sha256).add_auth(request)
    return SignedPut(url, {name: request.headers[name] for name in SIGNED_HEADERS if name in request.headers})

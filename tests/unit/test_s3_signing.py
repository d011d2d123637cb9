"""PUT requests signed over a payload hash: the same signature botocore gives for the body itself."""

import datetime as dt
import hashlib

import botocore.auth
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ecommerce_pipeline.s3_signing import REASON_HEADER, SigningError, object_url, sign_put

ENDPOINT = "http://127.0.0.1:9000"
KEY = "customer_info/ingest_date=2026-12-06/orders 7-0123abcd.parquet"
BODY = b"PAR1" + bytes(range(256)) * 40
SECRET = "secret-access-key-never-in-messages"


@pytest.fixture
def fixed_clock(monkeypatch):
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: dt.datetime(2026, 12, 6, 12, 0, 0))


def botocore_signature_over_the_body(headers: dict[str, str]) -> str:
    """What boto3's own S3 signer puts in Authorization when it has the body in hand."""
    request = AWSRequest(method="PUT", url=object_url(ENDPOINT, "lake", KEY), data=BODY, headers=headers)
    S3SigV4Auth(Credentials("access-key-id", SECRET), "s3", "us-east-1").add_auth(request)
    return request.headers["Authorization"]


def test_the_signature_over_the_hash_is_the_one_over_the_body(fixed_clock):
    signed = sign_put(ENDPOINT, "lake", KEY, hashlib.sha256(BODY).hexdigest(), "access-key-id", SECRET)
    assert signed.headers["Authorization"] == botocore_signature_over_the_body({})
    assert signed.headers["X-Amz-Content-SHA256"] == hashlib.sha256(BODY).hexdigest()
    assert signed.headers["X-Amz-Date"] == "20261206T120000Z"
    assert set(signed.headers) == {"Authorization", "X-Amz-Date", "X-Amz-Content-SHA256"}


def test_the_reason_is_signed_as_one_line_of_ascii_metadata(fixed_clock):
    signed = sign_put(ENDPOINT, "lake", KEY, hashlib.sha256(BODY).hexdigest(), "access-key-id", SECRET,
                      reason="wrong header:\n'Prénom'")
    assert signed.headers[REASON_HEADER] == "wrong header: 'Pr\\xe9nom'"
    assert signed.headers["Authorization"] == botocore_signature_over_the_body({REASON_HEADER: "wrong header: 'Pr\\xe9nom'"})
    assert "x-amz-meta-reason" in signed.headers["Authorization"]


def test_the_url_is_path_style_with_the_key_encoded_as_s3_canonicalises_it():
    assert object_url("http://minio:9000/", "lake", KEY) == (
        "http://minio:9000/lake/customer_info/ingest_date%3D2026-12-06/orders%207-0123abcd.parquet")


@pytest.mark.parametrize(
    "bucket, key, payload, message",
    [("", KEY, "0" * 64, "must not be empty"), ("lake", "", "0" * 64, "must not be empty"),
     ("lake", KEY, "", "not a SHA-256"), ("lake", KEY, "ABC", "not a SHA-256"), ("lake", KEY, "0" * 63 + "G", "not a SHA-256")],
)
def test_a_request_that_cannot_be_signed_says_why_without_the_credentials(bucket, key, payload, message):
    with pytest.raises(SigningError, match=message) as error:
        sign_put(ENDPOINT, bucket, key, payload, "access-key-id", SECRET)
    assert SECRET not in str(error.value) and "access-key-id" not in str(error.value)

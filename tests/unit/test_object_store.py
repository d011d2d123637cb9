"""Puts to S3 without a store: botocore's Stubber checks each request, a closed port stands in for a down MinIO."""

import socket

import pytest
from botocore.stub import Stubber

from ecommerce_pipeline.object_store import (
    METADATA_LIMIT,
    StorageError,
    addressing_style,
    metadata_value,
    put_object,
    s3_client,
)
from ecommerce_pipeline.parquet_io import StorageError as ToolsStorageError
from ecommerce_pipeline.settings import S3Settings

SECRET = "secret-access-key-never-in-messages"


def client(endpoint="http://127.0.0.1:9000", **options):
    return s3_client(endpoint, "access-key-id", SECRET, **options)


def test_metadata_value_is_one_line_of_escaped_ascii():
    assert metadata_value("not UTF-8: invalid byte 0xff at byte 3 (line 1)") == (
        "not UTF-8: invalid byte 0xff at byte 3 (line 1)")
    assert metadata_value("wrong header: 'Stra\u00dfe'\nline two\tend") == "wrong header: 'Stra\\xdfe' line two end"
    assert metadata_value("\U0001f600\x7f") == "\\U0001f600 "
    long = metadata_value("\u00e9" * 1000)
    assert len(long) == METADATA_LIMIT and long.endswith("...") and long.isascii()


def test_put_object_sends_body_key_and_escaped_reason_and_returns_the_etag():
    s3 = client()
    with Stubber(s3) as stub:
        stub.add_response(
            "put_object",
            {"ETag": '"9b2cf535f27731c974343645a3985328"'},
            {"Bucket": "lake", "Key": "_quarantine/ingest_date=2026-11-24/orders-abc.csv.fernet", "Body": b"token",
             "Metadata": {"reason": "not UTF-8: \\xe9"}},
        )
        stub.add_response("put_object", {"ETag": '"e1"'}, {"Bucket": "lake", "Key": "k", "Body": b"x", "Metadata": {}})
        etag = put_object(s3, "lake", "_quarantine/ingest_date=2026-11-24/orders-abc.csv.fernet", b"token",
                          reason="not UTF-8: \u00e9")
        assert etag == "9b2cf535f27731c974343645a3985328"
        assert put_object(s3, "lake", "k", b"x", reason="") == "e1"
        stub.assert_no_pending_responses()


def test_a_refused_put_is_a_one_line_storage_error():
    s3 = client()
    with Stubber(s3) as stub:
        stub.add_client_error("put_object", "AccessDenied", "Access Denied.\nRequest id 1", 403)
        with pytest.raises(StorageError, match=r"^s3://lake/k: S3 refused the request \(AccessDenied\)$"):
            put_object(s3, "lake", "k", b"x")
        stub.add_client_error("put_object", "NoSuchBucket", "gone", 404)
        with pytest.raises(FileNotFoundError, match="NoSuchBucket"):
            put_object(s3, "lake", "k", b"x")


def test_an_empty_key_is_refused_before_any_request():
    with pytest.raises(StorageError, match="must not be empty"):
        put_object(client(), "lake", "", b"x")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_down_store_fails_fast_with_a_one_line_error_and_no_credentials():
    s3 = client(f"http://127.0.0.1:{closed_port()}", connect_timeout=1, read_timeout=1, max_attempts=0)
    with pytest.raises(StorageError) as raised:
        put_object(s3, "lake", "k", b"x", reason="r")
    message = str(raised.value)
    assert message.startswith("s3://lake/k: cannot reach S3") and "\n" not in message
    assert SECRET not in message and "access-key-id" not in message
    assert StorageError is ToolsStorageError  # the tools catch the same error


def test_clients_address_paths_and_bound_their_waiting():
    fast = client(connect_timeout=5, read_timeout=30, max_attempts=2, retry_mode="standard")
    assert fast.meta.config.s3["addressing_style"] == "path"
    assert (fast.meta.config.connect_timeout, fast.meta.config.read_timeout) == (5, 30)
    assert fast.meta.config.retries == {"total_max_attempts": 3, "mode": "standard"}  # 2 retries after the first try
    assert fast.meta.region_name == "us-east-1"
    tools = S3Settings("http://127.0.0.1:9000", "access-key-id", SECRET, "lake").client()
    assert tools.meta.config.s3["addressing_style"] == "path"
    assert tools.meta.config.retries["total_max_attempts"] == 4
    assert (tools.meta.config.connect_timeout, tools.meta.config.read_timeout) == (60, 60)


def test_aws_s3_is_addressed_by_virtual_host_and_every_other_store_by_path():
    assert addressing_style("https://s3.eu-west-1.amazonaws.com") == "virtual"
    assert addressing_style("http://127.0.0.1:9000") == addressing_style("http://minio:9000") == "path"
    assert addressing_style("https://amazonaws.com.example.org") == "path"
    assert client("https://s3.eu-west-1.amazonaws.com").meta.config.s3["addressing_style"] == "virtual"


def checksum_headers_of_a_put(s3) -> set[str]:
    """The checksum headers of a put as built and signed in full, then sent to a closed port (so nothing answers)."""
    sent = []
    s3.meta.events.register("before-send.s3.PutObject", lambda request, **_: sent.append(request.headers))
    with pytest.raises(StorageError):
        put_object(s3, "lake", "k", b"x")
    return {name.lower() for name in sent[0] if name.lower().startswith(("x-amz-checksum", "x-amz-trailer"))}


def test_uploads_carry_no_checksum_unless_the_operation_requires_one():
    """botocore >= 1.36 adds a CRC32 checksum to every put by default; several S3-compatible stores mishandle it."""
    ours = client(f"http://127.0.0.1:{closed_port()}", connect_timeout=1, max_attempts=0)
    default = client(f"http://127.0.0.1:{closed_port()}", connect_timeout=1, max_attempts=0)
    default.meta.config.request_checksum_calculation = "when_supported"  # botocore's default
    assert checksum_headers_of_a_put(default), "the default adds one, so the check below can fail"
    assert checksum_headers_of_a_put(ours) == set()
    assert ours.meta.config.response_checksum_validation == "when_required"

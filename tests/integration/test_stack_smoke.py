"""The native stack's MinIO answers as a real S3 endpoint."""

import urllib.request

import pytest

pytestmark = pytest.mark.integration


def test_minio_health_live_answers_200(minio):
    with urllib.request.urlopen(f"{minio.endpoint_url}/minio/health/live", timeout=5) as response:
        assert response.status == 200


def test_bucket_exists_and_object_round_trips(minio, s3_prefix):
    client = minio.client()
    assert minio.bucket in {b["Name"] for b in client.list_buckets()["Buckets"]}
    body = "customer_id,naïve\n1,\"a, b\"\n".encode()
    client.put_object(Bucket=minio.bucket, Key=f"{s3_prefix}probe.csv", Body=body)
    assert client.get_object(Bucket=minio.bucket, Key=f"{s3_prefix}probe.csv")["Body"].read() == body


def test_wrong_credentials_are_refused(minio):
    from botocore.exceptions import ClientError

    from ecommerce_pipeline.settings import S3Settings

    intruder = S3Settings(minio.endpoint_url, minio.access_key, "not-the-secret-key", minio.bucket).client()
    with pytest.raises(ClientError) as refused:
        intruder.list_objects_v2(Bucket=minio.bucket)
    assert refused.value.response["Error"]["Code"] in {"SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied"}

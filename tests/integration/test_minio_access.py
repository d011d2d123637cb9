"""Least privilege in the real MinIO: what the flow's and the analyst's users may do, and what they may not.

`nifi/stack up minio` (the `minio` fixture) creates both users from .env; root stays with the stack.
"""

import uuid

import botocore.exceptions
import pytest
from minio.credentials import StaticProvider
from minio.error import MinioAdminException
from minio.minioadmin import MinioAdmin

from conftest import REPO
from ecommerce_pipeline.settings import S3Settings, env_file, load_settings

pytestmark = pytest.mark.integration

DAY = "ingest_date=1999-01-01"


def account(minio, name):
    settings = {**load_settings(env_file(REPO)), "S3_ENDPOINT_URL": minio.endpoint_url}
    return S3Settings.from_settings(settings, name)


def refused(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as error:
        call(*args, **kwargs)
    return error.value.response["Error"]["Code"]


@pytest.fixture
def keys(minio):
    """A unique key under each prefix; whatever a test stored there is removed after it."""
    run = uuid.uuid4().hex
    names = {prefix: f"{prefix}/{DAY}/access-{run}.bin" for prefix in
             ("customer_info", "order_info", "payment_and_delivery_info", "_quarantine", "_ingested", "landing",
              "elsewhere")}
    names["top"] = f"access-{run}.bin"
    yield names
    minio.client().delete_objects(Bucket=minio.bucket, Delete={"Objects": [{"Key": k} for k in names.values()]})


@pytest.fixture
def other_bucket(minio):
    name = f"access-test-{uuid.uuid4().hex[:12]}"
    root = minio.client()
    root.create_bucket(Bucket=name)
    root.put_object(Bucket=name, Key="data.bin", Body=b"other")
    yield name
    for listed in root.list_objects_v2(Bucket=name).get("Contents", []):
        root.delete_object(Bucket=name, Key=listed["Key"])
    root.delete_bucket(Bucket=name)


def test_the_flow_and_the_analyst_have_their_own_users_not_root(minio):
    flow, analyst = account(minio, "flow"), account(minio, "analyst")
    assert len({minio.access_key, flow.access_key, analyst.access_key}) == 3
    assert minio.secret_key not in (flow.secret_key, analyst.secret_key)


def test_the_flow_puts_under_the_segments_quarantine_and_ledger(minio, keys):
    flow = account(minio, "flow").client()
    for prefix in ("customer_info", "order_info", "payment_and_delivery_info", "_quarantine", "_ingested"):
        flow.put_object(Bucket=minio.bucket, Key=keys[prefix], Body=b"rows")
    assert flow.get_object(Bucket=minio.bucket, Key=keys["_ingested"])["Body"].read() == b"rows"
    assert refused(flow.put_object, Bucket=minio.bucket, Key=keys["_ingested"], Body=b"again", IfNoneMatch="*") in {
        "PreconditionFailed", "412"}


def test_the_flow_lists_reads_and_deletes_exports_under_landing(minio, keys):
    minio.client().put_object(Bucket=minio.bucket, Key=keys["landing"], Body=b"export")
    flow = account(minio, "flow").client()
    listed = flow.list_objects_v2(Bucket=minio.bucket, Prefix="landing/")
    assert keys["landing"] in {o["Key"] for o in listed.get("Contents", [])}
    assert flow.get_object(Bucket=minio.bucket, Key=keys["landing"])["Body"].read() == b"export"
    flow.delete_object(Bucket=minio.bucket, Key=keys["landing"])
    assert refused(minio.client().head_object, Bucket=minio.bucket, Key=keys["landing"]) == "404"


def test_the_flow_cannot_write_elsewhere_read_the_lake_delete_rows_or_the_bucket(minio, keys):
    flow = account(minio, "flow").client()
    for outside in (keys["elsewhere"], keys["top"]):
        assert refused(flow.put_object, Bucket=minio.bucket, Key=outside, Body=b"x") == "AccessDenied"
    minio.client().put_object(Bucket=minio.bucket, Key=keys["order_info"], Body=b"rows")
    assert refused(flow.get_object, Bucket=minio.bucket, Key=keys["order_info"]) == "AccessDenied"
    assert refused(flow.delete_object, Bucket=minio.bucket, Key=keys["order_info"]) == "AccessDenied"
    assert refused(flow.list_objects_v2, Bucket=minio.bucket, Prefix="order_info/") == "AccessDenied"
    assert refused(flow.list_objects_v2, Bucket=minio.bucket) == "AccessDenied"
    assert refused(flow.delete_bucket, Bucket=minio.bucket) == "AccessDenied"
    assert refused(flow.create_bucket, Bucket=f"flow-made-{uuid.uuid4().hex[:8]}") == "AccessDenied"
    assert minio.client().get_object(Bucket=minio.bucket, Key=keys["order_info"])["Body"].read() == b"rows"


def test_the_flow_cannot_touch_another_bucket(minio, other_bucket):
    flow = account(minio, "flow").client()
    assert refused(flow.get_object, Bucket=other_bucket, Key="data.bin") == "AccessDenied"
    assert refused(flow.put_object, Bucket=other_bucket, Key="landing/x.csv", Body=b"x") == "AccessDenied"
    assert refused(flow.list_objects_v2, Bucket=other_bucket, Prefix="landing/") == "AccessDenied"
    assert refused(flow.delete_bucket, Bucket=other_bucket) == "AccessDenied"


def test_neither_user_administers_minio(minio):
    for name in ("flow", "analyst"):
        user = account(minio, name)
        admin = MinioAdmin(endpoint=minio.endpoint_url.split("://")[1],
                           credentials=StaticProvider(user.access_key, user.secret_key), secure=False)
        with pytest.raises(MinioAdminException):
            admin.policy_add("escalated", policy={"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::*"]}]})


def test_the_analyst_reads_the_lake_and_writes_nothing(minio, keys):
    root = minio.client()
    root.put_object(Bucket=minio.bucket, Key=keys["customer_info"], Body=b"rows")
    root.put_object(Bucket=minio.bucket, Key=keys["landing"], Body=b"plaintext export")
    analyst = account(minio, "analyst").client()
    assert analyst.get_object(Bucket=minio.bucket, Key=keys["customer_info"])["Body"].read() == b"rows"
    listed = analyst.list_objects_v2(Bucket=minio.bucket, Prefix="customer_info/")
    assert keys["customer_info"] in {o["Key"] for o in listed.get("Contents", [])}
    assert refused(analyst.put_object, Bucket=minio.bucket, Key=keys["order_info"], Body=b"x") == "AccessDenied"
    assert refused(analyst.delete_object, Bucket=minio.bucket, Key=keys["customer_info"]) == "AccessDenied"
    assert refused(analyst.get_object, Bucket=minio.bucket, Key=keys["landing"]) == "AccessDenied"
    assert refused(analyst.list_objects_v2, Bucket=minio.bucket, Prefix="landing/") == "AccessDenied"
    assert refused(analyst.delete_bucket, Bucket=minio.bucket) == "AccessDenied"

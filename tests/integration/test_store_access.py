"""Least privilege in the real store: what the flow's, the analyst's and the maintainer's identities may do, and what not.

`nifi/stack up <store>` (the `minio` fixture: MinIO, or SeaweedFS with --store) creates the three identities
from .env with the same policies (nifi/provisioning/access_policies.py); the admin identity stays with the stack.
Every forbidden action must be refused with 403 AccessDenied, on every store.
"""

import uuid

import boto3
import botocore.config
import botocore.exceptions
import botocore.parsers
import pytest
from minio.credentials import StaticProvider
from minio.error import MinioAdminException
from minio.minioadmin import MinioAdmin

from conftest import REPO
from ecommerce_pipeline.settings import S3Settings, env_file, load_settings
from lake import remove_bucket

pytestmark = [pytest.mark.integration, pytest.mark.stores]

DAY = "ingest_date=1999-01-01"


def account(minio, name):
    settings = {**load_settings(env_file(REPO)), "S3_ENDPOINT_URL": minio.endpoint_url}
    return S3Settings.from_settings(settings, name)


def refused(call, *args, **kwargs):
    """The error code of a refused call; a refusal must be HTTP 403."""
    with pytest.raises(botocore.exceptions.ClientError) as error:
        call(*args, **kwargs)
    response = error.value.response
    code = response["Error"]["Code"]
    if code == "AccessDenied":
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return code


@pytest.fixture
def keys(minio):
    """A unique key under each prefix; whatever a test stored there is removed after it."""
    run = uuid.uuid4().hex
    names = {prefix: f"{prefix}/{DAY}/access-{run}.bin" for prefix in
             ("customer_info", "order_info", "payment_and_delivery_info", "_quarantine", "_ingested", "landing",
              "_maintenance", "elsewhere")}
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
    remove_bucket(root, name)


def test_the_flow_the_analyst_and_the_maintainer_have_their_own_users_not_root(minio):
    users = [account(minio, name) for name in ("flow", "analyst", "maintainer")]
    assert len({minio.access_key, *(user.access_key for user in users)}) == 4
    assert minio.secret_key not in {user.secret_key for user in users}


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
    batch = flow.delete_objects(Bucket=minio.bucket, Delete={"Objects": [{"Key": keys["order_info"]}]})
    assert [error["Code"] for error in batch.get("Errors", [])] == ["AccessDenied"], "a batch delete is refused per key"
    assert refused(flow.copy_object, Bucket=minio.bucket, Key=keys["_quarantine"],  # reading a row by copying it
                   CopySource={"Bucket": minio.bucket, "Key": keys["order_info"]}) == "AccessDenied"
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


def test_no_user_changes_the_bucket_s_policy_versioning_or_the_buckets(minio):
    for name in ("flow", "analyst", "maintainer"):
        user = account(minio, name).client()
        grant_all = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", '
                     f'"Action": ["s3:*"], "Resource": ["arn:aws:s3:::{minio.bucket}/*"]}}]}}')
        assert refused(user.put_bucket_policy, Bucket=minio.bucket, Policy=grant_all) == "AccessDenied", name
        assert refused(user.put_bucket_versioning, Bucket=minio.bucket,
                       VersioningConfiguration={"Status": "Suspended"}) == "AccessDenied", name
        assert refused(user.create_bucket, Bucket=f"{name}-made-{uuid.uuid4().hex[:8]}") == "AccessDenied", name


def test_no_user_administers_the_store(minio, store_name):
    """MinIO's admin API; SeaweedFS's IAM API, which the stack keeps off (its identities file is the only way)."""
    for name in ("flow", "analyst", "maintainer"):
        user = account(minio, name)
        if store_name == "minio":
            admin = MinioAdmin(endpoint=minio.endpoint_url.split("://")[1],
                               credentials=StaticProvider(user.access_key, user.secret_key), secure=False)
            with pytest.raises(MinioAdminException):
                admin.policy_add("escalated", policy={"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::*"]}]})
        else:
            iam = boto3.session.Session().client("iam", endpoint_url=minio.endpoint_url, region_name="us-east-1",
                                                 aws_access_key_id=user.access_key,
                                                 aws_secret_access_key=user.secret_key,
                                                 config=botocore.config.Config(retries={"max_attempts": 1}))
            statuses = []
            iam.meta.events.register("before-parse.iam.*", lambda response_dict, **_: statuses.append(
                response_dict["status_code"]))
            with pytest.raises((botocore.exceptions.ClientError, botocore.parsers.ResponseParserError)):
                iam.create_user(UserName=f"escalated-{name}")
            with pytest.raises((botocore.exceptions.ClientError, botocore.parsers.ResponseParserError)):
                iam.put_user_policy(UserName=user.access_key, PolicyName="escalated", PolicyDocument=(
                    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*"], '
                    '"Resource": ["arn:aws:s3:::*"]}]}'))
            assert statuses and all(status in {403, 405} for status in statuses), statuses  # 405: no IAM API at all
    assert refused(account(minio, "flow").client().list_objects_v2, Bucket=minio.bucket) == "AccessDenied", (
        "the flow's identity gained nothing")


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


def test_the_maintainer_rewrites_and_deletes_rows_and_their_versions_and_keeps_records(minio, keys):
    maintainer = account(minio, "maintainer").client()
    for prefix in ("customer_info", "order_info", "payment_and_delivery_info", "_quarantine", "_maintenance"):
        maintainer.put_object(Bucket=minio.bucket, Key=keys[prefix], Body=b"old")
        maintainer.put_object(Bucket=minio.bucket, Key=keys[prefix], Body=b"new")
        assert maintainer.get_object(Bucket=minio.bucket, Key=keys[prefix])["Body"].read() == b"new"
    listed = maintainer.list_object_versions(Bucket=minio.bucket, Prefix=keys["order_info"])
    versions = [v["VersionId"] for v in listed.get("Versions", [])]
    assert versions, "the maintainer lists the versions under the segments"
    for version in versions:
        maintainer.delete_object(Bucket=minio.bucket, Key=keys["order_info"], VersionId=version)
    assert refused(minio.client().head_object, Bucket=minio.bucket, Key=keys["order_info"]) == "404"
    maintainer.get_bucket_versioning(Bucket=minio.bucket)


def test_the_maintainer_cannot_touch_exports_the_ledger_elsewhere_or_the_bucket(minio, keys, other_bucket):
    root = minio.client()
    root.put_object(Bucket=minio.bucket, Key=keys["landing"], Body=b"plaintext export")
    root.put_object(Bucket=minio.bucket, Key=keys["_ingested"], Body=b"{}")
    maintainer = account(minio, "maintainer").client()
    assert refused(maintainer.get_object, Bucket=minio.bucket, Key=keys["landing"]) == "AccessDenied"
    assert refused(maintainer.list_objects_v2, Bucket=minio.bucket, Prefix="landing/") == "AccessDenied"
    assert refused(maintainer.delete_object, Bucket=minio.bucket, Key=keys["_ingested"]) == "AccessDenied"
    assert refused(maintainer.put_object, Bucket=minio.bucket, Key=keys["_ingested"], Body=b"x") == "AccessDenied"
    for outside in (keys["elsewhere"], keys["top"]):
        assert refused(maintainer.put_object, Bucket=minio.bucket, Key=outside, Body=b"x") == "AccessDenied"
    assert refused(maintainer.delete_bucket, Bucket=minio.bucket) == "AccessDenied"
    assert refused(maintainer.get_object, Bucket=other_bucket, Key="data.bin") == "AccessDenied"
    assert root.get_object(Bucket=minio.bucket, Key=keys["landing"])["Body"].read() == b"plaintext export"

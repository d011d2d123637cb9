"""Least privilege in MinIO: a user for the flow, a read-only user for analysts; root stays with the stack.

Written on every `nifi/stack up minio` through MinIO's admin API (the `minio` package's
MinioAdmin): a policy of the same name is replaced and a user's secret reset, so a changed
bucket, rule or .env secret takes effect on the next `up`.
"""

from urllib.parse import urlsplit

import urllib3

from minio.credentials import StaticProvider
from minio.error import MinioException
from minio.minioadmin import MinioAdmin

from ecommerce_pipeline.object_keys import QUARANTINE_PREFIX
from ecommerce_pipeline.segment_routes import QUARANTINE, segment_queries
from ecommerce_pipeline.settings import MissingSetting, S3Settings
from ecommerce_pipeline.waiting import wait_until

from .processes import StackError, say

IAM_READY_SECONDS = 120  # distributed MinIO answers 503 to admin calls for a while after it reports healthy
# The flow's "Landing Prefix" parameter: GetLandingBucketObject reads exports there and deletes them once stored.
LANDING_PREFIX = "landing/"
# The ledger of ingested files' digests: the flow reads it and adds to it with conditional puts.
LEDGER_PREFIX = "_ingested/"
FLOW_POLICY, ANALYST_POLICY = "ecommerce-pipeline-flow", "ecommerce-pipeline-analyst"


def lake_prefixes() -> list[str]:
    """Where the flow stores rows: one prefix per segment, and the quarantine."""
    return [f"{route}/" for route in segment_queries() if route != QUARANTINE] + [f"{QUARANTINE_PREFIX}/"]


def flow_policy(bucket: str) -> dict:
    """Put rows and ledger entries, read the ledger, list, read and delete exports; nothing else."""
    return _policy([
        _allow(["s3:PutObject"], [_objects(bucket, p) for p in lake_prefixes() + [LEDGER_PREFIX]]),
        _allow(["s3:GetObject"], [_objects(bucket, LEDGER_PREFIX)]),
        _allow(["s3:GetObject", "s3:DeleteObject"], [_objects(bucket, LANDING_PREFIX)]),
        _listing(bucket, [LANDING_PREFIX]),
    ])


def analyst_policy(bucket: str) -> dict:
    """List and read the lake (segments, quarantine, ledger); not the plaintext exports under landing/."""
    readable = lake_prefixes() + [LEDGER_PREFIX]
    return _policy([
        _allow(["s3:GetObject"], [_objects(bucket, p) for p in readable]),
        _listing(bucket, readable),
    ])


def ensure_access(env: dict[str, str], endpoint_url: str) -> None:
    """Creates or updates the flow's and the analyst's policies and users (MINIO_FLOW_*, MINIO_ANALYST_*)."""
    try:
        root, flow, analyst = (S3Settings.from_settings(env, account) for account in ("root", "flow", "analyst"))
    except MissingSetting as error:
        raise StackError(str(error)) from None
    endpoint = urlsplit(endpoint_url)
    admin = MinioAdmin(endpoint=endpoint.netloc, credentials=StaticProvider(root.access_key, root.secret_key),
                       secure=endpoint.scheme == "https")
    for user, policy_name, policy in ((flow, FLOW_POLICY, flow_policy(root.bucket)),
                                      (analyst, ANALYST_POLICY, analyst_policy(root.bucket))):
        _set_up_user(admin, user, policy_name, policy)
    say(f"minio: users for the flow and for analysts hold only policies {FLOW_POLICY} and {ANALYST_POLICY}")


def _set_up_user(admin: MinioAdmin, user: S3Settings, policy_name: str, policy: dict) -> None:
    """The user with its policy, once MinIO's admin API answers (distributed MinIO answers 503 while it loads its IAM)."""
    refused: list[str] = [""]

    def set_up() -> bool:
        try:
            admin.policy_add(policy_name, policy=policy)
            admin.user_add(user.access_key, user.secret_key)
            admin.policy_set(policy_name, user=user.access_key)
            return True
        except urllib3.exceptions.HTTPError as error:
            refused[0] = str(error)
            return False
        except MinioException as error:
            raise StackError(f"minio: could not set up the user {user.access_key!r} with policy {policy_name}: "
                             f"{error}") from None

    wait_until(set_up, "the admin API (MinIO is still loading its users and policies)", IAM_READY_SECONDS, every=3,
               progress_every=3, report=lambda message: say(f"minio: {message}"), pending=lambda: refused[0],
               error=lambda message: StackError(f"minio: {message}"))


def _policy(statements: list[dict]) -> dict:
    return {"Version": "2012-10-17", "Statement": statements}


def _allow(actions: list[str], resources: list[str]) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def _objects(bucket: str, prefix: str) -> str:
    return f"arn:aws:s3:::{bucket}/{prefix}*"


def _listing(bucket: str, prefixes: list[str]) -> dict:
    """Listing the bucket, only under these prefixes (the key names elsewhere stay hidden too)."""
    return {**_allow(["s3:ListBucket"], [f"arn:aws:s3:::{bucket}"]),
            "Condition": {"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}}}

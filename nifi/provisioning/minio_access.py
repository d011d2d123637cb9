"""Least privilege in MinIO: users for the flow, analysts (read-only) and lake maintenance; root stays with the stack.

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
# Where lake maintenance (rotation, erasure) keeps its own records: progress journals, erasure audits.
MAINTENANCE_PREFIX = "_maintenance/"
FLOW_POLICY, ANALYST_POLICY = "ecommerce-pipeline-flow", "ecommerce-pipeline-analyst"
MAINTAINER_POLICY = "ecommerce-pipeline-maintainer"


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


def maintainer_policy(bucket: str) -> dict:
    """Rewrite the lake (rotation, erasure): read, put and delete objects and their older versions under
    the segments and the quarantine, and its own records; not the exports, not the ledger, no administration."""
    prefixes = lake_prefixes() + [MAINTENANCE_PREFIX]
    return _policy([
        _allow(["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
               [_objects(bucket, p) for p in prefixes]),
        _allow(["s3:GetBucketVersioning"], [f"arn:aws:s3:::{bucket}"]),
        _listing(bucket, prefixes, versions=True),
    ])


def ensure_access(env: dict[str, str], endpoint_url: str) -> None:
    """Creates or updates the flow's, the analyst's and the maintainer's policies and users (S3_FLOW_*, ...)."""
    try:
        admin_account, flow, analyst, maintainer = (
            S3Settings.from_settings(env, account) for account in ("admin", "flow", "analyst", "maintainer"))
    except MissingSetting as error:
        raise StackError(str(error)) from None
    endpoint = urlsplit(endpoint_url)
    admin = MinioAdmin(endpoint=endpoint.netloc,
                       credentials=StaticProvider(admin_account.access_key, admin_account.secret_key),
                       secure=endpoint.scheme == "https")
    bucket = admin_account.bucket
    for user, policy_name, policy in ((flow, FLOW_POLICY, flow_policy(bucket)),
                                      (analyst, ANALYST_POLICY, analyst_policy(bucket)),
                                      (maintainer, MAINTAINER_POLICY, maintainer_policy(bucket))):
        _set_up_user(admin, user, policy_name, policy)
    say(f"minio: the flow, analysts and maintenance hold only policies {FLOW_POLICY}, {ANALYST_POLICY} "
        f"and {MAINTAINER_POLICY}")


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


def _listing(bucket: str, prefixes: list[str], versions: bool = False) -> dict:
    """Listing the bucket (and its object versions), only under these prefixes (the key names elsewhere stay hidden too)."""
    actions = ["s3:ListBucket", "s3:ListBucketVersions"] if versions else ["s3:ListBucket"]
    return {**_allow(actions, [f"arn:aws:s3:::{bucket}"]),
            "Condition": {"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}}}

"""The least-privilege policies of the flow's, the analyst's and the maintainer's identities, as AWS IAM documents.

One definition for every store: MinIO attaches them to its users through its admin API
(minio_access.py), SeaweedFS to the identities in its -s3.config file (seaweedfs_access.py),
and on AWS S3 they are the users' identity policies. The admin identity stays with the stack.
"""

import json
import sys

from ecommerce_pipeline.object_keys import MAINTENANCE_PREFIX, QUARANTINE_PREFIX
from ecommerce_pipeline.segment_routes import QUARANTINE, segment_queries

# The flow's "Landing Prefix" parameter: GetLandingBucketObject reads exports there and deletes them once stored.
LANDING_PREFIX = "landing/"
# The ledger of ingested files' digests: the flow reads it and adds to it with conditional puts.
LEDGER_PREFIX = "_ingested/"
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


def account_policies(bucket: str) -> dict[str, tuple[str, dict]]:
    """Each identity the stack creates (an account of settings.S3_ACCOUNTS) -> its policy's name and document."""
    return {"flow": (FLOW_POLICY, flow_policy(bucket)), "analyst": (ANALYST_POLICY, analyst_policy(bucket)),
            "maintainer": (MAINTAINER_POLICY, maintainer_policy(bucket))}


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


def main(argv: list[str]) -> int:
    """`python3 -m nifi.provisioning.access_policies [BUCKET]`: the three policies as JSON, to give your own store's
    identities (default bucket: S3_BUCKET from the environment or .env)."""
    from ecommerce_pipeline.settings import env_file, load_settings, s3_bucket

    from .paths import REPO

    bucket = argv[0] if argv else s3_bucket(load_settings(env_file(REPO)))
    print(json.dumps({f"{account} ({name})": document for account, (name, document) in account_policies(bucket).items()},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

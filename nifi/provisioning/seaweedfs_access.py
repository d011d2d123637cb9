"""Least privilege in SeaweedFS: the identities file its S3 gateway reads (`-s3.config`), written from .env.

The admin identity gets SeaweedFS's `Admin` action (buckets, every object); the flow, the analyst
and the maintainer get no action of their own, only the AWS-style policy of the same name as on
MinIO (access_policies.py) through `policyNames`. An identity with attached policies is authorised
by SeaweedFS's policy engine alone, which tells `s3:PutObject` from `s3:DeleteObject` and honours
the `s3:prefix` condition on listings; its legacy `Write` action would include deletes.
The embedded IAM API is off (`-s3.iam=false`): this file, owner-only in the stack's state, is
the only way to change identities. The gateway re-reads it on SIGHUP.
"""

import json
from pathlib import Path

from ecommerce_pipeline.settings import S3Settings

from .access_policies import account_policies

ADMIN_ACTIONS = ["Admin", "Read", "List", "Tagging", "Write"]


def identities_config(env: dict[str, str]) -> dict:
    """The gateway's S3ApiConfiguration (as protojson): four identities, three policies."""
    admin = S3Settings.from_settings(env, "admin")  # a missing identity is a MissingSetting: exit 78
    attached = {account: (S3Settings.from_settings(env, account), policy)
                for account, policy in account_policies(admin.bucket).items()}
    identities = [_identity("ecommerce-pipeline-admin", admin, actions=ADMIN_ACTIONS)]
    identities += [_identity(f"ecommerce-pipeline-{account}", user, policy_names=[name])
                   for account, (user, (name, _)) in attached.items()]
    policies = [{"name": name, "content": json.dumps(document)} for _, (name, document) in attached.values()]
    return {"identities": identities, "policies": policies}


def write_identities(env: dict[str, str], path: Path) -> bool:
    """Writes the file owner-only; True when its content changed (a running gateway must re-read it)."""
    text = json.dumps(identities_config(env), indent=2, sort_keys=True) + "\n"
    if path.exists() and path.read_text() == text:
        return False
    partial = path.with_suffix(".partial")
    partial.touch(mode=0o600)
    partial.chmod(0o600)
    partial.write_text(text)
    partial.replace(path)
    return True


def _identity(name: str, account: S3Settings, actions: list[str] | None = None,
              policy_names: list[str] | None = None) -> dict:
    identity = {"name": name, "credentials": [{"accessKey": account.access_key, "secretKey": account.secret_key}]}
    if actions:
        identity["actions"] = actions
    if policy_names:
        identity["policyNames"] = policy_names
    return identity

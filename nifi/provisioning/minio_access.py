"""Least privilege in MinIO: users for the flow, analysts (read-only) and lake maintenance; root stays with the stack.

Written on every `nifi/stack up minio` through MinIO's admin API (the `minio` package's
MinioAdmin): a policy of the same name (access_policies.py) is replaced and a user's secret
reset, so a changed bucket, rule or .env secret takes effect on the next `up`.
"""

from urllib.parse import urlsplit

import urllib3

from minio.credentials import StaticProvider
from minio.error import MinioException
from minio.minioadmin import MinioAdmin

from ecommerce_pipeline.settings import S3Settings
from ecommerce_pipeline.waiting import wait_until

from .access_policies import account_policies
from .processes import StackError, say

IAM_READY_SECONDS = 120  # distributed MinIO answers 503 to admin calls for a while after it reports healthy


def ensure_access(env: dict[str, str], endpoint_url: str) -> None:
    """Creates or updates the flow's, the analyst's and the maintainer's policies and users (S3_FLOW_*, ...)."""
    admin_account = S3Settings.from_settings(env, "admin")  # a missing identity is a MissingSetting: exit 78
    policies = {S3Settings.from_settings(env, account): policy
                for account, policy in account_policies(admin_account.bucket).items()}
    endpoint = urlsplit(endpoint_url)
    admin = MinioAdmin(endpoint=endpoint.netloc,
                       credentials=StaticProvider(admin_account.access_key, admin_account.secret_key),
                       secure=endpoint.scheme == "https")
    for user, (policy_name, policy) in policies.items():
        _set_up_user(admin, user, policy_name, policy)
    say(f"minio: the flow, analysts and maintenance hold only policies "
        f"{', '.join(name for name, _ in policies.values())}")


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

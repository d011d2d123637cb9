"""What every store gets once it answers: the bucket (made as the admin) and the capability probe (as the flow).

Store-neutral: plain S3 calls, so they work the same on MinIO, SeaweedFS and a store the user runs.
"""

from typing import Callable

from botocore.exceptions import BotoCoreError, ClientError

from ecommerce_pipeline.object_store import CredentialsRejected, StorageError, storage_error
from ecommerce_pipeline.settings import S3Settings
from ecommerce_pipeline.store_capabilities import Capabilities, UntrustedStore, probe
from ecommerce_pipeline.waiting import wait_until

from .processes import StackError, say

# A store answering its health check may still refuse requests for a few seconds (SeaweedFS's filer
# looks for its lock server first; distributed MinIO loads its IAM).
READY_SECONDS = 120


def ensure_bucket(env: dict[str, str], endpoint_url: str, name: str = "store") -> None:
    """The bucket the flow writes to, made with the admin identity (S3 needs signed requests, so boto3 makes it)."""
    s3 = _account(env, endpoint_url, "admin")
    client = s3.client()

    def bucket_there() -> bool:
        existing = {bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])}
        if s3.bucket not in existing:
            client.create_bucket(Bucket=s3.bucket)
            say(f"{name}: created bucket {s3.bucket}")
        return True

    _when_ready(bucket_there, f"{name} to accept the bucket {s3.bucket}", name)


def capabilities(env: dict[str, str], endpoint_url: str, name: str = "store") -> Capabilities:
    """What the store does with a second conditional put, asked as the flow (the identity that claims the ledger)."""
    flow = _account(env, endpoint_url, "flow")
    client = flow.client()
    found: list[Capabilities] = []
    try:
        _when_ready(lambda: found.append(probe(client, flow.bucket)) or True,
                    f"{name} to store the flow's first object", name)
        found[0].require_conditional_create(f"{endpoint_url} (bucket {flow.bucket})")
    except UntrustedStore as error:
        raise StackError(str(error)) from None
    return found[0]


def _account(env: dict[str, str], endpoint_url: str, account: str) -> S3Settings:
    """The account's identity at the endpoint; a missing one is a MissingSetting (exit 78)."""
    return S3Settings.from_settings({**env, "S3_ENDPOINT_URL": endpoint_url}, account)


def _when_ready(attempt: Callable[[], bool], what: str, name: str) -> None:
    """Retries `attempt` while the store is still starting (it does not answer, or answers with an error);
    stops at once when it refuses the identity (unknown keys: exit 78) or the request (AccessDenied)."""
    last = [""]

    def tried() -> bool:
        try:
            return attempt()
        except (ClientError, BotoCoreError, StorageError) as error:
            found = error if isinstance(error, StorageError) else storage_error(error, f"{name} ({what})")
            if isinstance(found, CredentialsRejected):
                raise found from None
            last[0] = str(found)
            if "AccessDenied" in last[0]:
                raise StackError(f"{name}: {what}: refused (AccessDenied); does the identity in .env hold its "
                                 "policy?") from None
            return False

    wait_until(tried, what, READY_SECONDS, every=1, progress_every=15, report=lambda line: say(f"{name}: {line}"),
               pending=lambda: last[0], error=lambda message: StackError(f"{name}: {message}"))

"""What every store gets once it answers: the bucket (made as the admin) and the capability probe (as the flow).

Store-neutral: plain S3 calls, so they work the same on MinIO, SeaweedFS and a store the user runs.
"""

from typing import Callable

from botocore.exceptions import BotoCoreError, ClientError

from ecommerce_pipeline.object_store import StorageError
from ecommerce_pipeline.settings import MissingSetting, S3Settings
from ecommerce_pipeline.store_capabilities import Capabilities, UntrustedStore, probe
from ecommerce_pipeline.waiting import wait_until

from .processes import StackError, say

# A store answering its health check may still refuse requests for a few seconds (SeaweedFS's filer
# looks for its lock server first; distributed MinIO loads its IAM).
READY_SECONDS = 120
REFUSED = ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch")


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
    try:
        return S3Settings.from_settings({**env, "S3_ENDPOINT_URL": endpoint_url}, account)
    except MissingSetting as error:
        raise StackError(str(error)) from None


def _when_ready(attempt: Callable[[], bool], what: str, name: str) -> None:
    """Retries `attempt` while the store refuses for a reason that passes (starting up); fails on any other."""
    last = [""]

    def tried() -> bool:
        try:
            return attempt()
        except (ClientError, BotoCoreError, StorageError) as error:
            last[0] = " ".join(str(error).split())
            refused = [code for code in REFUSED if code in last[0]]
            if refused:
                raise StackError(f"{name}: {what}: refused ({refused[0]}); are the identities in .env the store's?"
                                 ) from None
            return False

    wait_until(tried, what, READY_SECONDS, every=1, progress_every=15, report=lambda line: say(f"{name}: {line}"),
               pending=lambda: last[0], error=lambda message: StackError(f"{name}: {message}"))

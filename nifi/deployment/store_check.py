"""Before the flow is deployed: the store must honour the ingest ledger's conditional put.

Asked as the flow's own identity at the tools' endpoint (S3_ENDPOINT_URL; FLOW_S3_ENDPOINT_URL
may name the same store as NiFi sees it), with short timeouts: a store that ignores If-None-Match
(exit 78), does not answer (69) or rejects the flow's keys (78) stops the deploy with one clear
line, before NiFi is touched.
"""

from ecommerce_pipeline.object_store import StoreUnreachable, s3_client
from ecommerce_pipeline.settings import S3Settings
from ecommerce_pipeline.store_capabilities import require_trusted_store

from .connection import DeployError


def check_store(settings: dict[str, str]) -> str:
    """What the store did with the probe's second conditional put; raises if the ledger cannot rely on it."""
    flow = S3Settings.from_settings(settings, "flow")
    client = s3_client(flow.endpoint_url, flow.access_key, flow.secret_key, connect_timeout=5, read_timeout=30,
                       max_attempts=2)
    try:
        return require_trusted_store(client, flow.bucket, flow.endpoint_url).behaviour
    except FileNotFoundError as error:
        raise DeployError(f"{error}: is S3_BUCKET the bucket `nifi/stack up` made (or yours)?") from None
    except StoreUnreachable as error:
        raise StoreUnreachable(f"{error}: the flow's S3 store does not answer (start it with `nifi/stack up`, "
                               "or set S3_ENDPOINT_URL)") from None

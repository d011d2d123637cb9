"""The parameters deploy_flow.py fills in: secrets and endpoints from .env, SQL from processors/ecommerce_pipeline/segment_sql.

The versioned flow holds none of these values (sensitive ones could not be exported anyway),
so one definition serves every machine; `export` strips them again.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ecommerce_pipeline.fernet_tokens import InvalidKeyList, key_list_problem
from ecommerce_pipeline.segment_routes import segment_queries
from ecommerce_pipeline.settings import require, s3_bucket, s3_endpoint_url

REPO = Path(__file__).resolve().parents[2]
FLOW_FILE = REPO / "flows" / "ecommerce-ingest.json"
PARAMETER_CONTEXT = "ecommerce-pipeline"
SEGMENT_SQL_PARAMETER = "Segment SQL {route}"
SETTINGS_DIGEST_PARAMETER = "Deployed Settings Digest"
FLOW_DIGEST_PARAMETER = "Deployed Flow Digest"


@dataclass(frozen=True)
class FlowSettings:
    values: dict[str, str]
    sensitive: frozenset[str]

    def digest(self) -> str:
        """Changes whenever a value changes; a salted hash, so it tells nothing about the secrets."""
        text = json.dumps(self.values, sort_keys=True)
        return hashlib.sha256(b"ecommerce-pipeline deploy settings\0" + text.encode()).hexdigest()[:32]

    @property
    def managed_names(self) -> frozenset[str]:
        return frozenset(self.values) | {SETTINGS_DIGEST_PARAMETER, FLOW_DIGEST_PARAMETER}


def flow_settings(settings: dict[str, str]) -> FlowSettings:
    """Every value the flow needs from the environment, checked before NiFi is touched.

    The inbox and the S3 endpoint are where NiFi finds them: the tools' own values, unless
    FLOW_INBOX_DIRECTORY / FLOW_S3_ENDPOINT_URL say otherwise (NiFi in a container sees
    /data/inbox and http://minio:9000).
    """
    keys = require(settings, "FERNET_KEYS")
    problem = key_list_problem(keys, "FERNET_KEYS")
    if problem:
        raise InvalidKeyList(problem)
    values = {
        "Inbox Directory": settings.get("FLOW_INBOX_DIRECTORY")
        or str(Path(settings.get("INBOX_DIR") or REPO / "data" / "inbox").resolve()),
        "Fernet Keys": keys,
        "S3 Endpoint URL": settings.get("FLOW_S3_ENDPOINT_URL") or s3_endpoint_url(settings),
        "S3 Bucket": s3_bucket(settings),
        # the flow's own least-privilege identity (nifi/provisioning/access_policies.py), never the admin
        "S3 Access Key ID": require(settings, "S3_FLOW_ACCESS_KEY"),
        "S3 Secret Access Key": require(settings, "S3_FLOW_SECRET_KEY"),
    }
    values.update({SEGMENT_SQL_PARAMETER.format(route=route): sql for route, sql in segment_queries().items()})
    return FlowSettings(values, frozenset({"Fernet Keys", "S3 Access Key ID", "S3 Secret Access Key"}))


def flow_digest(flow_text: str) -> str:
    return hashlib.sha256(flow_text.encode()).hexdigest()[:32]


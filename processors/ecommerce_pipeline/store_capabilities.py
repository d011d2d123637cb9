"""What an S3 store can do, found by asking it, never by its name: the ledger needs conditional puts.

The ingest ledger claims a file's digest with `PutObject` and `If-None-Match: *`, and relies
on the store refusing a second such put of the same key (412). A store that ignores the
header (Garage; versitygw before its conditional-write support) accepts both: every claim
looks new, and a re-sent export would be stored twice. So the flow's deploy and
`ecommerce-pipeline ingest` probe the store first and refuse one that cannot be trusted.

The probe writes one small object, `_ingested/store-probe` (where the flow's identity may put
and read, and which no SHA-256 digest can name), with two conditional puts: the first may
create it or find it there, the second must be refused and leave the content as it was.
"""

import json
import uuid
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from .exit_codes import ConfigurationMissing
from .object_store import s3_errors

PROBE_KEY = "_ingested/store-probe"
_REFUSED = {"PreconditionFailed", "412", "ConditionalRequestConflict"}


class UntrustedStore(ConfigurationMissing):
    """The store does not honour what the ingest ledger relies on; nothing was ingested."""


@dataclass(frozen=True)
class Capabilities:
    conditional_create: bool  # a second PutObject with If-None-Match: * of one key is refused, the first kept
    behaviour: str  # what the store did with the probe's second put, in words

    def require_conditional_create(self, location: str) -> None:
        if not self.conditional_create:
            raise UntrustedStore(
                f"the S3 store at {location} {self.behaviour}: it does not honour conditional puts "
                "(If-None-Match: *), so the ingest ledger cannot make sure each file is stored once "
                "(a re-sent export would be stored twice); refused before anything was ingested. Use a store "
                "that honours conditional writes (MinIO, SeaweedFS, AWS S3; README.md, 'S3 stores')")


def probe(client, bucket: str) -> Capabilities:
    """Two conditional puts of PROBE_KEY: the second must be refused, and the stored content must not be its."""
    location = f"s3://{bucket}/{PROBE_KEY}"
    _conditional_put(client, bucket, location, _body("first"))
    second = _body("second")
    accepted = _conditional_put(client, bucket, location, second)
    with s3_errors(location):
        stored = client.get_object(Bucket=bucket, Key=PROBE_KEY)["Body"].read()
    if accepted or stored == second:
        what = "overwrote the object" if stored == second else "answered success but kept the first content"
        return Capabilities(False, f"accepted a second PutObject with If-None-Match: * of {PROBE_KEY} and {what}")
    return Capabilities(True, f"refused a second PutObject with If-None-Match: * of {PROBE_KEY} (412)")


def require_trusted_store(client, bucket: str, endpoint_url: str) -> Capabilities:
    """The probe, raising UntrustedStore with what the store did when the ledger cannot rely on it."""
    found = probe(client, bucket)
    found.require_conditional_create(f"{endpoint_url} (bucket {bucket})")
    return found


def _conditional_put(client, bucket: str, location: str, body: bytes) -> bool:
    """True when the store stored it; False when it refused because the key exists (412, or 409 while racing)."""
    try:
        client.put_object(Bucket=bucket, Key=PROBE_KEY, Body=body, IfNoneMatch="*", ContentType="application/json")
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _REFUSED:
            return False
        if code in {"NotImplemented", "501"}:
            raise UntrustedStore(f"the S3 store refused a PutObject with If-None-Match: * at {location} as not "
                                 "implemented: the ingest ledger needs conditional puts") from None
        with s3_errors(location):
            raise
    except BotoCoreError:
        with s3_errors(location):
            raise
    return True


def _body(which: str) -> bytes:
    return json.dumps({"probe": which, "id": uuid.uuid4().hex,
                       "why": "ecommerce-pipeline checks that this store refuses a second If-None-Match put"}).encode()
